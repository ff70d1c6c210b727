// The classes the catalogue's checks showed on a successor's data plane here, kept in the
// controller's folder (helpers/controllers/<name>/observed.json): what `list --profile NAME` and the
// migration report count as observed. A run test per controller (helpers/run/run-local-*.test.ts)
// runs the catalogue on `--target local --controller NAME` and fails when a class differs from the
// file (MTLS_UPDATE_OBSERVED=1 rewrites it), so it always says what the current code observes.
import { existsSync, readFileSync } from "node:fs";
import type { MigrationClass } from "../profiles/profile.ts";

export interface ObservedRows {
  profile: string;
  versions: string;
  /** What answered: the data plane and the rendering it ran. */
  dataPlane: string;
  /** The version of what answered when the file was last written (Go for Traefik, nginx for NGF and F5 NGINX Ingress, HAProxy for HAProxy Ingress). */
  goVersion?: string;
  nginxVersion?: string;
  haproxyVersion?: string;
  command: string;
  /** scenario id -> the class its observation showed. */
  rows: Record<string, MigrationClass>;
}

/** The file of a controller's observed classes. */
export const observedFile = (controller: string): string => new URL(`./${controller}/observed.json`, import.meta.url).pathname;

const cached = new Map<string, ObservedRows | undefined>();

/** What was observed for a profile served by the controller of the same name, if anything was. */
export function observedRows(controller: string): ObservedRows | undefined {
  if (!cached.has(controller)) {
    const file = observedFile(controller);
    cached.set(controller, existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ObservedRows) : undefined);
  }
  return cached.get(controller);
}

/** What answered, with its version: "Go 1.19.8", "HAProxy 2.6.12", "nginx 1.22.1". */
export function dataPlaneVersion(v: { goVersion?: string; go?: string; haproxyVersion?: string; haproxy?: string; nginxVersion?: string; nginx?: string }): string {
  const go = v.goVersion ?? v.go;
  if (go) return `Go ${go.replace(/^go/, "")}`;
  const haproxy = v.haproxyVersion ?? v.haproxy;
  return haproxy ? `HAProxy ${haproxy}` : `nginx ${v.nginxVersion ?? v.nginx}`;
}
