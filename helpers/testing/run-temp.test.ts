import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { leftovers, RUN_TMP_ENV } from "./run-temp.ts";

describe("leftovers", () => {
  const saved = process.env[RUN_TMP_ENV];
  let dir = "";
  afterEach(() => {
    if (saved === undefined) delete process.env[RUN_TMP_ENV];
    else process.env[RUN_TMP_ENV] = saved;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("names what a test left, but not node's compile cache or testcontainers' shared lock files", () => {
    // A folder of its own (not the run's): the check reads whatever RUN_TMP_ENV names.
    dir = mkdtempSync(join(tmpdir(), "leftovers-"));
    process.env[RUN_TMP_ENV] = dir;
    mkdirSync(join(dir, "node-compile-cache"));
    writeFileSync(join(dir, "testcontainers-node-0.lock"), "");
    writeFileSync(join(dir, "testcontainers-node-sshd.lock"), "");
    writeFileSync(join(dir, "testcontainers-node-x.lock"), "");
    mkdirSync(join(dir, "mtls-run-abc"));
    expect(leftovers()).toEqual(["mtls-run-abc", "testcontainers-node-x.lock"]);
  });
});
