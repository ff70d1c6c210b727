// The guide's browser step on the nginx target: Chromium with client.p12 in its NSS database sees
// the backend, without an identity and with an expired one it sees nginx's 400 pages; the
// screenshots are report files and appear in report.html.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runConformance, type RunOutcome } from "../run/run.ts";
import { browserUnavailable } from "./chromium-nss.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

const unavailable = await browserUnavailable();

describe.skipIf(!!unavailable)(`--browser on the nginx target${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  let outcome: RunOutcome;
  let reportDir: string;
  const lines: string[] = [];
  beforeAll(async () => {
    reportDir = tempDir("browser-test-");
    outcome = await runConformance({ target: "nginx", reportDir, only: "MTLS-GUIDE-001,MTLS-GUIDE-002", browser: true, command: "test", log: (l) => lines.push(l) });
  }, 180_000);

  const scenario = (id: string) => outcome.evidence.scenarios.find((s) => s.id === id)!;

  it("runs MTLS-BROWSER-001..004 next to the guide's checks, all passing", () => {
    expect(outcome.evidence.scenarios.map((s) => `${s.id} ${s.verdict}`)).toEqual([
      "MTLS-GUIDE-001 pass",
      "MTLS-GUIDE-002 pass",
      "MTLS-BROWSER-001 pass",
      "MTLS-BROWSER-002 pass",
      "MTLS-BROWSER-003 pass",
      "MTLS-BROWSER-004 pass",
    ]);
    expect(outcome.exitCode).toBe(0);
  });

  it("with client.p12 imported the browser selects it and is shown the echo backend's page for that certificate", () => {
    const s = scenario("MTLS-BROWSER-001");
    expect(s.observed?.status).toBe(200);
    expect(s.observed?.upstreamReached).toBe(true);
    expect(s.observed?.upstreamHeaders?.["ssl-client-verify"]).toBe("SUCCESS");
    expect(s.observed?.upstreamHeaders?.["ssl-client-subject-dn"]).toBe("O=MyOrganization,CN=authorized-client");
    // The certificate the backend was handed is the run's client certificate itself.
    expect(s.observed?.upstreamClientCert?.sha256).toBe(s.credentialSha256);
    expect(s.observed?.browser?.selection).toMatch(/NSS/);
    expect(s.observed?.browser?.selection).toMatch(/not Playwright's clientCertificates/);
    expect(s.observed?.browser?.nssDatabase.some((l) => /u,u,u/.test(l))).toBe(true);
  });

  it("without an identity the browser is shown nginx's 400 \"No required SSL certificate was sent\"", () => {
    const s = scenario("MTLS-BROWSER-002");
    expect(s.observed?.status).toBe(400);
    expect(s.observed?.upstreamReached).toBe(false);
    expect(s.observed?.bodyExcerpt).toContain("No required SSL certificate was sent");
    expect(s.observed?.browser?.nssDatabase.some((l) => /u,u,u/.test(l))).toBe(false);
  });

  it("with only the expired client imported the browser offers no certificate: nginx's 400 \"No required SSL certificate was sent\"", () => {
    const s = scenario("MTLS-BROWSER-003");
    // Imported (pk12util accepted it), yet not offered: Chromium leaves expired certificates out.
    expect(s.observed?.browser?.nssDatabase.some((l) => /u,u,u/.test(l))).toBe(true);
    expect(s.observed?.status).toBe(400);
    expect(s.observed?.upstreamReached).toBe(false);
    expect(s.observed?.bodyExcerpt).toContain("No required SSL certificate was sent");
  });

  it("with an impostor CA's client imported the browser presents it and is shown nginx's 400 \"The SSL certificate error\"", () => {
    const s = scenario("MTLS-BROWSER-004");
    expect(s.observed?.status).toBe(400);
    expect(s.observed?.upstreamReached).toBe(false);
    expect(s.observed?.bodyExcerpt).toContain("The SSL certificate error");
  });

  it("writes the screenshots as report files (PNG), lists them as artifacts and shows them in report.html", () => {
    const html = readFileSync(join(reportDir, "report.html"), "utf8");
    for (const name of ["browser-client-p12", "browser-no-identity", "browser-expired-identity", "browser-impostor-identity"]) {
      const path = `browser/${name}.png`;
      expect(outcome.evidence.artifacts[path]).toBe(path);
      expect(existsSync(join(reportDir, path))).toBe(true);
      expect(readFileSync(join(reportDir, path)).subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
      expect(html).toContain(`<img src="${path}"`);
    }
    const junit = readFileSync(outcome.junitPath, "utf8");
    expect(junit).toContain("MTLS-BROWSER-001");
  });
});

describe("--browser where it cannot run", () => {
  it("is refused for the user's own Ingresses and without the guide's Ingress", async () => {
    const reportDir = tempDir("browser-test-");
    await expect(runConformance({ target: "nginx", reportDir, only: "MTLS-CLIENT-011", browser: true, command: "test", log: () => undefined })).rejects.toThrow(/--browser needs the guide's Ingress/);
  });
});
