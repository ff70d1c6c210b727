// Makes sure the system tools the run needs are there (nginx; for the project's tests also
// openssl, curl, xmllint, chromium and certutil; go for --target local --controller traefik, haproxy for haproxy-ingress). On Debian as root it installs what is missing with apt-get, saying so;
// otherwise it prints the command to run and exits 2. MTLS_NO_INSTALL=1 never installs.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { findNginx } from "../controllers/ingress-nginx/nginx-target.ts";

interface Tool {
  name: string;
  debianPackage: string;
  present: () => boolean;
}

const onPath = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

const TOOLS: Record<string, Tool> = {
  nginx: { name: "nginx", debianPackage: "nginx-light", present: () => findNginx() !== undefined },
  openssl: { name: "openssl", debianPackage: "openssl", present: () => onPath("openssl") },
  curl: { name: "curl", debianPackage: "curl", present: () => onPath("curl") },
  xmllint: { name: "xmllint", debianPackage: "libxml2-utils", present: () => onPath("xmllint") },
  chromium: { name: "chromium", debianPackage: "chromium", present: () => existsSync("/usr/bin/chromium") },
  // certutil and pk12util: the browser check's NSS database (--browser, helpers/browser/).
  certutil: { name: "certutil", debianPackage: "libnss3-tools", present: () => onPath("certutil") && onPath("pk12util") },
  // Go builds the local Traefik data plane (helpers/controllers/traefik/data-plane), standard library only.
  go: { name: "go", debianPackage: "golang-go", present: () => findGo() !== undefined },
  // HAProxy (with Lua) serves HAProxy Ingress's rendering (helpers/controllers/haproxy-ingress).
  haproxy: { name: "haproxy", debianPackage: "haproxy", present: () => findHaproxy() !== undefined },
};

/** HAPROXY_BIN, else \`haproxy\` on PATH, else Debian's /usr/sbin/haproxy. */
export function findHaproxy(): string | undefined {
  if (process.env.HAPROXY_BIN) return existsSync(process.env.HAPROXY_BIN) ? process.env.HAPROXY_BIN : undefined;
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin"]) {
    if (dir && existsSync(join(dir, "haproxy"))) return join(dir, "haproxy");
  }
  return undefined;
}

/** GO_BIN, else \`go\` on PATH, else Debian's /usr/lib/go/bin/go. */
export function findGo(): string | undefined {
  if (process.env.GO_BIN) return existsSync(process.env.GO_BIN) ? process.env.GO_BIN : undefined;
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/lib/go/bin", "/usr/local/go/bin"]) {
    if (dir && existsSync(join(dir, "go"))) return join(dir, "go");
  }
  return undefined;
}

export function missingTools(names: string[]): Tool[] {
  return names.map((n) => TOOLS[n]!).filter((t) => !t.present());
}

/** Root on a Debian-like system, and not told otherwise: installing with apt-get is possible. */
export function canInstallPackages(): boolean {
  return process.getuid?.() === 0 && existsSync("/usr/bin/apt-get") && process.env.MTLS_NO_INSTALL !== "1";
}

export function ensureTools(names: string[]): number {
  const missing = missingTools(names);
  if (missing.length === 0) return 0;
  const packages = missing.map((t) => t.debianPackage);
  const command = `apt-get update && apt-get install -y ${packages.join(" ")}`;
  if (!canInstallPackages()) {
    process.stderr.write(`missing: ${missing.map((t) => t.name).join(", ")}. Install with (as root): ${command}\n`);
    return 2;
  }
  process.stderr.write(`missing: ${missing.map((t) => t.name).join(", ")}; installing ${packages.join(" ")} with apt-get (MTLS_NO_INSTALL=1 prevents this)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], { stdio: "inherit", env });
  const still = missingTools(names);
  if (still.length) {
    process.stderr.write(`still missing after apt-get: ${still.map((t) => t.name).join(", ")}\n`);
    return 2;
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = ensureTools(process.argv.slice(2).length ? process.argv.slice(2) : ["nginx"]);
}
