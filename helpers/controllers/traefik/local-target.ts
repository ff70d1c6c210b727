// Target `local` with `--controller traefik`: Traefik's kubernetesIngressNGINX provider rendered
// from the run's Ingresses (dynamic-config.ts) and served on loopback by the project's Go data
// plane (data-plane/main.go) on Go's crypto/tls, in front of the echo backend. It observes what
// the TLS stack Traefik terminates on does with Traefik's configuration; Traefik's own code is not
// running, and Debian's Go (1.19) is older than Traefik's (1.26): reports say both.
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startEchoServer, type StartedEchoServer } from "../../../fixtures/echo-server.ts";
import { onCleanup } from "../../support/cleanup.ts";
import { findGo } from "../../support/ensure-tools.ts";
import { portTaker } from "../../support/net.ts";
import { stopProcess } from "../../support/stop-process.ts";
import type { Manifests } from "../../manifests/manifests.ts";
import type { DeployInput, HarnessFault, StartedTarget, Target, TargetAvailability } from "../../targets/target.ts";
import { buildDataPlane, goVersion } from "./go-build.ts";
import { RENDER_SOURCES, renderTraefikConfig, TRAEFIK_RELEASE, type TraefikDynamicConfig } from "./dynamic-config.ts";

export const TRAEFIK_GO_VERSION = "go1.26 (traefik/traefik@v3.7.9:.go-version)";

const DESCRIPTION =
  "Traefik's kubernetesIngressNGINX provider (v3.7.9) rendered from the run's Ingress and Secret objects, served on loopback by the project's Go data plane on Go's crypto/tls; " +
  "this is not Traefik itself";

/** The rendering as saved in the report: private keys replaced by what they were. */
export function redactedConfig(config: TraefikDynamicConfig): TraefikDynamicConfig {
  return { ...config, tls: { ...config.tls, certificates: config.tls.certificates.map((c) => ({ certFile: c.certFile, keyFile: "<private key: not in reports>" })) } };
}

export class TraefikLocalTarget implements Target {
  readonly kind = "local" as const;

  async check(): Promise<TargetAvailability> {
    const go = findGo();
    if (!go) return { available: false, reason: "go was not found; the local Traefik data plane is built with it (Debian: apt-get install -y golang-go, or set GO_BIN)" };
    return { available: true, reason: `Traefik's provider rendered for a Go data plane built with ${await goVersion(go)}` };
  }

