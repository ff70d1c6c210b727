// evidence.json: what a run did, to what, with which certificates, and what it observed.
// Never holds a private key.
import type { Policy, Scenario } from "../catalogue/catalogue.ts";
import type { Check, CheckMigration } from "../checks/check.ts";
import { decidedByOf, decision, type Decision } from "../checks/decided-by.ts";
import type { Inventory } from "../inventory/inventory.ts";
import type { TargetKind } from "../targets/target.ts";
import type { Manifests } from "../manifests/manifests.ts";
import { certificateFacts, type IssuedCert } from "../pki/pki.ts";
import type { CollectedResult, ScenarioVerdict } from "./progress-reporter.ts";
import type { CrossCheckRecord, ObservedSummary } from "../run/run-context.ts";
import type { ShardRecord } from "../run/shard.ts";
import type { MergedRecord } from "./merge.ts";
import type { HarnessFault } from "../targets/target.ts";

// 2: checks generated from Ingresses (group, ingress, basis, static), per-Ingress summaries, the subject, totals.checked.
// 3: the verdict `error` (a check that failed while the harness was at fault: no verdict on the Ingress), counted in
//    totals.error and per-Ingress totals, a control with an error and no failure is `error`; `harnessFaults`; above
//    1,000 checks report.html is an index and report/NNNN.html pages, each listed in `artifacts`.
export const EVIDENCE_SCHEMA_VERSION = "3";

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
  /** What reports group it under: the catalogue suite, or the Ingress namespace/name. */
  group: string;
  /** The Ingress the check is about. */
  ingress?: string;
  must: string;
  controls: string[];
  /** The catalogue policy (catalogue scenarios only). */
  policy?: string;
  host: string;
  /** The credential's name (catalogue) or key (generated), "none" for no certificate. */
  credential: string;
  credentialDescription?: string;
  credentialSha256?: string;
  verdict: ScenarioVerdict;
  expected: Scenario["expect"];
  observed?: ObservedSummary;
  mismatches: string[];
  durationMs: number;
  note?: string;
  skipReason?: string;
  /** Run under a successor profile: the scenario's class there, its guarantee, why, and on what it rests. */
  migration?: CheckMigration;
  /** Set for scenarios that document a weakness (verdict `finding` when observed). */
  finding?: { id: string; statement: string };
  /** Why the outcome is expected: the policy model's explanation and the sources of its rules. */
  basis?: { explanation: string; sources: string[] };
  /** What decided the outcome (the data plane, or a controller rule) and whether that rule was emulated here. */
  decidedBy?: Decision;
  /** A static check: decided from the objects, no probe. */
  static?: boolean;
  /** The curl command that makes the same request, to reproduce the verdict by hand (files as pki/ and --keys-dir name them). */
  curl?: string;
  /** --cross-check curl: curl's observation and its disagreements with the probe. */
  crossCheck?: CrossCheckRecord;
}

/** One Ingress under test: what it declares, what its hosts really do, what was checked. */
export interface IngressEvidence {
  id: string;
  hosts: string[];
  /** Why the controller under test does not serve it (rejected at admission, another class). */
  notServed?: string;
  /** The auth-tls annotations as written. */
  declared: Record<string, string>;
  /** host -> the client auth the controller configures there, in words. */
  effective: Record<string, string>;
  /** Every lint rule with its result. */
  lint: Array<{ rule: string; triggered: boolean; detail: string }>;
  notes: string[];
  totals: { pass: number; fail: number; skip: number; finding: number; "guarantee-lost"?: number; error?: number; total: number };
  /** Probes that ran (static checks excluded): 0 means nothing was checked for this Ingress. */
  checked: number;
}

