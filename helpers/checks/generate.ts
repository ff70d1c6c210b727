// Checks generated from what Ingresses declare: every rule of RULES for every path of every served
// auth-tls Ingress, the cross-Ingress checks (which Ingress really governs a shared host, a broken
// secret denying a whole host) and the lint of the user's objects. Planning asks the credential
// factory for what it needs; once the credentials exist, the policy model gives each check its
// expected outcome from the certificates actually made.
import type * as x509 from "@peculiar/x509";
import type { Expectation } from "../catalogue/catalogue.ts";
import { IA3_1, IA5_2 } from "../../fixtures/expectations.ts";
import { describeSettings, type ParseOptions, type SecretLookup } from "../model/annotations.ts";
import { jsonName } from "../model/distinguished-name.ts";
import { resolveHosts, type HostPolicy, type ResolvedIngress, type ResolveOptions } from "../model/hosts.ts";
import { expectedOutcome, MATCH_CN_BODY, NO_CERT_BODY, type ProbeShape } from "../model/outcome.ts";
import type { SecretView } from "../model/secrets.ts";
import { DEFAULT_CLIENT_SUBJECT, type CredentialFactory, type CredentialSpec, type MintedCredential } from "../pki/credentials.ts";
import { GENERATED_SUITE, type Check } from "./check.ts";
import { deriveMatchCnSubjects } from "./match-cn-subjects.ts";
import { RULES, type RuleContext, type RulePlan } from "./rules.ts";
import { lintIngress, type UserLintResult } from "./user-lint.ts";

export interface GenerateInput {
  hosts: HostPolicy[];
  ingresses: ResolvedIngress[];
  /** The credential factory's CA id for a CA secret (namespace/name), when the run knows that CA. */
  caFor(secretRef: string): string | undefined;
  factory: CredentialFactory;
  /** A client certificate given for a host (--client-cert, --clients). */
  givenFor(host: string): string | undefined;
  /** Key of a client the CA's deployed CRL revokes. */
  revokedFor(caId: string): string | undefined;
  /** The secrets as the controller sees them (to resolve an Ingress on its own). */
  secrets: SecretLookup;
  resolveOptions?: ResolveOptions & ParseOptions;
  /** The user's objects as written, for the lint (a CA key is visible only there). */
  declared: (ns: string, name: string) => SecretView | undefined;
  maxIntermediates?: number;
}

interface Alternative {
  credentialKey?: string;
  phrase: string;
  probe: ProbeShape;
}

export interface PlannedCheck {
  base: Omit<Check, "expect" | "basis" | "must" | "credential" | "credentialDescription">;
  host: HostPolicy;
  probe: ProbeShape;
  credentialKey?: string;
  phrase: string;
  finding?: RulePlan["finding"];
  ctx?: RuleContext;
  /** Governing-policy checks: the first of these on which the declared and the effective policy differ. */
  alternatives?: Alternative[];
  declaredHost?: HostPolicy;
  skip?: string;
}

export interface IngressPlan {
  id: string;
  hosts: string[];
  /** Why the controller under test does not serve it. */
  notServed?: string;
  declared: Record<string, string>;
  effective: Record<string, string>;
  lint: UserLintResult[];
  notes: string[];
}

const LITERAL_PATH = /^\/[A-Za-z0-9/._~-]*$/;

/** The request path that reaches a path rule's backend, or why there is none to probe. */
export function probePath(p: { path: string; pathType: string }): string | { skip: string } {
  if (p.pathType !== "ImplementationSpecific" || LITERAL_PATH.test(p.path)) return p.path || "/";
  return { skip: `path ${p.path} (ImplementationSpecific) is not a literal path to probe` };
}

function checkId(ingress: ResolvedIngress, host: string, rule: string): string {
  return `${ingress.id}${ingress.hosts.length > 1 ? `@${host}` : ""}#${rule}`;
}

