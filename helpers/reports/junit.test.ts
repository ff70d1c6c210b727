// junit.xml against the JUnit structure CI systems read (fixtures/junit.xsd), with xmllint as
// the validator, for a passing run and a run with a failure.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ANNOTATION_PREFIX } from "../catalogue/catalogue.ts";
import { runConformance, type RunOutcome } from "../run/run.ts";

const XSD = new URL("../../fixtures/junit.xsd", import.meta.url).pathname;
const validate = (file: string) => spawnSync("xmllint", ["--noout", "--schema", XSD, file], { encoding: "utf8" });

let passing: RunOutcome;
let failing: RunOutcome;
beforeAll(async () => {
  const quiet = () => undefined;
  passing = await runConformance({ target: "nginx", reportDir: mkdtempSync(join(tmpdir(), "junit-")), only: "guide,MTLS-HEADERS-*", command: "t", log: quiet });
  failing = await runConformance({
    target: "nginx",
    reportDir: mkdtempSync(join(tmpdir(), "junit-")),
    only: "MTLS-CLIENT-009,MTLS-CLIENT-010",
    command: "t",
    log: quiet,
    alterManifests: (m) => {
      m.ingresses.find((i) => i.metadata?.name === "test-localhost")!.metadata!.annotations![ANNOTATION_PREFIX + "auth-tls-verify-depth"] = "2";
      return m;
    },
  });
});

describe("junit.xml", () => {
  it("validates for a passing run and a run with a failure", () => {
    for (const o of [passing, failing]) {
      const r = validate(o.junitPath);
      expect(r.stderr).toContain("validates");
      expect(r.status).toBe(0);
    }
  });

  it("a failure carries a message with expected and observed, and the counts add up", () => {
    const xml = readFileSync(failing.junitPath, "utf8");
    expect(xml).toMatch(/<testsuites [^>]*tests="2" failures="1" errors="0"/);
    const failure = /<failure message="([^"]*)"/.exec(xml)?.[1] ?? "";
    expect(failure).toContain("MTLS-CLIENT-010");
    expect(failure).toContain("status: expected 400, observed 200");
  });

  it("the schema is not a rubber stamp", () => {
    const dir = mkdtempSync(join(tmpdir(), "junit-bad-"));
    const broken = readFileSync(passing.junitPath, "utf8").replace(/tests="\d+"/, 'tests="many"');
    writeFileSync(join(dir, "a.xml"), broken);
    expect(validate(join(dir, "a.xml")).status).not.toBe(0);
    const nameless = readFileSync(passing.junitPath, "utf8").replace(/<testcase classname="([^"]*)" name="[^"]*"/, '<testcase classname="$1"');
    writeFileSync(join(dir, "b.xml"), nameless);
    expect(validate(join(dir, "b.xml")).status).not.toBe(0);
  });
});