  async start(input: DeployInput): Promise<StartedTarget> {
    if (!input.manifests) throw new Error("the local target deploys objects: none were given");
    const listenAddress = "127.0.0.1";
    const dir = await mkdtemp(join(input.workDir, "traefik-"));
    const configPath = join(dir, "dynamic.json");
    const diagnosticsDir = join(input.reportDir, input.instance ? `traefik-${input.instance}` : "traefik");
    let echo: StartedEchoServer | undefined;
    let child: ChildProcess | undefined;
    let output = "";
    let generation = 1;
    let rendered = renderTraefikConfig({ ingresses: input.manifests.ingresses, secrets: input.manifests.secrets, ingressClass: input.ingressClass, backendUrl: "http://127.0.0.1:1", generation });

    const cleanup = onCleanup(
      async () => {
        if (child) await stopProcess(child, 2000);
        if (echo) await echo.stop();
        await rm(dir, { recursive: true, force: true });
      },
      () => {
        if (child?.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
      },
    );
    const waitFor = (pattern: RegExp, timeoutMs: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const tick = (): void => {
          if (pattern.test(output)) return resolve();
          if (child && (child.exitCode !== null || child.signalCode !== null)) return reject(new Error(`the Traefik data plane exited (${child.exitCode ?? child.signalCode}): ${output.trim().split("\n").slice(-5).join(" | ")}`));
          if (Date.now() - started > timeoutMs) return reject(new Error(`the Traefik data plane did not say ${pattern} within ${timeoutMs} ms: ${output.trim().split("\n").slice(-5).join(" | ")}`));
          setTimeout(tick, 5);
        };
        tick();
      });

    try {
      const [built, startedEcho] = await Promise.all([buildDataPlane((go) => input.log(`building the Traefik data plane with ${go} (first use on this machine, about a minute; cached after)`)), startEchoServer(listenAddress)]);
      echo = startedEcho;
      const backendUrl = `http://${echo.host}:${echo.port}`;
      const write = async (manifests: Manifests): Promise<void> => {
        rendered = renderTraefikConfig({ ingresses: manifests.ingresses, secrets: manifests.secrets, ingressClass: input.ingressClass, backendUrl, generation });
        await writeFile(configPath, JSON.stringify(rendered.config), { mode: 0o600 });
      };
      await write(input.manifests);
      for (const line of rendered.skipped) input.log(`  traefik: ${line}`);
      let httpsPort = 0;
      let httpPort = 0;
      // Two ports never the same (the kernel can hand out one twice in a row: a duplicate listen).
      const port = portTaker(listenAddress);
      for (let attempt = 1; attempt <= 3 && !child; attempt++) {
        httpsPort = await port();
        httpPort = await port();
        output = "";
        const proc = spawn(built.binary, ["-config", configPath, "-https", `${listenAddress}:${httpsPort}`, "-http", `${listenAddress}:${httpPort}`], { stdio: ["ignore", "pipe", "pipe"] });
        proc.stdout!.on("data", (d: Buffer) => (output += d.toString()));
        proc.stderr!.on("data", (d: Buffer) => (output += d.toString()));
        child = proc;
        try {
          await waitFor(/^loaded generation 1$/m, 5000);
        } catch (error) {
          child = undefined;
          await stopProcess(proc, 500);
          if (!/address already in use/.test(output) || attempt === 3) throw error;
        }
      }

      let previousSkipped = new Set(rendered.skipped);
      const started: StartedTarget = {
        kind: "local",
        description: DESCRIPTION,
        versions: { emulatedController: `${TRAEFIK_RELEASE} kubernetesIngressNGINX provider`, go: built.goVersion, traefikBuiltWith: TRAEFIK_GO_VERSION },
        details: {
          controller: "traefik",
          emulation: "the provider's routers, TLS options (one per Ingress with auth-tls-secret), pass-certificate middleware and ssl-redirect; Traefik's TLS-option conflict rule, snicheck (421) and certificate selection; Go crypto/tls does the client authentication",
          sources: RENDER_SOURCES,
          dataPlane: { binary: built.binary, sourceSha256: built.sourceSha256, builtNow: built.built },
          goVersionNote: `the alerts Go ${built.goVersion} sends differ from Traefik's Go 1.26 (a missing certificate: bad_certificate(42) before Go 1.21, certificate_required(116) since); checks assert where the rejection happens, not the alert code`,
          listen: `${listenAddress}:${httpsPort}`,
          listenHttp: `${listenAddress}:${httpPort}`,
          backend: "every Service is served by the echo backend",
          skipped: rendered.skipped,
        },
        endpointFor: () => ({ address: listenAddress, port: httpsPort }),
        httpEndpointFor: () => ({ address: listenAddress, port: httpPort }),
        // Traefik applies a change when its provider's informers see it; here the data plane reloads
        // on SIGHUP and says which generation serves.
        update: async (changed) => {
          generation++;
          await write(changed);
          for (const line of rendered.skipped) if (!previousSkipped.has(line)) input.log(`  traefik: ${line}`);
          previousSkipped = new Set(rendered.skipped);
          child!.kill("SIGHUP");
          await waitFor(new RegExp(`^loaded generation ${generation}$`, "m"), 10_000);
        },
        settleMs: 0,
        health: async (): Promise<HarnessFault[]> =>
          output
            .split("\n")
            .filter((l) => /^(panic:|fatal:|fatal error:)/.test(l))
            .map((message) => ({ source: "the Traefik data plane's output", message })),
        collectDiagnostics: async () => {
          await mkdir(diagnosticsDir, { recursive: true });
          const files = [join(diagnosticsDir, "dynamic.json"), join(diagnosticsDir, "data-plane.log")];
          await writeFile(files[0]!, JSON.stringify(redactedConfig(rendered.config), null, 2));
          await writeFile(files[1]!, output);
          return files;
        },
        stop: async () => {
          await started.collectDiagnostics().catch(() => []);
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

