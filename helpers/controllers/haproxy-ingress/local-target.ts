// Target `local` with `--controller haproxy-ingress`: the run's Ingresses rendered as HAProxy
// Ingress v0.15.4 renders them (render.ts), served by the system's HAProxy 2.6 (v0.15.4 embeds the
// 2.6 branch) in front of the echo backend. It observes HAProxy doing what HAProxy Ingress
// configures; the controller itself is not running (its reading of the annotations is emulated).
// HAProxy runs in master-worker mode (-W): SIGUSR2 reloads the configuration, the old worker stops
// listening and leaves once its connections are done (hard-stop-after bounds it).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startEchoServer, type StartedEchoServer } from "../../../fixtures/echo-server.ts";
import { onCleanup } from "../../support/cleanup.ts";
import { findHaproxy } from "../../support/ensure-tools.ts";
import { httpNumber, portTaker } from "../../support/net.ts";
import { stopProcess } from "../../support/stop-process.ts";
import type { Manifests } from "../../manifests/manifests.ts";
import type { DeployInput, StartedTarget, Target, TargetAvailability } from "../../targets/target.ts";
import { startLocalDataPlane } from "../local-started.ts";
import { childPids } from "../ingress-nginx/nginx-workers.ts";
import { HAPROXY_INGRESS_RELEASE, renderHaproxyIngress, type HaproxyRendered } from "./render.ts";

const DESCRIPTION =
  "the run's Ingresses rendered as HAProxy Ingress v0.15.4 renders them (with --annotations-prefix including nginx.ingress.kubernetes.io), on the system's HAProxy on loopback; this is not HAProxy Ingress itself";
export const HAPROXY_INSTALL_HINT = "haproxy was not found; HAProxy Ingress's data plane is HAProxy (Debian: apt-get install -y haproxy, or set HAPROXY_BIN)";

export function haproxyVersion(bin: string): string {
  return /HAProxy version (\S+)/.exec(execFileSync(bin, ["-v"], { encoding: "utf8" }))?.[1] ?? "unknown";
}

/** The controller's self-generated default certificate and fake CA (controller/services/ssl.go:228-261). */
function fakeCredentials(dir: string): { certificate: string; ca: string } {
  const make = (file: string, subject: string, san?: string) => {
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "365", "-subj", subject, ...(san ? ["-addext", san] : []), "-keyout", `${file}.key`, "-out", `${file}.crt`], { stdio: "ignore" });
    execFileSync("sh", ["-c", `cat "${file}.crt" "${file}.key" > "${file}.pem" && rm "${file}.key"`]);
    return `${file}.pem`;
  };
  return {
    certificate: make(join(dir, "_fake-default"), "/O=Acme Co/CN=Kubernetes Ingress Controller Fake Certificate", "subjectAltName=DNS:localhost,DNS:ingress.local"),
    ca: make(join(dir, "ca__fake-default"), "/CN=Fake CA"),
  };
}

export class HaproxyIngressLocalTarget implements Target {
  readonly kind = "local" as const;

  async check(): Promise<TargetAvailability> {
    const bin = findHaproxy();
    if (!bin) return { available: false, reason: HAPROXY_INSTALL_HINT };
    return { available: true, reason: `HAProxy Ingress's rendering on HAProxy ${haproxyVersion(bin)} (${bin})` };
  }

