// `--controller ingress-nginx|traefik` through the CLI as users run it (a real process, its output
// and exit codes) and through runConformance: what each command refuses in one line (exit 2), the
// images a Traefik run needs, and the controller on record in the evidence.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ECHO_IMAGE } from "../manifests/manifests.ts";
import { ConfigError } from "../support/errors.ts";
import { TRAEFIK_IMAGE, TRAEFIK_K3S_IMAGE } from "../targets/traefik-controller.ts";
import { planRun, ROOT, runConformance } from "./run.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

const BIN = join(ROOT, "bin", "mtls-conformance.ts");

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, MTLS_NO_INSTALL: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A kubeconfig the cluster target can read (nothing is ever asked of its server here). */
function kubeconfigFile(): string {
  const file = join(tempDir("kubeconfig-"), "config");
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
current-context: c
`,
  );
  return file;
}

describe("--controller on the command line", () => {
  it("images --controller traefik: the k3s image for Traefik, Ryuk, Traefik's image and the echo backend's; no manifest is read", async () => {
    const r = await cli(["images", "--controller", "traefik"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe(TRAEFIK_K3S_IMAGE);
    expect(lines.slice(-2)).toEqual([TRAEFIK_IMAGE, ECHO_IMAGE]);
    expect(lines.some((l) => /^testcontainers\/ryuk:/.test(l))).toBe(true);
    expect(r.stdout + r.stderr).not.toMatch(/ingress-nginx/);
  });

  it("images --controller traefik with an ingress-nginx release is refused in one line", async () => {
    const r = await cli(["images", "--controller", "traefik", "--controller-version", "v1.15.1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("mtls-conformance: --controller-version and --controller-manifest name an ingress-nginx release; --controller traefik runs the pinned Traefik\n");
  });

  it("an unknown controller is exit 2 in one line", async () => {
    const r = await cli(["run", "--target", "nginx", "--controller", "nginx-ingress"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: option '--controller <name>' argument 'nginx-ingress' is invalid. Allowed choices are ingress-nginx, traefik, nginx-gateway-fabric, haproxy-ingress, f5-nginx-ingress.\n");
    expect(r.stdout).toBe("");
  });

  it("--target cluster --controller traefik --install-controller is exit 2 in one line, before anything starts", async () => {
    const dir = tempDir("cli-traefik-");
    const r = await cli(["run", "--target", "cluster", "--controller", "traefik", "--install-controller", "--kubeconfig", kubeconfigFile(), "--report-dir", join(dir, "r")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("mtls-conformance: --install-controller installs ingress-nginx; with --controller traefik the run tests the Traefik already in the cluster: omit --install-controller\n");
    expect(r.stdout).toBe("");
  });

  it("--controller traefik on the nginx target (an ingress-nginx emulation) is exit 2 in one line", async () => {
    const r = await cli(["run", "--target", "nginx", "--controller", "traefik"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("mtls-conformance: --controller traefik: the nginx target emulates ingress-nginx; use --target local (Traefik's rendering on a Go data plane), k3s, cluster or endpoint\n");
  });
});

describe("RunOptions.controller", () => {
  it("is on record in the evidence as target.controller (default ingress-nginx)", async () => {
    const reportDir = tempDir("controller-evidence-");
    const outcome = await runConformance({ target: "nginx", only: "MTLS-GUIDE-001", reportDir, command: "controller-option test", log: () => undefined });
    const evidence = JSON.parse(readFileSync(outcome.evidencePath, "utf8"));
    expect(evidence.target.controller).toBe("ingress-nginx");
    expect(evidence.target.kind).toBe("nginx");
  });

  it("an unknown name is a ConfigError", async () => {
    const reportDir = tempDir("controller-bad-");
    const error = await runConformance({ target: "nginx", reportDir, command: "t", controller: "kong" as never, log: () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('unknown controller "kong": choose one of ingress-nginx, traefik, nginx-gateway-fabric, haproxy-ingress, f5-nginx-ingress');
  });

  it("--controller traefik makes the catalogue's checks expect Traefik's row for the pinned version, unless --profile says otherwise", async () => {
    const reportDir = tempDir("controller-profile-");
    const base = { target: "cluster", reportDir, command: "t", controller: "traefik" as const, targetOptions: { kubeconfig: kubeconfigFile() } };
    const plan = await planRun({ ...base, only: "MTLS-CLIENT-010" });
    expect(plan.successor?.profile.name).toBe("traefik");
    expect(plan.successor?.row.versions).toBe(">=3.7.2");
    expect((await planRun({ ...base, profile: "ingress-nginx" })).successor?.profile.name).toBe("ingress-nginx");
    expect((await planRun({ ...base, controller: "ingress-nginx" })).successor).toBeUndefined();
  });
});
