// The k3s target with `--controller traefik`, up to where an image would be pulled: what the
// container is made of (command, files, images), proven on a real Docker engine with a stand-in
// for the k3s image laid out as rancher/k3s is (its VOLUME /var/lib/rancher/k3s), and the
// preflight, which asks for no ingress-nginx manifest. Tests that need an engine skip without one.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { buildManifests, ECHO_IMAGE } from "../manifests/manifests.ts";
import { buildPki } from "../pki/pki.ts";
import { judgeProof } from "../run/prove-k3s.ts";
import { docker, uniqueRepositoryPath } from "../testing/pulled-by-digest.ts";
import { DEFAULT_K3S_IMAGE } from "./defaults.ts";
import { containerEngineAnswers } from "./engine.ts";
import { hostWith } from "../testing/host-images.ts";
import type { HostEngine } from "./image-preload.ts";
import { formatProblems, k3sPreflight } from "./k3s-preflight.ts";
import { imagesForTraefikRun, K3sTarget, k3sContainerBuilder, k3sContainerPlan } from "./k3s-target.ts";
import { TRAEFIK_CONFIG_PATH, TRAEFIK_IMAGE, TRAEFIK_K3S_IMAGE, TRAEFIK_VERSION, traefikConfigYaml } from "./traefik-controller.ts";
import { holdEngineLock } from "../testing/engine-lock.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

const NO_ENGINE = "no container engine answers on this machine (.ci/run installs and starts dockerd)";
// Compares the suite's containers (and images) before and after: one file at a time on the engine.
holdEngineLock();
let engine = false;
const ryukBefore = process.env.TESTCONTAINERS_RYUK_DISABLED;
beforeAll(async () => {
  engine = await containerEngineAnswers();
  // Ryuk is testcontainers' own image, which this machine cannot pull either; what is under test
  // is the k3s container. (This file's worker only.)
  process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
});
afterAll(() => {
  if (ryukBefore === undefined) delete process.env.TESTCONTAINERS_RYUK_DISABLED;
  else process.env.TESTCONTAINERS_RYUK_DISABLED = ryukBefore;
});

/** Containers the suite created (by its label), including stopped ones. */
const ourContainers = () => execFileSync("docker", ["ps", "-a", "-q", "--filter", "label=app.kubernetes.io/managed-by=mtls-conformance"], { encoding: "utf8" }).trim();

/** What testcontainers was told to create (GenericContainer's createOpts and contents, read as they are). */
const builderState = (b: unknown) => b as { createOpts: { Image: string; Cmd?: string[]; ExposedPorts?: Record<string, unknown>; Labels?: Record<string, string> }; contentsToCopy: Array<{ content: string; target: string }>; filesToCopy: unknown[] };

