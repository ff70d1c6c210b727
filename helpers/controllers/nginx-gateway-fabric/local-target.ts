// Target `local` with `--controller nginx-gateway-fabric`: the run's Ingresses translated to
// Gateway API and rendered as NGINX Gateway Fabric v2.6.7 renders those Gateways (render.ts), on the
// system's nginx, each Gateway on ports of its own, in front of the echo backend. It observes
// nginx doing what NGF configures; NGF's controller is not running (its graph validation is
// emulated where it decides: an invalid CA reference leaves the listener unprogrammed).
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startEchoServer, type StartedEchoServer } from "../../../fixtures/echo-server.ts";
import { onCleanup } from "../../support/cleanup.ts";
import { freePort, httpNumber } from "../../support/net.ts";
import { stopProcess } from "../../support/stop-process.ts";
import type { Manifests } from "../../manifests/manifests.ts";
import { findNginx, NGINX_INSTALL_HINT, nginxVersions } from "../ingress-nginx/nginx-target.ts";
import { childPids, retireOldWorkers } from "../ingress-nginx/nginx-workers.ts";
import type { DeployInput, StartedTarget, Target, TargetAvailability } from "../../targets/target.ts";
import { NGF_RELEASE, NGF_WORKER_PROCESSES, renderNgfConfig, type NgfRendered } from "./render.ts";

const DESCRIPTION =
  "the run's Ingresses translated to Gateway API (a Gateway per host with client auth, spec.tls.frontend) and rendered as NGINX Gateway Fabric v2.6.7 renders them, on the system's nginx on loopback; this is not NGINX Gateway Fabric itself";

const generationAt = (address: string, port: number): Promise<number> => httpNumber(address, port, "/generation");

export class NgfLocalTarget implements Target {
  readonly kind = "local" as const;

  async check(): Promise<TargetAvailability> {
    const bin = findNginx();
    if (!bin) return { available: false, reason: NGINX_INSTALL_HINT };
    return { available: true, reason: `NGINX Gateway Fabric's rendering on nginx ${(await nginxVersions(bin)).nginx} (${bin})` };
  }

  async start(input: DeployInput): Promise<StartedTarget> {
    if (!input.manifests) throw new Error("the local target deploys objects: none were given");
    const bin = findNginx();
    if (!bin) throw new Error(NGINX_INSTALL_HINT);
    const listenAddress = "127.0.0.1";
    const prefix = await mkdtemp(join(input.workDir, "ngf-"));
    const diagnosticsDir = join(input.reportDir, input.instance ? `nginx-gateway-fabric-${input.instance}` : "nginx-gateway-fabric");
    let echo: StartedEchoServer | undefined;
    let child: ChildProcess | undefined;
    let rendered: NgfRendered | undefined;
    let generation = 1;
    // A port pair per host, kept for the whole run: the probes' endpoints are fixed when the suites start.
    const portPairs = new Map<string, { https: number; http: number }>();
    // freePort reserves nothing: the kernel can hand out the same port twice in a row, so every port is taken once.
    const taken = new Set<number>();
    const port = async (): Promise<number> => {
      for (;;) {
        const p = await freePort(listenAddress);
        if (!taken.has(p)) {
          taken.add(p);
          return p;
        }
      }
    };
    const pair = async () => ({ https: await port(), http: await port() });
    const unserved = await pair();
    const controlPort = await port();
    const ports = async (manifests: Manifests) => {
      for (const ing of manifests.ingresses) for (const r of ing.spec?.rules ?? []) if (r.host && !portPairs.has(r.host)) portPairs.set(r.host, await pair());
    };

    const confPath = join(prefix, "nginx.conf");
    const save = async (): Promise<string[]> => {
      await mkdir(diagnosticsDir, { recursive: true });
      const out: string[] = [];
      for (const name of ["nginx.conf", "logs/error.log"]) {
        const to = join(diagnosticsDir, name.replace("logs/", ""));
        await copyFile(join(prefix, name), to).then(() => out.push(to), () => undefined);
      }
      if (rendered) {
        const to = join(diagnosticsDir, "gateway-api.yaml");
        await writeFile(to, rendered.translation);
        out.push(to);
      }
      return out;
    };
    const cleanup = onCleanup(
      async () => {
        if (child) await stopProcess(child, 3000, "SIGQUIT");
        if (echo) await echo.stop();
        await save().catch(() => []);
        await rm(prefix, { recursive: true, force: true });
      },
      () => {
        if (child?.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        rmSync(prefix, { recursive: true, force: true });
      },
    );
    const write = async (manifests: Manifests): Promise<void> => {
      await ports(manifests);
      rendered = renderNgfConfig({ ingresses: manifests.ingresses, secrets: manifests.secrets, ingressClass: input.ingressClass, prefix, listenAddress, portsFor: (h) => portPairs.get(h)!, unserved, hosts: [...portPairs.keys()], backend: `${echo!.host}:${echo!.port}`, generation, controlPort });
      for (const f of rendered.files) await writeFile(f.path, f.content, { mode: f.mode });
      await writeFile(confPath, rendered.config);
    };
    try {
      echo = await startEchoServer(listenAddress);
      await Promise.all(["logs", "ssl", "tmp"].map((d) => mkdir(join(prefix, d), { recursive: true })));
      await write(input.manifests);
      child = spawn(bin, ["-p", prefix, "-c", confPath, "-e", join(prefix, "logs", "error.log")], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      const deadline = Date.now() + 5000;
      while ((await generationAt(listenAddress, controlPort).catch(() => 0)) !== generation) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start with NGINX Gateway Fabric's rendering: ${stderr.trim()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const g of rendered!.gateways) if (g.invalid) input.log(`  nginx-gateway-fabric: ${g.name}: listener not programmed: ${g.invalid}`);
      const endpointOf = (host: string) => portPairs.get(host) ?? unserved;
      const started: StartedTarget = {
        kind: "local",
        description: DESCRIPTION,
        versions: { emulatedController: NGF_RELEASE, nginx: (await nginxVersions(bin)).nginx },
        details: {
          controller: "nginx-gateway-fabric",
          emulation: "the Gateway API translation of the Ingresses (helpers/migration/gateway-api.ts), rendered as NGF v2.6.7 renders Gateways with spec.tls.frontend: per Gateway its ports, the default server's ssl_reject_handshake, AllowValidOnly's ssl_verify_client on / depth 4 / 495 496 -> 444, AllowInsecureFallback's optional_no_ca, the 421 maps, locations per HTTPRoute match, header removals, the 301 redirect",
          gateways: rendered!.gateways,
          notTranslated: rendered!.skipped,
          backend: "every Service is served by the echo backend",
        },
        endpointFor: (host) => ({ address: listenAddress, port: endpointOf(host).https }),
        httpEndpointFor: (host) => ({ address: listenAddress, port: endpointOf(host).http }),
        update: async (changed) => {
          generation++;
          await write(changed);
          const old = await childPids(child!.pid!);
          child!.kill("SIGHUP");
          const until = Date.now() + 10_000;
          for (;;) {
            // Both workers of the new generation accept, the old ones no longer (retireOldWorkers).
            const loaded = old ? await retireOldWorkers(child!.pid!, old, NGF_WORKER_PROCESSES) : true;
            if (loaded && (await generationAt(listenAddress, controlPort).catch(() => 0)) === generation) return;
            if (Date.now() > until) throw new Error(`nginx did not load generation ${generation} within 10 s`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        settleMs: 0,
        collectDiagnostics: save,
        stop: async () => {
          await cleanup();
        },
      };
      return started;
    } catch (error) {
      await cleanup();
      throw error;
    }
  }
}
