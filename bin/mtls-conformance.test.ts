// The CLI as users run it: a real process, its output and its exit codes.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { catalogue } from "../fixtures/catalogue.ts";

const BIN = join(import.meta.dirname, "mtls-conformance.ts");

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("mtls-conformance", () => {
  it("run --target nginx: first line names the target and why, one line per scenario, exit 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-run-"));
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
    const dir = mkdtempSync(join(tmpdir(), "cli-class-"));
    const r = await cli(["run", "--target", "nginx", "--ingress-class", "internal", "--report-dir", dir, "--only", "guide"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(join(dir, "manifests.yaml"), "utf8")).toMatch(/ingressClassName: internal/);
    expect(readFileSync(join(dir, "manifests.yaml"), "utf8")).not.toMatch(/ingressClassName: nginx/);
  });

  it("run --manifests checks your own Ingresses: the changes made to them, a line per check, exit 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-manifests-"));
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
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toMatch(/^target: nginx \(auto: /);
    const created = readdirSync(reports).filter((d) => !before.has(d));
    expect(created).toHaveLength(1);
    expect(existsSync(join(reports, created[0]!, "evidence.json"))).toBe(true);
  });

  it("exit 2 with a clear message for an unknown target, before anything starts", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "cli-bad-")), "never");
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

  describe("k3s and cluster configuration errors exit 2 before anything starts", () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "kubeconfig-")), "config");
    writeFileSync(
      kubeconfig,
      "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: test\n  context:\n    cluster: c\n    user: u\ncurrent-context: test\nusers:\n- name: u\n  user:\n    token: x\n",
    );
    const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
      ["a controller version that is not a release", ["--target", "k3s", "--controller-version", "latest"], {}, /--controller-version "latest" is not a release like v1\.15\.1/],
      ["a bad version in a matrix", ["--target", "k3s", "--controller-version", "v1.15.1,v1.x"], {}, /"v1\.x" is not a release/],
      ["a controller version for the nginx target", ["--target", "nginx", "--controller-version", "v1.15.1"], {}, /apply to the k3s and cluster targets/],
      ["an unreadable kubeconfig", ["--target", "cluster", "--kubeconfig", "/nonexistent/kubeconfig"], {}, /--kubeconfig \/nonexistent\/kubeconfig: no such file/],
      ["an unknown context", ["--target", "cluster", "--kubeconfig", kubeconfig, "--context", "nope"], {}, /context "nope" is not in the kubeconfig \(it has: test\)/],
      ["an endpoint run without its CA", ["--target", "endpoint", "--url", "https://127.0.0.1:9"], {}, /--target endpoint needs --ingress/],
      ["a malformed ingress address", ["--target", "cluster", "--kubeconfig", kubeconfig, "--ingress-address", "nowhere"], {}, /--ingress-address "nowhere" is not HOST:PORT/],
      ["another class for the controller the run installs", ["--target", "cluster", "--kubeconfig", kubeconfig, "--install-controller", "--ingress-class", "internal"], {}, /--ingress-class internal: the controller this run installs serves IngressClass nginx/],
    ];
    // testcontainers falls back from a dead DOCKER_HOST to the Docker socket, so "no engine" can
    // only be seen from the CLI where no engine runs (engine.test.ts covers the detection itself).
    const engineRuns = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
    it.skipIf(engineRuns)("no container engine for k3s (skipped: an engine answers on this machine)", async () => {
      const dir = join(mkdtempSync(join(tmpdir(), "cli-cfg-")), "never");
      const r = await cli(["run", "--target", "k3s", "--report-dir", dir], { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/no container engine answers.*--target nginx/);
    });
    for (const [name, args, env, message] of cases) {
      it(name, async () => {
        const dir = join(mkdtempSync(join(tmpdir(), "cli-cfg-")), "never");
        const r = await cli(["run", ...args, "--report-dir", dir], env);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(existsSync(dir)).toBe(false);
      });
    }
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
    for (const profile of ["traefik", "gateway-api"]) {
      const r = await cli(["list", "--profile", profile, "--json"]);
      expect(r.code).toBe(0);
      const json = JSON.parse(r.stdout);
      expect(json.scenarios.map((s: { id: string }) => s.id)).toEqual(catalogue.scenarios.map((s) => s.id));
      expect(Object.values(json.totals as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(catalogue.scenarios.length);
      for (const s of json.scenarios) expect(s.sources.length, s.id).toBeGreaterThan(0);
      expect(json.basis.observed).toBe(0);
    }
    const text = await cli(["list", "--profile", "traefik", "--only", "MTLS-CLIENT-010"]);
    expect(text.stdout).toContain("MTLS-CLIENT-010  lost");
    expect(text.stdout).toMatch(/\[doc\] traefik\/traefik@v3\.7\.9:.*ingress-nginx\.md:299/);
    const old = JSON.parse((await cli(["list", "--profile", "traefik", "--profile-version", "v3.6.24", "--json"])).stdout);
    expect(old.versions).toBe("<3.7.0");
    const bad = await cli(["list", "--profile", "envoy"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('mtls-conformance: unknown profile "envoy": one of ingress-nginx, traefik, gateway-api');
  });

  it("Ctrl-C stops nginx and removes the scratch directory, exit 130", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "cli-sigint-"));
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

  describe("signed reports: verify and diff", () => {
    let dirA: string;
    let dirB: string;
    let keys: string;
    beforeAll(async () => {
      keys = mkdtempSync(join(tmpdir(), "cli-keys-"));
      spawnSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", join(keys, "team.pem")]);
      spawnSync("openssl", ["pkey", "-in", join(keys, "team.pem"), "-pubout", "-out", join(keys, "team.pub.pem")]);
      dirA = join(mkdtempSync(join(tmpdir(), "cli-sign-")), "a");
      dirB = join(mkdtempSync(join(tmpdir(), "cli-sign-")), "b");
      const a = await cli(["run", "--target", "nginx", "--only", "MTLS-CLIENT-*", "--report-dir", dirA, "--signing-key", join(keys, "team.pem"), "--keys-dir", join(keys, "run-keys")]);
      expect(a.code).toBe(0);
      expect(a.stdout).toMatch(/signed: +\d+ files, Ed25519 key sha256:[0-9a-f]{64}\n/);
      const b = await cli(["run", "--target", "nginx", "--only", "MTLS-CLIENT-*", "--report-dir", dirB]);
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
      const dir = join(mkdtempSync(join(tmpdir(), "cli-cfg-")), "never");
      const r1 = await cli(["run", "--target", "nginx", "--report-dir", dir, "--signing-key", "/nonexistent.pem"]);
      expect(r1.code).toBe(2);
      expect(r1.stderr).toContain("--signing-key /nonexistent.pem: no such file");
      const r2 = await cli(["run", "--target", "nginx", "--report-dir", dir, "--keys-dir", join(dir, "keys")]);
      expect(r2.code).toBe(2);
      expect(r2.stderr).toContain("--keys-dir must be outside the report directory");
      expect(existsSync(dir)).toBe(false);
    });
  });

  it("--help exits 0", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("run");
    expect(r.stdout).toContain("list");
  });
});

describe("failed starts read well", () => {
  const shop = join(import.meta.dirname, "..", "fixtures", "examples", "shop");
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-failed-"));
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
