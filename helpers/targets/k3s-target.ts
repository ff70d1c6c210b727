// Target `k3s`: the real ingress-nginx controller, installed from its release manifest into a
// k3s container started with @testcontainers/k3s. Needs a container engine that can pull (or has
// preloaded) the images; on machines without registry access it fails with a clear message.
import { K3sContainer, type StartedK3sContainer } from "@testcontainers/k3s";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
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

import { DEFAULT_K3S_IMAGE } from "./defaults.ts";
// testcontainers' own choice of its reaper image (RYUK_CONTAINER_IMAGE, the hub prefix), not a
// copy of its default: the image preloaded and listed is the one it will start.
import { getReaperImage } from "testcontainers/build/reaper/reaper.js";

export { DEFAULT_K3S_IMAGE };

/** The Ryuk image testcontainers starts before any container, unless TESTCONTAINERS_RYUK_DISABLED=true. */
export const ryukImages = (): string[] => (process.env.TESTCONTAINERS_RYUK_DISABLED === "true" ? [] : [getReaperImage()]);

export interface K3sTargetOptions {
  image?: string;
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

  /** --k3s-image, else a k3s of the newest Kubernetes the controller release supports. */
  get image(): string {
    return this.options.image ?? k3sImageFor(this.options.controllerVersion ?? DEFAULT_CONTROLLER_VERSION, DEFAULT_K3S_IMAGE);
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

    const manifest = await resolveControllerManifest({
      version: this.options.controllerVersion,
      file: this.options.controllerManifest,
      log,
    });
    log(`ingress-nginx ${manifest.version} manifest (${manifest.origin}, sha256 ${manifest.sha256})`);
    const support = kubernetesSupport(manifest.version, this.image);
    if (support.inRange === false) {
      log(`warning: ingress-nginx ${manifest.version} supports Kubernetes ${support.supported.join(", ")}; ${this.image} is ${support.kubernetes}, a combination its project does not test (${support.source})`);
    }

    let builder = new K3sContainer(this.image)
      .withExposedPorts(443, 80)
      .withLabels({ "app.kubernetes.io/managed-by": "mtls-conformance" })
      .withCommand(["server", "--disable=traefik"]);
    const mirrors = parseRegistryMirrors(this.options.registryMirrors ?? [], [...manifest.images, ECHO_IMAGE, ...(this.options.extraPreloadImages ?? [])].map(registryOf));
    if (Object.keys(mirrors).length) {
      builder = builder.withCopyContentToContainer([{ content: registriesYaml(mirrors), target: "/etc/rancher/k3s/registries.yaml" }]);
    }
    let preload: PreloadResult | undefined;
    if (this.options.preloadImages) {
      const refs = [...manifest.images, ECHO_IMAGE, ...(this.options.extraPreloadImages ?? [])];
      preload = await saveImages(refs, join(input.workDir, "images"), log);
      // The manifest pins images by digest, and nothing k3s imports from a `docker save` archive
      // carries that digest (image-preload.ts): the containers run the saved tags instead. The
      // evidence keeps each original reference, its digest and whether the host's image matched it.
      const { objects, rewritten } = rewriteManifestImages(manifest.objects, preload.rewrites);
      manifest.objects = objects;
      for (const r of rewritten) log(`--preload-images: ${r.kind} ${r.name}, container ${r.container}, runs ${r.to} (the manifest's ${r.from})`);
      // k3s imports every tarball in agent/images/ when it starts, before anything is pulled.
      builder = builder.withCopyFilesToContainer(
        preload.images.map((image, i) => ({ source: image.archive, target: `/var/lib/rancher/k3s/agent/images/preload-${i}.tar` })),
      );
    }

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
    const collectDiagnostics = async (): Promise<string[]> =>
      kube ? saveDiagnostics(kube, { manifests, log }, hosts, outDir, { "controller-manifest.sha256": async () => `${manifest.sha256}  ${manifest.source}\n` }) : [];

    try {
      kube = new Kube(loadKubeConfig({ yaml: container.getKubeConfig() }));
      await kube.waitNodesReady(timeouts.nodeReadyMs);
      log("node Ready; installing the controller...");
      await kube.installController(manifest.objects);
      await kube.waitControllerReady(timeouts.controllerReadyMs);
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
      return {
        kind: "k3s",
        description: `ingress-nginx controller ${manifest.version} in k3s (${this.image}), installed from its release manifest`,
        versions: { kubernetes, k3sImage: this.image, controller: manifest.version },
        details: {
          controllerManifest: { source: manifest.source, sha256: manifest.sha256, origin: manifest.origin },
          kubernetesSupport: support,
          controllerImages: images,
          admissionDenials: denied,
          // Only what k3s reports it imported (crictl), or "unconfirmed" entries if it cannot say.
          preloadedImages: preload ? await confirmPreloaded(container, preload.images, log) : [],
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

/** Every image a k3s run needs, for `mtls-conformance images` and preloading. */
export function imagesForRun(k3sImage: string, manifest: ControllerManifest, extra: string[] = []): string[] {
  return [k3sImage, ...ryukImages(), ...manifest.images, ECHO_IMAGE, ...extra];
}
