// Running an emulated controller's nginx on loopback: in the foreground (the target holds the
// master's PID), started once its control server answers the rendered generation, reloaded with
// SIGHUP until the old workers are retired and the new generation answers, stopped with SIGQUIT.
// Used by the renderings that run on nginx (NGINX Gateway Fabric, F5 NGINX Ingress).
import { spawn, type ChildProcess } from "node:child_process";
import { httpNumber } from "../support/net.ts";
import { stopProcess } from "../support/stop-process.ts";
import { childPids, retireOldWorkers } from "./ingress-nginx/nginx-workers.ts";

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
