// The classes the catalogue's checks showed on Traefik's data plane here, kept with the source: what
// `list --profile traefik` and the migration report count as observed. helpers/run/run-local-traefik.test.ts
// runs the catalogue on `--target local --controller traefik` and fails when a class differs from
// the file (MTLS_UPDATE_OBSERVED=1 rewrites it), so it always says what the current code observes.
import { readFileSync } from "node:fs";
import type { MigrationClass } from "../../profiles/profile.ts";

export const OBSERVED_FILE = new URL("./observed.json", import.meta.url).pathname;

export interface ObservedRows {
  profile: string;
  versions: string;
  /** What answered: the data plane and the rendering it ran. */
  dataPlane: string;
  /** The Go that built it when the file was last written (Traefik v3.7.9 is built with Go 1.26). */
  goVersion: string;
  command: string;
  /** scenario id -> the class its observation showed. */
  rows: Record<string, MigrationClass>;
}

let cached: ObservedRows | undefined;
export function observedRows(): ObservedRows {
  cached ??= JSON.parse(readFileSync(OBSERVED_FILE, "utf8")) as ObservedRows;
  return cached;
}
