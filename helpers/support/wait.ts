// Bounded waits: every wait names what it waits for, has a deadline, and says on timeout what it
// last saw. No fixed sleeps: poll with backoff until the condition holds.
export class WaitTimeoutError extends Error {
  override name = "WaitTimeoutError";
  readonly what: string;
  readonly lastObservation: string;
  constructor(what: string, timeoutMs: number, lastObservation: string) {
    super(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what} (last seen: ${lastObservation})`);
    this.what = what;
    this.lastObservation = lastObservation;
  }
}

export interface WaitOptions {
  timeoutMs: number;
  /** First pause between attempts; doubles up to maxIntervalMs. */
  intervalMs?: number;
  maxIntervalMs?: number;
  signal?: AbortSignal;
  /** Called once per attempt with what was seen, for progress output. */
  onAttempt?: (attempt: number, observation: string) => void;
}

/**
 * Polls `check` until it returns `{ done: true, value }`. A check that throws counts as "not yet"
 * with the error as its observation (an API server that is still starting, say), except
 * `StopWaiting`, whose reason is thrown at once.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<{ done: true; value: T } | { done: false; observation: string }>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.intervalMs ?? 250;
  let last = "nothing yet";
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      const r = await check();
      if (r.done) return r.value;
      last = r.observation;
    } catch (error) {
      if (error instanceof StopWaiting) throw error.reason;
      last = `error: ${(error as Error).message}`;
    }
    options.onAttempt?.(attempt, last);
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new WaitTimeoutError(what, options.timeoutMs, last);
    await new Promise((r) => setTimeout(r, Math.min(interval, remaining)));
    interval = Math.min(interval * 2, options.maxIntervalMs ?? 5000);
  }
}

/**
 * Retries `action` while `retryable(error)` says the failure is passing (a webhook not yet
 * serving), with backoff, within `timeoutMs`; any other error is thrown at once.
 */
export async function retrying<T>(
  what: string,
  action: () => Promise<T>,
  retryable: (error: unknown) => boolean,
  options: WaitOptions,
): Promise<T> {
  return waitFor(
    what,
    async () => {
      try {
        return { done: true as const, value: await action() };
      } catch (error) {
        if (!retryable(error)) throw new StopWaiting(error);
        return { done: false as const, observation: (error as Error).message ?? String(error) };
      }
    },
    options,
  );
}

/** Thrown from a check to end the wait with `reason` instead of trying again. */
export class StopWaiting extends Error {
  readonly reason: unknown;
  constructor(reason: unknown) {
    super("stop waiting");
    this.reason = reason;
  }
}
