// Preloading the run's images into k3s so that k3s really uses them.
//
// The ingress-nginx release manifests pin their images by digest, e.g.
// `registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:<index digest>`. Saving such an image
// from Docker's classic image store and letting k3s import it does not work:
//
// - `docker pull name:tag@sha256:…` records only a digest reference, no tag
//   (moby v20.10.24 distribution/pull_v2.go:492-495: a Canonical ref → ReferenceStore.AddDigest only).
// - `docker save` of a digest reference writes `"RepoTags": null` and no `repositories` file
//   (moby v20.10.24 image/tarexport/save.go:70-72 skips Canonical refs; :209-231 builds RepoTags from
//   tagged refs only; :247 writes `repositories` only when there are tags). The archive has no
//   manifest digests at all: containerd synthesises a Docker schema2 manifest on import
//   (containerd v2.1.4 core/images/archive/importer.go:174-186), whose digest is not the registry's.
// - containerd names imported images only from RepoTags (importer.go:212-229: no RepoTags → an
//   unnamed manifest), and `Client.Import` creates image records only for named manifests
//   (client/import.go:198-204). k3s imports agent/images/*.tar with
//   `client.Import(ctx, r, WithAllPlatforms(true), WithSkipMissing())` and then adds
//   `name@<digest of the imported manifest>` (k3s-io/k3s pkg/agent/containerd/containerd.go,
//   client.Import in preloadFile :192, retagImages :277-287; line numbers counted in a source-index
//   copy of main, containerd v2 client).
// - The kubelet asks CRI for the pod's image; containerd's CRI resolves `name:tag@digest` as
//   `name@digest` (containerd v2.1.4 internal/cri/server/images/service.go:150-154 →
//   distribution/reference ParseDockerRef drops the tag of a tagged+digested ref,
//   normalize.go:59-85 as vendored in moby v20.10.24). Nothing imported has the registry's
//   index digest, so the kubelet pulls anyway: air-gapped, ImagePullBackOff.
//
// What this module does instead:
// 1. find each image on the host: by its digest reference (a RepoDigest of a pulled image), else by
//    `name:tag`; check that the host image's RepoDigests contain the manifest's digest;
// 2. tag it `name:tag` (the reference without the digest) and `docker save` it by that tag, so the
//    archive's manifest.json has RepoTags, which containerd turns into an image name;
// 3. rewrite the controller manifest's containers to that tag with `imagePullPolicy: IfNotPresent`;
//    the evidence keeps the original reference, the digest, the host image ID and the check;
// 4. after k3s is up, ask it (`crictl images -o json`) which of those it really holds.
import { createWriteStream } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

// ---------------------------------------------------------------------------------------------
// References

export interface ParsedImageRef {
  /** The repository as written, registry included (`registry.k8s.io/ingress-nginx/controller`). */
  repository: string;
  tag?: string;
  /** `sha256:<hex>` when the reference is pinned. */
  digest?: string;
}

