// The run as GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY: verdict line, harness faults,
// failures, findings (documented weaknesses observed), every scenario or Ingress, control
// coverage and the command that reproduces it.
//
// GitHub drops a step summary over 1 MiB whole, so the summary keeps to a budget: what a CI reader
// needs always (verdict, totals, faults, every failing Ingress with its first mismatches, controls,
// the command), the rest while it fits, and past that a count and a pointer to report.html.
import type { Evidence, ScenarioEvidence } from "./evidence.ts";
import { distinctFaults, faultCounts, findingCount, findingsLabel, groupScenarios, otherRunErrors, overallVerdict, SUITE_FAULT_HEADLINE, uncheckedIngresses, verdictLabel } from "./report-html.ts";

const EMOJI: Record<string, string> = { pass: "✅", fail: "❌", skip: "⏭️", finding: "⚠️", "guarantee-lost": "🔻", error: "⛔" };

/** GitHub's cap on one step's summary: over it, the runner shows none of it. */
export const SUMMARY_LIMIT = 1024 * 1024;
/** What the summary aims to stay under, leaving room for what else the job appends. */
export const SUMMARY_BUDGET = 512 * 1024;
/** The longest text of one cell (a mismatch, a statement): a response body must not fill the budget. */
const CELL_CHARS = 400;
/** Mismatches shown per failing Ingress. */
const FIRST_MISMATCHES = 3;

export interface SummaryOptions {
  /** Bytes the summary aims to stay under (default SUMMARY_BUDGET); never above SUMMARY_LIMIT. */
  budget?: number;
}

