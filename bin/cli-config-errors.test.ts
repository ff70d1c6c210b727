// The k3s and cluster targets' configuration errors through the CLI as users run it: exit 2 and
// one clear message before anything starts, and no report directory made.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../helpers/testing/cli.ts";
import { tempDirs } from "../helpers/testing/temp-dirs.ts";

const tempDir = tempDirs();

describe("mtls-conformance", () => {
  describe("k3s and cluster configuration errors exit 2 before anything starts", () => {
    const kubeconfig = join(tempDir("kubeconfig-"), "config");
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
      const dir = join(tempDir("cli-cfg-"), "never");
      const r = await cli(["run", "--target", "k3s", "--report-dir", dir], { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/no container engine answers.*--target nginx/);
    });
    for (const [name, args, env, message] of cases) {
      it(name, async () => {
        const dir = join(tempDir("cli-cfg-"), "never");
        const r = await cli(["run", ...args, "--report-dir", dir], env);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(existsSync(dir)).toBe(false);
      });
    }
  });
});