export function planChecks(input: GenerateInput): { planned: PlannedCheck[]; statics: Check[]; ingresses: IngressPlan[] } {
  const planned: PlannedCheck[] = [];
  const statics: Check[] = [];
  const plans: IngressPlan[] = [];
  const maxIntermediates = input.maxIntermediates ?? 16;
  const matchCnCache = new Map<string, ReturnType<typeof deriveMatchCnSubjects>>();
  // The first policy of each host name (a lookup per Ingress host: a Map, not a scan, at 1,000s).
  const hostsByName = new Map<string, HostPolicy>();
  for (const h of input.hosts) if (!hostsByName.has(h.host)) hostsByName.set(h.host, h);

  for (const ing of input.ingresses) {
    const lint = lintIngress(ing, input.declared);
    const plan: IngressPlan = { id: ing.id, hosts: ing.hosts, ...(ing.notServed ? { notServed: ing.notServed } : {}), declared: ing.auth?.declared ?? {}, effective: {}, lint, notes: [...ing.notes] };
    plans.push(plan);
    for (const l of lint.filter((x) => x.triggered)) {
      statics.push({
        id: `${ing.id}#lint-${l.rule}`,
        name: `lint-${l.rule}`,
        suite: GENERATED_SUITE,
        group: ing.id,
        ingress: ing.id,
        must: l.must,
        host: ing.hosts[0] ?? "",
        expect: { upstream: "not-reached" },
        controls: l.controls,
        ...(l.verdict === "finding" ? { finding: { id: `lint-${l.rule}`, statement: l.detail } } : {}),
        static: { verdict: l.verdict, detail: l.detail, rule: l.rule },
      });
    }
    if (ing.notServed) continue;

    for (const hostName of ing.hosts) {
      const host = hostsByName.get(hostName);
      if (!host) continue;
      const own = host.ingresses.find((i) => i.id === ing.id);
      const first = own?.paths[0];
      if (!own || !first) continue;
      const path = probePath(first);
      const base = (rule: string, variant?: string) => ({
        id: checkId(ing, hostName, variant ? `${rule}-${variant}` : rule),
        name: variant ? `${rule}-${variant}` : rule,
        suite: GENERATED_SUITE,
        group: ing.id,
        ingress: ing.id,
        host: hostName,
        controls: RULES.find((r) => r.name === rule)?.controls ?? [IA3_1, IA5_2],
      });
      plan.effective[hostName] = host.denied
        ? `denied (403 on every path): ${host.denied.reason} (Ingress ${host.denied.by})`
        : host.clientAuth
          ? `${describeSettings(host.clientAuth.settings)}; CA ${host.clientAuth.secretRef}; governed by ${host.clientAuth.governing}`
          : host.matchCn
            ? `no CA, but match-cn ${host.matchCn}: every request 403`
            : "no client-certificate auth";
      if (typeof path !== "string") {
        plan.notes.push(`${hostName}: ${path.skip}`);
        continue;
      }
      const probe = (extra: Partial<ProbeShape> = {}): ProbeShape => ({ scheme: "https", path, ingress: ing.id, ...extra });

      // A denied host answers 403 to everything: one check per Ingress on it says so.
      if (host.denied) {
        planned.push({
          base: {
            ...base("host-denied"),
            controls: [IA3_1],
            finding: { id: "host-denied", statement: `${hostName} answers 403 on every path, this Ingress's included: Ingress ${host.denied.by} names an unusable auth-tls secret (${host.denied.reason}).` },
          },
          host,
          probe: probe(),
          phrase: "a request without a client certificate",
        });
        continue;
      }

      // Shared hosts: is this Ingress's own declaration what governs its path?
      if (host.ingresses.length > 1) {
        const alone = resolveHosts([ing.ingress], input.secrets, { ...input.resolveOptions }).hosts.find((h) => h.host === hostName);
        if (alone) {
          const ctxAlone = ruleContext(input, alone, ing, path, matchCnCache, maxIntermediates);
          const ctxHost = ruleContext(input, host, ing, path, matchCnCache, maxIntermediates);
          const alternatives: Alternative[] = [{ phrase: "a request without a client certificate", probe: probe() }];
          for (const ctx of [ctxAlone, ctxHost]) {
            for (const rule of ["valid-client", "impostor-ca", "depth-limit"]) {
              const plans = RULES.find((r) => r.name === rule)!.plan(ctx);
              if (typeof plans === "string") continue;
              for (const p of plans) alternatives.push({ phrase: p.phrase, probe: probe({ headers: p.request?.headers }), credentialKey: p.credential ? input.factory.request(p.credential) : p.credentialKey });
            }
          }
          planned.push({ base: { ...base("governing-policy"), controls: [IA3_1, IA5_2] }, host, probe: probe(), phrase: "", alternatives, declaredHost: alone });
        }
      }

      if (!host.clientAuth) {
        // Declared auth-tls, but no client auth on the host (no ca.crt, or match-cn without a CA).
        if (ing.auth) planned.push({ base: base("no-client-cert"), host, probe: probe(), phrase: "a request without a client certificate" });
        continue;
      }
      const ctx = ruleContext(input, host, ing, path, matchCnCache, maxIntermediates);
      for (const rule of RULES) {
        // Rules run for the Ingresses that declare auth-tls; the governing check covers the others.
        if (!ing.auth) break;
        const result = rule.plan(ctx);
        if (typeof result === "string") {
          if (!/^no match-cn$|carries no ca\.crl/.test(result)) {
            planned.push({ base: base(rule.name), host, probe: probe(), phrase: rule.title, skip: result });
          }
          continue;
        }
        for (const p of result) {
          planned.push({
            base: base(rule.name, result.length > 1 || p.variant ? p.variant : undefined),
            host,
            probe: probe({ scheme: p.request?.scheme ?? "https", headers: p.request?.headers }),
            credentialKey: p.credential ? input.factory.request(p.credential) : p.credentialKey,
            phrase: p.phrase,
            finding: p.finding,
            ctx,
          });
        }
      }
    }
  }
  return { planned, statics, ingresses: plans };
}

