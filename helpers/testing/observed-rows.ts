// The classes a run on a successor's data plane observed, held to the file its controller folder
// keeps (helpers/controllers/<name>/observed.json): the run tests call it after the catalogue ran,
// so `list --profile NAME` always counts what the current code observes. MTLS_UPDATE_OBSERVED=1
// rewrites the file after a deliberate change.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { expect } from "vitest";
import { observedFile, type ObservedRows } from "../controllers/observed.ts";
import type { Evidence } from "../reports/evidence.ts";

/** Every probed check's observed class equals its row's, and the kept file says the same. */
export function holdObservedRows(controller: string, evidence: Evidence, testFile: string, fresh: Omit<ObservedRows, "rows">): void {
  const probed = evidence.scenarios.filter((s) => !s.static && s.observed);
  for (const s of probed) expect(s.migration?.observed, s.id).toEqual({ class: s.migration!.class, basis: "observed" });
  const rows = Object.fromEntries(probed.map((s) => [s.id, s.migration!.observed!.class]).sort(([a], [b]) => a!.localeCompare(b!)));
  const file = observedFile(controller);
  if (process.env.MTLS_UPDATE_OBSERVED === "1" || !existsSync(file)) {
    writeFileSync(file, JSON.stringify({ ...fresh, rows }, null, 2) + "\n");
    if (process.env.MTLS_UPDATE_OBSERVED !== "1") throw new Error(`${file} did not exist: written from this run; check it and commit it`);
    return;
  }
  const kept = JSON.parse(readFileSync(file, "utf8")) as ObservedRows;
  expect(rows, `${file} no longer says what is observed: MTLS_UPDATE_OBSERVED=1 npx vitest run ${testFile} rewrites it`).toEqual(kept.rows);
}
