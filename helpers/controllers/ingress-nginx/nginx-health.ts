// Reads nginx's error.log for faults of the harness: what nginx says went wrong with itself
// (out of connections, a crashed worker, a failed allocation) rather than with the Ingresses
// under test. Pure: the target reads the file and says which lines it expected.
import type { HarnessFault } from "../../targets/target.ts";

/** One error.log entry: "YYYY/MM/DD HH:MM:SS [level] pid#tid: text" (ngx_log_error_core). */
export interface ErrorLogEntry {
  /** The timestamp as nginx wrote it (its local time). */
  time: string;
  level: string;
  /** Everything after the timestamp, from "[level]" on. */
  text: string;
  line: string;
}

const ENTRY = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}) \[([a-z]+)\] (.*)$/;

export function parseErrorLogLine(line: string): ErrorLogEntry | undefined {
  const m = ENTRY.exec(line);
  return m ? { time: `${m[1]}/${m[2]}/${m[3]} ${m[4]}:${m[5]}:${m[6]}`, level: m[7]!, text: `[${m[7]}] ${m[8]}`, line } : undefined;
}

/**
 * nginx writes local time without a zone. The nginx target's nginx is this process's child and
 * keeps its TZ (nginx passes TZ on to its workers), so this process's local time reads it.
 */
export function errorLogTimeToIso(time: string): string | undefined {
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(time);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(y, mo - 1, d, h, mi, s);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Levels at which nginx reports trouble with itself (ngx_log.c's err_levels above [error]). */
const FAULT_LEVELS = new Set(["alert", "crit", "emerg"]);

/**
 * [alert]s that are no trouble: nginx found errors an earlier OpenSSL call left queued, logs and
 * discards them (ngx_ssl_clear_error). A client certificate checked against a CRL with a bad
 * signature, which the run's checks present on purpose, leaves exactly that; the answer stands.
 */
const NOT_FAULTS = [/\] \d+#\d+: (\*\d+ )?ignoring stale global SSL error /];

/**
 * A fault for every [alert], [crit] or [emerg] line but those above, and every "worker_connections
 * are not enough" (a [warn] when nginx closes idle or just-accepted connections to make room, an
 * [alert] when it cannot). `expected` lines (exactly as logged) are behaviour under test, not faults.
 */
export function faultsInErrorLog(text: string, options: { expected?: Iterable<string>; source?: string } = {}): HarnessFault[] {
  const expected = new Set(options.expected ?? []);
  const source = options.source ?? "nginx error.log";
  const faults: HarnessFault[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (expected.has(line)) continue;
    const entry = parseErrorLogLine(line);
    if (!entry) continue;
    if (!FAULT_LEVELS.has(entry.level) && !entry.text.includes("worker_connections are not enough")) continue;
    if (NOT_FAULTS.some((re) => re.test(entry.text))) continue;
    const at = errorLogTimeToIso(entry.time);
    faults.push({ source, message: entry.text, ...(at ? { at } : {}) });
  }
  return faults;
}
