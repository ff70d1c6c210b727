// The CLI's refusals as users meet them: a real process, exit 2 (or 1) and a message that reads
// well, before anything starts. (The k3s and cluster ones are in cli-config-errors.test.ts.)
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli } from "../helpers/testing/cli.ts";
import { tempDirs } from "../helpers/testing/temp-dirs.ts";

const tempDir = tempDirs();

describe("mtls-conformance", () => {
  it("the inputs exclude each other where they must, exit 2 before anything starts", async () => {
    const example = join(import.meta.dirname, "..", "fixtures", "examples", "shop");
    const cases: Array<[string[], string]> = [
      [["run", "--target", "nginx", "--manifests", "/nonexistent"], "--manifests /nonexistent: no such file or folder"],
      [["run", "--target", "endpoint", "--manifests", example], "--manifests deploys objects"],
      [["run", "--target", "nginx", "--audit"], "--audit applies to --target cluster"],
      [["run", "--target", "nginx", "--manifests", example, "--isolate"], "--isolate applies to the catalogue's suites"],
      [["run", "--target", "nginx", "--concurrency", "0"], "--concurrency 0: a whole number from 1 to 256"],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });

  it("exit 2 with a clear message for an unknown target, before anything starts", async () => {
    const dir = join(tempDir("cli-bad-"), "never");
    const r = await cli(["run", "--target", "bogus", "--report-dir", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bogus.*(auto|nginx)/);
    expect(existsSync(dir)).toBe(false);
  });

  it("exit 2 when --only matches nothing", async () => {
    const r = await cli(["run", "--target", "nginx", "--only", "NOPE-*"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--only "NOPE-*" matches no scenario');
  });

  it("exit 2 for an unknown option", async () => {
    const r = await cli(["run", "--frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option");
  });

  it("exit 2 with install instructions when nginx is missing", async () => {
    const r = await cli(["run", "--target", "nginx"], { NGINX_BIN: "/nonexistent/nginx" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("apt-get install -y nginx-light");
  });
});

describe("failed starts read well", () => {
  const shop = join(import.meta.dirname, "..", "fixtures", "examples", "shop");
  let dir: string;
  beforeAll(() => {
    dir = tempDir("cli-failed-");
    // Two CAs made by openssl; a SEC1 ("EC PRIVATE KEY") key as `openssl ecparam -genkey` writes it.
    for (const name of ["a", "b"]) {
      spawnSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", join(dir, `${name}.key`)]);
      spawnSync("openssl", ["req", "-x509", "-new", "-key", join(dir, `${name}.key`), "-subj", `/CN=CA ${name}`, "-days", "2", "-out", join(dir, `${name}.crt`)]);
    }
  });
  const endpoint = (caKey: string, extra: string[] = []) => [
    "run", "--target", "endpoint", "--url", "https://127.0.0.1:1", "--ingress", shop, "--ca-cert", join(dir, "a.crt"), "--ca-key", caKey, "--insecure-server", ...extra,
  ];

  it("a CA key that is not the CA certificate's: exit 2, one line, no stack trace", async () => {
    const r = await cli(endpoint(join(dir, "b.key"), ["--report-dir", join(dir, "r1")]));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([`mtls-conformance: --ca-key ${join(dir, "b.key")} with --ca-cert ${join(dir, "a.crt")}: the key does not belong to the certificate (CN=CA a)`]);
    expect(existsSync(join(dir, "r1"))).toBe(false);
  });

  it("a report directory that cannot be made: exit 2, one line", async () => {
    const file = join(dir, "a.crt");
    const r = await cli(["run", "--target", "nginx", "--only", "guide", "--report-dir", join(file, "reports")]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`mtls-conformance: --report-dir ${join(file, "reports")}: cannot be used (ENOTDIR)`);
  });

  it("k3s on a machine that cannot pull: every missing thing at once with its remedy, exit 2, nothing started", async () => {
    const engineRuns = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
    const closed = join(dir, "never-listens");
    const env = { XDG_CACHE_HOME: join(dir, "empty-cache"), MTLS_CONTROLLER_MANIFEST_BASE_URL: "http://127.0.0.1:9/" + closed };
    const r = await cli(["run", "--target", "k3s", "--report-dir", join(dir, "r-k3s")], env);
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, "r-k3s"))).toBe(false);
    if (!engineRuns) {
      expect(r.stderr).toMatch(/no container engine answers|the k3s target needs a container engine/);
      return;
    }
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toMatch(/^mtls-conformance: the k3s target cannot run here: \d+ thing\(s\) missing$/);
    expect(r.stderr).toMatch(/1\. the ingress-nginx v1\.15\.1 manifest: could not download .*\n\s+to fix: on a connected machine: curl -fsSLo deploy\.yaml .*; then pass --controller-manifest deploy\.yaml/);
    expect(r.stderr).toMatch(/image rancher\/k3s:v1\.35\.0-k3s1 \(the host's Docker starts it\): not on the host, and the pull failed.*\n\s+to fix: docker pull rancher\/k3s:v1\.35\.0-k3s1/);
    expect(r.stderr).toContain("(or run the local data plane: --target nginx)");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("an endpoint that refuses connections: one line saying so, one line of checks not run, every check in the reports with the reason", async () => {
    const reportDir = join(dir, "r2");
    const r = await cli(endpoint(join(dir, "a.key"), ["--report-dir", reportDir]));
    expect(r.code).toBe(1);
    expect(r.stdout.match(/ECONNREFUSED/g)).toHaveLength(1);
    expect(r.stdout).toContain("deploy failed: 127.0.0.1:1 refuses connections (ECONNREFUSED): is the deployment up, and is --url right?");
    expect(r.stdout).toMatch(/^\d+ check\(s\) not run: the endpoint target did not come up \(the reason is above; the reports list each check with it\)$/m);
    expect(r.stdout).not.toMatch(/\] FAIL /);
    expect(r.stdout).toMatch(/^NOTHING WAS CHECKED: no probe ran \(0 skipped, \d+ not run, \d+ static\)/m);
    const evidence = JSON.parse(readFileSync(join(reportDir, "evidence.json"), "utf8"));
    const notRun = evidence.scenarios.filter((s: { static?: boolean }) => !s.static);
    expect(notRun.length).toBeGreaterThan(10);
    for (const s of notRun) expect(s.mismatches[0]).toMatch(/^not run: the endpoint target did not come up: 127\.0\.0\.1:1 refuses connections/);
  });
});
