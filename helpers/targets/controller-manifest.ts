// ingress-nginx's official release manifest for a controller version: downloaded from the
// release tag once, cached on disk with its SHA-256, or read from a local file (air-gapped CI).
// Nothing third-party is stored in the repository.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ConfigError } from "../support/errors.ts";

export const DEFAULT_CONTROLLER_VERSION = "v1.15.1";
/** Raw files of the kubernetes/ingress-nginx repository; overridable for mirrors and tests. */
export const DEFAULT_MANIFEST_BASE_URL = "https://raw.githubusercontent.com/kubernetes/ingress-nginx";
/** The cloud provider's manifest: Service type LoadBalancer, which k3s's ServiceLB serves on port 443. */
export const MANIFEST_PATH = "deploy/static/provider/cloud/deploy.yaml";

const VERSION_PATTERN = /^v\d+\.\d+\.\d+$/;

export interface ControllerManifest {
  version: string;
  source: string;
  sha256: string;
  /** Where the bytes were read from: the cache, a fresh download, or a user's file. */
  origin: "cache" | "download" | "file";
  text: string;
  /** Container images the manifest runs (controller, webhook certgen), as written, digests included. */
  images: string[];
  objects: Array<Record<string, unknown>>;
}

/** `v1.15.1` or `controller-v1.15.1`; anything else is a configuration error (exit 2). */
export function parseControllerVersion(value: string): string {
  const version = value.trim().replace(/^controller-/, "");
  if (!VERSION_PATTERN.test(version)) {
    throw new ConfigError(`--controller-version "${value}" is not a release like v1.15.1 (a controller-vX.Y.Z tag)`);
  }
  return version;
}

export function manifestUrl(version: string, baseUrl = DEFAULT_MANIFEST_BASE_URL): string {
  return `${baseUrl.replace(/\/$/, "")}/controller-${version}/${MANIFEST_PATH}`;
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "mtls-conformance", "ingress-nginx");
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Parses the multi-document YAML and lists the images its workloads run. */
export function inspectManifest(text: string): { objects: Array<Record<string, unknown>>; images: string[] } {
  const objects = parseAllDocuments(text)
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((o): o is Record<string, unknown> => !!o && typeof o === "object" && "kind" in o);
  const images = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        if (k === "image" && typeof v === "string") images.add(v);
        else walk(v);
      }
    }
  };
  walk(objects);
  return { objects, images: [...images].sort() };
}

function checkLooksLikeController(text: string, source: string): void {
  const { objects } = inspectManifest(text);
  const hasController = objects.some(
    (o) => o.kind === "Deployment" && (o.metadata as { name?: string } | undefined)?.name === "ingress-nginx-controller",
  );
  if (!hasController) throw new ConfigError(`${source} does not look like an ingress-nginx manifest (no Deployment ingress-nginx-controller)`);
}

export interface ResolveOptions {
  version?: string;
  /** A local manifest instead of the download (air-gapped CI). */
  file?: string;
  cacheDir?: string;
  baseUrl?: string;
  fetchImpl?: typeof fetch;
  log?: (line: string) => void;
}

export async function resolveControllerManifest(options: ResolveOptions = {}): Promise<ControllerManifest> {
  const version = parseControllerVersion(options.version ?? DEFAULT_CONTROLLER_VERSION);
  const finish = (text: string, source: string, origin: ControllerManifest["origin"]): ControllerManifest => {
    checkLooksLikeController(text, source);
    const { objects, images } = inspectManifest(text);
    return { version, source, sha256: sha256(text), origin, text, images, objects };
  };

  if (options.file) {
    if (!existsSync(options.file)) throw new ConfigError(`--controller-manifest ${options.file}: no such file`);
    return finish(await readFile(options.file, "utf8"), options.file, "file");
  }

  const url = manifestUrl(version, options.baseUrl ?? process.env.MTLS_CONTROLLER_MANIFEST_BASE_URL);
  const dir = join(options.cacheDir ?? defaultCacheDir(), `controller-${version}`);
  const cached = join(dir, "deploy.yaml");
  const cachedSum = join(dir, "deploy.yaml.sha256");
  if (existsSync(cached) && existsSync(cachedSum)) {
    const text = await readFile(cached, "utf8");
    const recorded = (await readFile(cachedSum, "utf8")).trim().split(/\s+/)[0];
    // A cache entry that no longer matches its recorded checksum is not trusted: download again.
    if (recorded === sha256(text)) return finish(text, url, "cache");
    options.log?.(`cached manifest ${cached} does not match its recorded SHA-256; downloading it again`);
  }

  options.log?.(`downloading ingress-nginx ${version} manifest from ${url}`);
  const fetchImpl = options.fetchImpl ?? fetch;
  let response: Response;
  try {
    response = await fetchImpl(url, { signal: AbortSignal.timeout(60_000) });
  } catch (error) {
    // Said in one line (exit 2): what is missing is the manifest, and the flag that gives it.
    throw new ConfigError(
      `could not download the ingress-nginx ${version} manifest from ${url}: ${(error as Error).message}. ` +
        "Without network access, pass --controller-manifest FILE.",
    );
  }
  if (response.status === 404) {
    throw new ConfigError(`ingress-nginx has no release ${version}: ${url} answered 404 (releases are controller-vX.Y.Z tags)`);
  }
  if (!response.ok) throw new ConfigError(`downloading ${url} failed: HTTP ${response.status}. Without it, pass --controller-manifest FILE.`);
  const text = await response.text();
  const manifest = finish(text, url, "download");
  await mkdir(dir, { recursive: true });
  // Write then rename: a cache entry is whole or absent, even if the run is killed mid-write.
  await writeFile(`${cached}.tmp`, text);
  await rename(`${cached}.tmp`, cached);
  await writeFile(cachedSum, `${manifest.sha256}  deploy.yaml\n`);
  return manifest;
}
