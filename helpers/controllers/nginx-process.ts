// Running an emulated controller's nginx on loopback: in the foreground (the target holds the
// master's PID), started once its control server answers the rendered generation, reloaded with
// SIGHUP until the old workers are retired and the new generation answers, stopped with SIGQUIT.
// Used by the renderings that run on nginx (NGINX Gateway Fabric, F5 NGINX Ingress).
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { onCleanup } from "../support/cleanup.ts";
import { httpNumber } from "../support/net.ts";
import { stopProcess } from "../support/stop-process.ts";
import { childPids, retireOldWorkers } from "./ingress-nginx/nginx-workers.ts";
import { findNginx, NGINX_INSTALL_HINT, nginxVersions } from "./ingress-nginx/nginx-target.ts";
import type { TargetAvailability } from "../targets/target.ts";

/** A successor's rendering on the system's nginx can run when nginx is there: `what` names the rendering. */
export async function nginxRenderingAvailability(what: string): Promise<TargetAvailability> {
  const bin = findNginx();
  if (!bin) return { available: false, reason: NGINX_INSTALL_HINT };
  return { available: true, reason: `${what} on nginx ${(await nginxVersions(bin)).nginx} (${bin})` };
}

export interface NginxProcessOptions {
  bin: string;
  prefix: string;
  confPath: string;
  errorLog: string;
  /** Where the configuration's control server answers `/generation`. */
  controlAddress: string;
  controlPort: number;
  /** worker_processes of the configuration: a reload is done once this many new workers accept. */
  workers: number;
  /** For errors: "NGINX Gateway Fabric's rendering". */
  what: string;
}

export interface NginxProcess {
  readonly child: ChildProcess;
  /** Resolves once nginx answers `generation`; throws if it exits or does not within `timeoutMs`. */
  started(generation: number, timeoutMs?: number): Promise<void>;
  /** SIGHUP, then waits until the old workers are gone and `generation` answers. */
  reload(generation: number, timeoutMs?: number): Promise<void>;
  /** Graceful stop (SIGQUIT, SIGKILL after 3 s). */
  stop(): Promise<void>;
  /** Synchronous last resort for process exit. */
  kill(): void;
}

export function spawnNginx(options: NginxProcessOptions): NginxProcess {
  const child = spawn(options.bin, ["-p", options.prefix, "-c", options.confPath, "-e", options.errorLog], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const generationNow = () => httpNumber(options.controlAddress, options.controlPort, "/generation").catch(() => 0);
  const pause = () => new Promise((r) => setTimeout(r, 20));
  return {
    child,
    async started(generation, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while ((await generationNow()) !== generation) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start with ${options.what}: ${stderr.trim()}`);
        await pause();
      }
    },
    async reload(generation, timeoutMs = 10_000) {
      const old = await childPids(child.pid!);
      child.kill("SIGHUP");
      const until = Date.now() + timeoutMs;
      for (;;) {
        // Every worker of the new generation accepts, the old ones no longer (retireOldWorkers).
        const loaded = old ? await retireOldWorkers(child.pid!, old, options.workers) : true;
        if (loaded && (await generationNow()) === generation) return;
        if (Date.now() > until) throw new Error(`nginx did not load generation ${generation} within ${timeoutMs / 1000} s`);
        await pause();
      }
    },
    stop: () => stopProcess(child, 3000, "SIGQUIT"),
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    },
  };
}

/**
 * The report's copy of a rendering run on nginx: nginx.conf, error.log, and what the rendering was
 * made from (the translation it kept); returns the files written.
 */
export async function saveNginxDiagnostics(prefix: string, diagnosticsDir: string, translation?: { name: string; content: string }): Promise<string[]> {
  await mkdir(diagnosticsDir, { recursive: true });
  const out: string[] = [];
  for (const name of ["nginx.conf", "logs/error.log"]) {
    const to = join(diagnosticsDir, name.replace("logs/", ""));
    await copyFile(join(prefix, name), to).then(() => out.push(to), () => undefined);
  }
  if (translation) {
    const to = join(diagnosticsDir, translation.name);
    await writeFile(to, translation.content);
    out.push(to);
  }
  return out;
}

/** The main context and the http block's first lines: everything under `prefix`, in the foreground. */
export function nginxPreamble(o: { release: string; generation: number; prefix: string; workers: number; errorLevel: string; workerConnections: number; mainLines?: string[] }): string {
  return `# ${o.release} rendering (generation ${o.generation})
# In the foreground: the target holds the master's PID (reloads, stop).
daemon off;
${(o.mainLines ?? []).map((l) => `${l}\n`).join("")}worker_processes ${o.workers};
pid ${o.prefix}/nginx.pid;
error_log ${o.prefix}/logs/error.log ${o.errorLevel};
events { worker_connections ${o.workerConnections}; }
http {
    access_log ${o.prefix}/logs/access.log;
    client_body_temp_path ${o.prefix}/tmp/body;
    proxy_temp_path ${o.prefix}/tmp/proxy;
    fastcgi_temp_path ${o.prefix}/tmp/fastcgi;
    uwsgi_temp_path ${o.prefix}/tmp/uwsgi;
    scgi_temp_path ${o.prefix}/tmp/scgi;`;
}

/**
 * What a local nginx target registers for cleanup: nginx stopped, the echo backend stopped, the
 * diagnostics saved, the prefix removed; on a hard exit nginx killed and the prefix removed.
 */
export function cleanupNginxTarget(state: { nginx(): NginxProcess | undefined; echo(): { stop(): Promise<void> } | undefined }, prefix: string, save: () => Promise<string[]>): () => Promise<void> {
  return onCleanup(
    async () => {
      await state.nginx()?.stop();
      await state.echo()?.stop();
      await save().catch(() => []);
      await rm(prefix, { recursive: true, force: true });
    },
    () => {
      state.nginx()?.kill();
      rmSync(prefix, { recursive: true, force: true });
    },
  );
}
