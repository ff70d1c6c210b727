// k3s's own system images (pause, coredns, klipper-helm, klipper-lb, local-path-provisioner,
// metrics-server, its packaged Traefik): the images k3s pulls inside the cluster. Preloaded with
// the run's other images, k3s pulls nothing from a registry, so a rate limit on a shared runner
// cannot leave ServiceLB or CoreDNS in ImagePullBackOff. k3s publishes the list of each release as
// the release asset `k3s-images.txt`, one reference per line (k3s-io/k3s scripts/airgap/image-list.txt
// is the same list, generated at release; k3s-io/docs docs/installation/airgap.md names the asset).
// Read once per release and kept in the user's cache, so later runs (air-gapped ones included) need
// no network for it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheDir } from "../controllers/traefik/go-build.ts";

/** rancher/k3s:v1.35.0-k3s1 -> v1.35.0+k3s1 (image tags write the release's "+" as "-"). */
export function k3sReleaseOf(k3sImage: string): string | undefined {
  const tag = /:(v\d+\.\d+\.\d+)-(k3s\d+)$/.exec(k3sImage);
  return tag ? `${tag[1]}+${tag[2]}` : undefined;
}

/** Where k3s publishes a release's image list. */
export function k3sImageListUrl(release: string): string {
  return `https://github.com/k3s-io/k3s/releases/download/${encodeURIComponent(release)}/k3s-images.txt`;
}

/** The references of a k3s-images.txt: one per line; blank lines and comments left out. */
export function parseK3sImageList(text: string): string[] {
  return [...new Set(text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")))];
}

export interface SystemImages {
  images: string[];
  /** Where the list came from (the cache file or the URL), or why there is none. */
  from: string;
}

/** The release's system images: from the cache, else downloaded (and cached); none when neither works, with why. */
export async function k3sSystemImages(k3sImage: string, options: { fetchImpl?: typeof fetch; cache?: string } = {}): Promise<SystemImages> {
  const release = k3sReleaseOf(k3sImage);
  if (!release) return { images: [], from: `${k3sImage} names no k3s release (vX.Y.Z-k3sN)` };
  const dir = options.cache ?? join(cacheDir(), "k3s-images");
  const file = join(dir, `${release.replace("+", "-")}.txt`);
  if (existsSync(file)) return { images: parseK3sImageList(readFileSync(file, "utf8")), from: file };
  const url = k3sImageListUrl(release);
  try {
    const response = await (options.fetchImpl ?? fetch)(url, { redirect: "follow", signal: AbortSignal.timeout(20_000) });
    if (!response.ok) return { images: [], from: `${url}: HTTP ${response.status}` };
    const text = await response.text();
    const images = parseK3sImageList(text);
    if (!images.length || images.some((i) => !/^[a-z0-9.-]+(?::\d+)?\/[\w./-]+[:@][\w.:-]+$/.test(i))) return { images: [], from: `${url}: not an image list` };
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, text);
    return { images, from: url };
  } catch (error) {
    return { images: [], from: `${url}: ${(error as Error).message}` };
  }
}
