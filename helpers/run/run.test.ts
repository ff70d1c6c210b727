// Whole runs on the real nginx target: the catalogue passes on a correct ingress, and the same
// catalogue FAILS when the deployed Ingress is broken (a suite that stays green is worthless).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import type { Manifests } from "../manifests/manifests.ts";
import { setAnnotation } from "../testing/alter.ts";
import { runConformance, type RunOutcome } from "./run.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

const quiet = () => undefined;


async function run(only?: string, alterManifests?: (m: Manifests) => Manifests, isolate = false): Promise<RunOutcome & { reportDir: string }> {
  const reportDir = tempDir("run-test-");
  const outcome = await runConformance({ target: "nginx", reportDir, only, command: "test", log: quiet, alterManifests, isolate });
  return { ...outcome, reportDir };
}

const failedIds = (o: RunOutcome) => o.evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id).sort();

describe("full catalogue on the nginx target", () => {
  let outcome: RunOutcome & { reportDir: string };

  it("every scenario passes, and the evidence and JUnit agree", async () => {
    outcome = await run();
    expect(failedIds(outcome)).toEqual([]);
    expect(outcome.exitCode).toBe(0);

    const evidence = JSON.parse(readFileSync(outcome.evidencePath, "utf8"));
    // Findings: the scenarios that document a weakness, and observed it.
    const findings = catalogue.scenarios.filter((s) => s.finding).length;
    expect(findings).toBeGreaterThan(0);
    const lint = catalogue.scenarios.filter((s) => s.lint).length;
    expect(evidence.totals).toEqual({ pass: catalogue.scenarios.length - findings, fail: 0, skip: 0, finding: findings, total: catalogue.scenarios.length, checked: catalogue.scenarios.length - lint });
    expect(evidence.scenarios.map((s: { id: string }) => s.id).sort()).toEqual(catalogue.scenarios.map((s) => s.id).sort());
    expect(evidence.target.kind).toBe("nginx");
    expect(evidence.target.description).toMatch(/not the ingress-nginx controller/);
    expect(evidence.target.versions.nginx).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Date.parse(evidence.run.finishedAt)).toBeGreaterThanOrEqual(Date.parse(evidence.run.startedAt));

    const junit = readFileSync(outcome.junitPath, "utf8");
    for (const s of catalogue.scenarios) {
      expect(junit).toContain(`<property name="scenario-id" value="${s.id}"/>`);
    }
    expect(junit).toMatch(new RegExp(`<testsuites [^>]*tests="${catalogue.scenarios.length}" failures="0"`));
    // A finding is a passing test case in JUnit, marked by its properties.
    expect(junit).toContain('<property name="verdict" value="finding"/>');
    // Each test case names the fingerprint of the credential it presented.
    const client = evidence.certificates.find((c: { name: string }) => c.name === "client");
    expect(junit).toContain(`value="sha256:${client.sha256}"`);
  });

  it("the evidence holds no private key, and every certificate is described", () => {
    const text = readFileSync(outcome.evidencePath, "utf8");
    expect(text).not.toMatch(/PRIVATE KEY/);
    const evidence = JSON.parse(text);
    for (const c of evidence.certificates) {
      expect(c.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(new Date(c.notBefore).toISOString()).toBe(c.notBefore);
      expect(new Date(c.notAfter).toISOString()).toBe(c.notAfter);
    }
    expect(evidence.certificates.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(["ca", "server", "client", "client-expired", "intermediate-1", "intermediate-2", "other-ca"]),
    );
  });

  it("no key material and no Secret value other than certificates anywhere in the report directory", () => {
    const files = readdirSync(outcome.reportDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files.length).toBeGreaterThan(20);
    const names = files.map((e) => e.name);
    expect(names.filter((n) => /\.(key|p12|pfx)$/.test(n))).toEqual([]);
    for (const e of files) {
      const bytes = readFileSync(join(e.parentPath, e.name));
      const text = bytes.toString("latin1");
      // PEM keys, and the same base64-encoded as in a Secret's data.
      expect(text, e.name).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      expect(text, e.name).not.toContain("LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t");
      expect(text, e.name).not.toContain("LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVkt");
    }
    // The report's artifacts are the documented set, all signed.
    for (const f of ["junit.xml", "evidence.json", "report.html", "summary.md", "manifest.json", "attestation.dsse.json", "signing-key.pub.pem"]) {
      expect(names).toContain(f);
    }
  });

  it("records that the guide's X-SSL-Client-Cert claim does not hold", () => {
    const finding = outcome.evidence.findings.find((f) => f.id === "guide-claim-x-ssl-client-cert");
    expect(finding?.holds).toBe(false);
    const s = outcome.evidence.scenarios.find((x) => x.id === "MTLS-HEADERS-006")!;
    expect(s.observed?.upstreamHeaders?.["x-ssl-client-cert"]).toBeUndefined();
    expect(s.observed?.upstreamClientCert?.sha256).toBe(s.credentialSha256);
  });

  it("manifests.yaml has the Secrets redacted and the guide's Ingress", () => {
    const yaml = readFileSync(join(outcome.reportDir, "manifests.yaml"), "utf8");
    expect(yaml).toContain("name: test-localhost");
    expect(yaml).toContain("nginx.ingress.kubernetes.io/auth-tls-secret: default/ca-secret");
    expect(yaml).toMatch(/tls\.key: <redacted sha256:[0-9a-f]{64}>/);
    expect(yaml).not.toMatch(/PRIVATE KEY|LS0tLS1CRUdJTi/);
  });
});

