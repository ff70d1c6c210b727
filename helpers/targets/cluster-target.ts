// Target `cluster`: an existing cluster from a kubeconfig (kind, minikube as in the guide, a shared
// staging cluster). Installs nothing cluster-wide unless asked, works in its own namespace,
// deletes only what it created.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { resolveControllerManifest } from "./controller-manifest.ts";
import { manifestInstall, refuseForeignController } from "./controller-install-guard.ts";
import { imageTagVersion } from "./controller-version.ts";
import { DEFAULT_INGRESS_CLASS } from "../model/hosts.ts";
import { onCleanup } from "../support/cleanup.ts";
import { ConfigError } from "../support/errors.ts";
import { DEFAULT_TIMEOUTS, Kube, loadKubeConfig, saveDiagnostics, type ControllerLocation, type Timeouts } from "./kube.ts";
import type { DeployInput, Endpoint, StartedTarget, Target, TargetAvailability } from "./target.ts";
import { waitForHostCertificates } from "./tls-readiness.ts";
import { applyChanges } from "./kube-update.ts";
import type { ControllerName } from "./controllers.ts";
import { INGRESS_NGINX_CONTROLLER_CLASS, TRAEFIK_LOCATION } from "./traefik-controller.ts";

export interface ClusterTargetOptions {
  kubeconfig?: string;
  context?: string;
  installController?: boolean;
  /**
   * What serves the Ingresses there. `traefik`: Traefik's kubernetesIngressNGINX provider, found
   * where k3s runs it (kube-system, unless --controller-namespace etc. say otherwise); nothing is
   * installed or verified as ingress-nginx.
   */
  controller?: ControllerName;
  controllerVersion?: string;
  controllerManifest?: string;
  /** HOST:PORT where the controller's HTTPS listener is reached, when its Service publishes none. */
  ingressAddress?: string;
  /** Namespace the controller runs in (default ingress-nginx). */
  controllerNamespace?: string;
  /** Label selector of the controller's pods (default: the release manifest's). */
  controllerSelector?: string;
  /** The controller's Service, whose load-balancer address is probed (default ingress-nginx-controller). */
  controllerService?: string;
  /** The IngressClass the controller serves (default nginx; DeployInput.ingressClass wins). */
  ingressClass?: string;
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
    if (this.traefik && this.options.installController) {
      throw new ConfigError("--install-controller installs ingress-nginx; with --controller traefik the run tests the Traefik already in the cluster: omit --install-controller");
    }
  }

  private get traefik(): boolean {
    return this.options.controller === "traefik";
  }

  async check(): Promise<TargetAvailability> {
    try {
      this.validate();
      return { available: true, reason: `kubeconfig ${this.options.kubeconfig ?? "(default)"}${this.options.context ? `, context ${this.options.context}` : ""}` };
    } catch (error) {
      return { available: false, reason: (error as Error).message };
    }
  }

  /** Where the controller under test runs, as the options say (defaults: the release manifest's; Traefik's in k3s). */
  controllerLocation(): Partial<ControllerLocation> {
    const defaults: Partial<ControllerLocation> = this.traefik ? TRAEFIK_LOCATION : {};
    return { namespace: this.options.controllerNamespace ?? defaults.namespace, selector: this.options.controllerSelector ?? defaults.selector, service: this.options.controllerService ?? defaults.service };
  }

  async start(input: DeployInput): Promise<StartedTarget> {
    this.validate();
    const timeouts = { ...DEFAULT_TIMEOUTS, ...this.options.timeouts };
    const kube = new Kube(loadKubeConfig({ file: this.options.kubeconfig, context: this.options.context }), this.controllerLocation());
    const kubernetes = await kube.serverVersion();
    const manifests = input.manifests;
    if (!manifests) throw new Error("the cluster target deploys objects: none were given");
    const outDir = join(input.reportDir, "cluster");
    await mkdir(outDir, { recursive: true });
    const hosts = [...new Set(manifests.ingresses.flatMap((i) => (i.spec?.rules ?? []).map((r) => r.host!)))];

    let controllerManifest: { version: string; sha256: string; source: string } | undefined;
    if (this.options.installController) {
      const manifest = await resolveControllerManifest({ version: this.options.controllerVersion, file: this.options.controllerManifest, log: input.log });
      const installsInto = manifestInstall(manifest.objects, manifest.version)?.namespace;
      if (installsInto && installsInto !== kube.controller.namespace) {
        throw new ConfigError(`--controller-namespace ${kube.controller.namespace}: the manifest installs the controller into namespace ${installsInto}`);
      }
      // Another ingress-nginx (a Helm release, another version) is refused before anything is applied.
      await refuseForeignController(kube, manifest);
      await kube.installController(manifest.objects);
      controllerManifest = { version: manifest.version, sha256: manifest.sha256, source: manifest.source };
    }
    // A controller already installed is Ready now or is not where the options say: no long wait.
    await kube.waitControllerReady(this.options.installController ? timeouts.controllerReadyMs : Math.min(10_000, timeouts.controllerReadyMs), this.traefik ? "the Traefik pod" : undefined).catch((error: Error) => {
      throw new Error(this.options.installController ? error.message : `${error.message}. ${this.traefik ? traefikNotFoundHint(kube.controller) : notFoundHint(kube.controller)}`);
    });
    const ingressClass = input.ingressClass ?? this.options.ingressClass ?? DEFAULT_INGRESS_CLASS;
    if ((await kube.missingIngressClasses([ingressClass])).length) {
      const traefikHint = this.traefik ? ` Traefik's kubernetesIngressNGINX provider serves IngressClasses whose controller is ${INGRESS_NGINX_CONTROLLER_CLASS}: keep (or create) one, as Traefik's migration guide says.` : "";
      throw new Error(`IngressClass ${ingressClass} does not exist in this cluster, so no controller serves the run's Ingresses. Pass --ingress-class with the class your controller serves.${traefikHint}`);
    }

    // Every namespace the run creates is removed afterwards, and waited for: the next group or
    // version reuses the name. One it did not create is refused, and never deleted.
    const removeNamespace = onCleanup(async () => {
      const deletions = await Promise.all(
        manifests.namespaces.map((ns) => kube.deleteNamespace(ns, timeouts.namespaceGoneMs).catch((error: Error) => ({ namespace: ns, gone: false, lastSeen: error.message }))),
      );
      for (const d of deletions) if (!d.gone) input.log(`namespace ${d.namespace} is not gone: ${d.lastSeen}`);
    });
    const collectDiagnostics = (): Promise<string[]> => saveDiagnostics(kube, { manifests, log: input.log }, hosts, outDir);

    try {
      const denied = await kube.deployAll(manifests, timeouts);
      let applied = manifests;
      for (const d of denied) input.log(`admission webhook denied Ingress ${d.ingress}: ${d.message}`);
      const endpoint = await this.endpoint(kube, timeouts);
      // Only hosts with a tls: section are served with the run's certificate; the others keep the fake one.
      await waitForHostCertificates(() => endpoint, manifests.hostCertificates, undefined, timeouts.certificatesMs, input.log);
      const images = await kube.controllerImages();
      const controller = await kube.controllerVersion();
      return {
        kind: "cluster",
        description: this.traefik ? "Traefik's ingress-nginx provider (kubernetesIngressNGINX) in an existing cluster" : "the ingress-nginx controller of an existing cluster",
        versions: { kubernetes, controller: this.traefik ? `traefik ${controller.version}` : controller.version },
        details: { controller: this.options.controller ?? "ingress-nginx", context: this.options.context ?? null, namespaces: manifests.namespaces, endpoint: `${endpoint.address}:${endpoint.port}`, controllerImages: images,
          controllerVersionFrom: controller.from ?? null, controllerLocation: kube.controller, ingressClass,
          admissionDenials: denied, controllerManifest: controllerManifest ?? null },
        endpointFor: () => endpoint,
        // Only what a stage changes is sent, and what it drops deleted (kube-update.ts). The
        // controller applies it on its next sync: scenarios get a minute to see it.
        update: async (next) => {
          const { denied: refused } = await applyChanges(kube, applied, next, timeouts);
          applied = next;
          for (const d of refused) input.log(`admission webhook denied the update of Ingress ${d.ingress}: ${d.message}`);
        },
        settleMs: 60_000,
        // Every changed Ingress may wait for the webhook (timeouts.webhookMs), then a minute more.
        updateTimeoutMs: timeouts.webhookMs + 60_000,
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

  /**
   * --ingress-address, else the Service's load-balancer address: waited for when the run has just
   * installed the controller (a cloud load balancer takes a minute), read once otherwise.
   */
  private async endpoint(kube: Kube, timeouts: Timeouts): Promise<Endpoint> {
    if (this.options.ingressAddress) return parseIngressAddress(this.options.ingressAddress);
    const { namespace, service } = kube.controller;
    const hint = "; pass --ingress-address HOST:PORT (or --controller-service NAME for another Service)";
    if (this.options.installController) {
      return kube.waitControllerLoadBalancer(timeouts.loadBalancerMs).catch((error: Error) => Promise.reject(new Error(`${error.message}${hint}`)));
    }
    const endpoint = await kube.controllerAddress();
    if (!endpoint) throw new Error(`Service ${namespace}/${service} publishes no load-balancer address${hint}`);
    return endpoint;
  }
}

/** What to do when no controller pod is found where the options say it runs. */
function notFoundHint(controller: ControllerLocation): string {
  return (
    `Is ingress-nginx installed in namespace ${controller.namespace} (pods labelled ${controller.selector})? ` +
    "Pass --controller-namespace NAME (and --controller-selector LABELS) where it runs, or --install-controller to install it."
  );
}

/** What to do when no Traefik pod is found where the options say it runs. */
function traefikNotFoundHint(controller: ControllerLocation): string {
  return (
    `Is Traefik running in namespace ${controller.namespace} (pods labelled ${controller.selector}; kube-system is where k3s runs it)? ` +
    "Pass --controller-namespace NAME (and --controller-selector LABELS, --controller-service NAME) where it runs."
  );
}

/** `registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:…` → `v1.15.1`. */
export function controllerImageVersion(images: string[]): string {
  const controller = images.find((i) => /\/controller(:|@)/.test(i));
  return imageTagVersion(controller) ?? "unknown";
}
