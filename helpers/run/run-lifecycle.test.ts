// The lifecycle suite on a controller that applies changes late or never (k3s, a cluster): the
// nginx target, altered to behave so. Whatever happens, each check ends with its verdict,
// expected vs observed, in the evidence and in JUnit: never as a bare test timeout.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { StartedTarget } from "../targets/target.ts";
import { runConformance } from "./run.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

async function lifecycleRun(alterTarget: (t: StartedTarget) => StartedTarget, only = "MTLS-LIFECYCLE-001,MTLS-LIFECYCLE-002") {
  const reportDir = tempDir("run-lifecycle-");
  const lines: string[] = [];
  const outcome = await runConformance({ target: "nginx", reportDir, only, command: "test", log: (l) => lines.push(l), alterTarget, testTimeoutMs: 1000 });
  return { outcome, junit: readFileSync(outcome.junitPath, "utf8"), lines };
}

describe("lifecycle checks on a controller that does not apply a change", () => {
  it("a change that never shows within the settle window (longer than the test timeout) fails with expected vs observed", async () => {
    // The objects never change, and the controller is given 1.5 s to show them: longer than
    // the 1 s every other check may take.
    const { outcome, junit } = await lifecycleRun((t) => ({ ...t, update: async () => undefined, settleMs: 1500 }));
    const created = outcome.evidence.scenarios.find((s) => s.id === "MTLS-LIFECYCLE-002")!;
    expect(created.verdict).toBe("fail");
    expect(created.mismatches.join("\n")).toMatch(/status: expected 200, observed 403/);
    expect(junit).toMatch(/<failure message="MTLS-LIFECYCLE-002 [^"]*status: expected 200, observed 403/);
    expect(junit).not.toMatch(/timed out/i);
    expect(outcome.exitCode).toBe(1);
  });

  it("an update that does not finish in time: the stage is named as not applied, and what is served is still observed", async () => {
    const { outcome, junit } = await lifecycleRun((t) => ({ ...t, update: () => new Promise<void>(() => undefined), updateTimeoutMs: 300, settleMs: 0 }));
    const created = outcome.evidence.scenarios.find((s) => s.id === "MTLS-LIFECYCLE-002")!;
    expect(created.verdict).toBe("fail");
    expect(created.mismatches[0]).toBe("could not move the objects to stage secret-created: moving the objects to stage secret-created did not finish within 300 ms");
    expect(created.observed?.status).toBe(403);
    expect(junit).toContain("could not move the objects to stage secret-created");
    expect(junit).not.toMatch(/timed out/i);
  });
});
