// Ends a test run with the plain line "N passed, N failed, N skipped", which CI systems and
// people read the same way, what the tests left in the temp folder (the run fails for it:
// helpers/testing/run-temp.ts), then the ten slowest tests (where to look first when the run gets slow).
import type { Reporter, TestCase, TestModule } from "vitest/node";
import { leftovers } from "./run-temp.ts";

const SLOWEST = 10;

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const ran: Array<{ test: TestCase; ms: number }> = [];
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
        const ms = t.diagnostic()?.duration;
        if (ms !== undefined) ran.push({ test: t, ms });
      }
      // A file that failed to load counts as a failure even though it has no tests.
      if (m.errors().length) failed++;
    }
    const lines = [`\n${passed} passed, ${failed} failed, ${skipped} skipped`];
    const left = leftovers();
    if (left?.length) lines.push(`FAILED: the tests left ${left.length} thing(s) in the temp folder: ${left.join(", ")}`);
    const slowest = ran.sort((a, b) => b.ms - a.ms).slice(0, SLOWEST);
    if (slowest.length) {
      // A test's own time: a file's beforeAll (a shared run, a shared data plane) is not in it.
      lines.push(`\n${slowest.length} slowest tests:`);
      for (const { test, ms } of slowest) lines.push(`${(ms / 1000).toFixed(1).padStart(7)} s  ${test.module.relativeModuleId} > ${test.fullName}`);
    }
    process.stdout.write(lines.join("\n") + "\n");
  }
}
