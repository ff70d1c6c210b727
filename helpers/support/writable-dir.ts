// A directory the run will write to (--report-dir, --keys-dir), checked before anything starts:
// a path that cannot be used is a configuration error then, not a stack trace at the end.
// Nothing is created: a run refused for another reason leaves no empty directory behind.
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { ConfigError } from "./errors.ts";

export async function checkWritableDir(path: string, flag: string): Promise<void> {
  // The path itself if it exists, else the nearest ancestor that does: that is where mkdir -p starts.
  let existing = path;
  for (;;) {
    const st = await stat(existing).catch((error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? undefined : error));
    if (st instanceof Error) throw new ConfigError(`${flag} ${path}: cannot be used (${(st as NodeJS.ErrnoException).code ?? st.message})`);
    if (st) {
      if (!st.isDirectory()) throw new ConfigError(`${flag} ${path}: ${existing === path ? "exists and is not a directory" : `${existing} is not a directory`}`);
      break;
    }
    if (dirname(existing) === existing) break;
    existing = dirname(existing);
  }
  try {
    await access(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw new ConfigError(`${flag} ${path}: ${existing} is not writable`);
  }
}