export interface Evidence {
  schemaVersion: string;
  tool: { name: string; version: string; node: string };
  run: {
    id: string;
    startedAt: string;
    finishedAt: string;
    command: string;
    options: Record<string, unknown>;
    timingsMs: Record<string, number>;
    /** Where the wall time went: named stretches in ms since the process started (npm run bench reads them). */
    spans?: Array<{ name: string; startMs: number; endMs: number }>;
    /** --shard I/N: which slice of the input this run checked (helpers/run/shard.ts). */
    shard?: ShardRecord;
    /** A merged report (mtls-conformance merge): the shards it joins (helpers/reports/merge.ts). */
    merged?: MergedRecord;
  };
  target: Record<string, unknown> & { kind: string; description: string; selection: string; versions: Record<string, string> };
  /** What was under test: the catalogue's own objects, or the user's (with --manifests, a live endpoint's declaration, an audited cluster). */
  subject: { origin: "catalogue" | "manifests" | "endpoint" | "audit"; source: string; changes: string[] };
  policies: Array<{ name: string; ingress: string; host: string; annotations: Record<string, string>; description: string }>;
  /** The Ingresses under test (not for the catalogue, whose policies say the same). */
  ingresses: IngressEvidence[];
  scenarios: ScenarioEvidence[];
  certificates: CertificateEvidence[];
  /** What is in force in the objects under test: trust anchors, CRLs, server certificates, the production checks. */
  inventory?: Inventory;
  caBundleSha256: string;
  /** SHA-256 of the CRL in ca-secret (ca.crl), null when the run deploys none. */
  crlSha256: string | null;
  /** Each control with the scenarios that evidence it and their combined verdict. */
  controls: Array<{ id: string; title: string; scenarios: string[]; verdict: ScenarioVerdict }>;
  findings: Array<{ id: string; scenario: string; statement: string; holds: boolean | null }>;
  /**
   * Present when the checks expected a successor's behaviour (--profile): which one, which version
   * row, and how its rows are known. `observed` is what this run itself saw on the target.
   */
  profile?: { name: string; title: string; versions: string; strict: boolean; basis: string };
  artifacts: Record<string, string>;
  /** Errors outside any check, and one line per harness fault (the faults themselves are in `harnessFaults`). */
  runErrors: string[];
  /** What went wrong with the harness itself (the local data plane out of connections, crashed...): checks that failed while it was at fault are `error`. */
  harnessFaults?: HarnessFault[];
  /** pass + fail + skip + finding (+ guarantee-lost + error) = total; `checked`: probes that ran (pass, fail or finding). */
  totals: { pass: number; fail: number; skip: number; finding: number; "guarantee-lost"?: number; error?: number; total: number; checked: number };
}

export function certificateEvidence(c: IssuedCert): CertificateEvidence {
  // What was issued is known without parsing the certificate back (pki.ts certificateFacts).
  const f = certificateFacts(c);
  return {
    name: c.name,
    subject: f.subject,
    issuer: f.issuer,
    serial: f.serialNumber,
    notBefore: f.notBefore.toISOString(),
    notAfter: f.notAfter.toISOString(),
    sha256: c.sha256,
    publicKey: f.publicKey,
  };
}

/**
 * One entry per check, whatever happened to it: a check with no result (its suite failed to load,
 * the run was cut short) is a failure, never a silent pass or a gap.
 */
