// The one file vitest runs for a conformance run. Every suite module loads at once, while the run
// is still making its PKI and deploying; then, once the run's context arrives, the suite of every
// check in it is defined here, in one collection, so that suites that may (all but the lifecycle
// suite, and that one too on a data plane of its own) run beside each other in one worker.
import { readdirSync } from "node:fs";
import { extname } from "node:path";
import { test } from "vitest";
import { runContext } from "./scenario-runner.ts";

// ".conformance.ts" beside the sources, ".conformance.js" in the built package.
const SUITE = `.conformance${extname(import.meta.filename)}`;
const files = readdirSync(import.meta.dirname).filter((f) => f.endsWith(SUITE));
const loaded = await Promise.all(files.map(async (f) => [f.slice(0, -SUITE.length), (await import(`./${f}`)) as { define: () => Promise<void> }] as const));
const suites = new Map(loaded);
const run = await runContext("");
// The lifecycle suite first: its checks run one after another, the run's longest chain, so its
// first one should not queue behind the other suites' checks for a slot.
const inRun = [...new Set(run.checks.filter((c) => !c.decidedAfterProbes).map((c) => c.suite))].sort((a, b) => Number(b === "lifecycle") - Number(a === "lifecycle"));
if (inRun.length === 0) test.skip("no check to probe in this run", () => undefined);
for (const suite of inRun) {
  const module = suites.get(suite);
  if (!module) throw new Error(`no suite file suites/${suite}.conformance.ts for the run's checks of suite ${suite}`);
  await module.define();
}