describe("the k3s container for --controller traefik", () => {
  it("k3s as it ships (no --disable=traefik), traefik-config.yaml in its manifests directory, ports 443 and 80", () => {
    const target = new K3sTarget({ controller: "traefik" });
    expect(target.image).toBe(TRAEFIK_K3S_IMAGE);
    const plan = target.containerPlan();
    expect(plan).toEqual({ image: TRAEFIK_K3S_IMAGE, command: ["server"], contents: [{ content: traefikConfigYaml(), target: TRAEFIK_CONFIG_PATH }], files: [], ports: [443, 80] });
    // The builder is told exactly that; @testcontainers/k3s would otherwise run `server --disable=traefik`.
    const state = builderState(k3sContainerBuilder(plan));
    expect(state.createOpts.Image).toBe(TRAEFIK_K3S_IMAGE);
    expect(state.createOpts.Cmd).toEqual(["server"]);
    expect(Object.keys(state.createOpts.ExposedPorts ?? {}).sort()).toEqual(["443/tcp", "6443/tcp", "80/tcp", "8443/tcp"]);
    expect(state.contentsToCopy).toEqual([{ content: traefikConfigYaml(), target: TRAEFIK_CONFIG_PATH }]);
    expect(state.createOpts.Labels).toMatchObject({ "app.kubernetes.io/managed-by": "mtls-conformance" });
  });

  it("ingress-nginx keeps Traefik disabled and gets no traefik-config.yaml; mirrors and preloads go to both", () => {
    const nginx = new K3sTarget({});
    expect(nginx.image).toBe(DEFAULT_K3S_IMAGE);
    expect(nginx.containerPlan()).toEqual({ image: DEFAULT_K3S_IMAGE, command: ["server", "--disable=traefik"], contents: [], files: [], ports: [443, 80] });
    const withBoth = k3sContainerPlan({ image: "rancher/k3s:x", controller: "traefik", registriesYaml: "mirrors: {}\n", preloadArchives: ["/tmp/a.tar"] });
    expect(withBoth.contents.map((c) => c.target)).toEqual(["/etc/rancher/k3s/registries.yaml", TRAEFIK_CONFIG_PATH]);
    expect(withBoth.files).toEqual([{ source: "/tmp/a.tar", target: "/var/lib/rancher/k3s/agent/images/preload-0.tar" }]);
    // --k3s-image still wins.
    expect(new K3sTarget({ controller: "traefik", image: "rancher/k3s:v1.37.0-k3s1" }).image).toBe("rancher/k3s:v1.37.0-k3s1");
  });

  it("the images a run needs: k3s, Ryuk, Traefik's and the echo backend's, no ingress-nginx image", () => {
    const images = imagesForTraefikRun();
    expect(images[0]).toBe(TRAEFIK_K3S_IMAGE);
    expect(images.slice(-2)).toEqual([TRAEFIK_IMAGE, ECHO_IMAGE]);
    expect(images.join(" ")).not.toMatch(/ingress-nginx/);
  });

  it("on Docker: the container is created from the plan with the file inside k3s's volume, before anything starts or is pulled", async (ctx) => {
    if (!engine) ctx.skip(NO_ENGINE);
    // A stand-in named as a k3s image, laid out as rancher/k3s declares its state directory
    // (k3s package/Dockerfile: `VOLUME /var/lib/rancher/k3s`); it has nothing to run, and never does.
    const dir = tempDir("k3s-standin-");
    const image = `${uniqueRepositoryPath("k3s-standin")}:v1.37.1-k3s1`;
    writeFileSync(join(dir, "payload.txt"), "stand-in\n");
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\nCOPY payload.txt /payload.txt\nVOLUME /var/lib/rancher/k3s\n");
    await docker("build", "-q", "-t", image, dir);
    const imagesBefore = await docker("images", "-q", "--no-trunc");
    const seen: { cmd?: string[]; mounts?: Array<{ Type: string; Destination: string }>; file?: string } = {};
    try {
      const builder = k3sContainerBuilder(new K3sTarget({ controller: "traefik", image }).containerPlan());
      // testcontainers' hook between creating (files copied) and starting the container.
      (builder as unknown as { containerCreated: (id: string) => Promise<void> }).containerCreated = async (id) => {
        try {
          const inspect = JSON.parse(await docker("inspect", id))[0];
          seen.cmd = inspect.Config.Cmd;
          seen.mounts = inspect.Mounts;
          await docker("cp", `${id}:${TRAEFIK_CONFIG_PATH}`, join(dir, "copied.yaml"));
          seen.file = readFileSync(join(dir, "copied.yaml"), "utf8");
        } finally {
          await docker("rm", "-f", "-v", id);
        }
        throw new Error("stopped before start");
      };
      const error = await builder.start().catch((e: Error) => e);
      expect((error as Error).message).toBe("stopped before start");
      expect(seen.cmd).toEqual(["server"]);
      expect(seen.mounts?.some((m) => m.Type === "volume" && m.Destination === "/var/lib/rancher/k3s")).toBe(true);
      expect(seen.file).toBe(traefikConfigYaml());
      expect(await docker("images", "-q", "--no-trunc")).toBe(imagesBefore);
      expect(ourContainers()).toBe("");
    } finally {
      await docker("rmi", "-f", image).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("on Docker: a k3s image that cannot be pulled is named, nothing asks for the ingress-nginx manifest, no container is left", async (ctx) => {
    if (!engine) ctx.skip(NO_ENGINE);
    const dir = tempDir("k3s-traefik-pull-");
    const pki = await buildPki({ serverHosts: ["test.localdev.me"] });
    const manifests = buildManifests({ namespace: "mtls-conformance", policies: catalogue.policies.slice(0, 1), pki });
    const image = `${TRAEFIK_K3S_IMAGE}-not-on-this-host`;
    const logs: string[] = [];
    const error = await new K3sTarget({ controller: "traefik", image, preloadImages: true })
      .start({ manifests, workDir: dir, reportDir: join(dir, "report"), log: (l) => logs.push(l) })
      .catch((e: Error) => e);
    expect((error as Error).message).toMatch(new RegExp(`^could not pull ${image.replace(/[.]/g, "\\.")} \\(`));
    expect(logs[0]).toBe(`Traefik ${TRAEFIK_VERSION} (${TRAEFIK_IMAGE}) with its kubernetesIngressNGINX provider: k3s's packaged chart, configured by ${TRAEFIK_CONFIG_PATH}`);
    // --preload-images looks for Traefik's image (by its tag: nothing to rewrite), not the controller's.
    expect(logs.some((l) => l.startsWith(`--preload-images: ${TRAEFIK_IMAGE} is not in the host's Docker; k3s will pull it`))).toBe(true);
    expect(logs.join("\n")).not.toMatch(/ingress-nginx|manifest \(/);
    expect(ourContainers()).toBe("");
  });
});


/** No DNS, as on this machine: fetch fails as undici's does. */
const offlineFetch: typeof fetch = async (input) => {
  throw new TypeError("fetch failed", { cause: Object.assign(new Error(`getaddrinfo ENOTFOUND ${new URL(String(input)).hostname}`), { code: "ENOTFOUND" }) });
};

describe("the k3s preflight for --controller traefik", () => {
  const base = {
    k3sImage: TRAEFIK_K3S_IMAGE,
    hostImages: [] as string[],
    controller: "traefik" as const,
    fetchImpl: offlineFetch,
    pull: async () => {
      throw new Error("dial tcp: lookup registry-1.docker.io: no such host");
    },
  };
  const have = (...refs: string[]): HostEngine => hostWith(Object.fromEntries(refs.map((r) => [r, { Id: `sha256:${"1".repeat(64)}`, RepoTags: [r], RepoDigests: [] }])));

  it("asks for no manifest: Traefik's image and the echo backend's come from docker.io, with k3s's images and helm-controller's job", async () => {
    const { problems, manifest } = await k3sPreflight({ ...base, docker: hostWith({}) });
    expect(manifest).toBeUndefined();
    expect(problems.map((p) => p.what)).toEqual([`image ${TRAEFIK_K3S_IMAGE} (the host's Docker starts it)`, "registry docker.io"]);
    expect(problems[1]!.why).toBe(
      `k3s pulls ${TRAEFIK_IMAGE}, ${ECHO_IMAGE}, k3s's system images (pause, coredns, klipper-helm, klipper-lb, local-path-provisioner, metrics-server) from it, and nothing answers (https://registry-1.docker.io/v2/: ENOTFOUND)`,
    );
    expect(formatProblems(problems, { controller: "traefik" })).toMatch(/\(or test a cluster that runs Traefik: --target cluster\)$/);
  });

  it("with --preload-images and everything on the host, nothing is missing", async () => {
    const { problems } = await k3sPreflight({ ...base, preloadImages: true, docker: have(TRAEFIK_K3S_IMAGE, TRAEFIK_IMAGE, ECHO_IMAGE) });
    expect(problems).toEqual([]);
  });

  it("a --k3s-image whose packaged chart lacks the provider is named before anything starts", async () => {
    const { problems } = await k3sPreflight({ ...base, k3sImage: "rancher/k3s:v1.35.0-k3s1", preloadImages: true, docker: have("rancher/k3s:v1.35.0-k3s1", TRAEFIK_IMAGE, ECHO_IMAGE) });
    expect(problems).toEqual([
      {
        what: "image rancher/k3s:v1.35.0-k3s1 for --controller traefik",
        why: `rancher/k3s:v1.35.0-k3s1 packages Traefik v3.5.1, whose Helm chart has no providers.kubernetesIngressNGINX (it came with chart v40.0.0, for Traefik v3.7.0) and, packaged by k3s without a values schema, would drop it silently; use ${TRAEFIK_K3S_IMAGE}`,
        remedy: `omit --k3s-image (the default is ${TRAEFIK_K3S_IMAGE}) or pass a k3s known to package Traefik v3.7 or newer`,
      },
    ]);
  });
});

describe("the proof of a Traefik run", () => {
  it("takes the HelmChartConfig's SHA-256 where an ingress-nginx run has its manifest's", () => {
    const evidence = (target: object) => ({
      target: { kind: "k3s", versions: { kubernetes: "v1.37.1+k3s1", controller: `traefik ${TRAEFIK_VERSION}` }, controllerImages: [{ image: TRAEFIK_IMAGE, imageID: `docker.io/library/traefik@sha256:${"e".repeat(64)}` }], ...target },
      scenarios: [{ id: "MTLS-GUIDE-001", verdict: "pass", mismatches: [], observed: { upstreamReached: true } }],
      totals: { total: 1, fail: 0, checked: 1 },
    });
    const proven = judgeProof(evidence({ traefik: { config: { sha256: "a".repeat(64) } } }), 1);
    expect(proven.gaps).toEqual([]);
    expect(proven.facts[0]).toBe(`Kubernetes v1.37.1+k3s1, traefik ${TRAEFIK_VERSION}`);
    expect(judgeProof(evidence({}), 1).gaps).toEqual(["no controller manifest SHA-256 on record"]);
  });
});
