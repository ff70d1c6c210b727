// The suite proves it can fail: every mutant (a deliberately broken nginx data plane) must make at
// least one scenario fail, and the run must exit 1 and name the failures.
//
// Each mutant runs the scenario named below as its guard (--only): its failing proves the mutant
// killed, as it is in the whole catalogue, in a second instead of a whole run. One mutant (and any
// without a guard) runs the whole catalogue through runMutants, as `npm run mutation` runs them all.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runMutants, score, type MutantResult } from "./mutation.ts";
import { runConformance } from "./run.ts";
import { MUTANTS, type MutantName } from "../controllers/ingress-nginx/mutants.ts";

/** The scenario that guards each kind of mistake, as a reader would expect it. */
const GUARDS: Partial<Record<MutantName, string>> = {
  "verify-off": "MTLS-CLIENT-001",
  "optional-instead-of-on": "MTLS-CLIENT-001",
  "depth-raised": "MTLS-CLIENT-010",
  "foreign-ca-trusted": "MTLS-CLIENT-003",
  "crl-not-loaded": "MTLS-CRL-001",
  "cert-header-dropped": "MTLS-HEADERS-001",
  "cert-header-unescaped": "MTLS-HEADERS-001",
  "cert-header-wrong-variable": "MTLS-HEADERS-001",
  "spoofable-headers": "MTLS-SPOOF-002",
  "error-page-dropped": "MTLS-ERRPAGE-001",
  "match-cn-dropped": "MTLS-MATCHCN-002",
  "redirect-keeps-trailing-slash": "MTLS-TRANSPORT-003",
  "rejected-ingress-served": "MTLS-ADMISSION-001",
  "broken-secret-ignored": "MTLS-SECRETS-001",
  "newest-ca-wins": "MTLS-ISOLATION-006",
  "match-cn-needs-ca": "MTLS-MATCHCN-008",
  "updates-applied-blindly": "MTLS-LIFECYCLE-010",
};

/** Runs the whole catalogue, as `npm run mutation` does for every mutant. */
const WHOLE_CATALOGUE: MutantName[] = ["optional-instead-of-on"];

/** runMutants' record of one mutant, from a run of its guard only. */
async function guarded(mutant: MutantName, only: string): Promise<MutantResult> {
  const reportDir = mkdtempSync(join(tmpdir(), `mutant-${mutant}-`));
  try {
    const outcome = await runConformance({ target: "nginx", reportDir, mutant, only, command: `mutation ${mutant} --only ${only}`, log: () => undefined });
    const killedBy = outcome.evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id);
    return { mutant, description: MUTANTS[mutant], exitCode: outcome.exitCode, killedBy };
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}

describe("mutation self-test", () => {
  it("every mutant is killed by at least one scenario (score 100%)", { timeout: 300_000 }, async () => {
    const names = Object.keys(MUTANTS) as MutantName[];
    const whole = new Map((await runMutants(names.filter((m) => WHOLE_CATALOGUE.includes(m) || !GUARDS[m]))).map((r) => [r.mutant, r]));
    const results: MutantResult[] = [];
    for (const m of names) results.push(whole.get(m) ?? (await guarded(m, GUARDS[m]!)));
    expect(results.map((r) => r.mutant)).toEqual(Object.keys(MUTANTS));
    for (const r of results) {
      expect(r.killedBy, `${r.mutant} survived: ${r.description}`).not.toEqual([]);
      expect(r.exitCode, r.mutant).toBe(1);
    }
    expect(score(results)).toEqual({ killed: results.length, total: results.length, percent: 100 });
    // The scenario that guards each kind of mistake, as a reader would expect it.
    const killers = Object.fromEntries(results.map((r) => [r.mutant, r.killedBy]));
    for (const [mutant, scenario] of Object.entries(GUARDS)) expect(killers[mutant], mutant).toContain(scenario);
  });
});
