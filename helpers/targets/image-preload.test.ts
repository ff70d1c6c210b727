// Preloading digest-pinned images into k3s. The engine tests reproduce, with Docker as it runs
// here and a registry on 127.0.0.1, the state a CI runner is in after pulling a digest-pinned
// image; they show that saving by the digest loses the tag k3s needs, and that the preload keeps it.
// They need a container engine (.ci/run starts one); without it they skip and say why.
import { execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { getContainerRuntimeClient } from "testcontainers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STAND_IN_MANIFEST } from "../testing/stand-in-manifest.ts";
import { buildTinyImage, docker, imageIdsOf, pullByDigest, removeImages, uniqueRepositoryPath, type PulledByDigest } from "../testing/pulled-by-digest.ts";
import { holdEngineLock } from "../testing/engine-lock.ts";
import { startTinyRegistry, type TinyRegistry } from "../testing/tiny-registry.ts";
import { inspectManifest } from "./controller-manifest.ts";
import { containerEngineAnswers } from "./engine.ts";
import { K3sTarget } from "./k3s-target.ts";
import {
  configDigestOf,
  confirmPreloaded,
  k3sImageStates,
  normalizeImageRef,
  parseCrictlImages,
  parseImageRef,
  preloadTag,
  readArchiveManifest,
  readTarEntry,
  rewriteManifestImages,
  savePreloadImages,
  type HostEngine,
  type PreloadedImage,
} from "./image-preload.ts";

const NO_ENGINE = "no container engine answers on this machine (.ci/run installs and starts dockerd)";
const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;

/** manifest.json of a tar, read with the tar CLI: an oracle independent of readTarEntry. */
const tarManifest = (file: string) => JSON.parse(execFileSync("tar", ["-xOf", file, "manifest.json"], { encoding: "utf8" })) as Array<{ RepoTags: string[] | null }>;
const tarList = (file: string) => execFileSync("tar", ["-tf", file], { encoding: "utf8" }).split("\n").filter(Boolean);

describe("image references", () => {
  it("splits repository, tag and digest; a registry port is not a tag", () => {
    expect(parseImageRef(`registry.k8s.io/ingress-nginx/controller:v1.15.1@${A}`)).toEqual({ repository: "registry.k8s.io/ingress-nginx/controller", tag: "v1.15.1", digest: A });
    expect(parseImageRef("127.0.0.1:5000/mtls-test/tiny")).toEqual({ repository: "127.0.0.1:5000/mtls-test/tiny" });
    expect(parseImageRef(`127.0.0.1:5000/mtls-test/tiny@${B}`)).toEqual({ repository: "127.0.0.1:5000/mtls-test/tiny", digest: B });
    expect(parseImageRef("node:24-alpine")).toEqual({ repository: "node", tag: "24-alpine" });
  });

  it("the preload tag is the reference without its digest", () => {
    expect(preloadTag(`registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.9@${A}`)).toBe("registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.9");
    expect(preloadTag("node:24-alpine")).toBe("node:24-alpine");
    expect(preloadTag(`localhost:5000/x@${B}`)).toBe("localhost:5000/x:sha256-bbbbbbbbbbbbbbbb");
    expect(preloadTag("busybox")).toBe("busybox:latest");
  });

  it("normalises as the CRI names images", () => {
    expect(normalizeImageRef("node:24-alpine")).toBe("docker.io/library/node:24-alpine");
    expect(normalizeImageRef("testcontainers/ryuk:0.14.0")).toBe("docker.io/testcontainers/ryuk:0.14.0");
    expect(normalizeImageRef("rancher/k3s")).toBe("docker.io/rancher/k3s:latest");
    expect(normalizeImageRef("localhost/a/b:1")).toBe("localhost/a/b:1");
    expect(normalizeImageRef("registry.k8s.io/pause:3.10")).toBe("registry.k8s.io/pause:3.10");
  });
});

describe("rewriting the controller manifest", () => {
  const { objects, images } = inspectManifest(STAND_IN_MANIFEST);
  const controller = images.find((i) => i.includes("/controller:"))!;
  const certgen = images.find((i) => i.includes("kube-webhook-certgen"))!;

  it("points containers at the saved tag with IfNotPresent, and leaves the input and other images alone", () => {
    const before = JSON.stringify(objects);
    const { objects: out, rewritten } = rewriteManifestImages(objects, { [controller]: preloadTag(controller) });
    expect(JSON.stringify(objects)).toBe(before);
    expect(rewritten).toEqual([{ kind: "Deployment", name: "ingress-nginx-controller", container: "controller", from: controller, to: "registry.k8s.io/ingress-nginx/controller:v9.9.9" }]);
    const after = inspectManifest(out.map((o) => JSON.stringify(o)).join("\n---\n"));
    expect(after.images).toEqual(["registry.k8s.io/ingress-nginx/controller:v9.9.9", certgen].sort());
    const deployment = out.find((o) => o.kind === "Deployment") as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
    expect(deployment.spec.template.spec.containers[0]).toMatchObject({ image: "registry.k8s.io/ingress-nginx/controller:v9.9.9", imagePullPolicy: "IfNotPresent" });
    const job = out.find((o) => o.kind === "Job") as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
    expect(job.spec.template.spec.containers[0]!.imagePullPolicy).toBeUndefined();
  });

  it("finds init containers and pod templates of any kind", () => {
    const cron = {
      kind: "CronJob",
      metadata: { name: "c" },
      spec: { jobTemplate: { spec: { template: { spec: { initContainers: [{ name: "init", image: certgen, imagePullPolicy: "Always" }], containers: [{ name: "main", image: "busybox" }] } } } } },
    };
    const { objects: out, rewritten } = rewriteManifestImages([cron], { [certgen]: preloadTag(certgen) });
    expect(rewritten.map((r) => [r.kind, r.container])).toEqual([["CronJob", "init"]]);
    const pod = (out[0] as typeof cron).spec.jobTemplate.spec.template.spec;
    expect(pod.initContainers[0]).toEqual({ name: "init", image: "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v9.9.9", imagePullPolicy: "IfNotPresent" });
    expect(pod.containers[0]).toEqual({ name: "main", image: "busybox" });
  });
});

// The shape crictl prints: protojson of the CRI ListImagesResponse with EmitDefaultValues
// (cri-tools cmd/crictl/util.go protobufObjectToJSON): uint64 size as a string, Int64Value uid as
// an object, empty fields present.
const CRICTL_OUTPUT = `{
  "images": [
    {
      "id": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
      "repoTags": ["registry.k8s.io/ingress-nginx/controller:v9.9.9"],
      "repoDigests": ["registry.k8s.io/ingress-nginx/controller@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"],
      "size": "104857600",
      "uid": { "value": "101" },
      "username": "",
      "spec": null,
      "pinned": true
    },
    {
      "id": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
      "repoTags": ["docker.io/library/node:24-alpine"],
      "repoDigests": [],
      "size": "50000000",
      "uid": null,
      "username": "",
      "spec": null,
      "pinned": false
    },
    {
      "id": "sha256:3333333333333333333333333333333333333333333333333333333333333333",
      "repoTags": ["registry.k8s.io/ingress-nginx/kube-webhook-certgen:v9.9.9"],
      "repoDigests": [],
      "size": "1",
      "uid": null,
      "username": "",
      "spec": null,
      "pinned": true
    },
    {
      "id": "sha256:4444444444444444444444444444444444444444444444444444444444444444",
      "repoTags": [],
      "repoDigests": ["docker.io/rancher/mirrored-pause@sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"],
      "size": "1",
      "uid": null,
      "username": "",
      "spec": null,
      "pinned": true
    }
  ]
}`;

/** A saved image; on the classic store the host's image ID is the config digest, on the containerd store it is not. */
const saved = (ref: string, configDigest: string, hostImageId = configDigest): PreloadedImage => ({
  ref,
  savedAs: preloadTag(ref),
  digest: parseImageRef(ref).digest ?? null,
  digestCheck: parseImageRef(ref).digest ? "verified" : "not-pinned",
  hostImageId,
  configDigest,
  hostRepoDigests: [],
  archive: "/dev/null",
});
const id = (c: string) => `sha256:${c.repeat(64)}`;
const SAVED = [
  saved(`registry.k8s.io/ingress-nginx/controller:v9.9.9@${A}`, id("1")),
  saved("node:24-alpine", id("2")),
  saved(`registry.k8s.io/ingress-nginx/kube-webhook-certgen:v9.9.9@${B}`, id("9")),
  saved("registry.k8s.io/not-there:v1", id("5")),
];

describe("what k3s holds (crictl images -o json)", () => {
  it("parses crictl's JSON", () => {
    const images = parseCrictlImages(CRICTL_OUTPUT);
    expect(images).toHaveLength(4);
    expect(images[0]).toEqual({
      id: id("1"),
      repoTags: ["registry.k8s.io/ingress-nginx/controller:v9.9.9"],
      repoDigests: [`registry.k8s.io/ingress-nginx/controller@${id("c")}`],
      pinned: true,
    });
    expect(() => parseCrictlImages("[]")).toThrow(/no images array/);
    expect(() => parseCrictlImages("not json")).toThrow();
  });

  it("an image counts as imported only under its saved tag, with the host's image ID, pinned by k3s", () => {
    const states = k3sImageStates(parseCrictlImages(CRICTL_OUTPUT), SAVED).map((s) => [s.image.savedAs, s.state]);
    expect(states).toEqual([
      ["registry.k8s.io/ingress-nginx/controller:v9.9.9", "imported"],
      ["node:24-alpine", "not-pinned"],
      ["registry.k8s.io/ingress-nginx/kube-webhook-certgen:v9.9.9", "different-image"],
      ["registry.k8s.io/not-there:v1", "absent"],
    ]);
  });

  it("on Docker's containerd image store the host's image ID is the manifest's digest: k3s's config-digest ID is compared with the archive's config, so the import is still confirmed", () => {
    // As Docker 29's containerd store inspects it: Id = the index/manifest digest; the archive names the config.
    const c8d = [saved(`registry.k8s.io/ingress-nginx/controller:v9.9.9@${A}`, id("1"), id("e"))];
    expect(k3sImageStates(parseCrictlImages(CRICTL_OUTPUT), c8d).map((s) => s.state)).toEqual(["imported"]);
  });

  it("the evidence lists only what k3s imported, and says why the others are missing", async () => {
    const logs: string[] = [];
    const calls: string[][] = [];
    const container = { exec: async (cmd: string[]) => (calls.push(cmd), { exitCode: 0, stdout: CRICTL_OUTPUT, stderr: "" }) };
    const evidence = await confirmPreloaded(container, SAVED, (l) => logs.push(l));
    expect(calls).toEqual([["crictl", "images", "-o", "json"]]);
    expect(evidence).toEqual([
      { ref: SAVED[0]!.ref, savedAs: "registry.k8s.io/ingress-nginx/controller:v9.9.9", digest: A, digestCheck: "verified", hostImageId: id("1"), configDigest: id("1"), k3s: "imported" },
    ]);
    expect(logs).toHaveLength(3);
    expect(logs.join("\n")).toContain("node:24-alpine was saved but not imported by k3s (k3s has node:24-alpine but not as an import");
    expect(logs.join("\n")).toContain(`is ${id("3")}, not the saved ${id("9")}`);
    expect(logs.join("\n")).toContain("k3s has no registry.k8s.io/not-there:v1");
  });

  it("when crictl cannot be asked, nothing is claimed: every saved image is unconfirmed", async () => {
    for (const container of [
      { exec: async () => ({ exitCode: 1, stdout: "", stderr: "crictl: command not found" }) },
      { exec: async () => ({ exitCode: 0, stdout: "garbage", stderr: "" }) },
      { exec: async (): Promise<never> => Promise.reject(new Error("container gone")) },
      { exec: () => new Promise<never>(() => undefined) },
    ]) {
      const logs: string[] = [];
      const evidence = await confirmPreloaded(container, SAVED.slice(0, 1), (l) => logs.push(l), 200);
      expect(evidence.map((e) => e.k3s)).toEqual(["unconfirmed"]);
      expect(logs[0]).toMatch(/could not ask k3s which images it imported/);
    }
    expect(await confirmPreloaded({ exec: () => Promise.reject(new Error("not called")) }, [], () => undefined)).toEqual([]);
  });
});

describe("the config digest a saved archive names, from both Docker image stores", () => {
  it("classic store (`<hex>.json`) and Docker 25+ OCI layout from either store (`blobs/sha256/<hex>`), read from real tar archives", async () => {
    const dir = mkdtempSync(join(tmpdir(), "preload-stores-"));
    try {
      const hex = "c".repeat(64);
      const layouts = {
        // moby v20.10.24 image/tarexport/save.go: <config>.json, <layer>/layer.tar, manifest.json, repositories
        classic: { files: { [`${hex}.json`]: "{}", "manifest.json": JSON.stringify([{ Config: `${hex}.json`, RepoTags: ["registry.k8s.io/x:v1"], Layers: ["d/layer.tar"] }]), repositories: "{}" } },
        // Docker 25+ (and the containerd store): an OCI image layout with manifest.json beside index.json
        oci: { files: { "oci-layout": '{"imageLayoutVersion":"1.0.0"}', "index.json": "{}", [`blobs/sha256/${hex}`]: "{}", "manifest.json": JSON.stringify([{ Config: `blobs/sha256/${hex}`, RepoTags: ["registry.k8s.io/x:v1"], Layers: [`blobs/sha256/${"d".repeat(64)}`] }]) } },
      };
      for (const [name, { files }] of Object.entries(layouts)) {
        const src = join(dir, name);
        for (const [f, content] of Object.entries(files)) {
          mkdirSync(dirname(join(src, f)), { recursive: true });
          writeFileSync(join(src, f), content);
        }
        const file = join(dir, `${name}.tar`);
        execFileSync("tar", ["-cf", file, "-C", src, ...Object.keys(files)]);
        const [item] = await readArchiveManifest(file);
        expect(configDigestOf(item!), name).toBe(`sha256:${hex}`);
      }
      expect(configDigestOf({ Config: "something-else", RepoTags: null, Layers: [] })).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("reading a tar without unpacking it", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "preload-tar-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds manifest.json after other entries, and long names in ustar, pax and GNU archives", async () => {
    const src = join(dir, "src");
    const long = `${"d".repeat(120)}/${"f".repeat(110)}.json`;
    mkdirSync(join(src, "d".repeat(120)), { recursive: true });
    writeFileSync(join(src, long), '{"long":true}');
    writeFileSync(join(src, "layer.tar"), Buffer.alloc(70_000, 7));
    writeFileSync(join(src, "manifest.json"), '[{"Config":"c.json","RepoTags":["x:1"],"Layers":[]}]');
    for (const format of ["ustar", "pax", "gnu"]) {
      const file = join(dir, `${format}.tar`);
      const names = format === "ustar" ? ["layer.tar", "manifest.json"] : ["layer.tar", long, "manifest.json"];
      execFileSync("tar", [`--format=${format}`, "-cf", file, "-C", src, ...names]);
      expect((await readArchiveManifest(file))[0]!.RepoTags).toEqual(["x:1"]);
      if (format !== "ustar") expect((await readTarEntry(file, long))?.toString()).toBe('{"long":true}');
      expect(await readTarEntry(file, "absent")).toBeUndefined();
    }
  });
});

describe("preloading from Docker as it runs here", () => {
  // Builds, pulls, loads and removes images: not while another file compares the engine's.
  holdEngineLock();
  let engine = false;
  let registry: TinyRegistry | undefined;
  let pulled: PulledByDigest | undefined;
  let host: HostEngine;
  let dir: string;
  const extraIds: string[] = [];
  const extraRepositories: string[] = [];

  beforeAll(async () => {
    engine = await containerEngineAnswers();
    dir = mkdtempSync(join(tmpdir(), "preload-engine-"));
    if (!engine) return;
    host = (await getContainerRuntimeClient()).container.dockerode;
    registry = await startTinyRegistry();
    // Named before the pull, so that afterAll cleans up even if the pull fails half-way.
    const repositoryPath = uniqueRepositoryPath("tiny");
    extraRepositories.push(`${registry.host}/${repositoryPath}`);
    pulled = await pullByDigest(registry, repositoryPath);
  }, 180_000);

  afterAll(async () => {
    await pulled?.remove();
    for (const r of extraRepositories) await removeImages(await imageIdsOf(r));
    await removeImages(extraIds);
    await registry?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("the runner's state: pulled by an index digest, the image has no tag, only that RepoDigest", async (ctx) => {
    if (!engine) ctx.skip(NO_ENGINE);
    const p = pulled!;
    const inspect = JSON.parse(await docker("image", "inspect", p.imageId)) as Array<{ RepoTags: string[]; RepoDigests: string[] }>;
    expect(inspect[0]!.RepoTags).toEqual([]);
    expect(inspect[0]!.RepoDigests).toEqual([`${p.repository}@${p.indexDigest}`]);
    // The pinned digest is the index's, not the pushed platform manifest's.
    expect(p.indexDigest).not.toBe(p.manifestDigest);
    // Only loopback was used.
    expect(registry!.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(registry!.requests.some((r) => r.method === "PATCH" || r.method === "PUT")).toBe(true);
  });

  it("the defect: saving by the digest reference gives an archive without RepoTags, which k3s cannot name", async (ctx) => {
    if (!engine) ctx.skip(NO_ENGINE);
    const p = pulled!;
    const file = join(dir, "by-digest.tar");
    // What k3s-target's saveImages did: dockerode getImage(ref).get() on the manifest's reference.
    await pipeline(await host.getImage(p.ref).get(), createWriteStream(file));
    const manifest = tarManifest(file);
    expect(manifest).toHaveLength(1);
    expect(manifest[0]!.RepoTags ?? []).toEqual([]);
    expect(tarList(file)).not.toContain("repositories");
    expect((await readArchiveManifest(file))[0]!.RepoTags ?? []).toEqual([]);
    // And the nightly cache's round trip: `docker load` of that archive brings back a dangling image.
    await p.remove();
    await docker("load", "-i", file);
    expect(JSON.parse(await docker("image", "inspect", "--format", "{{json .RepoTags}}", p.imageId))).toEqual([]);
    await expect(docker("image", "inspect", p.ref)).rejects.toThrow(/No such image/i);
    // Put the runner's state back for the next test.
    await removeImages([p.imageId]);
    await docker("pull", p.ref);
  });

  it("the fix: the archive carries the tag, the rewrite map points at it, the digest is verified", async (ctx) => {
    if (!engine) ctx.skip(NO_ENGINE);
    const p = pulled!;
    const missing = `${registry!.host}/${uniqueRepositoryPath("absent")}:v1@${A}`;
    const logs: string[] = [];
    const out = join(dir, "fixed");
    const result = await savePreloadImages([p.ref, missing], out, { docker: host, log: (l) => logs.push(l) });

    const tag = `${p.repository}:${p.tag}`;
    expect(result.rewrites).toEqual({ [p.ref]: tag });
    expect(result.missing).toEqual([missing]);
    expect(result.skipped).toEqual([]);
    expect(result.images).toHaveLength(1);
    const image = result.images[0]!;
    expect(image).toMatchObject({ ref: p.ref, savedAs: tag, digest: p.indexDigest, digestCheck: "verified", hostImageId: p.imageId });
    expect(tarManifest(image.archive)[0]!.RepoTags).toEqual([tag]);
    expect(tarList(image.archive)).toContain("repositories");
    // This engine's store is the classic one: the archive's config digest is the host's image ID
    // (on the containerd store it is not, and the config digest is what k3s's CRI reports).
    expect(image.configDigest).toBe(`sha256:${(tarManifest(image.archive)[0] as unknown as { Config: string }).Config.replace(/^blobs\/sha256\//, "").replace(/\.json$/, "")}`);
    expect(image.configDigest).toBe(p.imageId);
    expect(logs.join("\n")).toContain(`--preload-images: ${missing} is not in the host's Docker; k3s will pull it`);
    expect(logs.join("\n")).toContain(`preloading ${p.ref} as ${tag} (digest ${p.indexDigest} verified`);

    // The manifest that named the image by digest now names the tag k3s will hold.
    const objects = [{ kind: "Deployment", metadata: { name: "d" }, spec: { template: { spec: { containers: [{ name: "c", image: p.ref }] } } } }];
    const { objects: rewritten } = rewriteManifestImages(objects, result.rewrites);
    expect(JSON.stringify(rewritten)).toContain(`"image":"${tag}","imagePullPolicy":"IfNotPresent"`);

    // The nightly cache's round trip keeps the tag: after `docker load` the image is found by it.
    await p.remove();
    await docker("load", "-i", image.archive);
    expect(await docker("image", "inspect", "--format", "{{.Id}}", tag)).toBe(p.imageId);
    await removeImages([p.imageId]);
    await docker("pull", p.ref);
  });

  it("a host image pulled with another digest is not preloaded; a locally built one is, as unverifiable", async (ctx) => {
    if (!engine) ctx.skip(NO_ENGINE);
    const p = pulled!;
    // Same tag, but the manifest pins a digest the host's image was never pulled as.
    await docker("tag", p.imageId, `${p.repository}:${p.tag}`);
    const otherDigest = `${p.repository}:${p.tag}@${B}`;
    const local = `${registry!.host}/${uniqueRepositoryPath("local")}`;
    extraRepositories.push(local);
    extraIds.push(await buildTinyImage(`${local}:v2`));
    const localRef = `${local}:v2@${A}`;
    const logs: string[] = [];
    const result = await savePreloadImages([otherDigest, localRef], join(dir, "mixed"), { docker: host, log: (l) => logs.push(l) });

    expect(result.skipped.map((s) => s.ref)).toEqual([otherDigest]);
    expect(result.skipped[0]!.reason).toContain(`pulled as ${p.indexDigest}, not ${B}`);
    expect(result.rewrites).toEqual({ [localRef]: `${local}:v2` });
    expect(result.images[0]).toMatchObject({ digestCheck: "unverifiable", hostRepoDigests: [] });
    expect(tarManifest(result.images[0]!.archive)[0]!.RepoTags).toEqual([`${local}:v2`]);
    expect(logs.join("\n")).toContain("NOT verifiable on the host");
  });

  it("the k3s target preloads by tag and runs the controller from it (the run then stops at the k3s pull)", async (ctx) => {
    if (!engine) ctx.skip(NO_ENGINE);
    // A controller image of this run's own, pinned by a digest the host cannot verify (built here).
    const controller = `${registry!.host}/${uniqueRepositoryPath("controller")}`;
    extraRepositories.push(controller);
    extraIds.push(await buildTinyImage(`${controller}:v9.9.9`));
    const manifestFile = join(dir, "deploy.yaml");
    writeFileSync(manifestFile, STAND_IN_MANIFEST.replace("registry.k8s.io/ingress-nginx/controller", controller));
    const logs: string[] = [];
    const error = await new K3sTarget({ image: `rancher/k3s:not-on-this-host-${uniqueRepositoryPath("x").slice(-10)}`, controllerManifest: manifestFile, preloadImages: true })
      .start({ workDir: join(dir, "target-work"), reportDir: join(dir, "target-report"), log: (l) => logs.push(l) })
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const text = logs.join("\n");
    expect(text).toContain(`preloading ${controller}:v9.9.9@${A} as ${controller}:v9.9.9 (digest ${A} NOT verifiable on the host`);
    expect(text).toContain(`--preload-images: Deployment ingress-nginx-controller, container controller, runs ${controller}:v9.9.9 (the manifest's ${controller}:v9.9.9@${A})`);
    expect(text).toMatch(/kube-webhook-certgen:v9\.9\.9@sha256:b{64} is not in the host's Docker; k3s will pull it/);
    const archives = readdirSync(join(dir, "target-work", "images"));
    expect(archives).toHaveLength(1);
    expect(tarManifest(join(dir, "target-work", "images", archives[0]!))[0]!.RepoTags).toEqual([`${controller}:v9.9.9`]);
  });

  it("the command the nightly workflow runs saves the same tagged archives", (ctx) => {
    if (!engine) ctx.skip(NO_ENGINE);
    const p = pulled!;
    const out = join(dir, "cli");
    const stdout = execFileSync(process.execPath, [join(import.meta.dirname, "image-preload.ts"), "save", out], { input: `${p.ref}\n`, encoding: "utf8", timeout: 60_000 });
    expect(stdout).toContain("saved 1 image(s)");
    const files = readdirSync(out);
    expect(files).toHaveLength(1);
    expect(tarManifest(join(out, files[0]!))[0]!.RepoTags).toEqual([`${p.repository}:${p.tag}`]);
  });
});
