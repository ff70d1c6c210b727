// Target `local` with `--controller f5-nginx-ingress`: the run's Ingresses translated to what a
// migrating user writes for F5 NGINX Ingress Controller v5.5.4 (an ingressMTLS Policy, the
// nginx.org/policies annotation, an nginx.org/ca Secret: translate.ts) and rendered as the
// controller renders them (render.ts), on the system's nginx, every host on one https and one http
// port as F5 serves them on 443 and 80, in front of the echo backend. It observes nginx doing what
// F5 configures; F5's controller is not running (its validation is emulated where it decides).
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { startEchoServer, type StartedEchoServer } from "../../../fixtures/echo-server.ts";
import type { Manifests } from "../../manifests/manifests.ts";
import { findNginx, NGINX_INSTALL_HINT, nginxVersions } from "../ingress-nginx/nginx-target.ts";
import type { DeployInput, StartedTarget, Target, TargetAvailability } from "../../targets/target.ts";
import { startLocalDataPlane } from "../local-started.ts";
import { portTaker } from "../../support/net.ts";
import { cleanupNginxTarget, nginxRenderingAvailability, saveNginxDiagnostics, spawnNginx, type NginxProcess } from "../nginx-process.ts";
import { F5_RELEASE, F5_SSL_PORT, F5_WORKER_PROCESSES, renderF5Config, type F5Rendered } from "./render.ts";

const DESCRIPTION =
  "the run's Ingresses translated for F5 NGINX Ingress Controller v5.5.4 (an ingressMTLS Policy per Ingress with auth-tls, nginx.org/policies, nginx.org/ca Secrets) and rendered as the controller renders them, on the system's nginx on loopback; this is not the F5 NGINX Ingress Controller itself";

export class F5LocalTarget implements Target {
  readonly kind = "local" as const;

  check(): Promise<TargetAvailability> {
    return nginxRenderingAvailability("F5 NGINX Ingress Controller's rendering");
  }

  async start(input: DeployInput): Promise<StartedTarget> {
    if (!input.manifests) throw new Error("the local target deploys objects: none were given");
    const deployed = input.manifests;
    const bin = findNginx();
    if (!bin) throw new Error(NGINX_INSTALL_HINT);
    const listenAddress = "127.0.0.1";
    const prefix = await mkdtemp(join(input.workDir, "f5-"));
    const diagnosticsDir = join(input.reportDir, input.instance ? `f5-nginx-ingress-${input.instance}` : "f5-nginx-ingress");
    const confPath = join(prefix, "nginx.conf");
    const errorLog = join(prefix, "logs", "error.log");
    const port = portTaker(listenAddress);
    // One pair for every host (F5 listens on 443 and 80 and tells hosts apart by server_name).
    const ports = { https: await port(), http: await port() };
    const controlPort = await port();
    let echo: StartedEchoServer | undefined;
    let nginx: NginxProcess | undefined;
    let rendered: F5Rendered | undefined;
    let generation = 1;

    const save = (): Promise<string[]> => saveNginxDiagnostics(prefix, diagnosticsDir, rendered ? { name: "f5-objects.yaml", content: rendered.translation } : undefined);
    const cleanup = cleanupNginxTarget({ nginx: () => nginx, echo: () => echo }, prefix, save);
    const write = async (manifests: Manifests): Promise<void> => {
      rendered = renderF5Config({ ingresses: manifests.ingresses, secrets: manifests.secrets, ingressClass: input.ingressClass, prefix, listenAddress, ports, backend: `${echo!.host}:${echo!.port}`, generation, controlPort });
      for (const f of rendered.files) {
        await mkdir(dirname(f.path), { recursive: true });
        await writeFile(f.path, f.content, { mode: f.mode });
      }
      await writeFile(confPath, rendered.config);
    };
    const logNotes = () => {
      for (const n of rendered!.notes) input.log(`  f5-nginx-ingress: ${n}`);
      for (const p of rendered!.problems) input.log(`  f5-nginx-ingress: translation: ${p}`);
    };
    return startLocalDataPlane({ cleanup, collectDiagnostics: save, up: async () => {
      echo = await startEchoServer(listenAddress);
      // html/ is empty, as F5 serves no file: a path no location serves is answered 404.
      await Promise.all(["logs", "secrets", "tmp", "html"].map((d) => mkdir(join(prefix, d), { recursive: true })));
      await write(deployed);
      nginx = spawnNginx({ bin, prefix, confPath, errorLog, controlAddress: listenAddress, controlPort, workers: F5_WORKER_PROCESSES, what: "F5 NGINX Ingress Controller's rendering" });
      await nginx.started(generation);
      input.log(`  f5-nginx-ingress: the objects applied instead of the auth-tls annotations (Policies, nginx.org/ca Secrets, annotated Ingresses) go to ${join(diagnosticsDir, "f5-objects.yaml")}`);
      logNotes();
      const endpoint = { https: { address: listenAddress, port: ports.https }, http: { address: listenAddress, port: ports.http } };
      const details: Record<string, unknown> = {
        controller: "f5-nginx-ingress",
        emulation: `the Ingresses translated to F5 objects (ingressMTLS Policy in the CA Secret's namespace, nginx.org/policies, nginx.org/ca Secret; helpers/controllers/f5-nginx-ingress/translate.ts) and rendered as ${F5_RELEASE} renders them with its defaults: every host on one https and one http port by server_name, the spec.tls certificate or ssl_reject_handshake, the ingressMTLS stanza (ssl_client_certificate, ssl_crl, ssl_verify_client, ssl_verify_depth) on TLS hosts only, return 500 for a missing or invalid Policy or CA Secret and for an Ingress without spec.tls, the ssl-redirect 301 to https://$host:${F5_SSL_PORT} (the literal port F5 renders, not this target's https port), no ssl-client-* header, the default server's ssl_reject_handshake and 404`,
        ports: { https: ports.https, http: ports.http },
        hosts: rendered!.hosts,
        notes: rendered!.notes,
        translationNotes: rendered!.translationNotes,
        backend: "every Service is served by the echo backend",
      };
      return {
        kind: "local",
        description: DESCRIPTION,
        versions: { emulatedController: F5_RELEASE, nginx: (await nginxVersions(bin)).nginx },
        details,
        endpointFor: () => endpoint.https,
        httpEndpointFor: () => endpoint.http,
        update: async (changed) => {
          generation++;
          await write(changed);
          await nginx!.reload(generation);
          logNotes();
          details.hosts = rendered!.hosts;
          details.notes = rendered!.notes;
          details.translationNotes = rendered!.translationNotes;
        },
      };
    } });
  }
}
