// The suite proves it can fail: every mutant (a deliberately broken nginx data plane) must make at
// least one scenario fail, and the run must exit 1 and name the failures.
import { describe, expect, it } from "vitest";
import { runMutants, score } from "./mutation.ts";
import { MUTANTS } from "../targets/mutants.ts";

describe("mutation self-test", () => {
  it("every mutant is killed by at least one scenario (score 100%)", { timeout: 300_000 }, async () => {
    const results = await runMutants();
    expect(results.map((r) => r.mutant)).toEqual(Object.keys(MUTANTS));
    for (const r of results) {
      expect(r.killedBy, `${r.mutant} survived: ${r.description}`).not.toEqual([]);
      expect(r.exitCode, r.mutant).toBe(1);
    }
    expect(score(results)).toEqual({ killed: results.length, total: results.length, percent: 100 });
    // The scenario that guards each kind of mistake, as a reader would expect it.
    const killers = Object.fromEntries(results.map((r) => [r.mutant, r.killedBy]));
    expect(killers["verify-off"]).toContain("MTLS-CLIENT-001");
    expect(killers["depth-raised"]).toContain("MTLS-CLIENT-010");
    expect(killers["foreign-ca-trusted"]).toContain("MTLS-CLIENT-003");
    expect(killers["crl-not-loaded"]).toContain("MTLS-CRL-001");
    expect(killers["cert-header-dropped"]).toContain("MTLS-HEADERS-001");
    expect(killers["spoofable-headers"]).toContain("MTLS-SPOOF-002");
    expect(killers["error-page-dropped"]).toContain("MTLS-ERRPAGE-001");
    expect(killers["match-cn-dropped"]).toContain("MTLS-MATCHCN-002");
    expect(killers["redirect-keeps-trailing-slash"]).toContain("MTLS-TRANSPORT-003");
    expect(killers["rejected-ingress-served"]).toContain("MTLS-ADMISSION-001");
    expect(killers["broken-secret-ignored"]).toContain("MTLS-SECRETS-001");
    expect(killers["newest-ca-wins"]).toContain("MTLS-ISOLATION-006");
    expect(killers["match-cn-needs-ca"]).toContain("MTLS-MATCHCN-008");
    expect(killers["updates-applied-blindly"]).toContain("MTLS-LIFECYCLE-010");
  });
});
