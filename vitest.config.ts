// The project's own tests (unit tests next to the code, plus end-to-end runs on real nginx).
// The conformance suites in suites/*.conformance.ts are run by `mtls-conformance run`, not here.
import { defineConfig } from "vitest/config";
import SummaryReporter from "./helpers/testing/summary-reporter.ts";

export default defineConfig({
  test: {
    include: ["helpers/**/*.test.ts", "fixtures/**/*.test.ts", "suites/**/*.test.ts", "bin/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default", new SummaryReporter()],
  },
});
