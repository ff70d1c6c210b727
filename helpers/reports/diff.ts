// Compares two runs' evidence.json: which scenarios changed verdict or behaviour, and which
// versions changed underneath them. Used to validate an ingress-nginx upgrade (run before, run
// after, diff). Only what is stable between two runs of the same configuration is compared: the
// PKI, ports, run ids, timings and forwarding headers are new on every run and never compared.
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Evidence, ScenarioEvidence } from "./evidence.ts";
import type { ScenarioVerdict } from "./progress-reporter.ts";
import type { ObservedSummary } from "../run/run-context.ts";
import { guaranteeOf } from "../profiles/scenario-guarantee.ts";
import { faultCounts, SUITE_FAULT_HEADLINE, suiteFaulted } from "./report-html.ts";

export type Verdict = ScenarioVerdict;

export interface ScenarioChange {
  id: string;
  name: string;
  /** Verdict in A; undefined when the scenario is only in B (added). */
  before?: Verdict;
  /** Verdict in B; undefined when the scenario is only in A (removed). */
  after?: Verdict;
  kind: "regressed" | "fixed" | "changed-verdict" | "changed-behaviour" | "added" | "removed" | "inconclusive";
  /** Observed behaviour that differs, one item each, e.g. `status 400 -> 200`. */
  details: string[];
}

export interface RunSide {
  /** What the run is, as guarantee lines name it (`ingress-nginx v1.15.1`, `traefik >=3.7.2`). */
  label?: string;
  runId: string;
  target: string;
  versions: Record<string, string>;
  /** Set when that run's harness broke (report-html faultCounts): its erred checks have no verdict. */
  suiteFault?: string;
}

export interface EvidenceDiff {
  a: RunSide;
  b: RunSide;
  /** `target` (the target kind) and every key of `target.versions` whose value differs. */
  versionChanges: Array<{ key: string; before?: string; after?: string }>;
  changes: ScenarioChange[];
  /**
   * Guarantees whose state differs between the runs, said as a migration is judged:
   * "match-cn: enforced on ingress-nginx v1.15.1 -> lost on traefik >=3.7.2".
   */
  guarantees: GuaranteeChange[];
  /** True when any scenario regressed. */
  regressed: boolean;
  /**
   * Scenarios whose verdict changed to or from `error` (the harness was at fault in that run):
   * no verdict on one side, so neither a regression nor a fix. The diff cannot say what changed
   * for them until the run is repeated with a working harness.
   */
  inconclusive: number;
}

const NONE = "(none)";

export type GuaranteeState = "enforced" | "lost" | "failing" | "not expressible" | "inconclusive";
export interface GuaranteeChange {
  guarantee: string;
  before: GuaranteeState;
  after: GuaranteeState;
  /** The scenarios that decide the state in B (or in A when B has none that do). */
  scenarios: string[];
}

/** What the run is, for a guarantee line: the successor profile, else the controller or target. */
function runLabel(e: Evidence): string {
  if (e.profile) return `${e.profile.name} ${e.profile.versions}`;
  const controller = e.target?.versions?.controller;
  return controller ? `ingress-nginx ${controller}` : `${e.target?.kind ?? "?"} (ingress-nginx's rules)`;
}

/** Per guarantee, over the scenarios both runs have: lost, failing, not expressible, or enforced. */
function guaranteeStates(e: Evidence, ids: Set<string>): Map<string, { state: GuaranteeState; deciding: string[] }> {
  const by = new Map<string, ScenarioEvidence[]>();
  for (const s of e.scenarios) {
    if (!ids.has(s.id)) continue;
    const g = s.migration?.guarantee ?? guaranteeOf(s);
    const list = by.get(g);
    if (list) list.push(s);
    else by.set(g, [s]);
  }
  const out = new Map<string, { state: GuaranteeState; deciding: string[] }>();
  for (const [g, list] of by) {
    const ofVerdict = (v: string) => list.filter((s) => s.verdict === v).map((s) => s.id);
    const notExpressible = list.filter((s) => s.skipReason?.startsWith("not expressible")).map((s) => s.id);
    if (ofVerdict("guarantee-lost").length) out.set(g, { state: "lost", deciding: ofVerdict("guarantee-lost") });
    else if (ofVerdict("fail").length) out.set(g, { state: "failing", deciding: ofVerdict("fail") });
    // A check that erred says nothing either way: the guarantee is not shown to hold.
    else if (ofVerdict("error").length) out.set(g, { state: "inconclusive", deciding: ofVerdict("error") });
    else if (notExpressible.length) out.set(g, { state: "not expressible", deciding: notExpressible });
    else out.set(g, { state: "enforced", deciding: [] });
  }
  return out;
}

