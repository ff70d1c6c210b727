// Engine detection as testcontainers does it, checked against the docker CLI where an engine runs.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { containerEngine, engineCandidates } from "./engine.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

const dockerVersion = (() => {
  try {
    return execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
})();

describe("engineCandidates: the places testcontainers' strategies look at", () => {
  it("DOCKER_HOST, ~/.testcontainers.properties, and the sockets that exist, in its order", () => {
    const home = tempDir("home-");
    const root = tempDir("root-");
    expect(engineCandidates({}, home, root)).toEqual([]);
    writeFileSync(join(home, ".testcontainers.properties"), "docker.host=tcp://127.0.0.1:2375\n");
    mkdirSync(join(home, ".docker", "run"), { recursive: true });
    writeFileSync(join(home, ".docker", "run", "docker.sock"), "");
    mkdirSync(join(root, "var", "run"), { recursive: true });
    writeFileSync(join(root, "var", "run", "docker.sock"), "");
    expect(engineCandidates({ DOCKER_HOST: "tcp://127.0.0.1:2375" }, home, root)).toEqual([
      "DOCKER_HOST=tcp://127.0.0.1:2375",
      join(home, ".testcontainers.properties"),
      join(root, "var", "run", "docker.sock"),
      join(home, ".docker", "run", "docker.sock"),
    ]);
  });
});

describe("containerEngine", () => {
  it("nowhere to look: no, and why", async () => {
    expect(await containerEngine(1000, [])).toEqual({ answers: false, detail: "no DOCKER_HOST, ~/.testcontainers.properties or Docker socket" });
  });

  it("a socket where nothing answers: no, naming where it looked", async () => {
    const dead = join(tempDir("dead-"), "docker.sock");
    writeFileSync(dead, "");
    const status = await containerEngine(5000, [dead]);
    // testcontainers looks at its own list; what answers there decides. Where no engine runs at all, it is no.
    if (dockerVersion) expect(status.answers).toBe(true);
    else expect(status).toMatchObject({ answers: false, detail: expect.stringContaining(dead) });
  });

  it.skipIf(!dockerVersion)("where Docker runs: yes, with the version the docker CLI reports", async () => {
    const status = await containerEngine();
    expect(status.answers).toBe(true);
    expect(status.detail).toContain(`Docker ${dockerVersion}`);
  });
});