describe("a broken ingress makes the catalogue fail", () => {
  it("verify-client optional: requests without a certificate get through, and the no-cert scenarios fail", async () => {
    const o = await run("MTLS-CLIENT-001,MTLS-CLIENT-002,MTLS-GUIDE-001", setAnnotation("test-localhost", "auth-tls-verify-client", "optional"));
    expect(o.exitCode).toBe(1);
    expect(failedIds(o)).toEqual(["MTLS-CLIENT-001", "MTLS-GUIDE-001"]);
    const s = o.evidence.scenarios.find((x) => x.id === "MTLS-CLIENT-001")!;
    expect(s.mismatches.join("\n")).toContain("status: expected 400, observed 200");
    expect(o.evidence.totals).toEqual({ pass: 1, fail: 2, skip: 0, finding: 0, total: 3, checked: 3 });
    // Diagnostics are saved and named in the evidence.
    expect(Object.values(o.evidence.artifacts)).toContain("nginx/nginx.conf");
  });

  it("verify-depth 2 on the guide's Ingress: the depth boundary scenario fails", async () => {
    const o = await run("MTLS-CLIENT-009,MTLS-CLIENT-010", setAnnotation("test-localhost", "auth-tls-verify-depth", "2"));
    expect(failedIds(o)).toEqual(["MTLS-CLIENT-010"]);
    expect(o.exitCode).toBe(1);
  });

  it("pass-certificate-to-upstream false: the header scenarios fail", async () => {
    const o = await run("MTLS-HEADERS-001,MTLS-HEADERS-002", setAnnotation("test-localhost", "auth-tls-pass-certificate-to-upstream", "false"));
    expect(failedIds(o)).toEqual(["MTLS-HEADERS-001"]);
  });

  it("auth-tls-secret naming a missing secret: the host answers 403 and both sides fail", async () => {
    const o = await run("MTLS-CLIENT-001,MTLS-CLIENT-002", setAnnotation("test-localhost", "auth-tls-secret", "default/missing"));
    expect(failedIds(o)).toEqual(["MTLS-CLIENT-001", "MTLS-CLIENT-002"]);
    const s = o.evidence.scenarios.find((x) => x.id === "MTLS-CLIENT-002")!;
    expect(s.observed?.status).toBe(403);
  });
});

describe("when the target does not come up", () => {
  it("every selected scenario fails with the reason, in the evidence and in JUnit, exit 1", async () => {
    // nginx refuses ssl_verify_depth -1, as the controller's reload would.
    const o = await run("guide", setAnnotation("test-localhost", "auth-tls-verify-depth", "-1"));
    expect(o.exitCode).toBe(1);
    // Nothing was probed: a target that did not come up checked nothing.
    expect(o.evidence.totals).toEqual({ pass: 0, fail: 2, skip: 0, finding: 0, total: 2, checked: 0 });
    for (const s of o.evidence.scenarios) expect(s.mismatches.join("\n")).toMatch(/not run: the nginx target did not come up: .*ssl_verify_depth/s);
    expect(o.evidence.target.description).toBe("did not come up");
    expect(String(o.evidence.target.deployError)).toContain("ssl_verify_depth");
    const junit = readFileSync(o.junitPath, "utf8");
    expect(junit).toMatch(/<testsuites [^>]*tests="2" failures="2"/);
  });
});

describe("--isolate", () => {
  it("a target per suite: one JUnit file per suite, every target in the evidence, all passing", async () => {
    const o = await run("guide,MTLS-HEADERS-001", undefined, true);
    expect(o.exitCode).toBe(0);
    expect(o.evidence.totals).toEqual({ pass: 3, fail: 0, skip: 0, finding: 0, total: 3, checked: 3 });
    const isolated = o.evidence.target.isolated as Array<{ suites: string[]; listen: string }>;
    expect(isolated.map((t) => t.suites[0])).toEqual(["guide", "upstream-headers"]);
    expect(isolated[0]!.listen).not.toBe(isolated[1]!.listen);
    expect(readFileSync(join(o.reportDir, "junit-guide.xml"), "utf8")).toContain('value="MTLS-GUIDE-002"');
    expect(readFileSync(join(o.reportDir, "junit-upstream-headers.xml"), "utf8")).toContain('value="MTLS-HEADERS-001"');
    expect(readFileSync(join(o.reportDir, "manifests-guide.yaml"), "utf8")).toContain("name: test-localhost");
  });
});
