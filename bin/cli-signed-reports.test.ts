// Signed reports through the CLI as users run it: `run --signing-key`, `verify` and `diff`.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli } from "../helpers/testing/cli.ts";
import { tempDirs } from "../helpers/testing/temp-dirs.ts";

const tempDir = tempDirs();

describe("mtls-conformance", () => {
  describe("signed reports: verify and diff", () => {
    let dirA: string;
    let dirB: string;
    let keys: string;
    beforeAll(async () => {
      keys = tempDir("cli-keys-");
      spawnSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", join(keys, "team.pem")]);
      spawnSync("openssl", ["pkey", "-in", join(keys, "team.pem"), "-pubout", "-out", join(keys, "team.pub.pem")]);
      dirA = join(tempDir("cli-sign-"), "a");
      dirB = join(tempDir("cli-sign-"), "b");
      // Two independent runs: started together, as nothing of one is the other's.
      const [a, b] = await Promise.all([
        cli(["run", "--target", "nginx", "--only", "MTLS-CLIENT-*", "--report-dir", dirA, "--signing-key", join(keys, "team.pem"), "--keys-dir", join(keys, "run-keys")]),
        cli(["run", "--target", "nginx", "--only", "MTLS-CLIENT-*", "--report-dir", dirB]),
      ]);
      expect(a.code).toBe(0);
      expect(a.stdout).toMatch(/signed: +\d+ files, Ed25519 key sha256:[0-9a-f]{64}\n/);
      expect(b.stdout).toMatch(/a key made for this run; public half in signing-key\.pub\.pem/);
    });

    it("verify passes with the team's public key and exits 1 naming a changed file", async () => {
      const ok = await cli(["verify", dirA, "--public-key", join(keys, "team.pub.pem")]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/^verified: \d+ files match the signed manifest/);
      writeFileSync(join(dirA, "summary.md"), readFileSync(join(dirA, "summary.md"), "utf8") + " ");
      const bad = await cli(["verify", dirA, "--public-key", join(keys, "team.pub.pem")]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("verify FAILED: summary.md: changed");
    });

    it("--keys-dir keeps the run's keys and client.p12 outside the report", () => {
      expect(readdirSync(join(keys, "run-keys"))).toEqual(expect.arrayContaining(["client.key", "client.p12", "ca.key"]));
      expect(readdirSync(join(dirA, "pki")).some((f) => f.endsWith(".key"))).toBe(false);
    });

    it("diff of two runs of the same configuration: no change, exit 0; Markdown on request", async () => {
      const d = await cli(["diff", dirA, dirB]);
      expect(d.code).toBe(0);
      expect(d.stdout.trim().split("\n").at(-1)).toBe("no change");
      const md = await cli(["diff", dirA, dirB, "--markdown"]);
      expect(md.stdout).toMatch(/^## /);
    });

    it("a signing key that is not usable, or keys inside the report, exit 2 before anything starts", async () => {
      const dir = join(tempDir("cli-cfg-"), "never");
      const r1 = await cli(["run", "--target", "nginx", "--report-dir", dir, "--signing-key", "/nonexistent.pem"]);
      expect(r1.code).toBe(2);
      expect(r1.stderr).toContain("--signing-key /nonexistent.pem: no such file");
      const r2 = await cli(["run", "--target", "nginx", "--report-dir", dir, "--keys-dir", join(dir, "keys")]);
      expect(r2.code).toBe(2);
      expect(r2.stderr).toContain("--keys-dir must be outside the report directory");
      expect(existsSync(dir)).toBe(false);
    });
  });
});
