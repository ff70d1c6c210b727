// The run as GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY: verdict line, failures,
// findings (documented weaknesses observed), every scenario, control coverage and the command
// that reproduces it.
import type { Evidence } from "./evidence.ts";
import { findingCount, findingsLabel, overallVerdict, uncheckedIngresses, verdictLabel } from "./report-html.ts";

const EMOJI: Record<string, string> = { pass: "✅", fail: "❌", skip: "⏭️", finding: "⚠️", "guarantee-lost": "🔻" };

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

/** A fenced block whose fence is longer than any backtick run in the text. */
function fenced(text: string, lang = "sh"): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text}\n${fence}`;
}

export function renderSummaryMarkdown(evidence: Evidence): string {
  const t = evidence.totals;
  const verdict = verdictLabel(overallVerdict(evidence));
  const lines: string[] = [];
  const findings = findingCount(evidence);
  const lost = t["guarantee-lost"] ? `, ${t["guarantee-lost"]} guarantee(s) lost` : "";
  const counts = `${t.pass} passed, ${t.fail} failed, ${t.skip} skipped${findings > 0 ? `, ${findingsLabel(findings)}` : ""}${lost}`;
  lines.push(`## mTLS conformance: ${verdict} (${counts} of ${t.total}) on ${inline(evidence.target.kind)}`);
  lines.push("");
  if (evidence.profile) {
    lines.push(`Checks expected **${evidence.profile.title} ${evidence.profile.versions}**, not ingress-nginx: ${evidence.profile.basis}.`);
    for (const s of evidence.scenarios.filter((x) => x.verdict === "guarantee-lost")) lines.push(`- 🔻 ${inline(s.id)} ${s.migration!.guarantee} lost: ${s.migration!.reason}`);
    lines.push("");
  }
  // Said first: a report that checked nothing must not be read as anything else.
  if (t.checked === 0) {
    lines.push(`**Nothing was checked:** no probe ran (${t.skip} skipped). This run proves nothing about the target.`);
    lines.push("");
  }
  const unchecked = uncheckedIngresses(evidence);
  if (t.checked !== 0 && unchecked.length) {
    lines.push(`**Nothing was checked for** ${unchecked.map(inline).join(", ")}: every check of it was skipped.`);
    lines.push("");
  }
  const versions = Object.entries(evidence.target.versions ?? {}).map(([k, v]) => `${inline(k)} ${inline(v)}`);
  lines.push(
    `**Target:** ${inline(evidence.target.kind)}: ${inline(evidence.target.description)} · **Versions:** ${versions.length ? versions.join(", ") : "none recorded"}`,
  );
  lines.push("");
  lines.push(`**Run:** ${inline(evidence.run.id)} · ${inline(evidence.run.startedAt)} to ${inline(evidence.run.finishedAt)} · ${inline(evidence.tool.name)} ${inline(evidence.tool.version)}, Node ${inline(evidence.tool.node)}`);
  lines.push("");

  lines.push("### Failures");
  lines.push("");
  const failed = evidence.scenarios.filter((s) => s.verdict === "fail");
  if (failed.length === 0) lines.push("No failures.");
  else {
    lines.push(
      table(
        ["ID", "Name", "Mismatches"],
        failed.map((s) => [markdownCell(s.id), markdownCell(s.name), s.mismatches.map(markdownCell).join("<br>") || "(no mismatch recorded)"]),
      ),
    );
  }
  for (const err of evidence.runErrors) lines.push("", `> run error: ${inline(err)}`);
  lines.push("");

  // Not failures, but never to be read as passes: each names a protection that is not there.
  lines.push("### Findings");
  lines.push("");
  const found = evidence.scenarios.filter((s) => s.verdict === "finding");
  if (found.length === 0) lines.push("No findings.");
  else {
    lines.push(
      table(
        ["ID", "Statement"],
        found.map((s) => [
          markdownCell(s.id),
          markdownCell(s.finding?.statement ?? evidence.findings.find((f) => f.scenario === s.id)?.statement ?? "(no statement recorded)"),
        ]),
      ),
    );
  }
  lines.push("");

  if (evidence.ingresses?.length) {
    // One line per Ingress: a job summary has to stay readable with hundreds of checks.
    lines.push("### Ingresses");
    lines.push("");
    lines.push(
      table(
        ["Ingress", "Hosts", "Probes", "✅", "❌", "⏭️", "⚠️"],
        evidence.ingresses.map((i) => [
          markdownCell(i.id) + (i.notServed ? ` (not served: ${markdownCell(i.notServed)})` : ""),
          markdownCell(i.hosts.join(", ")),
          markdownCell(i.checked),
          markdownCell(i.totals.pass),
          markdownCell(i.totals.fail),
          markdownCell(i.totals.skip),
          markdownCell(i.totals.finding),
        ]),
      ),
    );
  } else {
    lines.push("### Scenarios");
    lines.push("");
    lines.push(
      table(
        ["ID", "", "Name"],
        evidence.scenarios.map((s) => [markdownCell(s.id), EMOJI[s.verdict] ?? markdownCell(s.verdict), markdownCell(s.name) + (s.skipReason ? ` (skipped: ${markdownCell(s.skipReason)})` : "")]),
      ),
    );
  }
  lines.push("");

  lines.push("### Controls");
  lines.push("");
  if (evidence.controls.length === 0) lines.push("No control is evidenced by the selected scenarios.");
  else {
    lines.push(
      table(
        ["Control", "Title", "Scenarios", ""],
        evidence.controls.map((c) => [markdownCell(c.id), markdownCell(c.title), markdownCell(c.scenarios.length), EMOJI[c.verdict] ?? markdownCell(c.verdict)]),
      ),
    );
  }
  lines.push("");

  lines.push("### Reproduce");
  lines.push("");
  lines.push(fenced(evidence.run.command));
  lines.push("");
  return lines.join("\n");
}
