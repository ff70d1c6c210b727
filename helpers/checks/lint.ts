// Static checks of Kubernetes objects for mTLS configuration mistakes. Run on the guide's objects
// as the guide writes them (fixtures/guide-as-written.ts), they become findings about the guide.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { ANNOTATION_PREFIX } from "../catalogue/catalogue.ts";
import { secretData } from "../manifests/manifests.ts";

export const LINT_RULES = ["ca-key-in-secret", "server-cert-without-san", "deprecated-ingress-class-annotation"] as const;
export type LintRule = (typeof LINT_RULES)[number];

export interface LintResult {
  rule: LintRule;
  triggered: boolean;
  /** What was found, naming the objects (never a key's value). */
  detail: string;
}

export function lintObjects(objects: { secrets: V1Secret[]; ingresses: V1Ingress[] }): Record<LintRule, LintResult> {
  const name = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? "default"}/${o.metadata?.name}`;
  const authSecrets = new Set(objects.ingresses.map((i) => i.metadata?.annotations?.[ANNOTATION_PREFIX + "auth-tls-secret"]).filter(Boolean));

  const keyHolders = objects.secrets.filter(
    (s) => authSecrets.has(name(s)) && Object.entries(secretData(s)).some(([k, v]) => k !== "tls.key" && /PRIVATE KEY/.test(v)),
  );
  const tlsWithoutSan = objects.secrets.filter((s) => {
    const pem = secretData(s)["tls.crt"];
    if (!pem) return false;
    try {
      return !new x509.X509Certificate(pem).getExtension(x509.SubjectAlternativeNameExtension);
    } catch {
      return false;
    }
  });
  const classAnnotated = objects.ingresses.filter((i) => i.metadata?.annotations?.["kubernetes.io/ingress.class"] !== undefined);

  return {
    "ca-key-in-secret": {
      rule: "ca-key-in-secret",
      triggered: keyHolders.length > 0,
      detail: keyHolders.length
        ? `CA secret ${keyHolders.map(name).join(", ")} holds a private key (${keyHolders.flatMap((s) => Object.keys(secretData(s)).filter((k) => /key/.test(k))).join(", ")})`
        : "no CA secret named by auth-tls-secret holds a private key",
    },
    "server-cert-without-san": {
      rule: "server-cert-without-san",
      triggered: tlsWithoutSan.length > 0,
      detail: tlsWithoutSan.length ? `tls.crt of ${tlsWithoutSan.map(name).join(", ")} has no subjectAltName` : "every tls.crt has a subjectAltName",
    },
    "deprecated-ingress-class-annotation": {
      rule: "deprecated-ingress-class-annotation",
      triggered: classAnnotated.length > 0,
      detail: classAnnotated.length
        ? `Ingress ${classAnnotated.map(name).join(", ")} uses the kubernetes.io/ingress.class annotation`
        : "no Ingress uses the kubernetes.io/ingress.class annotation",
    },
  };
}
