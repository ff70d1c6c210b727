// Target `k3s`: the real ingress-nginx controller, installed from its release manifest into a
// k3s container started with @testcontainers/k3s. Needs a container engine that can pull (or has
// preloaded) the images; on machines without registry access it fails with a clear message.
import { K3sContainer, type StartedK3sContainer } from "@testcontainers/k3s";
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { getContainerRuntimeClient, ImageName } from "testcontainers";
import { resolveControllerManifest, type ControllerManifest } from "./controller-manifest.ts";
import { onCleanup } from "../support/cleanup.ts";
import { ECHO_IMAGE, manifestsYaml, redactedManifests } from "../manifests/manifests.ts";
import { createHash } from "node:crypto";
import { containerEngineAnswers } from "./engine.ts";
import { DEFAULT_TIMEOUTS, Kube, loadKubeConfig, saveDiagnostics, type Timeouts } from "./kube.ts";
import type { DeployInput, Endpoint, StartedTarget, Target, TargetAvailability } from "./target.ts";
import { waitForHostCertificates } from "./tls-readiness.ts";

import { DEFAULT_K3S_IMAGE, RYUK_IMAGE } from "./defaults.ts";

export { DEFAULT_K3S_IMAGE, RYUK_IMAGE };

export interface K3sTargetOptions {
  image?: string;
  controllerVersion?: string;
  controllerManifest?: string;
  /** Copy the run's images from the host's Docker into k3s before it starts pulling. */
  preloadImages?: boolean;
  extraPreloadImages?: string[];
  registryMirror?: string;
  timeouts?: Partial<Timeouts>;
}

export const NO_ENGINE_MESSAGE =
  "no container engine answers (tried the Docker socket; set DOCKER_HOST for another): the k3s target needs one. " +
  "Start Docker, or run the local data plane with --target nginx.";

/** k3s `registries.yaml`: every registry the run pulls from goes through the mirror. */
export function registriesYaml(mirror: string): string {
  const registries = ["docker.io", "registry.k8s.io", "quay.io", "ghcr.io"];
  return `mirrors:\n${registries.map((r) => `  ${r}:\n    endpoint:\n      - "${mirror}"\n`).join("")}`;
}

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

  get image(): string {
    return this.options.image ?? DEFAULT_K3S_IMAGE;
  }

  async check(): Promise<TargetAvailability> {
    return (await containerEngineAnswers())
      ? { available: true, reason: "a container engine answers" }
      : { available: false, reason: NO_ENGINE_MESSAGE };
  }

  /** Images the run needs that the host's engine does not have (a pull will be attempted). */
  async imagesMissingLocally(extra: string[] = []): Promise<string[]> {
    const client = await getContainerRuntimeClient();
    const wanted = [this.image, ...(process.env.TESTCONTAINERS_RYUK_DISABLED === "true" ? [] : [RYUK_IMAGE]), ...extra];
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

    let builder = new K3sContainer(this.image)
      .withExposedPorts(443, 80)
      .withLabels({ "app.kubernetes.io/managed-by": "mtls-conformance" })
      .withCommand(["server", "--disable=traefik"]);
    if (this.options.registryMirror) {
      builder = builder.withCopyContentToContainer([
        { content: registriesYaml(this.options.registryMirror), target: "/etc/rancher/k3s/registries.yaml" },
      ]);
    }
    const preloaded: string[] = [];
    if (this.options.preloadImages) {
      const refs = [...manifest.images, ECHO_IMAGE, ...(this.options.extraPreloadImages ?? [])];
      const { tarballs, saved } = await saveImages(refs, join(input.workDir, "images"), log);
      preloaded.push(...saved);
      // k3s imports every tarball in agent/images/ when it starts, before anything is pulled.
      builder = builder.withCopyFilesToContainer(
        tarballs.map((source, i) => ({ source, target: `/var/lib/rancher/k3s/agent/images/preload-${i}.tar` })),
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
      log("controller Ready; applying the run's objects...");
      const denied = await kube.deployAll(manifests, timeouts, { ownCluster: true });
      for (const d of denied) log(`admission webhook denied Ingress ${d.ingress}: ${d.message}`);
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
          controllerImages: images,
          admissionDenials: denied,
          preloadedImages: preloaded,
          registryMirror: this.options.registryMirror ?? null,
          endpoint: `${endpoint.address}:${endpoint.port}`,
          namespaces: manifests.namespaces,
        },
        endpointFor: () => endpoint,
        // The controller applies changes on its next sync: scenarios get a minute to see them.
        update: async (manifests) => {
          for (const d of await kube!.deploy(manifests, timeouts)) input.log(`admission webhook denied the update of Ingress ${d.ingress}: ${d.message}`);
        },
        settleMs: 60_000,
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
 * `docker save` each image the host's engine has into a tarball. An image the host lacks is
 * named in the log and left to k3s to pull: a first nightly run has nothing cached yet.
 */
async function saveImages(refs: string[], dir: string, log: (l: string) => void): Promise<{ tarballs: string[]; saved: string[] }> {
  const client = await getContainerRuntimeClient();
  await mkdir(dir, { recursive: true });
  const tarballs: string[] = [];
  const saved: string[] = [];
  for (const [i, ref] of refs.entries()) {
    if (!(await client.image.exists(ImageName.fromString(ref)))) {
      log(`--preload-images: ${ref} is not in the host's Docker; k3s will pull it (\`mtls-conformance images\` lists what to pull beforehand)`);
      continue;
    }
    const file = join(dir, `image-${i}.tar`);
    const stream = await client.container.dockerode.getImage(ref).get();
    await pipeline(stream, createWriteStream(file));
    log(`preloading ${ref}`);
    tarballs.push(file);
    saved.push(ref);
  }
  return { tarballs, saved };
}

/** Every image a k3s run needs, for `mtls-conformance images` and preloading. */
export function imagesForRun(k3sImage: string, manifest: ControllerManifest, extra: string[] = []): string[] {
  return [k3sImage, RYUK_IMAGE, ...manifest.images, ECHO_IMAGE, ...extra];
}
