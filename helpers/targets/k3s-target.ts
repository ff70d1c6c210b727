// Target `k3s`: the real ingress-nginx controller, installed from its release manifest into a
// k3s container started with @testcontainers/k3s. Needs a container engine that can pull (or has
// preloaded) the images; on machines without registry access it fails with a clear message.
import { K3sContainer, type StartedK3sContainer } from "@testcontainers/k3s";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { k3sReleaseOf, k3sSystemImages } from "./k3s-system-images.ts";
import { getContainerRuntimeClient, ImageName } from "testcontainers";
import { k3sImageFor, kubernetesSupport } from "./compatibility.ts";
import { parseRegistryMirrors, registriesYaml, registryOf } from "./registry-mirrors.ts";
import { DEFAULT_CONTROLLER_VERSION, resolveControllerManifest, type ControllerManifest } from "./controller-manifest.ts";
import { onCleanup } from "../support/cleanup.ts";
import { ECHO_IMAGE, manifestsYaml, redactedManifests } from "../manifests/manifests.ts";
import { createHash } from "node:crypto";
import { containerEngine, containerEngineAnswers } from "./engine.ts";
import { DEFAULT_TIMEOUTS, Kube, loadKubeConfig, saveDiagnostics, type Timeouts } from "./kube.ts";
import type { DeployInput, Endpoint, StartedTarget, Target, TargetAvailability } from "./target.ts";
import { waitForHostCertificates } from "./tls-readiness.ts";
import { applyChanges } from "./kube-update.ts";
import { k3sPreflight, type Problem } from "./k3s-preflight.ts";
import { confirmPreloaded, rewriteManifestImages, savePreloadImages, type HostEngine, type PreloadResult } from "./image-preload.ts";
import type { ControllerName } from "./controllers.ts";
import {
  TRAEFIK_CONFIG_PATH,
  TRAEFIK_IMAGE,
  TRAEFIK_K3S_IMAGE,
  TRAEFIK_LOCATION,
  TRAEFIK_VERSION,
  K3S_PACKAGED_TRAEFIK,
  traefikClusterImages,
  traefikConfigYaml,
  waitTraefikReady,
} from "./traefik-controller.ts";

import { DEFAULT_K3S_IMAGE } from "./defaults.ts";
// testcontainers' own choice of its reaper image (RYUK_CONTAINER_IMAGE, the hub prefix), not a
// copy of its default: the image preloaded and listed is the one it will start.
import { getReaperImage } from "testcontainers/build/reaper/reaper.js";

export { DEFAULT_K3S_IMAGE };

/** The Ryuk image testcontainers starts before any container, unless TESTCONTAINERS_RYUK_DISABLED=true. */
export const ryukImages = (): string[] => (process.env.TESTCONTAINERS_RYUK_DISABLED === "true" ? [] : [getReaperImage()]);

export interface K3sTargetOptions {
  image?: string;
  /**
   * What serves the Ingresses: ingress-nginx from its release manifest (default), or k3s's own
   * Traefik with its kubernetesIngressNGINX provider (traefik-controller.ts).
   */
  controller?: ControllerName;
  controllerVersion?: string;
  controllerManifest?: string;
  /** Copy the run's images from the host's Docker into k3s before it starts pulling. */
  preloadImages?: boolean;
  extraPreloadImages?: string[];
  /** --registry-mirror values: `URL` (every registry) or `REGISTRY=URL`. */
  registryMirrors?: string[];
  timeouts?: Partial<Timeouts>;
}

export const NO_ENGINE_MESSAGE =
  "the k3s target needs a container engine. Start Docker (or set DOCKER_HOST), or run the local data plane with --target nginx.";

/** Explains a failed pull: which images were not on the host, and the ways around it. */
export function pullFailureMessage(error: Error, missingLocally: string[]): string | undefined {
  const text = error.message;
  const isPull = /pull|registry|manifest unknown|no such host|dial tcp|TLS handshake|toomanyrequests|rate limit/i.test(text);
  if (!isPull) return undefined;
  const names = missingLocally.length ? missingLocally.join(", ") : "an image the run needs";
  return (
    `could not pull ${names} (${text.split("\n")[0]}). ` +
    "Load the images into the host's Docker beforehand and pass --preload-images, " +
    "point k3s at a mirror with --registry-mirror URL, or run --target nginx."
  );
}

