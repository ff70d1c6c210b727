// Everything a k3s run needs, checked before it starts, every problem reported at once with what
// to do about it. Without network a run used to stop at the manifest download and, only once that
// was given, reveal that no image could be pulled either.
//
// What is needed: the controller's release manifest; on the host's engine, the k3s image and
// testcontainers' Ryuk (pulled there if missing); inside k3s, the controller's images, the echo
// backend's and k3s's own system images (docker.io), either preloaded from the host
// (--preload-images) or pulled by k3s from their registries or the mirrors given.
import { ECHO_IMAGE } from "../manifests/manifests.ts";
import { DEFAULT_CONTROLLER_VERSION, manifestUrl, resolveControllerManifest, type ControllerManifest } from "./controller-manifest.ts";
import { findHostImage, type HostEngine } from "./image-preload.ts";
import { parseRegistryMirrors, registryOf } from "./registry-mirrors.ts";
import type { ControllerName } from "./controllers.ts";
import type { K3sTargetOptions } from "./k3s-target.ts";
import { packagedTraefikProblem, TRAEFIK_K3S_IMAGE, traefikClusterImages } from "./traefik-controller.ts";

export interface Problem {
  /** What is missing: "the ingress-nginx v1.15.1 manifest", "image rancher/k3s:…". */
  what: string;
  why: string;
  remedy: string;
}

/** What the k3s target will start with (traefik: no manifest; k3s's packaged chart runs Traefik's image). */
export interface PreflightInput extends Pick<K3sTargetOptions, "controller" | "controllerVersion" | "controllerManifest" | "preloadImages" | "extraPreloadImages" | "registryMirrors"> {
  k3sImage: string;
  /** Images the host's engine starts itself (Ryuk). */
  hostImages: string[];
  docker: HostEngine;
  /** Pulls onto the host's engine; resolves whether the image is there afterwards. */
  pull(ref: string): Promise<void>;
  /** How a registry's (or mirror's) /v2/ endpoint is reached; default `fetch`. */
  fetchImpl?: typeof fetch;
  log?: (line: string) => void;
}

/** The base URL containerd uses for a registry (docs.k3s.io, Default Endpoint Fallback). */
export function registryEndpoint(registry: string): string {
  return registry === "docker.io" ? "https://registry-1.docker.io" : `https://${registry}`;
}

