// Writes a run's reports from its evidence: evidence.json, JUnit (one file per group), report.html
// (with its pages past ~1,000 checks) and summary.md (appended to the CI job summary where
// GITHUB_STEP_SUMMARY is set). Used by a run and by `merge`, which writes the same reports for
// shards joined into one. evidence.json and JUnit are streamed: at 13,500 checks each was a string
// of tens of MB, held beside the objects it was made from.
import { createWriteStream } from "node:fs";
import { appendFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { evidenceJsonChunks, type Evidence, type ScenarioEvidence } from "./evidence.ts";

/** One JUnit file and the ids of the checks it holds. */
export interface JunitGroup {
  file: string;
  ids: Set<string>;
}

/**
 * Writes the reports; records each file in `artifacts` (and in evidence.artifacts, which
 * evidence.json lists, when that is another object) before evidence.json is written, so the
 * evidence names every file the signature will cover. Returns the JUnit paths.
 */
export async function writeReports(evidence: Evidence, junitGroups: JunitGroup[], reportDir: string, artifacts: Record<string, string>): Promise<string[]> {
  const [{ writeReportHtml }, { renderSummaryMarkdown }, { writeJunit, batched }] = await Promise.all([
    import("./report-pages.ts"),
    import("./report-summary.ts"),
    import("./junit.ts"),
  ]);
  const register = (file: string) => {
    artifacts[file] = file;
    if (evidence.artifacts && evidence.artifacts !== artifacts) evidence.artifacts[file] = file;
  };
  for (const f of ["evidence.json", "report.html", "summary.md"]) register(f);

  // Each check to its JUnit file in one pass (a filter per group would read every check each time).
  const fileOf = new Map<string, number>();
  for (const [i, g] of junitGroups.entries()) for (const id of g.ids) if (!fileOf.has(id)) fileOf.set(id, i);
  const members: ScenarioEvidence[][] = junitGroups.map(() => []);
  for (const s of evidence.scenarios) {
    const i = fileOf.get(s.id);
    if (i !== undefined) members[i]!.push(s);
  }
  const junitPaths: string[] = [];
  for (const [i, group] of junitGroups.entries()) {
    const path = join(reportDir, group.file);
    await writeJunit(path, evidence, members[i]);
    register(group.file);
    junitPaths.push(path);
  }

  // The pages before evidence.json, which lists them.
  await writeReportHtml(evidence, reportDir, register);

  await pipeline(Readable.from(batched(evidenceJsonChunks(evidence))), createWriteStream(join(reportDir, "evidence.json")));

  const summary = renderSummaryMarkdown(evidence);
  await writeFile(join(reportDir, "summary.md"), summary);
  if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, summary + "\n").catch(() => undefined);
  return junitPaths;
}
