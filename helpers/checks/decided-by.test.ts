// What decides a check, and where that is an emulation: every id named exists in the catalogue, and
// a run's evidence and reports say it (the full catalogue on the nginx target).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { runConformance } from "../run/run.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { CONTROLLER_RULE_SCENARIOS, decision } from "./decided-by.ts";

const tempDir = tempDirs();

describe("decidedBy", () => {
  it("names only catalogue scenarios, none of them static", () => {
    const byId = new Map(catalogue.scenarios.map((s) => [s.id, s]));
    for (const id of CONTROLLER_RULE_SCENARIOS) {
      expect(byId.has(id), id).toBe(true);
      expect(byId.get(id)!.lint, id).toBeUndefined();
    }
    expect(CONTROLLER_RULE_SCENARIOS.size).toBe(25);
  });

  it("a controller rule is emulated on the nginx and local targets, observed on k3s, a cluster or an endpoint; the data plane is never emulated", () => {
    for (const t of ["nginx", "local"] as const) expect(decision("controller-rule", t)).toMatchObject({ emulated: true, how: expect.stringMatching(/tests the emulation, not a controller/) });
    for (const t of ["k3s", "cluster", "endpoint"] as const) expect(decision("controller-rule", t).emulated).toBe(false);
    expect(decision("data-plane", "nginx").emulated).toBe(false);
  });

  it("a catalogue run on the nginx target: the evidence, summary.md and report.html mark the 25 emulated checks", async () => {
    const reportDir = tempDir("decided-by-");
    const only = "MTLS-ADMISSION-001,MTLS-CLIENT-001,MTLS-SECRETS-002";
    const outcome = await runConformance({ target: "nginx", only, reportDir, command: "test", log: () => undefined });
    const byId = Object.fromEntries(outcome.evidence.scenarios.map((s) => [s.id, s]));
    expect(byId["MTLS-ADMISSION-001"]!.decidedBy).toMatchObject({ by: "controller-rule", emulated: true });
    expect(byId["MTLS-SECRETS-002"]!.decidedBy).toMatchObject({ by: "controller-rule", emulated: true });
    expect(byId["MTLS-CLIENT-001"]!.decidedBy).toMatchObject({ by: "data-plane", emulated: false });
    const summary = readFileSync(join(reportDir, "summary.md"), "utf8");
    expect(summary).toMatch(/\*\*Emulated:\*\* 2 of 3 probed check\(s\) are decided by a controller rule/);
    const html = readFileSync(join(reportDir, "report.html"), "utf8");
    expect(html).toContain('id="emulated"');
    expect(html.match(/data-decided-by="controller-rule emulated"/g)).toHaveLength(2);
  });
});
