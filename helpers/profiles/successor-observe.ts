// The classes the catalogue's checks showed on each successor's local data plane: the ones its
// controller folder keeps (observed.json, held to a fresh run by `npm test`), or a run made now.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataPlaneVersion, observedRows } from "../controllers/observed.ts";
import type { MigrationClass } from "./profile.ts";
import { OBSERVED_SUCCESSORS, type ObservedSuccessor } from "./successor-table.ts";

export interface SuccessorClasses {
  classes: Record<ObservedSuccessor, Record<string, MigrationClass>>;
  /** In words, where the classes come from. */
  source: string;
  /** Successors whose run did not hold (a check failed, or it did not come up). */
  failed: string[];
}

export async function observedSuccessorClasses(options: { observe: boolean; log: (line: string) => void }): Promise<SuccessorClasses> {
  const classes = {} as Record<ObservedSuccessor, Record<string, MigrationClass>>;
  const failed: string[] = [];
  if (!options.observe) {
    const versions: string[] = [];
    for (const name of OBSERVED_SUCCESSORS) {
      const kept = observedRows(name);
      if (!kept) throw new Error(`helpers/controllers/${name}/observed.json is missing: \`mtls-conformance successors --observe\` runs the catalogue there`);
      classes[name] = kept.rows;
      versions.push(`${name} on ${dataPlaneVersion(kept)}`);
    }
    return { classes, source: `the classes kept in helpers/controllers/*/observed.json, which npm test holds to a fresh run: ${versions.join(", ")}`, failed };
  }
  const { runConformance } = await import("../run/run.ts");
  const versions: string[] = [];
  for (const name of OBSERVED_SUCCESSORS) {
    const reportDir = mkdtempSync(join(tmpdir(), `mtls-successors-${name}-`));
    try {
      options.log(`observing ${name}: the catalogue on --target local --controller ${name}`);
      const outcome = await runConformance({ target: "local", controller: name, reportDir, command: `successors --observe (${name})`, log: () => undefined });
      if (outcome.exitCode !== 0) failed.push(`${name} (exit ${outcome.exitCode})`);
      classes[name] = Object.fromEntries(outcome.evidence.scenarios.flatMap((s) => (s.migration?.observed ? [[s.id, s.migration.observed.class]] : [])));
      versions.push(`${name} on ${dataPlaneVersion(outcome.evidence.target.versions)}`);
    } finally {
      rmSync(reportDir, { recursive: true, force: true });
    }
  }
  return { classes, source: `runs made now: ${versions.join(", ")}`, failed };
}
