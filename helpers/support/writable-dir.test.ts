import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "./errors.ts";
import { checkWritableDir } from "./writable-dir.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

describe("checkWritableDir", () => {
  const base = tempDir("writable-");
  const file = join(base, "a-file");
  writeFileSync(file, "x");

  it("accepts an existing directory, and one that mkdir -p can make, without making it", async () => {
    await checkWritableDir(base, "--report-dir");
    await checkWritableDir(join(base, "new", "deeper"), "--report-dir");
    expect(existsSync(join(base, "new"))).toBe(false);
  });

  it("refuses a file, or a path through a file, as a configuration error naming the flag", async () => {
    await expect(checkWritableDir(file, "--report-dir")).rejects.toThrow(new ConfigError(`--report-dir ${file}: exists and is not a directory`));
    await expect(checkWritableDir(join(file, "sub"), "--keys-dir")).rejects.toThrow(new ConfigError(`--keys-dir ${join(file, "sub")}: cannot be used (ENOTDIR)`));
  });
});