const bytes = (text: string) => Buffer.byteLength(text, "utf8");
const clip = (text: string, max = CELL_CHARS) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** Text safe inside a Markdown table cell: no pipes, newlines, raw HTML or emphasis. */
export function markdownCell(value: unknown): string {
  return String(value ?? "")
    .replace(/\\/g, "\\\\")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/([`*_[\]|])/g, "\\$1")
    .replace(/\r\n|\r|\n/g, "<br>");
}

/** Text safe on a Markdown line outside tables. */
const inline = (value: unknown) => markdownCell(value).replace(/<br>/g, " ");

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/**
 * A table of as many rows as fit in `allowance` bytes, then a line saying how many were left out
 * and where they are. `rows` is rendered lazily: at 13,500 checks most are never needed.
 */
function boundedTable(head: string[], count: number, row: (i: number) => string[], allowance: number, what: string): string {
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  let used = bytes(lines.join("\n")) + 200;
  let i = 0;
  for (; i < count; i++) {
    const line = `| ${row(i).join(" | ")} |`;
    const size = bytes(line) + 1;
    if (used + size > allowance) break;
    lines.push(line);
    used += size;
  }
  if (i < count) lines.push("", `…and ${count - i} more ${what}: see report.html.`);
  return lines.join("\n");
}

/** A fenced block whose fence is longer than any backtick run in the text. */
function fenced(text: string, lang = "sh"): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text}\n${fence}`;
}

export function renderSummaryMarkdown(evidence: Evidence, options: SummaryOptions = {}): string {
  const budget = Math.min(options.budget ?? SUMMARY_BUDGET, SUMMARY_LIMIT - 64 * 1024);
  const t = evidence.totals;
  const overall = overallVerdict(evidence);
  const verdict = verdictLabel(overall);
  const findings = findingCount(evidence);
  const lost = t["guarantee-lost"] ? `, ${t["guarantee-lost"]} guarantee(s) lost` : "";
  const erred = t.error ? `, ${t.error} erred` : "";
  const counts = `${t.pass} passed, ${t.fail} failed${erred}, ${t.skip} skipped${findings > 0 ? `, ${findingsLabel(findings)}` : ""}${lost}`;
  const head: string[] = [];
  // Said first: a suite fault is no verdict on the Ingresses, whatever the counts say.
  head.push(
    overall === "suite-fault"
      ? `## mTLS conformance: ${SUITE_FAULT_HEADLINE} (the harness broke; exit 3) (${counts} of ${t.total}) on ${inline(evidence.target.kind)}`
      : `## mTLS conformance: ${verdict} (${counts} of ${t.total}) on ${inline(evidence.target.kind)}`,
  );
  head.push("");
  if (overall === "suite-fault") {
    head.push(`**The suite broke, not the Ingress** (${inline(faultCounts(evidence))}): checks that failed while the harness was at fault are errors, with no verdict; fix the harness and run again.`);
    head.push("");
    const faults = distinctFaults(evidence);
    const others = otherRunErrors(evidence);
    const listed = 50;
    for (const f of faults.slice(0, listed)) head.push(`- ⛔ harness fault, ${inline(f.source)}${f.at ? ` ${f.count > 1 ? "first " : ""}at ${inline(f.at)}` : ""}${f.count > 1 ? ` (${f.count} times)` : ""}: ${inline(clip(f.message))}`);
    for (const r of others.slice(0, listed)) head.push(`- ⛔ run error: ${inline(clip(r))}`);
    const left = Math.max(0, faults.length - listed) + Math.max(0, others.length - listed);
    if (left) head.push(`- …and ${left} more: see report.html`);
    if (faults.length || others.length) head.push("");
  }
  if (evidence.profile) {
    head.push(`Checks expected **${evidence.profile.title} ${evidence.profile.versions}**, not ingress-nginx: ${evidence.profile.basis}.`);
    const lostChecks = evidence.scenarios.filter((x) => x.verdict === "guarantee-lost");
    for (const s of lostChecks.slice(0, 100)) head.push(`- 🔻 ${inline(s.id)} ${s.migration!.guarantee} lost: ${s.migration!.reason}`);
    if (lostChecks.length > 100) head.push(`- …and ${lostChecks.length - 100} more: see report.html`);
    head.push("");
  }
  // Said first: a report that checked nothing must not be read as anything else.
  if (t.checked === 0) {
    head.push(`**Nothing was checked:** no probe ran (${t.skip} skipped). This run proves nothing about the target.`);
    head.push("");
  }
  const unchecked = uncheckedIngresses(evidence);
  if (t.checked !== 0 && unchecked.length) {
    head.push(`**Nothing was checked for** ${unchecked.slice(0, 100).map(inline).join(", ")}${unchecked.length > 100 ? ` and ${unchecked.length - 100} more` : ""}: every check of it was skipped.`);
    head.push("");
  }
  // What the verdicts rest on: checks an emulated controller rule decides test the emulation.
  const emulated = evidence.scenarios.filter((x) => x.decidedBy?.emulated);
  if (emulated.length) {
    const ids = emulated.slice(0, 40).map((x) => inline(x.id));
    head.push(
      `**Emulated:** ${emulated.length} of ${evidence.scenarios.filter((x) => x.decidedBy).length} probed check(s) are decided by a controller rule that this target's emulator applies (admission, Secret handling, store updates, which Ingress governs a host): they pass by construction and test the emulation, not a controller; a k3s, cluster or endpoint run observes those rules. ${ids.join(", ")}${emulated.length > 40 ? ` and ${emulated.length - 40} more` : ""}.`,
    );
    head.push("");
  }
  const versions = Object.entries(evidence.target.versions ?? {}).map(([k, v]) => `${inline(k)} ${inline(v)}`);
  head.push(
    `**Target:** ${inline(evidence.target.kind)}: ${inline(evidence.target.description)} · **Versions:** ${versions.length ? versions.join(", ") : "none recorded"}`,
  );
  head.push("");
  head.push(`**Run:** ${inline(evidence.run.id)} · ${inline(evidence.run.startedAt)} to ${inline(evidence.run.finishedAt)} · ${inline(evidence.tool.name)} ${inline(evidence.tool.version)}, Node ${inline(evidence.tool.node)}`);
  head.push("");

  const tail: string[] = [];
  tail.push("### Controls");
  tail.push("");
  if (evidence.controls.length === 0) tail.push("No control is evidenced by the selected scenarios.");
  else {
    tail.push(
      table(
        ["Control", "Title", "Scenarios", ""],
        evidence.controls.map((c) => [markdownCell(c.id), markdownCell(c.title), markdownCell(c.scenarios.length), EMOJI[c.verdict] ?? markdownCell(c.verdict)]),
      ),
    );
  }
  tail.push("");
  tail.push("### Reproduce");
  tail.push("");
  tail.push(fenced(evidence.run.command));
  tail.push("");

  // The middle shares what the head and tail leave, in the order a CI reader needs it.
  let left = budget - bytes(head.join("\n")) - bytes(tail.join("\n"));
  const middle: string[] = [];
  const add = (block: string[]) => {
    middle.push(...block);
    left -= bytes(block.join("\n")) + 1;
  };
  const byIngress = (evidence.ingresses?.length ?? 0) > 0;
  const groups = byIngress ? groupScenarios(evidence.scenarios) : undefined;

  // Failures: every failing Ingress with its first mismatches (every failed check for the catalogue).
  const failed = evidence.scenarios.filter((s) => s.verdict === "fail");
  const errored = evidence.scenarios.filter((s) => s.verdict === "error");
  // What failures and errors leave the rest: a little room each for findings and the Ingresses.
  const reserve = 24 * 1024;
  add(["### Failures", "", ...(failed.length === 0 ? ["No failures."] : [failureTable(failed, groups, "failed", Math.max((errored.length ? 0.7 : 1) * (left - reserve), 16 * 1024))]), ""]);

  // Errors: not failures of the Ingresses, listed apart.
  if (errored.length) add(["### Errors (no verdict: the harness was at fault)", "", failureTable(errored, groups, "erred", Math.max(left - reserve, 8 * 1024)), ""]);

  // Not failures, but never to be read as passes: each names a protection that is not there.
  const found = evidence.scenarios.filter((s) => s.verdict === "finding");
  const statementOf = new Map<string, string>();
  for (const f of evidence.findings) if (!statementOf.has(f.scenario)) statementOf.set(f.scenario, f.statement);
  add([
    "### Findings",
    "",
    found.length === 0
      ? "No findings."
      : boundedTable(
          ["ID", "Statement"],
          found.length,
          (i) => [markdownCell(found[i]!.id), markdownCell(clip(found[i]!.finding?.statement ?? statementOf.get(found[i]!.id) ?? "(no statement recorded)"))],
          Math.max(left * 0.4, 8 * 1024),
          "findings",
        ),
    "",
  ]);

  if (byIngress) add(["### Ingresses", "", ingressTable(evidence, left), ""]);
  else {
    add([
      "### Scenarios",
      "",
      boundedTable(
        ["ID", "", "Name"],
        evidence.scenarios.length,
        (i) => {
          const s = evidence.scenarios[i]!;
          return [markdownCell(s.id), EMOJI[s.verdict] ?? markdownCell(s.verdict), markdownCell(s.name) + (s.skipReason ? ` (skipped: ${markdownCell(clip(s.skipReason))})` : "")];
        },
        left,
        "scenarios",
      ),
      "",
    ]);
  }
  const md = [...head, ...middle, ...tail].join("\n");
  // The head and tail are bounded by what they list; this only guards the cap against a giant command line.
  return bytes(md) < SUMMARY_LIMIT ? md : `${Buffer.from(md).subarray(0, SUMMARY_LIMIT - 200).toString("utf8").replace(/\uFFFD$/, "")}\n\n…cut at GitHub's 1 MiB limit: see report.html.\n`;
}

/**
 * Failed (or erred) checks: for the catalogue one row each with every mismatch; for Ingresses one
 * row per Ingress with its first mismatches. Every failing Ingress is named: when all of them do not
 * fit with three mismatches each, they are shown with one, shorter, and at worst by name and count.
 */
function failureTable(list: ScenarioEvidence[], groups: Map<string, ScenarioEvidence[]> | undefined, verb: string, allowance: number): string {
  if (!groups) {
    return boundedTable(
      ["ID", "Name", "Mismatches"],
      list.length,
      (i) => {
        const s = list[i]!;
        return [markdownCell(s.id), markdownCell(s.name), s.mismatches.map((m) => markdownCell(clip(m))).join("<br>") || "(no mismatch recorded)"];
      },
      allowance,
      `checks that ${verb}`,
    );
  }
  const byGroup = new Map<string, ScenarioEvidence[]>();
  for (const s of list) {
    const g = byGroup.get(s.group);
    if (g) g.push(s);
    else byGroup.set(s.group, [s]);
  }
  const rows = [...byGroup];
  const head = ["Ingress", verb === "failed" ? "Failed" : "Erred", "First mismatches"];
  const render = (mismatches: number, chars: number) => (i: number) => {
    const [group, checks] = rows[i]!;
    const first = checks
      .slice(0, mismatches)
      .map((s) => `${markdownCell(s.id.startsWith(`${group}#`) ? s.id.slice(group.length) : s.id)}: ${markdownCell(clip(s.mismatches[0] ?? "(no mismatch recorded)", chars))}`);
    if (checks.length > mismatches && mismatches > 0) first.push(`…and ${checks.length - mismatches} more`);
    return [markdownCell(group), `${checks.length} of ${groups.get(group)?.length ?? checks.length}`, first.join("<br>") || "see report.html"];
  };
  for (const [mismatches, chars] of [
    [FIRST_MISMATCHES, CELL_CHARS],
    [1, 160],
    [0, 0],
  ] as const) {
    const row = render(mismatches, chars);
    const lines = rows.map((_, i) => `| ${row(i).join(" | ")} |`);
    if (mismatches === 0 || lines.reduce((n, l) => n + bytes(l) + 1, 0) + 200 <= allowance) {
      return boundedTable(head, rows.length, row, allowance, `Ingresses whose checks ${verb}`);
    }
  }
  throw new Error("unreachable");
}

/**
 * One line per Ingress while they fit; past the budget, the Ingresses that passed every check are
 * a count, and the ones a reader must look at (failed, erred, findings, nothing checked) stay.
 */
function ingressTable(evidence: Evidence, allowance: number): string {
  const t = evidence.totals;
  const head = ["Ingress", "Hosts", "Probes", "✅", "❌", ...(t.error ? ["⛔"] : []), "⏭️", "⚠️"];
  const row = (i: NonNullable<Evidence["ingresses"]>[number]) => [
    markdownCell(i.id) + (i.notServed ? ` (not served: ${markdownCell(clip(i.notServed))})` : ""),
    markdownCell(i.hosts.join(", ")),
    markdownCell(i.checked),
    markdownCell(i.totals.pass),
    markdownCell(i.totals.fail),
    ...(t.error ? [markdownCell(i.totals.error ?? 0)] : []),
    markdownCell(i.totals.skip),
    markdownCell(i.totals.finding),
  ];
  const all = evidence.ingresses;
  const full = table(head, all.map(row));
  if (bytes(full) <= allowance) return full;
  const unchecked = new Set(uncheckedIngresses(evidence));
  const clean = (i: (typeof all)[number]) => !i.totals.fail && !i.totals.error && !i.totals.finding && !i.totals["guarantee-lost"] && !unchecked.has(i.id) && !i.notServed;
  const shown = all.filter((i) => !clean(i));
  const passed = all.length - shown.length;
  return [
    `${passed} Ingress(es) passed every check and are not listed (report.html lists every Ingress); the other ${shown.length}:`,
    "",
    boundedTable(head, shown.length, (n) => row(shown[n]!), allowance - 300, "Ingresses"),
  ].join("\n");
}