/** Splits `repo[:tag][@digest]`; a `:` before the last `/` belongs to a registry's port. */
export function parseImageRef(ref: string): ParsedImageRef {
  const at = ref.indexOf("@");
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const rest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = rest.lastIndexOf(":");
  const tagged = colon > rest.lastIndexOf("/");
  return {
    repository: tagged ? rest.slice(0, colon) : rest,
    ...(tagged ? { tag: rest.slice(colon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

/**
 * The fully qualified repository, as containerd and the CRI name images: `node` →
 * `docker.io/library/node`, `testcontainers/ryuk` → `docker.io/testcontainers/ryuk`.
 * (distribution/reference normalize.go: a first component without `.` or `:` that is not
 * `localhost` is a Docker Hub path; single-component Hub names live under `library/`.)
 */
export function normalizeRepository(repository: string): string {
  const slash = repository.indexOf("/");
  const first = slash < 0 ? "" : repository.slice(0, slash);
  const isDomain = first !== "" && (first.includes(".") || first.includes(":") || first === "localhost");
  let domain = isDomain ? first : "docker.io";
  let path = isDomain ? repository.slice(slash + 1) : repository;
  if (domain === "index.docker.io") domain = "docker.io";
  if (domain === "docker.io" && !path.includes("/")) path = `library/${path}`;
  return `${domain}/${path}`;
}

/** A reference in the fully qualified form the CRI prints (a missing tag is `latest` unless pinned). */
export function normalizeImageRef(ref: string): string {
  const { repository, tag, digest } = parseImageRef(ref);
  const name = normalizeRepository(repository);
  if (digest) return tag ? `${name}:${tag}@${digest}` : `${name}@${digest}`;
  return `${name}:${tag ?? "latest"}`;
}

/**
 * The tag an image is saved under and the manifest is rewritten to: the reference without its
 * digest. A reference with a digest but no tag gets `sha256-<first 16 hex digits>`; one with
 * neither gets `latest`.
 */
export function preloadTag(ref: string): string {
  const { repository, tag, digest } = parseImageRef(ref);
  if (tag) return `${repository}:${tag}`;
  if (digest) return `${repository}:${digest.replace(":", "-").slice(0, "sha256-".length + 16)}`;
  return `${repository}:latest`;
}

// ---------------------------------------------------------------------------------------------
// The host's engine

/** The part of `docker image inspect` this module reads. */
export interface HostImageInfo {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
}

/** The dockerode calls used (testcontainers' `getContainerRuntimeClient().container.dockerode`). */
export interface HostEngine {
  getImage(name: string): {
    inspect(): Promise<HostImageInfo>;
    tag(options: { repo: string; tag: string }): Promise<unknown>;
    get(): Promise<NodeJS.ReadableStream>;
  };
}

/**
 * How the manifest's digest was checked against the host image:
 * - `verified`: the host image's RepoDigests contain the manifest's digest (it was pulled by it);
 * - `unverifiable`: the host image has no RepoDigest for this repository (built or `docker load`ed
 *   locally), so nothing says which digest it had;
 * - `not-pinned`: the reference has no digest (e.g. `node:24-alpine`).
 * A host image whose RepoDigests name the repository with *other* digests is not preloaded at all.
 */
export type DigestCheck = "verified" | "unverifiable" | "not-pinned";

export interface PreloadedImage {
  /** The reference as the manifest (or the run) writes it, digest included. */
  ref: string;
  /** The tag the archive carries and the rewritten manifest uses. */
  savedAs: string;
  /** The manifest's digest, or null for a reference without one. */
  digest: string | null;
  digestCheck: DigestCheck;
  /**
   * `sha256:…`: the host engine's image ID. On Docker's classic store it is the config digest;
   * on the containerd image store (Docker 29's default on new installs) it is the manifest's or
   * the index's digest (moby v29 daemon/containerd/image.go: the image's target descriptor).
   */
  hostImageId: string;
  /**
   * `sha256:…`: the image's config digest, read from the saved archive's manifest.json (`Config`:
   * `<hex>.json` from the classic store, `blobs/sha256/<hex>` from Docker 25+ on either store). It is
   * the image ID k3s's CRI reports (containerd internal/cri/store/image/image.go:163-166), on both stores.
   */
  configDigest: string;
  hostRepoDigests: string[];
  /** The tarball written for k3s's agent/images directory. */
  archive: string;
}

export interface PreloadResult {
  images: PreloadedImage[];
  /** Original reference → the tag that was saved, for every image in `images`. */
  rewrites: Record<string, string>;
  /** References the host's engine does not have: left to k3s to pull. */
  missing: string[];
  /** References found on the host but not preloaded, and why (left to k3s, digest and all). */
  skipped: Array<{ ref: string; reason: string }>;
}

export interface SaveOptions {
  docker: HostEngine;
  log?: (line: string) => void;
  /** File name for the i-th archive (default `image-<i>.tar`). */
  fileName?: (index: number, ref: string) => string;
}

const isNotFound = (error: unknown) => (error as { statusCode?: number }).statusCode === 404;

async function inspectOrUndefined(docker: HostEngine, name: string): Promise<HostImageInfo | undefined> {
  try {
    return await docker.getImage(name).inspect();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The RepoDigests of `info` for the same repository as `ref` (normalised), as `sha256:…` digests. */
function digestsForRepository(info: HostImageInfo, repository: string): string[] {
  const want = normalizeRepository(repository);
  return (info.RepoDigests ?? [])
    .map((d) => parseImageRef(d))
    .filter((d) => d.digest && normalizeRepository(d.repository) === want)
    .map((d) => d.digest!);
}

/**
 * The host image a reference names. A pulled digest-pinned image is known by `repository@digest`
 * (its RepoDigest); the tag in `name:tag@digest` plays no part in the lookup. Otherwise, or for a
 * locally built image, by tag.
 */
export async function findHostImage(docker: HostEngine, ref: string): Promise<HostImageInfo | undefined> {
  const { repository, digest } = parseImageRef(ref);
  const info = digest ? await inspectOrUndefined(docker, `${repository}@${digest}`) : undefined;
  return info ?? (await inspectOrUndefined(docker, digest ? preloadTag(ref) : ref));
}

/**
 * Finds each reference on the host, checks its digest, tags it with `preloadTag(ref)` and saves
 * it by that tag into `dir`. Each archive's manifest.json is read back: an archive without the tag
 * in its RepoTags (which k3s could not name) is deleted and the image left to k3s.
 */
export async function savePreloadImages(refs: string[], dir: string, options: SaveOptions): Promise<PreloadResult> {
  const { docker } = options;
  const log = options.log ?? (() => undefined);
  await mkdir(dir, { recursive: true });
  const result: PreloadResult = { images: [], rewrites: {}, missing: [], skipped: [] };

  for (const [index, ref] of [...new Set(refs)].entries()) {
    const { repository, digest } = parseImageRef(ref);
    const savedAs = preloadTag(ref);
    const info = await findHostImage(docker, ref);
    if (!info) {
      log(`--preload-images: ${ref} is not in the host's Docker; k3s will pull it (\`mtls-conformance images\` lists what to pull beforehand)`);
      result.missing.push(ref);
      continue;
    }

    const repoDigests = digestsForRepository(info, repository);
    let digestCheck: DigestCheck;
    if (!digest) digestCheck = "not-pinned";
    else if (repoDigests.includes(digest)) digestCheck = "verified";
    else if (repoDigests.length === 0) digestCheck = "unverifiable";
    else {
      const reason = `the host's ${savedAs} was pulled as ${repoDigests.join(", ")}, not ${digest}`;
      log(`--preload-images: not preloading ${ref}: ${reason}; k3s will pull it by its digest`);
      result.skipped.push({ ref, reason });
      continue;
    }

    const tagged = (info.RepoTags ?? []).some((t) => normalizeImageRef(t) === normalizeImageRef(savedAs));
    if (!tagged) {
      const previous = await inspectOrUndefined(docker, savedAs);
      const { repository: repo, tag } = parseImageRef(savedAs);
      await docker.getImage(info.Id).tag({ repo, tag: tag! });
      if (previous && previous.Id !== info.Id) log(`--preload-images: moved the host's tag ${savedAs} from ${previous.Id} to ${info.Id} (${ref})`);
    }

    const archive = join(dir, options.fileName?.(index, ref) ?? `image-${index}.tar`);
    await pipeline(await docker.getImage(savedAs).get(), createWriteStream(archive));
    const items = await readArchiveManifest(archive);
    const repoTags = items.flatMap((m) => m.RepoTags ?? []);
    const item = items.find((m) => (m.RepoTags ?? []).some((t) => normalizeImageRef(t) === normalizeImageRef(savedAs)));
    if (!item) {
      await rm(archive, { force: true });
      const reason = `the saved archive names ${repoTags.length ? repoTags.join(", ") : "no tag"}, not ${savedAs}`;
      log(`--preload-images: not preloading ${ref}: ${reason}; k3s will pull it`);
      result.skipped.push({ ref, reason });
      continue;
    }

    const check = digestCheck === "verified" ? `digest ${digest} verified` : digestCheck === "unverifiable" ? `digest ${digest} NOT verifiable on the host (no RepoDigest)` : "no digest in the reference";
    log(`preloading ${ref} as ${savedAs} (${check}; image ${info.Id})`);
    result.images.push({ ref, savedAs, digest: digest ?? null, digestCheck, hostImageId: info.Id, configDigest: configDigestOf(item) ?? info.Id, hostRepoDigests: info.RepoDigests ?? [], archive });
    result.rewrites[ref] = savedAs;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The archive `docker save` writes

/**
 * The config digest an archive's manifest.json entry names: `<hex>.json` (the classic store's
 * `docker save`, moby v20.10.24 image/tarexport/save.go:209-231) or `blobs/sha256/<hex>` (the OCI
 * layout Docker 25+ writes from either store); undefined for anything else.
 */
export function configDigestOf(item: ArchiveManifestItem): string | undefined {
  const m = /^(?:blobs\/sha256\/([0-9a-f]{64})|([0-9a-f]{64})\.json)$/.exec(item.Config);
  return m ? `sha256:${m[1] ?? m[2]}` : undefined;
}

/** One entry of a `docker save` archive's manifest.json (moby image/tarexport manifestItem). */
export interface ArchiveManifestItem {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

function tarString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString("utf8");
}

function tarSize(block: Buffer): number {
  if (block[124]! & 0x80) {
    // GNU base-256 for large sizes.
    let size = 0;
    for (let i = 125; i < 136; i++) size = size * 256 + block[i]!;
    return size;
  }
  const text = tarString(block, 124, 12).trim();
  return text ? parseInt(text, 8) : 0;
}

/**
 * Reads `name` from a tar file without unpacking it (ustar, pax `path` records and GNU long
 * names). Only headers are read until the entry is found, so a large archive costs little.
 */
export async function readTarEntry(file: string, name: string): Promise<Buffer | undefined> {
  const handle = await open(file, "r");
  try {
    const header = Buffer.alloc(512);
    let position = 0;
    let nextName: string | undefined;
    for (;;) {
      const { bytesRead } = await handle.read(header, 0, 512, position);
      if (bytesRead < 512 || header.every((b) => b === 0)) return undefined;
      const size = tarSize(header);
      const type = String.fromCharCode(header[156]!);
      const dataStart = position + 512;
      position = dataStart + Math.ceil(size / 512) * 512;
      const readData = async () => {
        const data = Buffer.alloc(size);
        await handle.read(data, 0, size, dataStart);
        return data;
      };
      if (type === "x" || type === "L") {
        if (size > MAX_MANIFEST_BYTES) continue;
        const data = await readData();
        if (type === "L") nextName = tarString(data, 0, data.length);
        else {
          const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
          if (path) nextName = path[1];
        }
        continue;
      }
      if (type === "g") continue;
      const prefix = tarString(header, 257, 5) === "ustar" ? tarString(header, 345, 155) : "";
      const entry = nextName ?? (prefix ? `${prefix}/${tarString(header, 0, 100)}` : tarString(header, 0, 100));
      nextName = undefined;
      if (entry.replace(/^\.\//, "") === name && (type === "0" || type === "\0")) {
        if (size > MAX_MANIFEST_BYTES) throw new Error(`${name} in ${file} is ${size} bytes: too large`);
        return readData();
      }
    }
  } finally {
    await handle.close();
  }
}

/** The manifest.json of a `docker save` archive (an error if it has none). */
export async function readArchiveManifest(file: string): Promise<ArchiveManifestItem[]> {
  const data = await readTarEntry(file, "manifest.json");
  if (!data) throw new Error(`${file} has no manifest.json: not a docker save archive`);
  return JSON.parse(data.toString("utf8")) as ArchiveManifestItem[];
}

// ---------------------------------------------------------------------------------------------
// The controller manifest

export interface ImageRewrite {
  kind: string;
  name: string;
  container: string;
  from: string;
  to: string;
}

/**
 * Points every container and init container whose image is a key of `rewrites` at the saved tag,
 * with `imagePullPolicy: IfNotPresent`, so the kubelet uses what k3s imported. Pure: the objects
 * given are not changed. Pod templates are found wherever they sit (Deployment, Job, CronJob, Pod…).
 */
export function rewriteManifestImages(
  objects: Array<Record<string, unknown>>,
  rewrites: Record<string, string>,
): { objects: Array<Record<string, unknown>>; rewritten: ImageRewrite[] } {
  const rewritten: ImageRewrite[] = [];
  const out = structuredClone(objects);
  for (const object of out) {
    const kind = String(object.kind ?? "");
    const name = String((object.metadata as { name?: string } | undefined)?.name ?? "");
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(walk);
      if (!value || typeof value !== "object") return;
      for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        if ((key === "containers" || key === "initContainers") && Array.isArray(child)) {
          for (const container of child as Array<Record<string, unknown>>) {
            const image = container?.image;
            if (typeof image !== "string" || !Object.hasOwn(rewrites, image)) continue;
            const to = rewrites[image]!;
            container.image = to;
            container.imagePullPolicy = "IfNotPresent";
            rewritten.push({ kind, name, container: String(container.name ?? ""), from: image, to });
          }
        } else walk(child);
      }
    };
    walk(object);
  }
  return { objects: out, rewritten };
}

// ---------------------------------------------------------------------------------------------
// What k3s holds

/** One image of `crictl images -o json`: the CRI `Image` message (cri-api api.proto:1575-1597). */
export interface CriImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  pinned: boolean;
}

/**
 * Parses `crictl images -o json`. crictl marshals the CRI ListImagesResponse with protojson
 * (cri-tools v1.35.0 cmd/crictl/image.go:204-205 → util.go:290-298,
 * `protojson.MarshalOptions{EmitDefaultValues: true, Indent: "  "}`), so fields carry their JSON
 * names: `{"images":[{"id":"sha256:…","repoTags":[…],"repoDigests":[…],"size":"123",…,"pinned":true}]}`
 * (cri-api runtime/v1 api.proto:1575-1602, `json=repoTags` in api.pb.go). k3s's own
 * scripts/airgap/generate-list.sh reads `.images[].repoTags[0]` from the same command.
 */
export function parseCrictlImages(output: string): CriImage[] {
  const doc = JSON.parse(output) as { images?: unknown } | null;
  if (!doc || typeof doc !== "object" || !Array.isArray(doc.images)) {
    throw new Error("not the output of `crictl images -o json` (no images array)");
  }
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : []);
  return (doc.images as Array<Record<string, unknown>>).map((i) => ({
    id: String(i.id ?? ""),
    repoTags: strings(i.repoTags ?? i.repo_tags),
    repoDigests: strings(i.repoDigests ?? i.repo_digests),
    pinned: i.pinned === true,
  }));
}

/**
 * Where k3s stands on one preloaded image:
 * - `imported`: k3s has the saved tag, for the same image ID, pinned — k3s pins what it imports
 *   from agent/images (k3s containerd.go labelImages :249-272 sets `io.cri-containerd.pinned`,
 *   which the CRI reports as `pinned`, containerd v2.1.4 internal/cri/store/image/image.go:178);
 * - `not-pinned`: same tag and ID but not pinned: pulled by the kubelet, or a k3s that does not pin;
 * - `different-image`: the tag names another image ID;
 * - `absent`: k3s has no image under the tag.
 * k3s's ID is compared with the config digest the saved archive names, which the CRI uses as the
 * image ID (containerd internal/cri/store/image/image.go:163-166) whichever store the host's Docker
 * has; the host's own image ID is that digest only on the classic store (moby v20.10.24
 * image/store.go:143-147).
 */
export type K3sImageState = "imported" | "not-pinned" | "different-image" | "absent";

export function k3sImageStates(images: CriImage[], preloaded: PreloadedImage[]): Array<{ image: PreloadedImage; state: K3sImageState; k3sImageId?: string }> {
  return preloaded.map((image) => {
    const want = normalizeImageRef(image.savedAs);
    const held = images.find((i) => i.repoTags.some((t) => normalizeImageRef(t) === want));
    if (!held) return { image, state: "absent" as const };
    // The config digest, not the host's image ID: on the containerd store they differ.
    const state: K3sImageState = held.id !== image.configDigest ? "different-image" : held.pinned ? "imported" : "not-pinned";
    return { image, state, k3sImageId: held.id };
  });
}

/** An entry of the evidence's `preloadedImages`. */
export interface PreloadEvidence {
  ref: string;
  savedAs: string;
  digest: string | null;
  digestCheck: DigestCheck;
  hostImageId: string;
  configDigest: string;
  /** `imported` when crictl confirmed it; `unconfirmed` when crictl could not be asked. */
  k3s: "imported" | "unconfirmed";
}

/** The container API used: testcontainers' `StartedTestContainer.exec`. */
export interface ExecContainer {
  exec(command: string[]): Promise<{ exitCode: number; stdout: string; stderr?: string; output?: string }>;
}

const evidence = (image: PreloadedImage, k3s: PreloadEvidence["k3s"]): PreloadEvidence => ({
  ref: image.ref,
  savedAs: image.savedAs,
  digest: image.digest,
  digestCheck: image.digestCheck,
  hostImageId: image.hostImageId,
  configDigest: image.configDigest,
  k3s,
});

/**
 * Asks k3s which preloaded images it holds (`crictl images -o json` in the k3s container; the
 * rancher/k3s image sets CRI_CONFIG_FILE to k3s's crictl.yaml, k3s package/Dockerfile:26) and
 * returns the evidence: only images k3s imported. The others are named in the log. When crictl
 * cannot be asked, every saved image is listed as `unconfirmed` rather than claimed.
 */
export async function confirmPreloaded(
  container: ExecContainer,
  preloaded: PreloadedImage[],
  log: (line: string) => void,
  timeoutMs = 30_000,
): Promise<PreloadEvidence[]> {
  if (!preloaded.length) return [];
  let images: CriImage[];
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    });
    const result = await Promise.race([container.exec(["crictl", "images", "-o", "json"]), timeout]).finally(() => clearTimeout(timer));
    if (result.exitCode !== 0) throw new Error(`exit ${result.exitCode}: ${(result.stderr || result.output || "").trim().split("\n")[0]}`);
    images = parseCrictlImages(result.stdout);
  } catch (error) {
    log(`--preload-images: could not ask k3s which images it imported (crictl images: ${(error as Error).message}); the evidence lists them as unconfirmed`);
    return preloaded.map((image) => evidence(image, "unconfirmed"));
  }
  const out: PreloadEvidence[] = [];
  for (const { image, state, k3sImageId } of k3sImageStates(images, preloaded)) {
    if (state === "imported") {
      out.push(evidence(image, "imported"));
      continue;
    }
    const why = {
      absent: `k3s has no ${image.savedAs}`,
      "different-image": `k3s's ${image.savedAs} is ${k3sImageId}, not the saved ${image.configDigest}`,
      "not-pinned": `k3s has ${image.savedAs} but not as an import (not pinned): it was pulled, or this k3s does not pin imports`,
    }[state];
    log(`--preload-images: ${image.ref} was saved but not imported by k3s (${why}); not listed as preloaded`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Command line, for CI's image cache: the same tags and archives the preload makes.
//   node helpers/targets/image-preload.ts save DIR [REF...]   (references on stdin when none given)

async function main(argv: string[]): Promise<number> {
  const [command, dir, ...given] = argv;
  if (command !== "save" || !dir) {
    process.stderr.write("usage: node helpers/targets/image-preload.ts save DIR [REF...]  (references on stdin when none)\n");
    return 2;
  }
  let refs = given;
  if (!refs.length) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    refs = Buffer.concat(chunks).toString("utf8").split(/\s+/).filter(Boolean);
  }
  const { getContainerRuntimeClient } = await import("testcontainers");
  const client = await getContainerRuntimeClient();
  const safe = (ref: string) => preloadTag(ref).replace(/[^A-Za-z0-9._-]+/g, "_");
  const result = await savePreloadImages(refs, dir, {
    docker: client.container.dockerode,
    log: (line) => process.stdout.write(`${line}\n`),
    fileName: (_, ref) => `${safe(ref)}.tar`,
  });
  process.stdout.write(`saved ${result.images.length} image(s) to ${dir}; missing ${result.missing.length}; skipped ${result.skipped.length}\n`);
  // A cache made from part of the set would stand for the whole week: say so, and let CI not store it.
  if (!completeImageSet(result)) {
    process.stdout.write(`incomplete: ${[...result.missing, ...result.skipped.map((s) => s.ref)].join(", ")} not saved; do not cache this set\n`);
    return 1;
  }
  return 0;
}

/** Every image asked for was saved: nothing missing on the host, nothing skipped. */
export function completeImageSet(result: Pick<PreloadResult, "missing" | "skipped">): boolean {
  return result.missing.length === 0 && result.skipped.length === 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}
