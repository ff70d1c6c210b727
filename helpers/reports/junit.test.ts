// junit.xml against the JUnit structure CI systems read (fixtures/junit.xsd), with xmllint as
// the validator and as the reader: for a passing run, a run with a failure, a check that erred
// (a harness fault: <error>, not <failure>), and text no XML may hold as it is.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";


import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

import { ANNOTATION_PREFIX } from "../catalogue/catalogue.ts";
import { runConformance, type RunOutcome } from "../run/run.ts";
import { totals, type Evidence } from "./evidence.ts";
import { renderJunit, writeJunit } from "./junit.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

const XSD = new URL("../../fixtures/junit.xsd", import.meta.url).pathname;
const validate = (file: string) => spawnSync("xmllint", ["--noout", "--schema", XSD, file], { encoding: "utf8" });
/** What an XPath expression reads from the file, as a conforming parser decodes it. */
const xpath = (file: string, expr: string) => {
  const r = spawnSync("xmllint", ["--xpath", expr, file], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.replace(/\n$/, "");
};

const tempDir = tempDirs();

let passing: RunOutcome;
let failing: RunOutcome;
beforeAll(async () => {
  const quiet = () => undefined;
  passing = await runConformance({ target: "nginx", reportDir: tempDir("junit-"), only: "guide,MTLS-HEADERS-*", command: "t", log: quiet });
  failing = await runConformance({
    target: "nginx",
    reportDir: tempDir("junit-"),
    only: "MTLS-CLIENT-009,MTLS-CLIENT-010",
    command: "t",
    log: quiet,
    alterManifests: (m) => {
      const ing = m.ingresses.find((i) => i.metadata?.name === "test-localhost");
      if (ing) ing.metadata!.annotations![ANNOTATION_PREFIX + "auth-tls-verify-depth"] = "2";
      return m;
    },
  });
}, 120_000);

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
    const dir = tempDir("junit-bad-");
    const broken = readFileSync(passing.junitPath, "utf8").replace(/tests="\d+"/, 'tests="many"');
    writeFileSync(join(dir, "a.xml"), broken);
    expect(validate(join(dir, "a.xml")).status).not.toBe(0);
    const nameless = readFileSync(passing.junitPath, "utf8").replace(/<testcase classname="([^"]*)" name="[^"]*"/, '<testcase classname="$1"');
    writeFileSync(join(dir, "b.xml"), nameless);
    expect(validate(join(dir, "b.xml")).status).not.toBe(0);
  });

  it("a check that erred (a harness fault) is an <error> naming the fault, counted in errors, never a <failure>", async () => {
    const ev = structuredClone(failing.evidence);
    const s = ev.scenarios.find((x) => x.id === "MTLS-CLIENT-010")!;
    const fault = "harness fault: nginx error.log: 1024 worker_connections are not enough (first at 2026-12-02T19:40:01Z)";
    s.verdict = "error";
    s.mismatches = [`${fault}: this failure is not evidence against the Ingress (the suite broke; run it again)`, ...s.mismatches];
    ev.harnessFaults = [{ source: "nginx error.log", message: "1024 worker_connections are not enough", at: "2026-12-02T19:40:01Z" }];
    ev.runErrors = [fault];
    ev.totals = totals(ev.scenarios);
    const file = join(tempDir("junit-error-"), "junit.xml");
    await writeJunit(file, ev);

    const r = validate(file);
    expect(r.stderr).toContain("validates");
    expect(xpath(file, "string(/testsuites/@errors)")).toBe("1");
    expect(xpath(file, "string(/testsuites/@failures)")).toBe("0");
    expect(xpath(file, "string(//testsuite[testcase[contains(@name,'MTLS-CLIENT-010')]]/@errors)")).toBe("1");
    expect(xpath(file, "count(//failure)")).toBe("0");
    expect(xpath(file, "count(//error)")).toBe("1");
    const message = xpath(file, "string(//testcase[contains(@name,'MTLS-CLIENT-010')]/error/@message)");
    expect(message).toContain("MTLS-CLIENT-010");
    expect(message).toContain("the harness was at fault");
    expect(message).toContain("1024 worker_connections are not enough");
    expect(xpath(file, "string(//testcase[contains(@name,'MTLS-CLIENT-010')]/error/@type)")).toBe("harness-fault");
    // The original mismatch is still there, after the fault.
    expect(xpath(file, "string(//testcase[contains(@name,'MTLS-CLIENT-010')]/error)")).toContain("status: expected 400, observed 200");

    // An erred check with no mismatch of its own still names the run's fault.
    s.mismatches = [];
    await writeJunit(file, ev);
    expect(xpath(file, "string(//error/@message)")).toContain("harness fault (nginx error.log, 2026-12-02T19:40:01Z): 1024 worker_connections are not enough");
  });

  it("hostile text (markup, CDATA ends, control characters, lone surrogates) stays well-formed, valid and readable", async () => {
    const ev: Evidence = structuredClone(failing.evidence);
    const HOSTILE = `a]]>b <c d="e" f='g'> & &amp; \t tab \r\n crlf \u0000nul \u001besc \u0008bs \uD800lone \uFFFEnon \u{1F600}astral ]]]]>`;
    // What a conforming reader must get back: every character XML cannot hold becomes U+FFFD.
    const READABLE = HOSTILE.replace(/[\u0000\u001b\u0008\uD800\uFFFE]/g, "\uFFFD");
    const s = ev.scenarios.find((x) => x.id === "MTLS-CLIENT-010")!;
    s.mismatches = [HOSTILE];
    s.must = HOSTILE;
    s.group = `group ${HOSTILE}`;
    s.name = HOSTILE;
    const skipped = ev.scenarios.find((x) => x.id === "MTLS-CLIENT-009")!;
    skipped.verdict = "skip";
    skipped.skipReason = HOSTILE;
    ev.target.kind = HOSTILE;
    ev.totals = totals(ev.scenarios);
    const file = join(tempDir("junit-hostile-"), "junit.xml");
    await writeJunit(file, ev);

    const r = validate(file);
    expect(r.stderr).toContain("validates");
    expect(r.status).toBe(0);
    expect(xpath(file, "string(/testsuites/@name)")).toBe(`mtls-conformance ${READABLE}`);
    expect(xpath(file, "string(//testsuite[2]/@name)")).toBe(`group ${READABLE}`);
    expect(xpath(file, "string(//failure)")).toBe(READABLE);
    expect(xpath(file, "string(//failure/@message)")).toBe(`MTLS-CLIENT-010 ${READABLE}: ${READABLE}\n${READABLE}`);
    expect(xpath(file, "string(//property[@name='must' and ../property[@value='MTLS-CLIENT-010']]/@value)")).toBe(READABLE);
    expect(xpath(file, "string(//testcase[skipped]/system-out)")).toBe(`skipped: ${READABLE}`);
  });

  it("written as a stream, the file is the same document as the string rendering, and the errors attribute counts", async () => {
    const file = join(tempDir("junit-stream-"), "junit.xml");
    await writeJunit(file, passing.evidence);
    expect(readFileSync(file, "utf8")).toBe(renderJunit(passing.evidence));
    expect(xpath(file, "count(//testcase)")).toBe(String(passing.evidence.scenarios.length));
    expect(xpath(file, "string(/testsuites/@errors)")).toBe("0");
  });
});