  async start(input: DeployInput): Promise<StartedTarget> {
    if (!input.manifests) throw new Error("the local target deploys objects: none were given");
    const deployed = input.manifests;
    const bin = findHaproxy();
    if (!bin) throw new Error(HAPROXY_INSTALL_HINT);
    const listenAddress = "127.0.0.1";
    const prefix = await mkdtemp(join(input.workDir, "haproxy-ingress-"));
    const diagnosticsDir = join(input.reportDir, input.instance ? `haproxy-ingress-${input.instance}` : "haproxy-ingress");
    const confPath = join(prefix, "haproxy.cfg");
    let echo: StartedEchoServer | undefined;
    let child: ChildProcess | undefined;
    let output = "";
    let rendered: HaproxyRendered | undefined;
    let generation = 1;
    const port = portTaker(listenAddress);
    const https = await port();
    const http = await port();
    const controlPort = await port();

    const save = async (): Promise<string[]> => {
      await mkdir(diagnosticsDir, { recursive: true });
      const out: string[] = [];
      for (const f of [confPath, join(prefix, "maps", "_front_bind_crt.list")]) {
        const to = join(diagnosticsDir, f.split("/").pop()!);
        await copyFile(f, to).then(() => out.push(to), () => undefined);
      }
      const log = join(diagnosticsDir, "haproxy.log");
      await writeFile(log, output);
      out.push(log);
      return out;
    };
    const cleanup = onCleanup(
      async () => {
        if (child) await stopProcess(child, 3000, "SIGUSR1");
        if (echo) await echo.stop();
        await save().catch(() => []);
        await rm(prefix, { recursive: true, force: true });
      },
      () => {
        if (child?.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        rmSync(prefix, { recursive: true, force: true });
      },
    );
    return startLocalDataPlane({ cleanup, collectDiagnostics: save, up: async () => {
      echo = await startEchoServer(listenAddress);
      await Promise.all(["maps", "ssl", "lua", "fake"].map((d) => mkdir(join(prefix, d), { recursive: true })));
      const fake = fakeCredentials(join(prefix, "fake"));
      const write = async (manifests: Manifests): Promise<void> => {
        rendered = renderHaproxyIngress({ ingresses: manifests.ingresses, secrets: manifests.secrets, ingressClass: input.ingressClass, prefix, listenAddress, https, http, controlPort, backend: `${echo!.host}:${echo!.port}`, generation, fakeCertificate: fake.certificate, fakeCa: fake.ca });
        for (const f of rendered.files) await writeFile(f.path, f.content, { mode: f.mode });
        await writeFile(confPath, rendered.config);
      };
      await write(deployed);
      child = spawn(bin, ["-W", "-db", "-f", confPath], { stdio: ["ignore", "pipe", "pipe"] });
      child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
      const waitGeneration = async (timeoutMs: number, old?: number[]) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const gone = !old || !((await childPids(child!.pid!)) ?? []).some((p) => old.includes(p));
          if (gone && (await httpNumber(listenAddress, controlPort, "/generation").catch(() => 0)) === generation) return;
          if (child!.exitCode !== null) throw new Error(`haproxy exited (${child!.exitCode}): ${output.trim().split("\n").slice(-8).join(" | ")}`);
          if (Date.now() > deadline) throw new Error(`haproxy did not serve generation ${generation} within ${timeoutMs} ms: ${output.trim().split("\n").slice(-8).join(" | ")}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await waitGeneration(10_000);
      for (const note of rendered!.notes) input.log(`  haproxy-ingress: ${note}`);
      return {
        kind: "local",
        description: DESCRIPTION,
        versions: { emulatedController: HAPROXY_INGRESS_RELEASE, haproxy: haproxyVersion(bin) },
        details: {
          controller: "haproxy-ingress",
          emulation:
            "HAProxy Ingress v0.15.4's reading of the auth-tls annotations per host (oldest Ingress first, first value wins per key; the fake CA for an unusable secret with auth-tls-strict) and its haproxy.cfg: crt-list with ca-file/verify optional/crl-file per host, the bind's ca-ignore-err all crt-ignore-err all, the 303/421/496/421/495 rules, X-SSL-Client-* headers, ssl-redirect 302, lua.send-404",
          ports: { https, http },
          hosts: rendered!.hosts,
          notes: rendered!.notes,
          backend: "every Service is served by the echo backend",
        },
        endpointFor: () => ({ address: listenAddress, port: https }),
        httpEndpointFor: () => ({ address: listenAddress, port: http }),
        update: async (changed) => {
          generation++;
          await write(changed);
          const old = await childPids(child!.pid!);
          child!.kill("SIGUSR2");
          await waitGeneration(15_000, old);
        },
      };
    } });
  }
}
