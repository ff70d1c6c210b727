// Temp folders for a test file, removed when the file is done (npm test fails the run if anything
// is left in the temp folder: helpers/testing/run-temp.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/**
 * Call at the top of a test file (or of a describe block): returns a function that makes a new
 * folder under the temp folder, and registers an afterAll that removes every folder it made.
 */
export function tempDirs(): (prefix: string) => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
