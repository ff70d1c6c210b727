// --cross-check curl on the nginx target: the whole catalogue agrees with curl, and a curl that
// sees something else (a fake on the way, turning 400 into 418) fails the check with both observations.
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runConformance } from "./run.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

const quiet = () => undefined;

describe("--cross-check curl", () => {
  it("the whole catalogue: curl agrees with the probe on every check, and its observation and command are in the evidence", async () => {
    const reportDir = tempDir("cross-check-");
    const outcome = await runConformance({ target: "nginx", reportDir, command: "test", log: quiet, crossCheck: "curl" });
    const failed = outcome.evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => `${s.id}: ${s.mismatches.join("; ")}`);
    expect(failed).toEqual([]);
    expect(outcome.exitCode).toBe(0);
    const probing = outcome.evidence.scenarios.filter((s) => !s.static);
    expect(probing.length).toBeGreaterThan(90);
    for (const s of probing) {
      expect(s.curl, s.id).toMatch(/^curl -sS --http1\.1 /);
      expect(s.crossCheck, s.id).toMatchObject({ client: "curl", disagreements: [] });
    }
    // Lifecycle stages are compared too, after the stage (the catalogue has no refused handshake on
    // nginx, which answers 400: curl-command.test.ts compares one against a refusing server).
    expect(probing.filter((s) => s.suite === "lifecycle").every((s) => s.crossCheck)).toBe(true);
    expect(outcome.evidence.run.options.crossCheck).toBe("curl");
    // The key files curl used lived in the run's scratch directory; the report holds none.
    const files = readdirSync(reportDir, { recursive: true }) as string[];
    for (const f of files) if (statSync(join(reportDir, f)).isFile()) expect(readFileSync(join(reportDir, f), "utf8"), f).not.toMatch(/PRIVATE KEY/);
  });

  it("a curl that observes another status fails the check with both observations", async () => {
    const dir = tempDir("fake-curl-");
    const fake = join(dir, "curl");
    writeFileSync(fake, `#!/bin/sh\ncurl "$@" | sed '1s/^HTTP\\/1.1 400 /HTTP\\/1.1 418 /'\n`);
    chmodSync(fake, 0o755);
    const reportDir = tempDir("cross-check-fake-");
    const outcome = await runConformance({ target: "nginx", reportDir, command: "test", log: quiet, crossCheck: "curl", curlBinary: fake, only: "MTLS-CLIENT-*" });
    const rejected = outcome.evidence.scenarios.filter((s) => s.observed?.status === 400);
    expect(rejected.length).toBeGreaterThan(0);
    for (const s of rejected) {
      expect(s.verdict, s.id).toBe("fail");
      expect(s.mismatches.join("\n")).toMatch(/curl disagrees: probe observed 400 \(backend not reached\), curl observed 418 \(backend not reached\)/);
      expect(s.crossCheck?.observed.status).toBe(418);
    }
    // Where curl saw what the probe saw, the check stands.
    expect(outcome.evidence.scenarios.filter((s) => s.observed?.status === 200).every((s) => s.verdict !== "fail")).toBe(true);
    expect(outcome.exitCode).toBe(1);
    expect(readFileSync(outcome.junitPath, "utf8")).toContain("curl disagrees: probe observed 400");
  });

  it("without --cross-check the evidence still carries each check's curl command, and curl is not run", async () => {
    const reportDir = tempDir("cross-check-off-");
    const outcome = await runConformance({ target: "nginx", reportDir, command: "test", log: quiet, curlBinary: "/nonexistent/curl", only: "MTLS-CLIENT-001,MTLS-TRANSPORT-007" });
    expect(outcome.exitCode).toBe(0);
    for (const s of outcome.evidence.scenarios) {
      expect(s.curl).toMatch(/^curl /);
      expect(s.crossCheck).toBeUndefined();
    }
    expect(outcome.evidence.scenarios.find((s) => s.id === "MTLS-TRANSPORT-007")!.curl).toMatch(/-k --cert client\.crt --key client\.key -H 'Host: test\.localdev\.me' https:\/\/127\.0\.0\.1:\d+\/$/);
  });
});