/**
 * The kind of a verdict change. A regression is anything that passed in A and no longer passes in
 * B: pass -> fail, pass -> skip (a scenario that stops running no longer proves what it proved,
 * which an upgrade must not hide) and pass -> finding (a documented weakness appeared). A finding
 * that becomes a failure regressed too: finding -> fail. `fixed` is fail -> pass and also
 * finding -> pass (the weakness is gone). Every other verdict change (skip -> fail, skip -> pass,
 * fail -> skip, fail -> finding, finding -> skip, skip -> finding) lost nothing that A had proven
 * and is `changed-verdict`, which does not set `regressed`. Added and removed scenarios never set
 * `regressed` either: they mean the catalogue or the selection differs, which the report shows.
 * A change to or from `error` is `inconclusive`: that run's harness was at fault, so it has no
 * verdict to compare, neither a regression (pass -> error) nor a fix (error -> pass).
 */
export function verdictChangeKind(before: Verdict, after: Verdict): ScenarioChange["kind"] {
  if (before === "error" || after === "error") return "inconclusive";
  if (before === "pass") return "regressed";
  if (before === "finding" && after === "fail") return "regressed";
  if ((before === "fail" || before === "finding") && after === "pass") return "fixed";
  return "changed-verdict";
}

/** One comparable fact about an observation: a label and a value stable between runs. */
type Fact = { label: string; value: string };

function headerValue(o: ObservedSummary, name: string): string {
  const v = o.upstreamHeaders?.[name];
  return v === undefined ? "(absent)" : v;
}

function clientCertFact(o: ObservedSummary): string {
  const present = o.upstreamHeaders?.["ssl-client-cert"] !== undefined || o.upstreamClientCert !== undefined;
  if (!present) return "absent";
  const n = o.upstreamClientCert?.certificates;
  return n === undefined ? "present" : `present (${n} certificate${n === 1 ? "" : "s"})`;
}

/**
 * The facts of one observation that two runs of the same configuration reproduce. The upstream
 * headers are compared only when both sides reached the backend (otherwise `upstream` already says
 * what changed, and "(absent)" on every header would only repeat it).
 */
function facts(o: ObservedSummary, other: ObservedSummary, marker: string | undefined): Fact[] {
  const out: Fact[] = [
    { label: "status", value: o.status === undefined ? NONE : String(o.status) },
    // The transport error only matters when there was no response; its message may name ports.
    { label: "transport error", value: o.status === undefined ? (o.error?.code ?? "unknown") : NONE },
    { label: "upstream", value: o.upstreamReached ? "reached" : "not reached" },
  ];
  if (o.upstreamReached && other.upstreamReached) {
    for (const h of ["ssl-client-verify", "ssl-client-subject-dn", "ssl-client-issuer-dn"]) out.push({ label: h, value: headerValue(o, h) });
    out.push({ label: "ssl-client-cert", value: clientCertFact(o) });
    out.push({ label: "x-ssl-client-cert", value: o.upstreamHeaders?.["x-ssl-client-cert"] === undefined ? "absent" : "present" });
  }
  if (marker !== undefined) out.push({ label: `body marker ${JSON.stringify(marker)}`, value: (o.bodyExcerpt ?? "").includes(marker) ? "present" : "absent" });
  return out;
}

/** `label before -> after` for every fact whose value differs; empty when the behaviour is the same. */
export function behaviourDetails(a: ScenarioEvidence, b: ScenarioEvidence): string[] {
  if (!a.observed || !b.observed) {
    // One side has no observation at all (not run): say which, and what the other side saw.
    const describe = (o: ObservedSummary | undefined) =>
      !o ? "not run" : o.status !== undefined ? `status ${o.status}` : `transport error ${o.error?.code ?? "unknown"}`;
    const [da, db] = [describe(a.observed), describe(b.observed)];
    return da === db ? [] : [`${da} -> ${db}`];
  }
  const marker = a.expected?.bodyIncludes ?? b.expected?.bodyIncludes;
  const fa = facts(a.observed, b.observed, marker);
  const fb = new Map(facts(b.observed, a.observed, marker).map((f) => [f.label, f.value]));
  const details: string[] = [];
  for (const x of fa) {
    const y = fb.get(x.label);
    if (y !== undefined && y !== x.value) details.push(`${x.label} ${x.value} -> ${y}`);
  }
  return details;
}

