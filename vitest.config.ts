// The project's own tests (unit tests next to the code, plus end-to-end runs on real nginx).
// The conformance suites in suites/*.conformance.ts are run by `mtls-conformance run`, not here.
import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import LongestFirstSequencer from "./helpers/testing/sequencer.ts";
import SummaryReporter from "./helpers/testing/summary-reporter.ts";

export default defineConfig({
  test: {
    include: ["helpers/**/*.test.ts", "fixtures/**/*.test.ts", "suites/**/*.test.ts", "bin/**/*.test.ts", "scripts/**/*.test.ts", "action/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // vitest's default is one worker fewer than the cores (one on a 2-core machine), but much of a
    // file's time is spent waiting on nginx, openssl, curl and the CLI in other processes: a worker
    // per core (at least two) keeps the cores busy. Files that share the container engine take
    // turns (helpers/testing/engine-lock.ts).
    maxWorkers: Math.max(2, availableParallelism()),
    // A worker runs file after file without starting again, and what they share loads once per
    // worker: the run's modules, vitest's own for the nested conformance runs, the guide's openssl
    // commands (once per process). Safe because no test mocks modules, and the files that change
    // process state (process.env) put it back in afterAll.
    isolate: false,
    // The long files start first (on a fresh clone vitest knows no durations).
    sequence: { sequencer: LongestFirstSequencer },
    // The catalogue PKI's RSA key pairs are made once per worker, not for each of the dozens of
    // runs the tests start (helpers/pki/pki.ts guideKeys); every run still issues its own
    // certificates. The CLI runs the tests start as processes make their own.
    env: { MTLS_TEST_REUSE_RSA_KEYS: "1" },
    // A temp folder of the run's own (the run fails if a test leaves anything in it); then the Go
    // data plane built once for every worker.
    globalSetup: ["./helpers/testing/run-temp.ts", "./helpers/testing/build-data-planes.ts"],
    reporters: ["default", new SummaryReporter()],
  },
});
