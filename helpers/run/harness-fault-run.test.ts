// A fault of the harness is never a verdict: a run whose own data plane runs short (nginx with a
// handful of worker_connections, as it was with 1,024 at ~600 Ingresses before the controller's
// 16,384) ends in exit 3, the failures it caused are errors that name the fault, and the reports
// say the suite broke. The same objects on a data plane with its connections pass.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeIngressZoo, type Zoo } from "../testing/ingress-zoo.ts";
import { HARNESS_FAULT_EXIT } from "./harness-faults.ts";
import { runConformance, type RunOutcome } from "./run.ts";

const XSD = new URL("../../fixtures/junit.xsd", import.meta.url).pathname;
const dirs: string[] = [];
const scratch = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
let zoo: Zoo;
let starved: RunOutcome & { reportDir: string };

beforeAll(async () => {
  zoo = await writeIngressZoo(scratch("fault-zoo-"), 30);
  const reportDir = scratch("fault-run-");
  // Too few connections for the default 24 probes in flight with their upstream connections.
  starved = { ...(await runConformance({ target: "nginx", reportDir, manifests: zoo.dir, command: "test", log: () => undefined, targetOptions: { nginx: { workerConnections: 12 } } })), reportDir };
}, 180_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("a data plane that runs short", () => {
  it("ends in exit 3 with the fault in runErrors and harnessFaults, read from nginx's own log", () => {
    expect(starved.exitCode).toBe(HARNESS_FAULT_EXIT);
    const log = readFileSync(join(starved.reportDir, "nginx", "error.log"), "utf8");
    expect(log).toMatch(/12 worker_connections are not enough/);
    expect(starved.evidence.runErrors.some((e) => /^harness fault: nginx error\.log: .*12 worker_connections are not enough/.test(e))).toBe(true);
    expect(starved.evidence.harnessFaults?.length).toBeGreaterThan(0);
  });

  it("turns the failures it caused into errors that name the fault, never into failures of the Ingresses", () => {
    const errors = starved.evidence.scenarios.filter((s) => s.verdict === "error");
    expect(errors.length).toBeGreaterThan(0);
    for (const s of errors) expect(s.mismatches[0], s.id).toMatch(/^harness fault: nginx error\.log: .*worker_connections are not enough.*this failure is not evidence against the Ingress/);
    expect(starved.evidence.totals.error).toBe(errors.length);
    // Whatever failed before the data plane ran short would stay a failure; here nothing did.
    expect(starved.evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id)).toEqual([]);
  });

  it("says so in every report: JUnit <error> (valid), summary.md and report.html", () => {
    const junit = readFileSync(starved.junitPath, "utf8");
    expect(junit).toMatch(/<error [^>]*type="harness-fault"/);
    expect(junit).not.toMatch(/<failure /);
    expect(execFileSync("xmllint", ["--noout", "--schema", XSD, starved.junitPath], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })).toBe("");
    expect(readFileSync(join(starved.reportDir, "summary.md"), "utf8").split("\n")[0]).toMatch(/SUITE FAULT/);
    expect(readFileSync(join(starved.reportDir, "report.html"), "utf8")).toMatch(/SUITE FAULT/);
  });

  it("the same objects on a data plane with the controller's connections pass, and its log is clean", async () => {
    const reportDir = scratch("fault-ok-");
    const ok = await runConformance({ target: "nginx", reportDir, manifests: zoo.dir, command: "test", log: () => undefined });
    expect(ok.evidence.scenarios.filter((s) => s.verdict !== "pass" && s.verdict !== "finding" && s.verdict !== "skip").map((s) => `${s.id}: ${s.verdict}`)).toEqual([]);
    expect(ok.exitCode).toBe(0);
    expect(ok.evidence.runErrors).toEqual([]);
    expect(ok.evidence.harnessFaults).toBeUndefined();
    expect(readFileSync(join(reportDir, "nginx", "error.log"), "utf8")).not.toMatch(/worker_connections are not enough|\[crit\]|\[emerg\]/);
  }, 180_000);
});
