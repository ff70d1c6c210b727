// Target `nginx`: the system nginx binary on loopback, configured with the directives
// ingress-nginx renders for the run's Ingress objects, in front of the echo backend.
// It proves the data plane's behaviour, not the controller's: reports say so.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { webcrypto } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { existsSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { startEchoServer, type StartedEchoServer } from "../../../fixtures/echo-server.ts";
import { onCleanup } from "../../support/cleanup.ts";
import { httpNumber, portTaker } from "../../support/net.ts";
import { stopProcess as stopChild } from "../../support/stop-process.ts";
import { applyToStore } from "../../model/store.ts";
import { faultsInErrorLog } from "./nginx-health.ts";
import { nofileHardLimit, renderNginxConfig, WORKER_PROCESSES, type RenderedServer } from "./nginx-render.ts";
import { childPids, retireOldWorkers } from "./nginx-workers.ts";
import type { DeployInput, StartedTarget, Target, TargetAvailability } from "../../targets/target.ts";

const run = promisify(execFile);

export const NGINX_INSTALL_HINT =
  "nginx was not found. Install it (Debian/Ubuntu: `apt-get install -y nginx-light`) or set NGINX_BIN to the nginx binary.";

/** The controller release whose behaviour the emulation follows (kubernetes/ingress-nginx@controller-v1.15.1). */
export const EMULATED_CONTROLLER = "ingress-nginx controller-v1.15.1";

const DESCRIPTION =
  "nginx data plane on loopback with ingress-nginx's auth-tls rendering emulated from the run's Ingress and Secret objects; " +
  "this is not the ingress-nginx controller";

/** NGINX_BIN, else `nginx` on PATH, else the Debian location (/usr/sbin is not on every PATH). */
export function findNginx(): string | undefined {
  if (process.env.NGINX_BIN) return existsSync(process.env.NGINX_BIN) ? process.env.NGINX_BIN : undefined;
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"]) {
    if (dir && existsSync(join(dir, "nginx"))) return join(dir, "nginx");
  }
  return undefined;
}

export interface NginxVersions {
  nginx: string;
  opensslBuilt?: string;
  opensslRunning?: string;
}

export async function nginxVersions(bin: string): Promise<NginxVersions> {
  // nginx prints its version to stderr.
  const { stderr } = await run(bin, ["-V"]);
  const version = /nginx version: nginx\/(\S+)/.exec(stderr)?.[1] ?? "unknown";
  const built = /built with (OpenSSL [^\s]+)/.exec(stderr)?.[1];
  const running = /running with (OpenSSL [^\s)]+)/.exec(stderr)?.[1];
  return { nginx: version, opensslBuilt: built, opensslRunning: running ?? built };
}

/** The controller serves a self-signed "Fake Certificate" for names no Ingress claims. */
async function fakeCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=Kubernetes Ingress Controller Fake Certificate, O=Acme Co",
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 365 * 86_400_000),
    keys,
    signingAlgorithm: alg,
  });
  const key = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { certPem: cert.toString("pem"), keyPem: x509.PemConverter.encode(key, "PRIVATE KEY") };
}

function waitForPort(host: string, port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`nginx exited (${child.exitCode ?? child.signalCode}) before listening on ${host}:${port}`));
        return;
      }
      const socket = connect({ host, port });
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nginx did not listen on ${host}:${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 10);
      });
    };
    attempt();
  });
}

/** The configuration generation the running workers serve (see renderNginxConfig). */
const currentGeneration = (address: string, port: number): Promise<number> => httpNumber(address, port, "/__mtls-generation", "generation.invalid");

/** nginx's graceful shutdown: workers finish their requests (SIGQUIT). */
const stopProcess = (child: ChildProcess, graceMs: number): Promise<void> => stopChild(child, graceMs, "SIGQUIT");

export interface NginxTargetOptions {
  bin?: string;
  listenAddress?: string;
  /** Bound on the wait for nginx to listen. */
  startTimeoutMs?: number;
  /** For tests only: worker_connections, to make the data plane run short (default the controller's 16384). */
  workerConnections?: number;
}

export class NginxTarget implements Target {
  readonly kind = "nginx" as const;
  private readonly options: NginxTargetOptions;

  constructor(options: NginxTargetOptions = {}) {
    this.options = options;
  }

  async check(): Promise<TargetAvailability> {
    const bin = this.options.bin ?? findNginx();
    if (!bin) return { available: false, reason: NGINX_INSTALL_HINT };
    try {
      const v = await nginxVersions(bin);
      return { available: true, reason: `nginx ${v.nginx} found at ${bin}` };
    } catch (error) {
      return { available: false, reason: `${bin} -V failed: ${(error as Error).message}` };
    }
  }

