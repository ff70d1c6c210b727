// evidence.json: what a run did, to what, with which certificates, and what it observed.
// Never holds a private key.
import type { Policy, Scenario } from "../catalogue/catalogue.ts";
import type { Manifests } from "../manifests/manifests.ts";
import type { IssuedCert } from "../pki/pki.ts";
import type { CollectedResult, ScenarioVerdict } from "./progress-reporter.ts";
import type { ObservedSummary } from "../run/run-context.ts";

export const EVIDENCE_SCHEMA_VERSION = "1";

export interface CertificateEvidence {
  name: string;
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  publicKey: string;
}

export interface ScenarioEvidence {
  id: string;
  name: string;
  suite: string;
  must: string;
  controls: string[];
  policy: string;
  host: string;
  credential: string;
  credentialSha256?: string;
  verdict: ScenarioVerdict;
  expected: Scenario["expect"];
  observed?: ObservedSummary;
  mismatches: string[];
  durationMs: number;
  note?: string;
  skipReason?: string;
  /** Set for scenarios that document a weakness (verdict `finding` when observed). */
  finding?: { id: string; statement: string };
}

export interface Evidence {
  schemaVersion: string;
  tool: { name: string; version: string; node: string };
  run: { id: string; startedAt: string; finishedAt: string; command: string; options: Record<string, unknown>; timingsMs: Record<string, number> };
  target: Record<string, unknown> & { kind: string; description: string; selection: string; versions: Record<string, string> };
  policies: Array<{ name: string; ingress: string; host: string; annotations: Record<string, string>; description: string }>;
  scenarios: ScenarioEvidence[];
  certificates: CertificateEvidence[];
  caBundleSha256: string;
  /** SHA-256 of the CRL in ca-secret (ca.crl), null when the run deploys none. */
  crlSha256: string | null;
  /** Each control with the scenarios that evidence it and their combined verdict. */
  controls: Array<{ id: string; title: string; scenarios: string[]; verdict: ScenarioVerdict }>;
  findings: Array<{ id: string; scenario: string; statement: string; holds: boolean | null }>;
  artifacts: Record<string, string>;
  runErrors: string[];
  /** pass + fail + skip + finding = total. */
  totals: { pass: number; fail: number; skip: number; finding: number; total: number };
}

export function certificateEvidence(c: IssuedCert): CertificateEvidence {
  const alg = c.cert.publicKey.algorithm as RsaHashedKeyAlgorithm & EcKeyAlgorithm;
  return {
    name: c.name,
    subject: c.cert.subject,
    issuer: c.cert.issuer,
    serial: c.cert.serialNumber,
    notBefore: c.cert.notBefore.toISOString(),
    notAfter: c.cert.notAfter.toISOString(),
    sha256: c.sha256,
    publicKey: alg.name === "ECDSA" ? `ECDSA ${alg.namedCurve}` : `RSA ${alg.modulusLength}`,
  };
}

/**
 * One entry per selected scenario, whatever happened to it: a scenario with no result (its
 * suite failed to load, the run was cut short) is a failure, never a silent pass or a gap.
 */
export function scenarioEvidence(
  scenarios: Scenario[],
  policies: Policy[],
  results: Map<string, CollectedResult>,
  runErrors: string[],
): ScenarioEvidence[] {
  return scenarios.map((s) => {
    const r = results.get(s.id);
    const policy = policies.find((p) => p.name === s.policy);
    const base = {
      id: s.id,
      name: s.name,
      suite: s.suite,
      must: s.must,
      controls: s.controls,
      policy: s.policy,
      host: policy?.host ?? "",
      credential: s.credential,
      expected: s.expect,
      note: s.note,
      finding: s.finding,
    };
    if (!r) {
      return {
        ...base,
        verdict: "fail" as const,
        mismatches: [`not run: ${runErrors[0] ?? "no result was reported for this scenario"}`],
        durationMs: 0,
      };
    }
    return {
      ...base,
      credentialSha256: r.record?.credentialSha256,
      verdict: r.verdict,
      observed: r.record?.observed,
      mismatches: r.record?.mismatches.length ? r.record.mismatches : r.verdict === "fail" ? r.errors : [],
      durationMs: r.durationMs,
      skipReason: r.skipReason,
    };
  });
}

export function totals(scenarios: ScenarioEvidence[]): Evidence["totals"] {
  const count = (v: ScenarioVerdict) => scenarios.filter((s) => s.verdict === v).length;
  return { pass: count("pass"), fail: count("fail"), skip: count("skip"), finding: count("finding"), total: scenarios.length };
}

/** Claims from the guide (and folklore) that scenarios check; `holds` comes from the observation. */
export function findings(scenarios: ScenarioEvidence[]): Evidence["findings"] {
  const out: Evidence["findings"] = [];
  const xssl = scenarios.find((s) => s.id === "MTLS-HEADERS-006");
  if (xssl) {
    const h = xssl.observed?.upstreamHeaders;
    out.push({
      id: "guide-claim-x-ssl-client-cert",
      scenario: xssl.id,
      statement: "The guide says the backend reads the client certificate from X-SSL-Client-Cert.",
      holds: h ? h["x-ssl-client-cert"] !== undefined : null,
    });
  }
  const depth = scenarios.find((s) => s.id === "MTLS-CLIENT-009");
  if (depth) {
    out.push({
      id: "folklore-depth-1-direct-only",
      scenario: depth.id,
      statement: "auth-tls-verify-depth 1 accepts only client certificates signed directly by the CA.",
      holds: depth.observed?.status === undefined ? null : depth.observed.status !== 200,
    });
  }
  // Every finding scenario: documented controller behaviour that weakens mTLS, observed or not.
  for (const s of scenarios) {
    if (!s.finding) continue;
    out.push({
      id: s.finding.id,
      scenario: s.id,
      statement: s.finding.statement,
      holds: s.verdict === "finding" ? true : s.verdict === "skip" || !s.observed ? null : false,
    });
  }
  return out;
}

export function policyEvidence(policies: Policy[], manifests: Manifests): Evidence["policies"] {
  return policies.map((p) => {
    const ing = manifests.ingresses.find((i) => i.metadata?.name === p.ingressName);
    return {
      name: p.name,
      ingress: `${manifests.namespace}/${p.ingressName}`,
      host: p.host,
      annotations: ing?.metadata?.annotations ?? {},
      description: p.description,
    };
  });
}

/** A control passes when every scenario evidencing it passed; fails when any failed. */
export function controlEvidence(
  coverage: Array<{ id: string; title: string; scenarios: string[] }>,
  scenarios: ScenarioEvidence[],
): Evidence["controls"] {
  return coverage
    .filter((c) => c.scenarios.length > 0)
    .map((c) => {
      const verdicts = c.scenarios.map((id) => scenarios.find((s) => s.id === id)?.verdict ?? "fail");
      const verdict: ScenarioVerdict = verdicts.includes("fail")
        ? "fail"
        : verdicts.every((v) => v === "skip")
          ? "skip"
          : verdicts.includes("finding")
            ? "finding"
            : "pass";
      return { ...c, verdict };
    });
}