function ruleContext(input: GenerateInput, host: HostPolicy, ing: ResolvedIngress, path: string, cache: Map<string, ReturnType<typeof deriveMatchCnSubjects>>, maxIntermediates: number): RuleContext {
  const ca = host.clientAuth ? input.caFor(host.clientAuth.secretRef) : undefined;
  const pattern = host.clientAuth?.settings.matchCn;
  let matchCn: RuleContext["matchCn"];
  if (pattern) {
    matchCn = cache.get(pattern) ?? deriveMatchCnSubjects(pattern);
    cache.set(pattern, matchCn);
  }
  const subject: x509.JsonName | string = matchCn?.matching ? jsonName(matchCn.matching) : DEFAULT_CLIENT_SUBJECT;
  return {
    host,
    ingress: ing,
    path,
    ca,
    canIssue: !!ca && input.factory.canIssue(ca),
    given: input.givenFor(host.host),
    subject,
    matchCn,
    revoked: ca ? input.revokedFor(ca) : undefined,
    maxIntermediates,
  };
}

/** The outcome in words, as a verb phrase: "be rejected with 400 ..." (infinitive) or "is rejected with 400 ..." (present). */
export function describeExpectation(e: Expectation, form: "infinitive" | "present" = "infinitive"): string {
  const verb = (infinitive: string, present: string) => (form === "infinitive" ? infinitive : present);
  const status = [e.status].flat()[0];
  if (e.transport === "tls-rejected") return `${verb("be", "is")} refused in the TLS handshake`;
  if (e.transport === "connection-closed") return `${verb("have", "has")} its connection closed without an answer`;
  if (e.upstream === "reached") {
    const h = e.upstreamHeaders;
    const verify = h?.headers?.["ssl-client-verify"] ?? (h?.prefixes?.["ssl-client-verify"] ? `${h.prefixes["ssl-client-verify"]}…` : undefined);
    const parts = [`${verb("reach", "reaches")} the backend${verify ? ` with ssl-client-verify: ${verify}` : " with no ssl-client-verify"}`];
    if (h?.clientCertIsPresentedLeaf) parts.push("ssl-client-cert carrying the presented certificate");
    if (h?.headers?.["ssl-client-cert"] !== undefined) parts.push(`ssl-client-cert passed through as the client sent it`);
    else if (h?.absent?.includes("ssl-client-cert") && verify) parts.push("no ssl-client-cert");
    return parts.join(", ");
  }
  if (status === 302) return `${verb("be", "is")} redirected with 302 to ${e.responseHeaders?.location}`;
  if (status === 308) return `${verb("be", "is")} redirected to HTTPS with 308`;
  if (status === 403) return e.bodyEquals === MATCH_CN_BODY ? `${verb("be", "is")} refused with 403 "${MATCH_CN_BODY}"` : `${verb("be", "is")} denied with 403`;
  if (status === 400) return `${verb("be", "is")} rejected with 400 "${e.bodyIncludes === NO_CERT_BODY ? NO_CERT_BODY : e.bodyIncludes}"`;
  return `${verb("be", "is")} answered ${status}`;
}

