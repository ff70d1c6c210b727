// The local Traefik data plane is a Go program of this project (data-plane/main.go, standard
// library only). It is built with the machine's Go at first use and kept in the user's cache,
// named by the hash of its source and of the Go version, so an edited source or another Go
// builds anew and a second run starts at once.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { findGo } from "../../support/ensure-tools.ts";

const run = promisify(execFile);

export const DATA_PLANE_SOURCE = new URL("./data-plane/main.go", import.meta.url).pathname;

/** $XDG_CACHE_HOME/mtls-conformance, else ~/.cache/mtls-conformance (MTLS_CACHE_DIR overrides). */
export function cacheDir(): string {
  if (process.env.MTLS_CACHE_DIR) return process.env.MTLS_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "mtls-conformance");
}

export interface BuiltDataPlane {
  binary: string;
  /** `go version` of the toolchain that built it, e.g. "go1.19.8". */
  goVersion: string;
  sourceSha256: string;
  /** True when this call compiled it (false: from the cache). */
  built: boolean;
}

export async function goVersion(go: string): Promise<string> {
  const { stdout } = await run(go, ["version"]);
  return /go version (go\S+)/.exec(stdout)?.[1] ?? stdout.trim();
}

// One build at a time per process: concurrent starts share it.
let building: Promise<BuiltDataPlane> | undefined;

/** `onCompile` is told when a build starts (not on a cache hit): the first one takes about a minute. */
export function buildDataPlane(onCompile?: (goVersion: string) => void): Promise<BuiltDataPlane> {
  building ??= build(onCompile).finally(() => (building = undefined));
  return building;
}

async function build(onCompile?: (goVersion: string) => void): Promise<BuiltDataPlane> {
  const go = findGo();
  if (!go) throw new Error("go was not found: the local Traefik data plane is built with Go (Debian: apt-get install -y golang-go, or set GO_BIN)");
  const [source, version] = await Promise.all([readFile(DATA_PLANE_SOURCE), goVersion(go)]);
  const sourceSha256 = createHash("sha256").update(source).digest("hex");
  const tag = createHash("sha256").update(sourceSha256).update(version).digest("hex").slice(0, 16);
  const dir = join(cacheDir(), "traefik-data-plane");
  const binary = join(dir, `traefik-data-plane-${tag}`);
  if (existsSync(binary)) return { binary, goVersion: version, sourceSha256, built: false };
  await mkdir(dir, { recursive: true });
  onCompile?.(version);
  const partial = `${binary}.${process.pid}.partial`;
  // GOPATH mode on one file: no go.mod, no module download, nothing but the standard library.
  // GOCACHE beside the binary, so a HOME that is not writable does not stop the build.
  const env = { ...process.env, GO111MODULE: "off", GOFLAGS: "", GOTOOLCHAIN: "local", CGO_ENABLED: "0", GOCACHE: process.env.GOCACHE ?? join(cacheDir(), "go-build"), GOPATH: process.env.GOPATH ?? join(cacheDir(), "gopath") };
  try {
    await run(go, ["build", "-trimpath", "-o", partial, DATA_PLANE_SOURCE], { env, maxBuffer: 16 * 1024 * 1024 });
    await rename(partial, binary);
  } catch (error) {
    await rm(partial, { force: true });
    const e = error as Error & { stderr?: string };
    throw new Error(`building the Traefik data plane with ${go} (${version}) failed: ${(e.stderr || e.message).trim()}`);
  }
  return { binary, goVersion: version, sourceSha256, built: true };
}