export function scenarioEvidence(checks: Check[], results: Map<string, CollectedResult>, runErrors: string[], scenarios: Scenario[] = [], target?: TargetKind): ScenarioEvidence[] {
  const policyOf = new Map(scenarios.map((s) => [s.id, s.policy]));
  return checks.map((c) => {
    const r = results.get(c.id);
    const base = {
      id: c.id,
      name: c.name,
      suite: c.suite,
      group: c.group,
      ...(c.ingress ? { ingress: c.ingress } : {}),
      must: c.must,
      controls: c.controls,
      ...(policyOf.has(c.id) ? { policy: policyOf.get(c.id) } : {}),
      host: c.host,
      credential: c.credential ?? "none",
      ...(c.credentialDescription ? { credentialDescription: c.credentialDescription } : {}),
      expected: c.expect,
      note: c.note,
      finding: c.finding,
      ...(c.migration ? { migration: c.migration } : {}),
      ...(c.basis ? { basis: c.basis } : {}),
      ...(c.static ? { static: true } : target ? { decidedBy: decision(decidedByOf(c), target) } : {}),
    };
    if (!r) {
      // No result because the suite broke (a file that did not load, a fault of the harness): an
      // error, no verdict on the Ingress; without a reason known, a failure all the same.
      return {
        ...base,
        verdict: runErrors.length ? ("error" as const) : ("fail" as const),
        mismatches: [`not run: ${runErrors[0] ?? "no result was reported for this check"}`],
        durationMs: 0,
      };
    }
    return {
      ...base,
      credentialSha256: r.record?.credentialSha256,
      verdict: r.verdict,
      observed: r.record?.observed,
      mismatches: r.record?.mismatches.length ? r.record.mismatches : r.verdict === "fail" || r.verdict === "error" ? r.errors : [],
      durationMs: r.durationMs,
      skipReason: r.skipReason,
      ...(r.record?.curl ? { curl: r.record.curl } : {}),
      ...(r.record?.crossCheck ? { crossCheck: r.record.crossCheck } : {}),
      // Run on the successor itself: the class this observation shows, and that it was observed.
      ...(c.migration && r.record?.observedClass ? { migration: { ...c.migration, observed: { class: r.record.observedClass, basis: "observed" as const } } } : {}),
      // Compared with ingress-nginx on a successor: the class the observation shows, with why.
      ...(r.record?.comparison
        ? {
            migration: {
              profile: r.record.comparison.profile as CheckMigration["profile"],
              versions: r.record.comparison.versions,
              class: r.record.comparison.class,
              guarantee: r.record.comparison.guarantee,
              reason: r.record.comparison.why,
              sources: [{ ref: "observed: this run's observation against ingress-nginx's expectation (expected)", basis: "observed" as const }],
              observed: { class: r.record.comparison.class, basis: "observed" as const },
              ...(r.record.comparison.differences.length ? { differences: r.record.comparison.differences } : {}),
            },
          }
        : {}),
    };
  });
}

export function totals(scenarios: ScenarioEvidence[]): Evidence["totals"] {
  const n: Record<ScenarioVerdict, number> = { pass: 0, fail: 0, skip: 0, finding: 0, "guarantee-lost": 0, error: 0 };
  let checked = 0;
  for (const s of scenarios) {
    n[s.verdict] = (n[s.verdict] ?? 0) + 1;
    if (!s.static && s.verdict !== "skip" && s.observed !== undefined) checked++;
  }
  const count = (v: ScenarioVerdict) => n[v] ?? 0;
  const lost = count("guarantee-lost");
  const error = count("error");
  // Only runs under a successor profile can lose a guarantee; other evidence keeps its shape.
  return {
    pass: count("pass"),
    fail: count("fail"),
    skip: count("skip"),
    finding: count("finding"),
    ...(lost || scenarios.some((s) => s.migration) ? { "guarantee-lost": lost } : {}),
    ...(error ? { error } : {}),
    total: scenarios.length,
    checked,
  };
}

/**
 * The suite itself broke: a harness fault, an error outside any check, or a check that erred.
 * Reports then give no verdict on the Ingresses, and the run exits 3.
 */
export function suiteFaulted(evidence: Pick<Evidence, "runErrors" | "harnessFaults" | "totals">): boolean {
  return (evidence.runErrors?.length ?? 0) > 0 || (evidence.harnessFaults?.length ?? 0) > 0 || (evidence.totals.error ?? 0) > 0;
}

/**
 * The run's harness faults, one per source and message with how often and from when (a log may
 * repeat one warning thousands of times), in order of first appearance.
 */
export function distinctFaults(ev: Evidence): Array<HarnessFault & { count: number }> {
  const by = new Map<string, HarnessFault & { count: number }>();
  for (const f of ev.harnessFaults ?? []) {
    const key = `${f.source}\u0000${f.message}`;
    const seen = by.get(key);
    if (!seen) by.set(key, { ...f, count: 1 });
    else {
      seen.count++;
      if (f.at && (!seen.at || f.at < seen.at)) seen.at = f.at;
    }
  }
  return [...by.values()];
}

