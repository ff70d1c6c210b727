// Everything a run starts registers how to stop it here, so failures and Ctrl-C clean up too.
type Cleanup = () => Promise<void> | void;

const pending = new Set<Cleanup>();
let handlersInstalled = false;

/** Registers a cleanup; returns a function that runs it once and unregisters it. */
export function onCleanup(fn: Cleanup): () => Promise<void> {
  installSignalHandlers();
  pending.add(fn);
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    pending.delete(fn);
    await fn();
  };
}

/** Runs every registered cleanup, newest first; errors are reported, not thrown. */
export async function runAllCleanups(): Promise<void> {
  for (const fn of [...pending].reverse()) {
    pending.delete(fn);
    try {
      await fn();
    } catch (error) {
      process.stderr.write(`cleanup failed: ${(error as Error).message}\n`);
    }
  }
}

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping everything this run started...\n`);
      void runAllCleanups().finally(() => process.exit(code));
    });
  }
}
