// Static checks of the user's own objects (with --manifests, an endpoint's declaration, an audited
// cluster): mistakes that weaken mTLS whatever the data plane does. A triggered rule is a finding
// (or, for an Ingress the controller rejects, a failure); every rule's result goes into the evidence.
import type { V1Ingress } from "@kubernetes/client-node";
import { IA3_1, IA5_2, SC8 } from "../../fixtures/expectations.ts";
import { annotationOf, type ParsedAuthTls } from "../model/annotations.ts";
import { CLASS_ANNOTATION, type ResolvedIngress } from "../model/hosts.ts";
import type { SecretView } from "../model/secrets.ts";
import { anchoredAtEnd } from "./match-cn-subjects.ts";

export interface UserLintResult {
  rule: string;
  triggered: boolean;
  verdict: "fail" | "finding";
  detail: string;
  controls: string[];
  must: string;
}

interface UserLintRule {
  rule: string;
  verdict: "fail" | "finding";
  controls: string[];
  must: string;
  /** What was found, or undefined when the rule does not trigger. */
  test(i: ResolvedIngress, declared: (ns: string, name: string) => SecretView | undefined): string | undefined;
}

const hostsWithoutTls = (ing: V1Ingress): string[] =>
  (ing.spec?.rules ?? []).map((r) => r.host).filter((h): h is string => !!h && !(ing.spec?.tls ?? []).some((t) => !t.hosts?.length || t.hosts.includes(h)));

const secretParts = (auth: ParsedAuthTls | undefined, ing: V1Ingress): [string, string] | undefined => {
  const raw = annotationOf(ing, "auth-tls-secret")?.trim();
  const parts = raw?.split("/");
  return parts?.length === 2 ? [parts[0] || (ing.metadata?.namespace ?? "default"), parts[1]!] : auth?.secretRef ? (auth.secretRef.split("/") as [string, string]) : undefined;
};

export const USER_LINT_RULES: UserLintRule[] = [
  {
    rule: "rejected-by-admission",
    verdict: "fail",
    controls: [IA3_1],
    must: "An Ingress's auth-tls annotations MUST be values the controller accepts; otherwise the Ingress is rejected and none of it is served.",
    test: (i) => (i.auth?.rejected ? `${i.auth.rejected.message} (${i.auth.rejected.source})` : undefined),
  },
  {
    rule: "not-served",
    verdict: "finding",
    controls: [IA3_1],
    must: "An Ingress with auth-tls annotations MUST be served by the controller they are written for.",
    test: (i) => (i.auth && !i.auth.rejected && i.notServed ? i.notServed : undefined),
  },
  {
    rule: "silent-fallback",
    verdict: "finding",
    controls: [IA5_2],
    must: "auth-tls values MUST be ones the controller uses as written, not ones it silently replaces.",
    test: (i) => (i.auth?.fallbacks.length ? i.auth.fallbacks.join("; ") : undefined),
  },
  {
    rule: "match-cn-unanchored",
    verdict: "finding",
    controls: [IA5_2],
    must: "auth-tls-match-cn SHOULD end with $: unanchored, it matches anywhere in the subject DN.",
    test: (i) => {
      const p = i.auth?.settings.matchCn;
      return p && !anchoredAtEnd(p) ? `match-cn ${p} is not anchored: any subject containing it anywhere matches (e.g. in O or OU)` : undefined;
    },
  },
  {
    rule: "auth-tls-without-tls",
    verdict: "finding",
    controls: [SC8],
    must: "An Ingress with auth-tls MUST have a tls: entry for its hosts: without one, port 80 serves it with no certificate check and HTTPS uses the controller's fake certificate.",
    test: (i) => {
      if (!i.auth) return undefined;
      const missing = hostsWithoutTls(i.ingress);
      return missing.length ? `no tls: entry for ${missing.join(", ")}` : undefined;
    },
  },
  {
    rule: "deprecated-class-annotation",
    verdict: "finding",
    controls: [SC8],
    must: "The controller MUST be selected with spec.ingressClassName, not the deprecated kubernetes.io/ingress.class annotation.",
    test: (i) => (i.ingress.metadata?.annotations?.[CLASS_ANNOTATION] !== undefined ? `${CLASS_ANNOTATION}: ${i.ingress.metadata.annotations[CLASS_ANNOTATION]}` : undefined),
  },
  {
    rule: "cross-namespace-secret",
    verdict: "finding",
    controls: [IA3_1],
    must: "auth-tls-secret MUST name a Secret in the Ingress's own namespace: the controller denies other namespaces by default (403 on the whole host).",
    test: (i) => {
      const parts = secretParts(i.auth, i.ingress);
      const ns = i.ingress.metadata?.namespace ?? "default";
      return parts && parts[0] !== ns ? `auth-tls-secret ${parts.join("/")} is in namespace ${parts[0]}, the Ingress in ${ns}` : undefined;
    },
  },
  {
    rule: "ca-key-in-secret",
    verdict: "finding",
    controls: [IA5_2],
    must: "The Secret auth-tls-secret names MUST NOT hold the CA's private key: the controller never reads it, and whoever reads the Secret can issue trusted clients.",
    test: (i, declared) => {
      const parts = secretParts(i.auth, i.ingress);
      const secret = parts ? declared(parts[0], parts[1]) : undefined;
      if (!secret) return undefined;
      const keys = [
        ...Object.entries(secret.data).filter(([k, v]) => k !== "tls.key" && /PRIVATE KEY/.test(v)).map(([k]) => k),
        ...(secret.opaqueKeys ?? []).filter((k) => k === "ca.key"),
      ];
      return keys.length ? `secret ${parts!.join("/")} holds ${[...new Set(keys)].join(", ")}` : undefined;
    },
  },
  {
    rule: "no-ca-in-secret",
    verdict: "finding",
    controls: [IA3_1],
    must: "The Secret auth-tls-secret names MUST hold ca.crt: a key pair alone silently configures no client-certificate auth.",
    test: (i) => (i.auth?.secret?.usable && !i.auth.secret.trusted ? `secret ${i.auth.secretRef} has tls.crt/tls.key but no ca.crt: no client certificate is requested` : undefined),
  },
  {
    rule: "optional-no-ca",
    verdict: "finding",
    controls: [IA3_1, IA5_2],
    must: "With verify-client optional_no_ca the backend MUST check ssl-client-verify: the controller passes unverified certificates on.",
    test: (i) => (i.auth?.settings.verifyClient === "optional_no_ca" && !i.auth.rejected ? "verify-client optional_no_ca: certificates of any CA reach the backend marked FAILED:…; only the backend can refuse them" : undefined),
  },
];

export function lintIngress(i: ResolvedIngress, declared: (ns: string, name: string) => SecretView | undefined): UserLintResult[] {
  return USER_LINT_RULES.map((r) => {
    const detail = r.test(i, declared);
    return { rule: r.rule, triggered: detail !== undefined, verdict: r.verdict, detail: detail ?? "not triggered", controls: r.controls, must: r.must };
  });
}
