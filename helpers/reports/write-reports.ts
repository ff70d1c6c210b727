// Writes a run's reports from its evidence: evidence.json, JUnit (one file per group), report.html
// and summary.md (appended to the CI job summary where GITHUB_STEP_SUMMARY is set). Used by a run
// and by `merge`, which writes the same reports for shards joined into one.
import { appendFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Evidence } from "./evidence.ts";

/** One JUnit file and the ids of the checks it holds. */
export interface JunitGroup {
  file: string;
  ids: Set<string>;
}

/** Writes the reports; records each file in `artifacts`; returns the JUnit paths. */
export async function writeReports(evidence: Evidence, junitGroups: JunitGroup[], reportDir: string, artifacts: Record<string, string>): Promise<string[]> {
  const [{ renderReportHtml }, { renderSummaryMarkdown }, { renderJunit }] = await Promise.all([
    import("./report-html.ts"),
    import("./report-summary.ts"),
    import("./junit.ts"),
  ]);
  const junitPaths: string[] = [];
  for (const group of junitGroups) {
    const path = join(reportDir, group.file);
    await writeFile(path, renderJunit(evidence, evidence.scenarios.filter((s) => group.ids.has(s.id))));
    artifacts[group.file] = group.file;
    junitPaths.push(path);
  }
  await writeFile(join(reportDir, "evidence.json"), JSON.stringify(evidence, null, 2) + "\n");
  await writeFile(join(reportDir, "report.html"), renderReportHtml(evidence));
  const summary = renderSummaryMarkdown(evidence);
  await writeFile(join(reportDir, "summary.md"), summary);
  if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, summary + "\n").catch(() => undefined);
  return junitPaths;
}
