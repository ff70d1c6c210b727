// One test file at a time on the container engine. Test files run in parallel workers, and the
// engine's images and containers are the machine's: a file that asserts `docker images` or the
// suite's containers are as they were must not run while another builds, pulls, loads or removes.
// The lock is a folder in the run's temp folder (shared by every worker; helpers/testing/run-temp.ts),
// made atomically by mkdir and removed when the file is done.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Call at the top of a test file that changes or compares the engine's images or containers. */
export function holdEngineLock(): void {
  const lock = join(tmpdir(), "container-engine.lock");
  let held = false;
  beforeAll(async () => {
    for (;;) {
      try {
        mkdirSync(lock);
        writeFileSync(join(lock, "pid"), String(process.pid));
        held = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      // A holder that died (a worker killed mid-file) leaves the lock: take it over.
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lock, "pid"), "utf8"));
      } catch {
        // Just made (no pid yet) or just removed: look again.
      }
      if (holder && !alive(holder)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }, 900_000);
  afterAll(() => {
    if (held) rmSync(lock, { recursive: true, force: true });
  });
}
