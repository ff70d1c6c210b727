// Puts the host's Docker into the state a CI runner is in after pulling a digest-pinned image such
// as `registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:<index digest>`: the image is present,
// untagged, known only by a RepoDigest that is the digest of a multi-platform index.
//
// Nothing is pulled from the internet: a one-file image is built `FROM scratch`, pushed to a tiny
// registry on 127.0.0.1, wrapped in an image index (as registry.k8s.io serves its images), the
// local copy removed, and the image pulled back as `name:tag@sha256:<index digest>`.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TinyRegistry } from "./tiny-registry.ts";

const execFileAsync = promisify(execFile);

/**
 * Runs the docker CLI without blocking the event loop: the registry the CLI talks to may be
 * served by this very process. Resolves to trimmed stdout; rejects with stderr in the message.
 */
export async function docker(...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync("docker", args, { encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`docker ${args.join(" ")}: ${(e.stderr || e.message).trim()}`, { cause: error });
  }
}

export interface PulledByDigest {
  /** `127.0.0.1:PORT/mtls-test/<unique>` */
  repository: string;
  tag: string;
  /** The index digest the reference pins (what the release manifest writes). */
  indexDigest: string;
  /** The single-platform manifest `docker push` wrote (not what the reference names). */
  manifestDigest: string;
  /** `repository:tag@indexDigest`, as a release manifest writes it. */
  ref: string;
  /** The host's image ID (the config digest). */
  imageId: string;
  /** Removes every tag and digest reference of the repository and the image itself. */
  remove(): Promise<void>;
}

/** A repository name no other run uses: `mtls-test/<prefix>-<hex>`. */
export const uniqueRepositoryPath = (prefix: string) => `mtls-test/${prefix}-${randomBytes(5).toString("hex")}`;

/** Builds a one-file image (`FROM scratch`), unique to this call, tagged `name`. Returns its ID. */
export async function buildTinyImage(name: string, content = randomBytes(16).toString("hex")): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "tiny-image-"));
  try {
    writeFileSync(join(dir, "payload.txt"), `${content}\n`);
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\nCOPY payload.txt /payload.txt\n");
    await docker("build", "-q", "-t", name, dir);
    return await docker("image", "inspect", "--format", "{{.Id}}", name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every image ID of `repository` (by any tag or digest), for clean-up. */
export async function imageIdsOf(repository: string): Promise<string[]> {
  const out = await docker("images", "--no-trunc", "--format", "{{.ID}}", repository);
  return [...new Set(out.split("\n").filter(Boolean))];
}

/** Removes `ids` and every reference to them; an image already gone is fine. */
export async function removeImages(ids: string[]): Promise<void> {
  for (const id of new Set(ids)) {
    try {
      await docker("rmi", "-f", id);
    } catch {
      // already removed
    }
  }
}

export async function pullByDigest(registry: TinyRegistry, repositoryPath = uniqueRepositoryPath("tiny"), tag = "v1"): Promise<PulledByDigest> {
  const repository = `${registry.host}/${repositoryPath}`;
  const builtId = await buildTinyImage(`${repository}:${tag}`);
  await docker("push", `${repository}:${tag}`);

  const pushed = registry.manifests.get(repositoryPath)?.get(tag);
  if (!pushed) throw new Error(`docker push left no manifest ${repositoryPath}:${tag} in the registry`);
  const manifest = JSON.parse(pushed.body.toString("utf8")) as { config: { digest: string } };
  const config = JSON.parse(registry.blobs.get(manifest.config.digest)!.toString("utf8")) as { architecture: string; os: string; variant?: string };
  // registry.k8s.io serves an index; the tag and the pinned digest name it, not the platform manifest.
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.list.v2+json",
      manifests: [
        {
          mediaType: pushed.mediaType,
          size: pushed.body.length,
          digest: pushed.digest,
          platform: { architecture: config.architecture, os: config.os, ...(config.variant ? { variant: config.variant } : {}) },
        },
      ],
    }),
  );
  const indexDigest = registry.putManifest(repositoryPath, tag, index, "application/vnd.docker.distribution.manifest.list.v2+json");

  // Forget the local image entirely, then pull it back the way a digest-pinned manifest names it.
  await removeImages([...(await imageIdsOf(repository)), builtId]);
  const ref = `${repository}:${tag}@${indexDigest}`;
  await docker("pull", ref);
  const imageId = await docker("image", "inspect", "--format", "{{.Id}}", `${repository}@${indexDigest}`);
  return {
    repository,
    tag,
    indexDigest,
    manifestDigest: pushed.digest,
    ref,
    imageId,
    remove: async () => removeImages([...(await imageIdsOf(repository)), imageId]),
  };
}