/** Applies the policy model to every planned check, with the credentials as made. */
export function completeChecks(planned: PlannedCheck[], credentials: Map<string, MintedCredential>): Check[] {
  return planned.map((p): Check => {
    const where = `On ${p.host.host}${p.probe.path !== "/" ? ` (path ${p.probe.path})` : ""}`;
    if (p.skip) return { ...p.base, must: `${where}, ${p.phrase} is checked.`, expect: { upstream: "not-reached" }, skip: p.skip };
    const traitsOf = (key?: string) => (key ? credentials.get(key)?.traits : undefined);

    if (p.alternatives && p.declaredHost) {
      const declared = p.declaredHost;
      let chosen: { alt: Alternative; effective: Expectation; declared: Expectation; explanation: string; sources: string[] } | undefined;
      let fallback: typeof chosen;
      for (const alt of p.alternatives) {
        const eff = expectedOutcome(p.host, traitsOf(alt.credentialKey), alt.probe);
        const dec = expectedOutcome(declared, traitsOf(alt.credentialKey), alt.probe);
        if ("undetermined" in eff || "undetermined" in dec) continue;
        const candidate = { alt, effective: eff.expect, declared: dec.expect, explanation: eff.explanation, sources: eff.sources };
        fallback ??= candidate;
        if (JSON.stringify(eff.expect) !== JSON.stringify(dec.expect)) {
          chosen = candidate;
          break;
        }
      }
      const pick = chosen ?? fallback;
      if (!pick) return { ...p.base, must: `${where}, the declared policy is checked.`, expect: { upstream: "not-reached" }, skip: "no probe has an outcome the model can decide" };
      const governing = p.host.clientAuth?.governing ?? "no Ingress (no client-certificate auth)";
      return {
        ...p.base,
        must: `${where}, ${pick.alt.phrase} MUST ${describeExpectation(pick.effective)}: the host is governed by ${governing}${chosen ? `, not by this Ingress's own declaration (alone it would ${describeExpectation(pick.declared)})` : ", which agrees with this Ingress's declaration"}.`,
        ...(pick.alt.credentialKey ? { credential: pick.alt.credentialKey, credentialDescription: credentials.get(pick.alt.credentialKey)?.description } : {}),
        ...(pick.alt.probe.headers ? { request: { headers: pick.alt.probe.headers } } : {}),
        expect: pick.effective,
        basis: { explanation: pick.explanation, sources: pick.sources },
        ...(chosen
          ? {
              finding: {
                id: "shared-host-governed-elsewhere",
                statement: `${p.host.host} is shared by ${p.host.ingresses.map((i) => i.id).join(", ")}; client auth is per host and comes from ${governing}, so ${p.base.ingress}'s own declaration does not govern its path. There, ${pick.alt.phrase} ${describeExpectation(pick.effective, "present")}; as declared it would ${describeExpectation(pick.declared)}.`,
              },
            }
          : {}),
      };
    }

    const traits = traitsOf(p.credentialKey);
    if (p.credentialKey && !traits) return { ...p.base, must: `${where}, ${p.phrase} is checked.`, expect: { upstream: "not-reached" }, skip: `credential ${p.credentialKey} was not made` };
    const outcome = expectedOutcome(p.host, traits, p.probe);
    if ("undetermined" in outcome) return { ...p.base, must: `${where}, ${p.phrase} is checked.`, expect: { upstream: "not-reached" }, skip: outcome.undetermined };
    const finding = p.finding && p.ctx ? p.finding(outcome.expect, p.ctx) : p.base.finding;
    const request = { ...(p.probe.scheme === "http" ? { scheme: "http" as const } : {}), ...(p.probe.headers ? { headers: p.probe.headers } : {}), ...(p.probe.path !== "/" ? { path: p.probe.path } : {}) };
    return {
      ...p.base,
      must: `${where}, ${p.phrase} MUST ${describeExpectation(outcome.expect)}.`,
      ...(p.credentialKey ? { credential: p.credentialKey, credentialDescription: credentials.get(p.credentialKey)?.description } : {}),
      ...(Object.keys(request).length ? { request } : {}),
      expect: outcome.expect,
      basis: { explanation: outcome.explanation, sources: outcome.sources },
      ...(finding ? { finding } : {}),
    };
  });
}

export type { CredentialSpec };
