// The CLI as users run it: a real process, its output and its exit codes. (Its refusals are in
// cli-refusals.test.ts and cli-config-errors.test.ts, signing in cli-signed-reports.test.ts: files
// apart so that the test workers share them.)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { catalogue } from "../fixtures/catalogue.ts";
import { BIN, cli } from "../helpers/testing/cli.ts";
import { tempDirs } from "../helpers/testing/temp-dirs.ts";

const tempDir = tempDirs();

describe("mtls-conformance", () => {
  it("run --target nginx: first line names the target and why, one line per scenario, exit 0", async () => {
    const dir = tempDir("cli-run-");
    const r = await cli(["run", "--target", "nginx", "--report-dir", dir, "--only", "guide"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^target: nginx \(requested with --target nginx; nginx \S+ found at \S+\)$/);
    expect(lines.filter((l) => /^\[\d\/2\] PASS MTLS-GUIDE-00[12] /.test(l))).toHaveLength(2);
    expect(r.stdout).toContain("2 passed, 0 failed, 0 skipped of 2");
    expect(existsSync(join(dir, "junit.xml"))).toBe(true);
    const evidence = JSON.parse(readFileSync(join(dir, "evidence.json"), "utf8"));
    expect(evidence.run.command).toBe(`mtls-conformance run --target nginx --report-dir ${dir} --only guide`);
    expect(evidence.totals.total).toBe(2);
  });

  it("--ingress-class: the catalogue's Ingresses name the class the controller under test serves", async () => {
    const dir = tempDir("cli-class-");
    const r = await cli(["run", "--target", "nginx", "--ingress-class", "internal", "--report-dir", dir, "--only", "guide"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(join(dir, "manifests.yaml"), "utf8")).toMatch(/ingressClassName: internal/);
    expect(readFileSync(join(dir, "manifests.yaml"), "utf8")).not.toMatch(/ingressClassName: nginx/);
  });

  it("run --manifests checks your own Ingresses: the changes made to them, a line per check, exit 0", async () => {
    const dir = tempDir("cli-manifests-");
    const example = join(import.meta.dirname, "..", "fixtures", "examples", "shop");
    const r = await cli(["run", "--target", "nginx", "--manifests", example, "--report-dir", dir]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[1]).toMatch(/^run \S+: \d+ check\(s\) for 5 Ingress\(es\) from .*fixtures\/examples\/shop, reports in /);
    expect(r.stdout).toContain('secret shop/shop-client-ca: ca.crt replaced by the run\'s CA "O=Acme, CN=Acme Client CA"');
    expect(lines.some((l) => /^\[\s*\d+\/\d+\] PASS shop\/api#depth-limit-at-limit /.test(l))).toBe(true);
    expect(lines.some((l) => /^\[\s*\d+\/\d+\] FIND partners\/status#governing-policy /.test(l))).toBe(true);
    // One Ingress with two hosts: its checks run on each, named by host.
    expect(lines.some((l) => /^\[\s*\d+\/\d+\] PASS shop\/assets@img\.shop\.example#valid-client /.test(l))).toBe(true);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed, 0 skipped, \d+ finding\(s\) of \d+ \(\d+ probe\(s\) ran; target nginx/);
  });

  it("list --rules prints the checks generated for any Ingress and the lint rules", async () => {
    const r = await cli(["list", "--rules"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("depth-limit");
    expect(r.stdout).toContain("match-cn");
    expect(r.stdout).toContain("lint ca-key-in-secret");
  });

  it("run with no options means --target auto into a fresh directory under reports/", async () => {
    const reports = join(import.meta.dirname, "..", "reports");
    const before = new Set(existsSync(reports) ? readdirSync(reports) : []);
    const r = await cli(["run", "--only", "MTLS-GUIDE-001"]);
    const created = readdirSync(reports).filter((d) => !before.has(d));
    // The run's report is the test's to remove (reports/ holds the user's own runs).
    onTestFinished(() => {
      for (const d of created) rmSync(join(reports, d), { recursive: true, force: true });
    });
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toMatch(/^target: nginx \(auto: /);
    expect(created).toHaveLength(1);
    expect(existsSync(join(reports, created[0]!, "evidence.json"))).toBe(true);
  });

  it("list prints every scenario with its MUST statement", async () => {
    const r = await cli(["list"]);
    expect(r.code).toBe(0);
    for (const s of catalogue.scenarios) {
      expect(r.stdout).toContain(s.id);
      expect(r.stdout).toContain(s.must);
    }
    expect(r.stdout).toContain(`${catalogue.scenarios.length} scenario(s)`);
    const json = JSON.parse((await cli(["list", "--json", "--only", "MTLS-CLIENT-*"])).stdout);
    expect(json.scenarios.every((s: { id: string }) => s.id.startsWith("MTLS-CLIENT-"))).toBe(true);
    expect(json.scenarios.length).toBe(catalogue.scenarios.filter((s) => s.suite === "client-auth").length);
  });

  it("list --profile classifies every scenario for each successor, with its sources; an unknown profile is exit 2", async () => {
    for (const profile of ["traefik", "gateway-api", "haproxy-ingress", "f5-nginx-ingress"]) {
      const r = await cli(["list", "--profile", profile, "--json"]);
      expect(r.code).toBe(0);
      const json = JSON.parse(r.stdout);
      expect(json.scenarios.map((s: { id: string }) => s.id)).toEqual(catalogue.scenarios.map((s) => s.id));
      expect(Object.values(json.totals as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(catalogue.scenarios.length);
      for (const s of json.scenarios) expect(s.sources.length, s.id).toBeGreaterThan(0);
      // Traefik's, HAProxy Ingress's and F5's rows are observed on their data planes here
      // (helpers/controllers/<name>/observed.json); Gateway API is a specification, observed through NGF.
      const observed = json.scenarios.filter((s: { sources: Array<{ basis: string }> }) => s.sources.some((x) => x.basis === "observed")).length;
      if (profile === "gateway-api") expect(json.basis.observed).toBe(0);
      else expect(json.basis.observed).toBe(observed);
      if (profile !== "gateway-api") expect(json.basis.observed).toBeGreaterThan(100);
    }
    const text = await cli(["list", "--profile", "traefik", "--only", "MTLS-CLIENT-010"]);
    expect(text.stdout).toContain("MTLS-CLIENT-010  lost");
    expect(text.stdout).toMatch(/\[doc\] traefik\/traefik@v3\.7\.9:.*ingress-nginx\.md:299/);
    const old = JSON.parse((await cli(["list", "--profile", "traefik", "--profile-version", "v3.6.24", "--json"])).stdout);
    expect(old.versions).toBe("<3.7.0");
    const bad = await cli(["list", "--profile", "envoy"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('mtls-conformance: unknown profile "envoy": one of ingress-nginx, traefik, gateway-api, nginx-gateway-fabric, haproxy-ingress, f5-nginx-ingress');
  });

  it("Ctrl-C stops nginx and removes the scratch directory, exit 130", async () => {
    const scratch = tempDir("cli-sigint-");
    const child = spawn(process.execPath, [BIN, "run", "--target", "nginx", "--report-dir", join(scratch, "report")], {
      env: { ...process.env, TMPDIR: scratch },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Interrupt once nginx is serving.
    await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => d.toString().includes("deployed") && resolve()));
    const nginxBefore = spawnSync("pgrep", ["-f", scratch], { encoding: "utf8" }).stdout.trim();
    expect(nginxBefore).not.toBe("");
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(130);
    const alive = spawnSync("pgrep", ["-f", scratch], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean);
    const zombies = alive.filter((pid) => /^Z/.test(spawnSync("ps", ["-o", "stat=", "-p", pid], { encoding: "utf8" }).stdout.trim()));
    expect(alive.length - zombies.length).toBe(0);
    // Only the report and the compile cache remain: no nginx prefix, no run scratch directory.
    expect(readdirSync(scratch).filter((f) => f !== "node-compile-cache")).toEqual(["report"]);
  });

  it("--help exits 0", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("run");
    expect(r.stdout).toContain("list");
  });
});

describe("Node 20 as the README promises", () => {
  const root = join(import.meta.dirname, "..");
  const systemNpx = ["/usr/bin/npx", "/usr/local/bin/npx"].find((p) => existsSync(p));

  it("package.json's engines admit the Node the README names", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const promised = Number(/with Node\.js \((\d+) or newer/.exec(readme)?.[1]);
    const engines = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).engines.node as string;
    expect(engines).toBe(`>=${promised}`);
  });

  it.skipIf(!systemNpx)("npx mtls-conformance through the machine's own npm and Node: no warning, exit 0", () => {
    const r = spawnSync(systemNpx!, ["--no-install", "mtls-conformance", "--version"], { cwd: root, encoding: "utf8", env: { ...process.env, PATH: "/usr/bin:/bin" } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
