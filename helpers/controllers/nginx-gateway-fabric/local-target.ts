// Target `local` with `--controller nginx-gateway-fabric`: the run's Ingresses translated to
// Gateway API and rendered as NGINX Gateway Fabric v2.6.7 renders those Gateways (render.ts), on the
// system's nginx, each Gateway on ports of its own, in front of the echo backend. It observes
// nginx doing what NGF configures; NGF's controller is not running (its graph validation is
// emulated where it decides: an invalid CA reference leaves the listener unprogrammed).
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startEchoServer, type StartedEchoServer } from "../../../fixtures/echo-server.ts";
import type { Manifests } from "../../manifests/manifests.ts";
import { findNginx, NGINX_INSTALL_HINT, nginxVersions } from "../ingress-nginx/nginx-target.ts";
import { portTaker } from "../../support/net.ts";
import { cleanupNginxTarget, nginxRenderingAvailability, saveNginxDiagnostics, spawnNginx, type NginxProcess } from "../nginx-process.ts";
import type { DeployInput, StartedTarget, Target, TargetAvailability } from "../../targets/target.ts";
import { startLocalDataPlane } from "../local-started.ts";
import { NGF_RELEASE, NGF_WORKER_PROCESSES, renderNgfConfig, type NgfRendered } from "./render.ts";

const DESCRIPTION =
  "the run's Ingresses translated to Gateway API (a Gateway per host with client auth, spec.tls.frontend) and rendered as NGINX Gateway Fabric v2.6.7 renders them, on the system's nginx on loopback; this is not NGINX Gateway Fabric itself";

export class NgfLocalTarget implements Target {
  readonly kind = "local" as const;

  check(): Promise<TargetAvailability> {
    return nginxRenderingAvailability("NGINX Gateway Fabric's rendering");
  }

  async start(input: DeployInput): Promise<StartedTarget> {
    if (!input.manifests) throw new Error("the local target deploys objects: none were given");
    const deployed = input.manifests;
    const bin = findNginx();
    if (!bin) throw new Error(NGINX_INSTALL_HINT);
    const listenAddress = "127.0.0.1";
    const prefix = await mkdtemp(join(input.workDir, "ngf-"));
    const diagnosticsDir = join(input.reportDir, input.instance ? `nginx-gateway-fabric-${input.instance}` : "nginx-gateway-fabric");
    let echo: StartedEchoServer | undefined;
    let nginx: NginxProcess | undefined;
    let rendered: NgfRendered | undefined;
    let generation = 1;
    // A port pair per host, kept for the whole run: the probes' endpoints are fixed when the suites start.
    const portPairs = new Map<string, { https: number; http: number }>();
    const port = portTaker(listenAddress);
    const pair = async () => ({ https: await port(), http: await port() });
    const unserved = await pair();
    const controlPort = await port();
    const ports = async (manifests: Manifests) => {
      for (const ing of manifests.ingresses) for (const r of ing.spec?.rules ?? []) if (r.host && !portPairs.has(r.host)) portPairs.set(r.host, await pair());
    };

    const confPath = join(prefix, "nginx.conf");
    const save = (): Promise<string[]> => saveNginxDiagnostics(prefix, diagnosticsDir, rendered ? { name: "gateway-api.yaml", content: rendered.translation } : undefined);
    const cleanup = cleanupNginxTarget({ nginx: () => nginx, echo: () => echo }, prefix, save);
    const write = async (manifests: Manifests): Promise<void> => {
      await ports(manifests);
      rendered = renderNgfConfig({ ingresses: manifests.ingresses, secrets: manifests.secrets, ingressClass: input.ingressClass, prefix, listenAddress, portsFor: (h) => portPairs.get(h)!, unserved, hosts: [...portPairs.keys()], backend: `${echo!.host}:${echo!.port}`, generation, controlPort });
      for (const f of rendered.files) await writeFile(f.path, f.content, { mode: f.mode });
      await writeFile(confPath, rendered.config);
    };
    return startLocalDataPlane({ cleanup, collectDiagnostics: save, up: async () => {
      echo = await startEchoServer(listenAddress);
      await Promise.all(["logs", "ssl", "tmp"].map((d) => mkdir(join(prefix, d), { recursive: true })));
      await write(deployed);
      nginx = spawnNginx({ bin, prefix, confPath, errorLog: join(prefix, "logs", "error.log"), controlAddress: listenAddress, controlPort, workers: NGF_WORKER_PROCESSES, what: "NGINX Gateway Fabric's rendering" });
      await nginx.started(generation);
      for (const g of rendered!.gateways) if (g.invalid) input.log(`  nginx-gateway-fabric: ${g.name}: listener not programmed: ${g.invalid}`);
      const endpointOf = (host: string) => portPairs.get(host) ?? unserved;
      return {
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
          await nginx!.reload(generation);
        },
      };
    } });
  }
}