/** Ingresses with auth-tls that the controller serves but for which no probe ran. */
export function uncheckedIngresses(evidence: Evidence): string[] {
  return (evidence.ingresses ?? []).filter((i) => i.checked === 0 && Object.keys(i.declared).length > 0 && !i.notServed).map((i) => i.id);
}

/** Per Ingress: its declaration, what its hosts do, and the verdicts of its checks. */
export function ingressEvidence(plans: Array<Omit<IngressEvidence, "totals" | "checked">>, scenarios: ScenarioEvidence[]): IngressEvidence[] {
  // Indexed once: a filter per Ingress is quadratic at a thousand Ingresses.
  const byIngress = new Map<string, ScenarioEvidence[]>();
  for (const s of scenarios) {
    if (!s.ingress || s.ingress !== s.group) continue;
    const list = byIngress.get(s.ingress);
    if (list) list.push(s);
    else byIngress.set(s.ingress, [s]);
  }
  return plans.map((p) => {
    const t = totals(byIngress.get(p.id) ?? []);
    const { checked, ...counts } = t;
    return { ...p, lint: p.lint.map(({ rule, triggered, detail }) => ({ rule, triggered, detail })), totals: counts, checked };
  });
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

/**
 * A control passes when every scenario evidencing it passed; fails when any failed. One whose
 * checks erred (the harness was at fault) and none failed is `error`: it was not shown to hold.
 */
export function controlEvidence(
  coverage: Array<{ id: string; title: string; scenarios: string[] }>,
  scenarios: ScenarioEvidence[],
): Evidence["controls"] {
  const verdictOf = new Map(scenarios.map((s) => [s.id, s.verdict]));
  return coverage
    .filter((c) => c.scenarios.length > 0)
    .map((c) => {
      const verdicts = c.scenarios.map((id) => verdictOf.get(id) ?? "fail");
      const verdict: ScenarioVerdict = verdicts.includes("fail")
        ? "fail"
        : verdicts.includes("error")
          ? "error"
          : verdicts.every((v) => v === "skip")
          ? "skip"
          : verdicts.includes("guarantee-lost")
            ? "guarantee-lost"
            : verdicts.includes("finding")
            ? "finding"
            : "pass";
      return { ...c, verdict };
    });
}

/**
 * evidence.json in pieces, byte for byte `JSON.stringify(evidence, null, 2) + "\n"`: each top-level
 * field, and each element of the top-level arrays (13,500 scenarios at a thousand Ingresses), is
 * stringified alone, so the whole file is never one string in memory.
 */
export function* evidenceJsonChunks(evidence: Evidence): Generator<string> {
  // JSON.stringify escapes line breaks inside strings, so every "\n" it emits is layout: indenting
  // a nested value is a replace.
  const nested = (json: string, indent: string) => json.replace(/\n/g, `\n${indent}`);
  // Fields JSON.stringify leaves out (undefined, functions) are left out here too.
  const entries = Object.entries(evidence).filter(([, v]) => Array.isArray(v) || JSON.stringify(v) !== undefined);
  if (entries.length === 0) {
    yield "{}\n";
    return;
  }
  yield "{\n";
  for (const [i, [key, value]] of entries.entries()) {
    const end = i < entries.length - 1 ? ",\n" : "\n";
    const head = `  ${JSON.stringify(key)}: `;
    if (Array.isArray(value) && value.length > 0) {
      yield `${head}[\n`;
      for (const [j, item] of value.entries()) {
        // As JSON.stringify does in arrays: what has no JSON form is null.
        const json = JSON.stringify(item, null, 2) ?? "null";
        yield `    ${nested(json, "    ")}${j < value.length - 1 ? ",\n" : "\n"}`;
      }
      yield `  ]${end}`;
    } else {
      yield `${head}${nested(JSON.stringify(value, null, 2)!, "  ")}${end}`;
    }
  }
  yield "}\n";
}
