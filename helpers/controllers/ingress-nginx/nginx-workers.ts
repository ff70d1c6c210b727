// nginx's worker processes, read from /proc, so a reload is known to be complete.
//
// On SIGHUP the master starts new workers, sleeps 100 ms, and only then tells the old ones to
// shut down (ngx_master_process_cycle, src/os/unix/ngx_process_cycle.c:225-243 in 1.27.1).
// Until an old worker closes its listening sockets it can still accept a connection and answer
// with the old configuration, so "a new worker answered" does not mean "every worker will".
// A worker closes them right after retitling itself "worker process is shutting down" (same
// file, :732-737) and exits once its connections are done.
import { readFile } from "node:fs/promises";

export interface WorkerProcess {
  pid: number;
  /** The title nginx gives it: "nginx: worker process", "nginx: worker process is shutting down", ... */
  title: string;
}

/** The pids of the master's children, whatever their title, or undefined where /proc cannot say. */
export async function childPids(masterPid: number): Promise<number[] | undefined> {
  const children = await readFile(`/proc/${masterPid}/task/${masterPid}/children`, "utf8").catch(() => undefined);
  return children === undefined ? undefined : children.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** The master's worker processes, or undefined where /proc cannot say (not Linux, or a kernel without it). */
export async function workerProcesses(masterPid: number): Promise<WorkerProcess[] | undefined> {
  const pids = await childPids(masterPid);
  if (pids === undefined) return undefined;
  const found = await Promise.all(
    pids.map(async (pid) => {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined);
      // nginx overwrites argv with its title; what follows it is NUL padding.
      return cmdline === undefined ? undefined : { pid, title: cmdline.replace(/\0+$/, "").replaceAll("\0", " ").trim() };
    }),
  );
  return found.filter((w): w is WorkerProcess => w !== undefined && w.title.includes("worker process"));
}

/** Workers that may still accept connections: not shutting down. */
export const accepting = (workers: WorkerProcess[]): WorkerProcess[] => workers.filter((w) => !w.title.includes("shutting down"));

/**
 * Waits until none of `old` accepts connections any more: each has exited or is shutting down
 * (its title changes in the same step, with no event in between, as it closes its listening
 * sockets: ngx_process_cycle.c above). Returns false if that did not happen before `timeoutMs`.
 */
export async function waitForOldWorkers(masterPid: number, old: number[], options: { timeoutMs?: number } = {}): Promise<boolean> {
  const start = Date.now();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const oldSet = new Set(old);
  for (;;) {
    const now = (await workerProcesses(masterPid)) ?? [];
    if (accepting(now.filter((w) => oldSet.has(w.pid))).length === 0) return true;
    if (Date.now() - start > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * One step of waiting out a reload (SIGHUP): once `workers` new workers accept, the master has
 * loaded the configuration; until it tells the old ones to quit (after its 100 ms sleep) they keep
 * accepting and the kernel wakes them first, so tell them now: a worker takes QUIT itself as from
 * its master (nginx.org/en/docs/control.html, "Individual worker processes can be controlled with
 * signals as well"). True once only new workers accept; false while the new ones are not all up.
 * Throws when the old ones still accept 10 s after QUIT.
 */
export async function retireOldWorkers(masterPid: number, old: number[], workers: number): Promise<boolean> {
  const now = await workerProcesses(masterPid);
  const fresh = now ? accepting(now).filter((w) => !old.includes(w.pid)) : [];
  if (fresh.length < workers) return false;
  for (const pid of old) {
    try {
      process.kill(pid, "SIGQUIT");
    } catch {
      // Already gone.
    }
  }
  if (!(await waitForOldWorkers(masterPid, old))) throw new Error(`nginx's old workers (${old.join(", ")}) kept accepting connections 10 s after the reload`);
  return true;
}
