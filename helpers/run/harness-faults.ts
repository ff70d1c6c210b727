// A fault of the harness is never a verdict: when the data plane the run started reports one
// (it ran out of connections, a worker crashed), the checks that failed from then on say so and
// get the verdict `error`, the run's errors list it, and the run exits 3 ("the suite broke, not
// the Ingress"). Checks that passed keep their verdict: what they observed is what they expected.
import type { CollectedResult } from "../reports/progress-reporter.ts";
import type { HarnessFault } from "../targets/target.ts";

/** Exit code of a run whose harness was at fault (0 pass, 1 a check failed, 2 bad arguments). */
export const HARNESS_FAULT_EXIT = 3;

/** One line per distinct fault, with how often and from when: a log may repeat a warning thousands of times. */
export function faultLines(faults: HarnessFault[]): string[] {
  const byMessage = new Map<string, { fault: HarnessFault; count: number }>();
  for (const f of faults) {
    const key = `${f.source}\u0000${f.message}`;
    const seen = byMessage.get(key);
    if (seen) seen.count++;
    else byMessage.set(key, { fault: f, count: 1 });
  }
  return [...byMessage.values()].map(({ fault, count }) => `harness fault: ${fault.source}: ${fault.message}${count > 1 ? ` (${count} times` : " ("}${fault.at ? `${count > 1 ? ", " : ""}first at ${fault.at}` : ""})`.replace(" ()", ""));
}

/**
 * Turns the failures the faults may explain into `error`: every failed check that ended at or after
 * the first fault (a fault without a time affects every failure). Returns how many it changed.
 */
export function applyHarnessFaults(results: Map<string, CollectedResult>, faults: HarnessFault[]): number {
  if (!faults.length) return 0;
  const times = faults.map((f) => (f.at ? Date.parse(f.at) : Number.NaN));
  // Log times have whole seconds: a failure within that second counts.
  const from = times.some((t) => Number.isNaN(t)) ? -Infinity : Math.min(...times) - 1000;
  const first = faultLines(faults)[0]!;
  let changed = 0;
  for (const r of results.values()) {
    if (r.verdict !== "fail") continue;
    const ended = r.record?.finishedAtMs;
    if (ended !== undefined && ended < from) continue;
    r.verdict = "error";
    const note = `${first}: this failure is not evidence against the Ingress (the suite broke; run it again)`;
    if (r.record) r.record = { ...r.record, mismatches: [note, ...r.record.mismatches] };
    r.errors = [note, ...r.errors];
    changed++;
  }
  return changed;
}