export class K3sTarget implements Target {
  readonly kind = "k3s" as const;
  readonly defaultNamespace = "mtls-conformance";
  private readonly options: K3sTargetOptions;

  constructor(options: K3sTargetOptions = {}) {
    this.options = options;
  }

  /**
   * --k3s-image, else a k3s of the newest Kubernetes the controller release supports; for Traefik,
   * a k3s whose packaged chart knows the provider (TRAEFIK_K3S_IMAGE).
   */
  get image(): string {
    if (this.options.image) return this.options.image;
    if (this.traefik) return TRAEFIK_K3S_IMAGE;
    return k3sImageFor(this.options.controllerVersion ?? DEFAULT_CONTROLLER_VERSION, DEFAULT_K3S_IMAGE);
  }

  private get traefik(): boolean {
    return this.options.controller === "traefik";
  }

  /**
   * How the k3s container is made: image, command and the files put into it before k3s starts
   * (k3sContainerPlan). `preloadArchives` are `docker save` tarballs for agent/images/.
   */
  containerPlan(extra: { registriesYaml?: string; preloadArchives?: string[] } = {}): K3sContainerPlan {
    return k3sContainerPlan({ image: this.image, controller: this.options.controller ?? "ingress-nginx", ...extra });
  }

  async check(): Promise<TargetAvailability> {
    const engine = await containerEngine();
    return engine.answers ? { available: true, reason: engine.detail } : { available: false, reason: `${engine.detail}: ${NO_ENGINE_MESSAGE}` };
  }

  /** Everything the run needs, checked now; every problem with its remedy (k3s-preflight.ts). */
  async preflight(log?: (line: string) => void): Promise<Problem[]> {
    const client = await getContainerRuntimeClient();
    const { problems } = await k3sPreflight({
      k3sImage: this.image,
      hostImages: ryukImages(),
      controller: this.options.controller,
      controllerVersion: this.options.controllerVersion,
      controllerManifest: this.options.controllerManifest,
      preloadImages: this.options.preloadImages,
      extraPreloadImages: this.options.extraPreloadImages,
      registryMirrors: this.options.registryMirrors,
      docker: client.container.dockerode as unknown as HostEngine,
      pull: (ref) => client.image.pull(ImageName.fromString(ref)),
      log,
    });
    return problems;
  }

  /** Images the run needs that the host's engine does not have (a pull will be attempted). */
  async imagesMissingLocally(extra: string[] = []): Promise<string[]> {
    const client = await getContainerRuntimeClient();
    const wanted = [this.image, ...ryukImages(), ...extra];
    const missing: string[] = [];
    for (const ref of wanted) if (!(await client.image.exists(ImageName.fromString(ref)))) missing.push(ref);
    return missing;
  }