function side(e: Evidence): RunSide {
  const out: RunSide = { runId: e.run?.id ?? "(unknown)", target: e.target?.kind ?? "(unknown)", versions: { ...(e.target?.versions ?? {}) } };
  if (e.totals && suiteFaulted(e)) out.suiteFault = faultCounts(e);
  return out;
}

export function diffEvidence(a: Evidence, b: Evidence): EvidenceDiff {
  const sa = side(a);
  const sb = side(b);

  const versionChanges: EvidenceDiff["versionChanges"] = [];
  if (sa.target !== sb.target) versionChanges.push({ key: "target", before: sa.target, after: sb.target });
  const keys = [...new Set([...Object.keys(sa.versions), ...Object.keys(sb.versions)])];
  for (const key of keys) {
    const before = sa.versions[key];
    const after = sb.versions[key];
    if (before !== after) versionChanges.push({ key, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) });
  }

  const inB = new Map(b.scenarios.map((s) => [s.id, s]));
  const inA = new Set(a.scenarios.map((s) => s.id));
  const changes: ScenarioChange[] = [];
  for (const x of a.scenarios) {
    const y = inB.get(x.id);
    if (!y) {
      changes.push({ id: x.id, name: x.name, before: x.verdict, kind: "removed", details: [] });
      continue;
    }
    const details = behaviourDetails(x, y);
    if (x.verdict !== y.verdict) {
      const kind = verdictChangeKind(x.verdict, y.verdict);
      if (kind === "inconclusive") details.unshift(`no verdict in ${x.verdict === "error" ? "A" : "B"}: the harness was at fault (neither a regression nor a fix)`);
      changes.push({ id: x.id, name: y.name, before: x.verdict, after: y.verdict, kind, details });
    } else if (x.verdict === "error") {
      // Erred in both: neither run has a verdict, so "no change" would be a claim the diff cannot make.
      changes.push({ id: x.id, name: y.name, before: x.verdict, after: y.verdict, kind: "inconclusive", details: ["no verdict in A or B: the harness was at fault in both"] });
    } else if (details.length > 0) {
      changes.push({ id: x.id, name: y.name, before: x.verdict, after: y.verdict, kind: "changed-behaviour", details });
    }
  }
  for (const y of b.scenarios) {
    if (!inA.has(y.id)) changes.push({ id: y.id, name: y.name, after: y.verdict, kind: "added", details: [] });
  }

  const both = new Set(a.scenarios.map((s) => s.id).filter((id) => inB.has(id)));
  const ga = guaranteeStates(a, both);
  const gb = guaranteeStates(b, both);
  const guarantees: GuaranteeChange[] = [];
  for (const [g, before] of ga) {
    const after = gb.get(g);
    if (after && after.state !== before.state) guarantees.push({ guarantee: g, before: before.state, after: after.state, scenarios: after.deciding.length ? after.deciding : before.deciding });
  }
  sa.label = runLabel(a);
  sb.label = runLabel(b);
  return {
    a: sa,
    b: sb,
    versionChanges,
    changes,
    guarantees,
    regressed: changes.some((c) => c.kind === "regressed"),
    inconclusive: changes.filter((c) => c.kind === "inconclusive").length,
  };
}

// ---------------------------------------------------------------------------------------------
// Output

const versionsText = (v: Record<string, string>) => Object.entries(v).map(([k, x]) => `${k}=${x}`).join(", ");
const runText = (s: RunSide) => `${s.runId} (${s.target}${Object.keys(s.versions).length ? ` ${versionsText(s.versions)}` : ""})`;
const verdictsText = (c: ScenarioChange) =>
  c.kind === "changed-behaviour" ? `${c.before}` : `${c.before ?? NONE} -> ${c.after ?? NONE}`;

const guaranteeText = (d: EvidenceDiff, g: GuaranteeChange) =>
  `${g.guarantee}: ${g.before} on ${d.a.label} -> ${g.after} on ${d.b.label}${g.scenarios.length ? ` (${g.scenarios.join(", ")})` : ""}`;

