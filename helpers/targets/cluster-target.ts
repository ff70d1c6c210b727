// Target `cluster`: an existing cluster from a kubeconfig (kind, minikube as in the guide, a shared
// staging cluster). Installs nothing cluster-wide unless asked, works in its own namespace,
// deletes only what it created.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { resolveControllerManifest } from "./controller-manifest.ts";
import { onCleanup } from "../support/cleanup.ts";
import { ConfigError } from "../support/errors.ts";
import { DEFAULT_TIMEOUTS, Kube, loadKubeConfig, saveDiagnostics, type Timeouts } from "./kube.ts";
import type { DeployInput, Endpoint, StartedTarget, Target, TargetAvailability } from "./target.ts";
import { waitForHostCertificates } from "./tls-readiness.ts";

export interface ClusterTargetOptions {
  kubeconfig?: string;
  context?: string;
  installController?: boolean;
  controllerVersion?: string;
  controllerManifest?: string;
  /** HOST:PORT where the controller's HTTPS listener is reached, when its Service publishes none. */
  ingressAddress?: string;
  timeouts?: Partial<Timeouts>;
}

/** `HOST:PORT`, `[v6]:PORT`; anything else is a configuration error. */
export function parseIngressAddress(value: string): Endpoint {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) throw new ConfigError(`--ingress-address "${value}" is not HOST:PORT`);
  return { address: (m[1] ?? m[2])!, port };
}


export class ClusterTarget implements Target {
  readonly kind = "cluster" as const;
  readonly defaultNamespace = "mtls-conformance";
  private readonly options: ClusterTargetOptions;

  constructor(options: ClusterTargetOptions) {
    this.options = options;
  }

  /** Everything checkable without touching the cluster: kubeconfig readable, context known, address well-formed. */
  validate(): void {
    const file = this.options.kubeconfig;
    if (file && !existsSync(file)) throw new ConfigError(`--kubeconfig ${file}: no such file`);
    try {
      loadKubeConfig({ file, context: this.options.context });
    } catch (error) {
      throw new ConfigError(`cannot use the kubeconfig${file ? ` ${file}` : ""}: ${(error as Error).message}`);
    }
    if (this.options.ingressAddress) parseIngressAddress(this.options.ingressAddress);
  }

  async check(): Promise<TargetAvailability> {
    try {
      this.validate();
      return { available: true, reason: `kubeconfig ${this.options.kubeconfig ?? "(default)"}${this.options.context ? `, context ${this.options.context}` : ""}` };
    } catch (error) {
      return { available: false, reason: (error as Error).message };
    }
  }

  async start(input: DeployInput): Promise<StartedTarget> {
    this.validate();
    const timeouts = { ...DEFAULT_TIMEOUTS, ...this.options.timeouts };
    const kube = new Kube(loadKubeConfig({ file: this.options.kubeconfig, context: this.options.context }));
    const kubernetes = await kube.serverVersion();
    const manifests = input.manifests;
    if (!manifests) throw new Error("the cluster target deploys objects: none were given");
    const outDir = join(input.reportDir, "cluster");
    await mkdir(outDir, { recursive: true });
    const hosts = [...new Set(manifests.ingresses.flatMap((i) => (i.spec?.rules ?? []).map((r) => r.host!)))];

    let controllerManifest: { version: string; sha256: string; source: string } | undefined;
    if (this.options.installController) {
      const manifest = await resolveControllerManifest({ version: this.options.controllerVersion, file: this.options.controllerManifest, log: input.log });
      await kube.installController(manifest.objects);
      controllerManifest = { version: manifest.version, sha256: manifest.sha256, source: manifest.source };
    }
    await kube.waitControllerReady(this.options.installController ? timeouts.controllerReadyMs : 10_000).catch((error: Error) => {
      throw new Error(`${error.message}. Is ingress-nginx installed in namespace ingress-nginx? Pass --install-controller to install it.`);
    });

    // Every namespace the run creates is removed afterwards; one it did not create is refused.
    const removeNamespace = onCleanup(async () => {
      for (const ns of manifests.namespaces) await kube.deleteNamespace(ns);
    });
    const collectDiagnostics = (): Promise<string[]> => saveDiagnostics(kube, { manifests, log: input.log }, hosts, outDir);

    try {
      const denied = await kube.deployAll(manifests, timeouts);
      for (const d of denied) input.log(`admission webhook denied Ingress ${d.ingress}: ${d.message}`);
      const endpoint = this.options.ingressAddress ? parseIngressAddress(this.options.ingressAddress) : await kube.controllerAddress();
      if (!endpoint) {
        throw new Error("the ingress-nginx-controller Service publishes no load-balancer address; pass --ingress-address HOST:PORT");
      }
      // Only hosts with a tls: section are served with the run's certificate; the others keep the fake one.
      await waitForHostCertificates(() => endpoint, manifests.hostCertificates, undefined, timeouts.certificatesMs, input.log);
      const images = await kube.controllerImages();
      return {
        kind: "cluster",
        description: "the ingress-nginx controller of an existing cluster",
        versions: { kubernetes, controller: controllerImageVersion(images.map((i) => i.image)) },
        details: { context: this.options.context ?? null, namespaces: manifests.namespaces, endpoint: `${endpoint.address}:${endpoint.port}`, controllerImages: images,
          admissionDenials: denied, controllerManifest: controllerManifest ?? null },
        endpointFor: () => endpoint,
        // The controller applies changes on its next sync: scenarios get a minute to see them.
        update: async (manifests) => {
          for (const d of await kube!.deploy(manifests, timeouts)) input.log(`admission webhook denied the update of Ingress ${d.ingress}: ${d.message}`);
        },
        settleMs: 60_000,
        // The load balancer's port 80; unknown when the address was given by hand.
        httpEndpointFor: () => (this.options.ingressAddress ? undefined : { address: endpoint.address, port: 80 }),
        collectDiagnostics,
        stop: () => removeNamespace(),
      };
    } catch (error) {
      const saved = await collectDiagnostics().catch(() => []);
      await removeNamespace();
      throw Object.assign(error as Error, { diagnostics: saved });
    }
  }
}

/** `registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:…` → `v1.15.1`. */
export function controllerImageVersion(images: string[]): string {
  const controller = images.find((i) => /\/controller(:|@)/.test(i));
  return /:(v[\d.]+[^@]*)/.exec(controller ?? "")?.[1] ?? "unknown";
}
