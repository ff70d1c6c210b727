// vitest globalSetup: the test run gets a temp folder of its own, and fails if anything is left in it.
//
// It runs in vitest's main process before any worker starts, so TMPDIR set here is what every
// worker inherits, and through them every tool a test spawns (node's os.tmpdir(), openssl, curl,
// chromium, the CLI as a subprocess). At teardown, after the last test file, whatever is still in
// the folder was left behind by a test (or by the code under test): the run fails naming it, and
// the folder is removed either way so the machine's temp folder stays as it was.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * What may legitimately be left in the temp folder: caches and cross-process locks that hold
 * nothing a test made.
 * - `node-compile-cache`: node's module compile cache, which bin/mtls-conformance.ts enables with
 *   enableCompileCache() under os.tmpdir() (every CLI a test spawns writes it, as on a user's machine).
 * - `testcontainers-node-<uid>.lock`, `testcontainers-node-sshd.lock`: the empty files testcontainers
 *   locks (proper-lockfile) so that processes of one user share one Ryuk reaper / port forwarder; it
 *   creates them in the temp folder and never removes them, by design, since another process may be
 *   about to lock the same file (testcontainers@12.2.0: build/common/file-lock.js createEmptyTmpFile,
 *   build/reaper/reaper.js getReaper). They appear wherever a container engine answers (CI starts one).
 */
export const LEGITIMATE_LEFTOVERS: readonly RegExp[] = [/^node-compile-cache$/, /^testcontainers-node-(\d+|sshd)\.lock$/];

const isLegitimate = (name: string): boolean => LEGITIMATE_LEFTOVERS.some((pattern) => pattern.test(name));

/** Set to the run's temp folder while the run lasts (the summary reporter reads it too). */
export const RUN_TMP_ENV = "MTLS_TEST_RUN_TMPDIR";

/** What the tests left in the run's temp folder, or undefined outside a run with this setup. */
export function leftovers(): string[] | undefined {
  const runTmp = process.env[RUN_TMP_ENV];
  if (!runTmp) return undefined;
  return readdirSync(runTmp).filter((name) => !isLegitimate(name)).sort();
}

export default function setup(): () => void {
  const before = process.env.TMPDIR;
  const runTmp = mkdtempSync(join(tmpdir(), "mtls-conformance-tests-"));
  process.env.TMPDIR = runTmp;
  process.env[RUN_TMP_ENV] = runTmp;
  return () => {
    const left = leftovers() ?? [];
    delete process.env[RUN_TMP_ENV];
    rmSync(runTmp, { recursive: true, force: true });
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    if (left.length) {
      throw new Error(`the tests left ${left.length} thing(s) in the temp folder (each test must remove what it makes): ${left.join(", ")}`);
    }
  };
}