  async start(input: DeployInput): Promise<StartedTarget> {
    const bin = this.options.bin ?? findNginx();
    if (!bin) throw new Error(NGINX_INSTALL_HINT);
    const listenAddress = this.options.listenAddress ?? "127.0.0.1";
    if (!listenAddress.startsWith("127.")) throw new Error(`the nginx target listens on loopback only, not ${listenAddress}`);

    const prefix = await mkdtemp(join(input.workDir, "nginx-"));
    let echo: StartedEchoServer | undefined;
    let child: ChildProcess | undefined;
    let servers: RenderedServer[] = [];
    let skipped: string[] = [];
    let httpsPort = 0;
    let httpPort = 0;
    let stopped = false;
    const diagnosticsDir = join(input.reportDir, input.instance ? `nginx-${input.instance}` : "nginx");

    const saveFiles = async (): Promise<string[]> => {
      await mkdir(diagnosticsDir, { recursive: true });
      const saved: string[] = [];
      for (const name of ["nginx.conf", "logs/error.log", "logs/access.log"]) {
        const from = join(prefix, name);
        if (!existsSync(from)) continue;
        const to = join(diagnosticsDir, name.replace("logs/", ""));
        await copyFile(from, to);
        saved.push(to);
      }
      return saved;
    };

    const cleanup = onCleanup(
      async () => {
        stopped = true;
        if (child) await stopProcess(child, 3000);
        if (echo) await echo.stop();
        await saveFiles().catch(() => []);
        await rm(prefix, { recursive: true, force: true });
      },
      () => {
        // On a hurried exit: nginx's fast shutdown, and no files left behind.
        if (child?.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        rmSync(prefix, { recursive: true, force: true });
      },
    );

    try {
      const [versions, defaultCertificate, startedEcho, nofileHard] = await Promise.all([
        nginxVersions(bin),
        fakeCertificate(),
        startEchoServer(listenAddress),
        nofileHardLimit(),
      ]);
      echo = startedEcho;
      await Promise.all(["logs", "ssl", "tmp"].map((d) => mkdir(join(prefix, d), { recursive: true })));

      // A port can be taken between choosing and binding it: retry with another one.
      let lastError: Error | undefined;
      const confPath = join(prefix, "nginx.conf");
      let generation = 1;
      const writeConfig = async (manifests: NonNullable<DeployInput["manifests"]>): Promise<void> => {
        const rendered = renderNginxConfig({
          ingresses: manifests.ingresses,
          secrets: manifests.secrets,
          prefix,
          listenAddress,
          httpsPort,
          httpPort,
          generation,
          mutation: input.mutation,
          ingressClass: input.ingressClass,
          backendFor: () => `${echo!.host}:${echo!.port}`,
          defaultCertificate,
          nofileHardLimit: nofileHard,
          workerConnections: this.options.workerConnections,
        });
        servers = rendered.servers;
        skipped = rendered.skipped;
        for (const f of rendered.files) await writeFile(f.path, f.content, { mode: f.mode });
        await writeFile(confPath, rendered.config);
      };
      // Two ports never the same (the kernel can hand out one twice in a row: a duplicate listen).
      const port = portTaker(listenAddress);
      for (let attempt = 1; attempt <= 3 && !child; attempt++) {
        httpsPort = await port();
        httpPort = await port();
        if (!input.manifests) throw new Error("the nginx target deploys objects: none were given");
        await writeConfig(input.manifests);
        const errorLog = join(prefix, "logs", "error.log");
        const proc = spawn(bin, ["-p", prefix, "-c", confPath, "-e", errorLog], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        proc.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
        try {
          // nginx reads every server's certificate before it listens: with a thousand Ingresses on a
          // busy machine that has taken longer than 5 s, so the bound grows with them.
          await waitForPort(listenAddress, httpsPort, proc, this.options.startTimeoutMs ?? Math.max(5000, 20 * input.manifests.ingresses.length));
          child = proc;
        } catch (error) {
          await stopProcess(proc, 1000);
          const log = existsSync(errorLog) ? await readFile(errorLog, "utf8") : "";
          lastError = new Error(`${(error as Error).message}\n${stderr}${log}`.trim());
          if (!/Address already in use/.test(stderr + log)) break;
        }
      }
      if (!child) throw lastError ?? new Error("nginx did not start");
      // What the controller's store holds, and the reloads nginx refused.
      let held = input.manifests!;
      let submitted = input.manifests!;
      const refusedReloads: string[] = [];
      // The [emerg] lines of those refusals, exactly as logged: behaviour under test, not faults.
      const refusedLines = new Set<string>();
      // Warnings are said once, not again on every update.
      const warned = new Set(servers.flatMap((s) => s.warnings));
      for (const s of servers) for (const w of s.warnings) input.log(`warning: ${s.host}: ${w}`);
      for (const line of skipped) input.log(`warning: ${line}`);

      const started: StartedTarget = {
        kind: "nginx",
        description: DESCRIPTION,
        versions: {
          emulatedController: EMULATED_CONTROLLER,
          nginx: versions.nginx,
          ...(versions.opensslRunning ? { openssl: versions.opensslRunning } : {}),
          ...(versions.opensslBuilt ? { opensslBuiltWith: versions.opensslBuilt } : {}),
        },
        details: {
          emulation: "ingress-nginx auth-tls rendering (server: ssl_client_certificate, ssl_verify_client, ssl_verify_depth, ssl_crl, error_page 495 496, match-cn; location: ssl-client-* headers), the port-80 redirect of its Lua, its admission and store rules for updates",
          follows: `${EMULATED_CONTROLLER} (its auth-tls code, nginx.tmpl and lua_ingress.lua are identical in controller-v1.13.9 and v1.14.5); the controller bundles nginx 1.27.1, this target runs the system's`,
          nginxBinary: bin,
          listen: `${listenAddress}:${httpsPort}`,
          listenHttp: `${listenAddress}:${httpPort}`,
          backend: "every Service is served by the echo backend (the guide's httpd demo-app is replaced by it)",
          servers: servers.map((s) => ({ host: s.host, ingress: s.ingress, authTls: s.authTls, warnings: s.warnings })),
          refusedReloads,
        },
        // One listener for every name, as the controller's: a host no Ingress claims gets the default server.
        endpointFor: () => ({ address: listenAddress, port: httpsPort }),
        update: async (changed) => {
          // The controller's store first: refused Ingress updates and unusable Secret updates do not
          // replace what it holds (controller-store.ts).
          const applied = input.mutation?.name === "updates-applied-blindly" ? { manifests: changed, notes: [] } : applyToStore(held, changed, submitted);
          held = applied.manifests;
          submitted = changed;
          for (const note of applied.notes) input.log(`  controller: ${note}`);
          // Then a reload, which nginx refuses for a configuration it cannot load (a negative
          // verify-depth): the controller's reload fails and the previous configuration keeps
          // serving until one loads (nginx.go:703). nginx's master does the same on SIGHUP: it
          // logs an [emerg] and keeps its workers, so either the new generation answers or the
          // error log says why, whichever comes first.
          const errorLog = join(prefix, "logs", "error.log");
          const logSize = (await stat(errorLog).catch(() => ({ size: 0 }))).size;
          const previousConfig = await readFile(confPath, "utf8");
          generation++;
          await writeConfig(held);
          for (const s of servers) for (const w of s.warnings) if (!warned.has(w)) input.log(`warning: ${s.host}: ${w}`);
          // Every child before the reload, titled or not: a worker forked by an earlier reload may
          // still carry the master's title and must not pass for a new one.
          const oldWorkers = await childPids(child!.pid!);
          child!.kill("SIGHUP");
          const deadline = Date.now() + 10_000;
          for (;;) {
            // The master parses the configuration before it starts workers: new workers mean it
            // loaded; the old ones are told to quit at once (retireOldWorkers). The reload is the
            // same; a lifecycle stage just does not wait out the master's sleep.
            const loaded = oldWorkers ? await retireOldWorkers(child!.pid!, oldWorkers, WORKER_PROCESSES) : false;
            // Only new workers accept now (or, without /proc, whichever answers): the generation confirms it.
            const seen = !oldWorkers || loaded ? await currentGeneration(listenAddress, httpPort).catch(() => 0) : 0;
            if (seen === generation) return;
            const logged = (await readFile(errorLog, "utf8").catch(() => "")).slice(logSize);
            const emerg = logged.split("\n").filter((l) => /\[emerg\]/.test(l));
            if (emerg.length) {
              for (const l of emerg) refusedLines.add(l);
              // The file on disk (and in the report) stays the configuration that is serving.
              await writeFile(confPath, previousConfig);
              generation--;
              const why = emerg.map((l) => l.replace(/^.*\[emerg\] \d+#\d+: /, "")).join(" | ");
              refusedReloads.push(why);
              input.log(`  controller: the reload fails (${why}); the previous configuration keeps serving and no further change applies until one loads`);
              return;
            }
            if (Date.now() > deadline) throw new Error(`nginx did not load the updated configuration (generation ${generation}, serving ${seen}) and logged no reason`);
            await new Promise((r) => setTimeout(r, oldWorkers ? 5 : 20));
          }
        },
        settleMs: 0,
        httpEndpointFor: () => ({ address: listenAddress, port: httpPort }),
        health: async () => {
          // After stop() the log is only in the report directory.
          const text = await readFile(join(prefix, "logs", "error.log"), "utf8").catch(() => readFile(join(diagnosticsDir, "error.log"), "utf8"));
          return faultsInErrorLog(text, { expected: refusedLines, source: "nginx error.log" });
        },
        collectDiagnostics: () => saveFiles(),
        stop: async () => {
          if (!stopped) await cleanup();
        },
      };
      return started;
    } catch (error) {
      await cleanup();
      throw error;
    }
  }
}
