// Everything a run starts registers how to stop it here, so failures and Ctrl-C clean up too.
// Each cleanup may carry a synchronous fallback, run on process exit if the cleanup never got to
// run: vitest's own SIGINT handler exits the process a millisecond after the signal.
type Cleanup = () => Promise<void> | void;
interface Entry {
  run: Cleanup;
  fallback?: () => void;
}

const pending = new Set<Entry>();
let handlersInstalled = false;

/** Registers a cleanup; returns a function that runs it once and unregisters it. */
export function onCleanup(run: Cleanup, fallback?: () => void): () => Promise<void> {
  installHandlers();
  const entry: Entry = { run, fallback };
  pending.add(entry);
  let done: Promise<void> | undefined;
  return () => {
    done ??= (async () => {
      try {
        await run();
      } finally {
        // Only now: if the process exits while `run` is under way, the fallback still runs.
        pending.delete(entry);
      }
    })();
    return done;
  };
}

/** Runs every registered cleanup, newest first; errors are reported, not thrown. */
export async function runAllCleanups(): Promise<void> {
  for (const entry of [...pending].reverse()) {
    try {
      await entry.run();
    } catch (error) {
      process.stderr.write(`cleanup failed: ${(error as Error).message}\n`);
    } finally {
      pending.delete(entry);
    }
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Inside a vitest worker (the project's own tests), vitest owns the signals; the exit fallback still applies.
  const inTestWorker = process.env.VITEST_WORKER_ID !== undefined;
  for (const [signal, code] of inTestWorker ? [] : ([["SIGINT", 130], ["SIGTERM", 143]] as const)) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping everything this run started...\n`);
      void runAllCleanups().finally(() => process.exit(code));
    });
  }
  process.once("exit", () => {
    for (const entry of [...pending].reverse()) {
      try {
        entry.fallback?.();
      } catch {
        // Exiting anyway: nothing better to do.
      }
    }
  });
}