/** Why a registry's /v2/ endpoint cannot be reached, or undefined when it answers (any HTTP status: 401 is the usual one). */
export async function registryProblem(base: string, fetchImpl: typeof fetch = fetch, timeoutMs = 5000): Promise<string | undefined> {
  try {
    const res = await fetchImpl(`${base.replace(/\/$/, "")}/v2/`, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await res.body?.cancel();
    return undefined;
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    return e.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
  }
}

export async function k3sPreflight(input: PreflightInput): Promise<{ problems: Problem[]; manifest?: ControllerManifest }> {
  const problems: Problem[] = [];
  const version = input.controllerVersion ?? DEFAULT_CONTROLLER_VERSION;

  const traefik = input.controller === "traefik";
  let manifest: ControllerManifest | undefined;
  if (traefik) {
    // No manifest: the chart is k3s's own, and what matters is that it knows the provider's values.
    const why = packagedTraefikProblem(input.k3sImage);
    if (why) problems.push({ what: `image ${input.k3sImage} for --controller traefik`, why, remedy: `omit --k3s-image (the default is ${TRAEFIK_K3S_IMAGE}) or pass a k3s known to package Traefik v3.7 or newer` });
  }
  try {
    if (!traefik) manifest = await resolveControllerManifest({ version, file: input.controllerManifest, fetchImpl: input.fetchImpl, log: input.log });
  } catch (error) {
    problems.push({
      what: `the ingress-nginx ${version} manifest`,
      why: `${(error as Error).message.replace(/\. Without network access, pass --controller-manifest FILE\.$/, "")} (the controller's images, and whether k3s can get them, are known once it is)`,
      remedy: `on a connected machine: curl -fsSLo deploy.yaml ${manifestUrl(version)}; then pass --controller-manifest deploy.yaml`,
    });
  }

  // On the host's engine: what testcontainers starts.
  for (const ref of [input.k3sImage, ...input.hostImages]) {
    if (await findHostImage(input.docker, ref)) continue;
    const pulled = await input.pull(ref).then(
      () => undefined,
      (error: Error) => error.message.split("\n")[0]!.trim(),
    );
    // A pull can end without an error and without the image (testcontainers resolves on the end
    // of the stream): the image being there is what counts.
    if (pulled === undefined && (await findHostImage(input.docker, ref))) continue;
    problems.push({ what: `image ${ref} (the host's Docker starts it)`, why: `not on the host, and the pull failed${pulled ? `: ${pulled}` : ""}`, remedy: `docker pull ${ref} (or docker load it from an archive saved on a connected machine)` });
  }

  // Inside k3s: preloaded from the host, or pulled by k3s.
  const inCluster = [...(traefik ? traefikClusterImages(ECHO_IMAGE) : [...(manifest?.images ?? []), ECHO_IMAGE]), ...(input.extraPreloadImages ?? [])];
  if (input.preloadImages) {
    for (const ref of inCluster) {
      if (await findHostImage(input.docker, ref)) continue;
      problems.push({ what: `image ${ref} (--preload-images)`, why: "not in the host's Docker, so k3s would have to pull it", remedy: `docker pull ${ref} (or docker load it), or drop --preload-images where k3s can pull` });
    }
  }
  // Preloading, the user has said what k3s gets from the host (k3s's own images with
  // --preload-image); a registry that does not answer is then no reason to refuse the run.
  if (input.preloadImages) return { problems, manifest };
  const pulledByK3s = [...new Set(["docker.io", ...inCluster.map(registryOf)])];
  const mirrors = parseRegistryMirrors(input.registryMirrors ?? [], pulledByK3s);
  for (const registry of pulledByK3s) {
    // containerd tries the mirror, then the registry itself: one of them answering is enough.
    const endpoints = [...(mirrors[registry] ? [mirrors[registry]!] : []), registryEndpoint(registry)];
    const failures: string[] = [];
    for (const base of endpoints) {
      const why = await registryProblem(base, input.fetchImpl);
      if (!why) break;
      failures.push(`${base}/v2/: ${why}`);
    }
    if (failures.length < endpoints.length) continue;
    // With Traefik, helm-controller's install job (klipper-helm) runs too.
    const system = `k3s's system images (pause, coredns,${traefik ? " klipper-helm," : ""} klipper-lb, local-path-provisioner, metrics-server)`;
    const images = registry === "docker.io" ? [...inCluster.filter((i) => registryOf(i) === "docker.io"), system] : inCluster.filter((i) => registryOf(i) === registry);
    problems.push({
      what: `registry ${registry}`,
      why: `k3s pulls ${[...new Set(images)].join(", ")} from it, and nothing answers (${failures.join("; ")})`,
      remedy: `pass --registry-mirror ${registry}=URL (or one URL for every registry), or load the images into the host's Docker and pass --preload-images (k3s's own images, listed in its release's k3s-images.txt, with --preload-image)`,
    });
  }
  return { problems, manifest };
}

/** The problems as one message: a line each, with its remedy. */
export function formatProblems(problems: Problem[], options: { controller?: ControllerName } = {}): string {
  return [
    `the k3s target cannot run here: ${problems.length} thing(s) missing`,
    ...problems.map((p, i) => `  ${i + 1}. ${p.what}: ${p.why}\n     to fix: ${p.remedy}`),
    // The nginx target emulates ingress-nginx only.
    options.controller === "traefik" ? "  (or test a cluster that runs Traefik: --target cluster)" : "  (or run the local data plane: --target nginx)",
  ].join("\n");
}
