// The k3s preflight on a machine without network, as these machines are: every missing thing in
// one list, each with its remedy. The host's engine answers as dockerode does (a 404 error with
// statusCode for an image it lacks); fetch fails as undici's does without DNS (TypeError "fetch
// failed", cause ENOTFOUND); registries and mirrors that answer are servers on loopback.
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ECHO_IMAGE } from "../manifests/manifests.ts";
import { freePort } from "../support/net.ts";
import { STAND_IN_MANIFEST } from "../testing/stand-in-manifest.ts";
import { hostWith } from "../testing/host-images.ts";
import { formatProblems, k3sPreflight, registryProblem } from "./k3s-preflight.ts";

const CONTROLLER = `registry.k8s.io/ingress-nginx/controller:v9.9.9@sha256:${"a".repeat(64)}`;


/** No DNS: every name fails as undici's fetch does; loopback URLs are really fetched. */
const offlineFetch: typeof fetch = async (input, init) => {
  const url = new URL(String(input));
  if (url.hostname === "127.0.0.1") return fetch(input, init);
  throw new TypeError("fetch failed", { cause: Object.assign(new Error(`getaddrinfo ENOTFOUND ${url.hostname}`), { code: "ENOTFOUND" }) });
};

let registry: Server;
let registryUrl: string;
let manifestFile: string;
let dir: string;
// The cache the preflight reads is this file's alone; the worker's own is put back afterwards
// (test files share workers).
const cacheHomeBefore = process.env.XDG_CACHE_HOME;
beforeAll(async () => {
  // A registry's /v2/ as registries answer an anonymous client: 401 with a challenge.
  registry = createServer((_req, res) => res.writeHead(401, { "www-authenticate": 'Bearer realm="x"' }).end());
  await new Promise<void>((r) => registry.listen(0, "127.0.0.1", r));
  registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), "preflight-"));
  manifestFile = join(dir, "deploy.yaml");
  writeFileSync(manifestFile, STAND_IN_MANIFEST);
  process.env.XDG_CACHE_HOME = join(dir, "cache");
});
afterAll(async () => {
  await new Promise<void>((r) => registry.close(() => r()));
  if (cacheHomeBefore === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = cacheHomeBefore;
  rmSync(dir, { recursive: true, force: true });
});

const base = {
  k3sImage: "rancher/k3s:v1.35.0-k3s1",
  hostImages: ["testcontainers/ryuk:0.14.0"],
  controllerVersion: "v1.15.1",
  fetchImpl: offlineFetch,
  pull: async (ref: string) => {
    throw new Error(`(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host (${ref})`);
  },
};

describe("k3s preflight without network", () => {
  it("names every missing thing at once: the manifest, the host's images, each registry k3s would pull from", async () => {
    const { problems } = await k3sPreflight({ ...base, docker: hostWith({}) });
    expect(problems.map((p) => p.what)).toEqual([
      "the ingress-nginx v1.15.1 manifest",
      "image rancher/k3s:v1.35.0-k3s1 (the host's Docker starts it)",
      "image testcontainers/ryuk:0.14.0 (the host's Docker starts it)",
      "registry docker.io",
    ]);
    expect(problems[0]!.why).toMatch(/could not download the ingress-nginx v1\.15\.1 manifest from https:\/\/raw\.githubusercontent\.com\/kubernetes\/ingress-nginx\/controller-v1\.15\.1\/deploy\/static\/provider\/cloud\/deploy\.yaml: fetch failed/);
    expect(problems[0]!.remedy).toBe("on a connected machine: curl -fsSLo deploy.yaml https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.15.1/deploy/static/provider/cloud/deploy.yaml; then pass --controller-manifest deploy.yaml");
    expect(problems[1]!.why).toContain("no such host");
    expect(problems[3]!.why).toBe(`k3s pulls ${ECHO_IMAGE}, k3s's system images (pause, coredns, klipper-lb, local-path-provisioner, metrics-server) from it, and nothing answers (https://registry-1.docker.io/v2/: ENOTFOUND)`);
    const text = formatProblems(problems);
    expect(text.split("\n")[0]).toBe("the k3s target cannot run here: 4 thing(s) missing");
    expect(text).toContain("to fix: docker pull rancher/k3s:v1.35.0-k3s1");
  });

  it("with the manifest given: its images' registry joins the list", async () => {
    const { problems } = await k3sPreflight({ ...base, controllerManifest: manifestFile, docker: hostWith({}) });
    expect(problems.map((p) => p.what)).toEqual(["image rancher/k3s:v1.35.0-k3s1 (the host's Docker starts it)", "image testcontainers/ryuk:0.14.0 (the host's Docker starts it)", "registry docker.io", "registry registry.k8s.io"]);
    expect(problems[3]!.why).toContain(CONTROLLER);
    expect(problems[3]!.remedy).toMatch(/^pass --registry-mirror registry\.k8s\.io=URL/);
  });

  it("a mirror that answers is enough (containerd tries it first); the host's images found; nothing missing", async () => {
    const images = { "rancher/k3s:v1.35.0-k3s1": { Id: "sha256:1" }, "testcontainers/ryuk:0.14.0": { Id: "sha256:2" } };
    const { problems } = await k3sPreflight({ ...base, controllerManifest: manifestFile, docker: hostWith(images), registryMirrors: [registryUrl] });
    expect(problems).toEqual([]);
  });

  it("--preload-images: each image the host lacks is named; registries are not asked (the user preloads)", async () => {
    const images = {
      "rancher/k3s:v1.35.0-k3s1": { Id: "sha256:1" },
      "testcontainers/ryuk:0.14.0": { Id: "sha256:2" },
      // Pulled by digest: known by repository@digest only.
      [`registry.k8s.io/ingress-nginx/controller@sha256:${"a".repeat(64)}`]: { Id: "sha256:3", RepoDigests: [`registry.k8s.io/ingress-nginx/controller@sha256:${"a".repeat(64)}`] },
    };
    const { problems } = await k3sPreflight({ ...base, controllerManifest: manifestFile, docker: hostWith(images), preloadImages: true });
    expect(problems.map((p) => p.what)).toEqual([
      `image registry.k8s.io/ingress-nginx/kube-webhook-certgen:v9.9.9@sha256:${"b".repeat(64)} (--preload-images)`,
      `image ${ECHO_IMAGE} (--preload-images)`,
    ]);
  });

  it("a pull that ends without an error but without the image is still a problem (testcontainers resolves on the stream's end)", async () => {
    const { problems } = await k3sPreflight({ ...base, controllerManifest: manifestFile, docker: hostWith({}), registryMirrors: [registryUrl], pull: async () => undefined });
    expect(problems.map((p) => p.what)).toEqual(["image rancher/k3s:v1.35.0-k3s1 (the host's Docker starts it)", "image testcontainers/ryuk:0.14.0 (the host's Docker starts it)"]);
    expect(problems[0]!.why).toBe("not on the host, and the pull failed");
  });
});

describe("registryProblem", () => {
  it("any HTTP answer counts (401 is what registries say to anonymous clients); a closed port does not", async () => {
    expect(await registryProblem(registryUrl)).toBeUndefined();
    // Port 1 is one fetch refuses to use at all ("bad port"): a free port nothing listens on.
    expect(await registryProblem(`http://127.0.0.1:${await freePort()}`)).toBe("ECONNREFUSED");
  });
});