function summaryLine(d: EvidenceDiff): string {
  if (d.changes.length === 0) return "no change";
  const r = d.changes.filter((c) => c.kind === "regressed").length;
  // Said so: a diff of a run whose harness broke is not a clean bill for the checks that erred.
  const inconclusive = d.inconclusive ? `, ${d.inconclusive} inconclusive (a harness fault, no verdict on one side)` : "";
  return `${d.changes.length} change(s), ${r} regression(s)${inconclusive}`;
}

/** A line per run whose harness broke: the diff cannot judge its erred checks. */
const faultLines = (d: EvidenceDiff) =>
  (["a", "b"] as const).filter((k) => d[k].suiteFault).map((k) => `${k.toUpperCase()}: ${SUITE_FAULT_HEADLINE} (${d[k].suiteFault}); its erred checks are inconclusive`);

/** Plain text: header, version changes, one line per scenario change, a summary line. */
export function formatDiffText(d: EvidenceDiff): string {
  const lines = [`A ${runText(d.a)} -> B ${runText(d.b)}`, ...faultLines(d)];
  for (const v of d.versionChanges) lines.push(`version ${v.key}: ${v.before ?? NONE} -> ${v.after ?? NONE}`);
  for (const g of d.guarantees) lines.push(guaranteeText(d, g));
  for (const c of d.changes) {
    lines.push(`${c.kind.toUpperCase()} ${c.id} ${c.name}: ${[verdictsText(c), ...c.details].join("; ")}`);
  }
  lines.push(summaryLine(d));
  return lines.join("\n") + "\n";
}

/** A Markdown table cell: no line breaks, `|` escaped, no raw HTML. */
function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/\r?\n/g, " ");
}

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`)];
}

/** Markdown (for a PR comment or a job summary): the same content as the text, as a heading and tables. */
export function formatDiffMarkdown(d: EvidenceDiff): string {
  const out: string[] = [`## mTLS conformance diff: ${cell(d.a.runId)} -> ${cell(d.b.runId)}`, ""];
  out.push(
    ...table(
      ["run", "id", "target", "versions"],
      [
        ["A", d.a.runId, d.a.target, versionsText(d.a.versions)],
        ["B", d.b.runId, d.b.target, versionsText(d.b.versions)],
      ],
    ),
    "",
  );
  for (const line of faultLines(d)) out.push(`**${cell(line)}**`, "");
  if (d.versionChanges.length) {
    out.push("### Version changes", "", ...table(["key", "A", "B"], d.versionChanges.map((v) => [v.key, v.before ?? NONE, v.after ?? NONE])), "");
  }
  if (d.guarantees.length) out.push("### Guarantees", "", ...d.guarantees.map((g) => `- ${cell(guaranteeText(d, g))}`), "");
  if (d.changes.length) {
    out.push(
      "### Scenario changes",
      "",
      ...table(
        ["change", "scenario", "name", "A", "B", "details"],
        d.changes.map((c) => [c.kind.toUpperCase(), c.id, c.name, c.before ?? NONE, c.after ?? NONE, c.details.join("; ")]),
      ),
      "",
    );
  }
  out.push(`**${summaryLine(d)}**`, "");
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Files

/** Reads `<dir>/evidence.json` (or the file itself when `dir` names a file); throws saying which file and why. */
export async function readEvidence(dir: string): Promise<Evidence> {
  let path = resolve(dir, "evidence.json");
  try {
    if ((await stat(dir)).isFile()) path = resolve(dir);
  } catch (e) {
    throw new Error(`cannot read ${join(dir, "evidence.json")}: ${dir} does not exist (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file (is this a run's --report-dir?)" : (e as Error).message;
    throw new Error(`cannot read ${path}: ${why}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`cannot read ${path}: not JSON (${(e as Error).message})`);
  }
  const ev = parsed as Partial<Evidence> | null;
  if (!ev || typeof ev !== "object" || !Array.isArray(ev.scenarios) || typeof ev.run !== "object" || typeof ev.target !== "object") {
    throw new Error(`cannot read ${path}: not an mtls-conformance evidence.json (no run, target or scenarios)`);
  }
  return ev as Evidence;
}

/** Diffs the evidence.json of two report directories (A = before, B = after). */
export async function diffReportDirs(dirA: string, dirB: string): Promise<EvidenceDiff> {
  const [a, b] = await Promise.all([readEvidence(dirA), readEvidence(dirB)]);
  return diffEvidence(a, b);
}