  async start(input: DeployInput): Promise<StartedTarget> {
    if (!(await containerEngineAnswers())) throw new Error(NO_ENGINE_MESSAGE);
    const timeouts = { ...DEFAULT_TIMEOUTS, ...this.options.timeouts };
    const log = input.log;
    const outDir = join(input.reportDir, "k3s");
    await mkdir(outDir, { recursive: true });

    // Traefik needs no manifest: k3s installs its own chart, configured by traefik-config.yaml.
    const manifest = this.traefik
      ? undefined
      : await resolveControllerManifest({
          version: this.options.controllerVersion,
          file: this.options.controllerManifest,
          log,
        });
    const support = manifest ? kubernetesSupport(manifest.version, this.image) : undefined;
    if (manifest) {
      log(`ingress-nginx ${manifest.version} manifest (${manifest.origin}, sha256 ${manifest.sha256})`);
      if (support!.inRange === false) {
        log(`warning: ingress-nginx ${manifest.version} supports Kubernetes ${support!.supported.join(", ")}; ${this.image} is ${support!.kubernetes}, a combination its project does not test (${support!.source})`);
      }
    } else {
      log(`Traefik ${TRAEFIK_VERSION} (${TRAEFIK_IMAGE}) with its kubernetesIngressNGINX provider: k3s's packaged chart, configured by ${TRAEFIK_CONFIG_PATH}`);
    }
    const clusterImages = manifest ? [...manifest.images, ECHO_IMAGE] : traefikClusterImages(ECHO_IMAGE);

    const mirrors = parseRegistryMirrors(this.options.registryMirrors ?? [], [...clusterImages, ...(this.options.extraPreloadImages ?? [])].map(registryOf));
    let preload: PreloadResult | undefined;
    if (this.options.preloadImages) {
      // k3s's own system images too: otherwise k3s pulls them inside the cluster, from a registry.
      const system = await k3sSystemImages(this.image);
      if (system.images.length) log(`--preload-images: k3s ${k3sReleaseOf(this.image)}'s own ${system.images.length} system image(s) from ${system.from}`);
      else log(`--preload-images: k3s's own system images are not preloaded (${system.from}); k3s pulls them itself`);
      const refs = [...clusterImages, ...system.images, ...(this.options.extraPreloadImages ?? [])];
      preload = await saveImages(refs, join(input.workDir, "images"), log);
      // The manifest pins images by digest, and nothing k3s imports from a `docker save` archive
      // carries that digest (image-preload.ts): the containers run the saved tags instead. The
      // evidence keeps each original reference, its digest and whether the host's image matched it.
      // (Traefik's chart names its image by tag: nothing to rewrite.)
      if (manifest) {
        const { objects, rewritten } = rewriteManifestImages(manifest.objects, preload.rewrites);
        manifest.objects = objects;
        for (const r of rewritten) log(`--preload-images: ${r.kind} ${r.name}, container ${r.container}, runs ${r.to} (the manifest's ${r.from})`);
      }
    }
    const plan = this.containerPlan({
      registriesYaml: Object.keys(mirrors).length ? registriesYaml(mirrors) : undefined,
      preloadArchives: preload?.images.map((image) => image.archive),
    });
    const builder = k3sContainerBuilder(plan);

    const missing = await this.imagesMissingLocally().catch(() => []);
    log(`starting ${this.image}${missing.length ? ` (to pull: ${missing.join(", ")})` : ""}...`);
    let container: StartedK3sContainer;
    try {
      container = await builder.start();
    } catch (error) {
      const explained = pullFailureMessage(error as Error, missing);
      throw explained ? new Error(explained, { cause: error }) : error;
    }
    const stopContainer = onCleanup(
      async () => {
        await container.stop({ remove: true, removeVolumes: true });
      },
      () => undefined, // Ryuk removes the container when this process is gone.
    );

    let kube: Kube | undefined;
    const manifests = input.manifests;
    if (!manifests) throw new Error("the k3s target deploys objects: none were given");
    const hosts = [...new Set(manifests.ingresses.flatMap((i) => (i.spec?.rules ?? []).map((r) => r.host!)))];
    const diagnosticsExtra: Record<string, () => Promise<string>> = manifest
      ? { "controller-manifest.sha256": async () => `${manifest.sha256}  ${manifest.source}\n` }
      : { "traefik-config.yaml": async () => traefikConfigYaml() };
    const collectDiagnostics = async (): Promise<string[]> =>
      kube ? saveDiagnostics(kube, { manifests, log, nginxConf: !this.traefik }, hosts, outDir, diagnosticsExtra) : [];

    try {
      kube = new Kube(loadKubeConfig({ yaml: container.getKubeConfig() }), this.traefik ? TRAEFIK_LOCATION : {});
      await kube.waitNodesReady(timeouts.nodeReadyMs);
      if (manifest) {
        log("node Ready; installing the controller...");
        await kube.installController(manifest.objects);
        await kube.waitControllerReady(timeouts.controllerReadyMs);
      } else {
        // helm-controller installs the packaged chart with traefik-config.yaml's values; the
        // Deployment running another image would mean the HelmChartConfig was not applied.
        log(`node Ready; waiting for k3s to install Traefik ${TRAEFIK_VERSION} from its packaged chart...`);
        await waitTraefikReady(kube, timeouts.controllerReadyMs);
      }
      // ServiceLB publishes the controller's ports through a pod of its own (klipper-lb, pulled
      // from Docker Hub): until it runs, port 443 answers nothing, and the wait names why.
      await kube.waitControllerLoadBalancer(timeouts.loadBalancerMs);
      log("controller Ready and published; applying the run's objects...");
      const denied = await kube.deployAll(manifests, timeouts, { ownCluster: true });
      let applied = manifests;
      for (const d of denied) log(`admission webhook denied Ingress ${d.ingress}: ${d.message}`);
      // The mapped port of the k3s container, not the load balancer's node address.
      const endpoint: Endpoint = { address: container.getHost(), port: container.getMappedPort(443) };
      // Only hosts with a tls: section are served with the run's certificate; the others keep the fake one.
      await waitForHostCertificates(() => endpoint, manifests.hostCertificates, undefined, timeouts.certificatesMs, log);

      const [kubernetes, images] = await Promise.all([kube.serverVersion(), kube.controllerImages()]);
      await writeFile(join(outDir, "manifests-applied.yaml"), manifestsYaml(redactedManifests(manifests, sha256)));
      const preloadedImages = preload ? await confirmPreloaded(container, preload.images, log) : [];
      return {
        kind: "k3s",
        description: manifest
          ? `ingress-nginx controller ${manifest.version} in k3s (${this.image}), installed from its release manifest`
          : `Traefik ${TRAEFIK_VERSION}'s ingress-nginx provider (kubernetesIngressNGINX, which reads the nginx.ingress.kubernetes.io annotations) in k3s (${this.image}), k3s's packaged Traefik chart configured with a HelmChartConfig`,
        versions: { kubernetes, k3sImage: this.image, controller: manifest ? manifest.version : `traefik ${TRAEFIK_VERSION}` },
        details: {
          controller: manifest ? "ingress-nginx" : "traefik",
          ...(manifest
            ? { controllerManifest: { source: manifest.source, sha256: manifest.sha256, origin: manifest.origin }, kubernetesSupport: support }
            : {
                traefik: {
                  version: TRAEFIK_VERSION,
                  image: TRAEFIK_IMAGE,
                  config: { path: TRAEFIK_CONFIG_PATH, sha256: sha256(traefikConfigYaml()) },
                  k3sPackagedTraefik: K3S_PACKAGED_TRAEFIK[this.image.slice(this.image.lastIndexOf(":") + 1)] ?? null,
                },
                controllerLocation: TRAEFIK_LOCATION,
              }),
          controllerImages: images,
          admissionDenials: denied,
          // Only what k3s reports it imported (crictl), or "unconfirmed" entries if it cannot say.
          preloadedImages,
          registryMirrors: mirrors,
          endpoint: `${endpoint.address}:${endpoint.port}`,
          namespaces: manifests.namespaces,
        },
        endpointFor: () => endpoint,
        // Only what a stage changes is sent, and what it drops deleted (kube-update.ts). The
        // controller applies it on its next sync: scenarios get a minute to see it.
        update: async (next) => {
          const { denied: refused } = await applyChanges(kube!, applied, next, timeouts);
          applied = next;
          for (const d of refused) input.log(`admission webhook denied the update of Ingress ${d.ingress}: ${d.message}`);
        },
        settleMs: 60_000,
        // Every changed Ingress may wait for the webhook (timeouts.webhookMs), then a minute more.
        updateTimeoutMs: timeouts.webhookMs + 60_000,
        httpEndpointFor: () => ({ address: container.getHost(), port: container.getMappedPort(80) }),
        collectDiagnostics,
        stop: () => stopContainer(),
      };
    } catch (error) {
      const saved = await collectDiagnostics().catch(() => []);
      if (saved.length) log(`diagnostics saved: ${saved.join(", ")}`);
      await stopContainer();
      // The run names these files in its evidence.
      throw Object.assign(error as Error, { diagnostics: saved });
    }
  }
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * `docker save` each image the host's engine has into a tarball k3s will name: found by its
 * digest (or tag), checked against the digest, tagged and saved by that tag (image-preload.ts).
 * An image the host lacks is named in the log and left to k3s to pull: a first nightly run has
 * nothing cached yet.
 */
async function saveImages(refs: string[], dir: string, log: (l: string) => void): Promise<PreloadResult> {
  const client = await getContainerRuntimeClient();
  return savePreloadImages(refs, dir, { docker: client.container.dockerode, log });
}

/** Every image a k3s run needs, for `mtls-conformance images` and preloading; `system`: k3s's own (k3s-system-images.ts). */
export function imagesForRun(k3sImage: string, manifest: ControllerManifest, extra: string[] = [], system: string[] = []): string[] {
  return [...new Set([k3sImage, ...ryukImages(), ...system, ...manifest.images, ECHO_IMAGE, ...extra])];
}

/** The same for `--controller traefik`: Traefik's image instead of the manifest's. */
export function imagesForTraefikRun(k3sImage: string = TRAEFIK_K3S_IMAGE, extra: string[] = [], system: string[] = []): string[] {
  return [...new Set([k3sImage, ...ryukImages(), ...system, ...traefikClusterImages(ECHO_IMAGE), ...extra])];
}

/** What the k3s container is made of, before anything is pulled or started. */
export interface K3sContainerPlan {
  image: string;
  /** k3s's arguments (the image's entrypoint is /bin/k3s). */
  command: string[];
  /** Files written into the container before k3s starts. */
  contents: Array<{ content: string; target: string }>;
  /** Host files copied in (preloaded image archives). */
  files: Array<{ source: string; target: string }>;
  /** Ports published on the host: 443 and 80 of ServiceLB, besides the API server's. */
  ports: number[];
}

/**
 * The container for a controller. ingress-nginx: k3s without its Traefik (`--disable=traefik`
 * removes the packaged AddOn, docs/installation/packaged-components.md "Using the --disable
 * flag"). Traefik: k3s as it ships, plus traefik-config.yaml in its manifests directory, which
 * k3s applies when it starts; the directory is in the image's VOLUME /var/lib/rancher/k3s
 * (k3s package/Dockerfile), which is where the file is written before the start.
 * @testcontainers/k3s runs `server --disable=traefik` unless given a command, so one is always given.
 */
export function k3sContainerPlan(input: { image: string; controller: ControllerName; registriesYaml?: string; preloadArchives?: string[] }): K3sContainerPlan {
  const traefik = input.controller === "traefik";
  const contents: K3sContainerPlan["contents"] = [];
  if (input.registriesYaml) contents.push({ content: input.registriesYaml, target: "/etc/rancher/k3s/registries.yaml" });
  if (traefik) contents.push({ content: traefikConfigYaml(), target: TRAEFIK_CONFIG_PATH });
  return {
    image: input.image,
    command: traefik ? ["server"] : ["server", "--disable=traefik"],
    contents,
    // k3s imports every tarball in agent/images/ when it starts, before anything is pulled.
    files: (input.preloadArchives ?? []).map((source, i) => ({ source, target: `/var/lib/rancher/k3s/agent/images/preload-${i}.tar` })),
    ports: [443, 80],
  };
}

/** The testcontainers builder for a plan (nothing is pulled or started until `.start()`). */
export function k3sContainerBuilder(plan: K3sContainerPlan): K3sContainer {
  let builder = new K3sContainer(plan.image)
    .withExposedPorts(...plan.ports)
    .withLabels({ "app.kubernetes.io/managed-by": "mtls-conformance" })
    .withCommand(plan.command);
  if (plan.contents.length) builder = builder.withCopyContentToContainer(plan.contents);
  if (plan.files.length) builder = builder.withCopyFilesToContainer(plan.files);
  return builder;
}
