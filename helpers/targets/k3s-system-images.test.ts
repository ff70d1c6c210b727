// k3s's own system images: the list as k3s publishes it per release (the asset k3s-images.txt),
// downloaded once into the cache and read from there after; a run that cannot get it says so and
// leaves the pulls to k3s.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { k3sImageListUrl, k3sReleaseOf, k3sSystemImages, parseK3sImageList } from "./k3s-system-images.ts";
import { imagesForRun } from "./k3s-target.ts";

// Shaped as the asset k3s publishes (one fully qualified reference per line, docker.io/rancher/...).
const PUBLISHED = `docker.io/rancher/klipper-helm:v0.9.8-build20250709
docker.io/rancher/klipper-lb:v0.4.13
docker.io/rancher/local-path-provisioner:v0.0.32
docker.io/rancher/mirrored-coredns-coredns:1.12.3
docker.io/rancher/mirrored-library-busybox:1.37.0
docker.io/rancher/mirrored-library-traefik:3.5.1
docker.io/rancher/mirrored-metrics-server:v0.8.0
docker.io/rancher/mirrored-pause:3.6
`;

const dirs: string[] = [];
const cache = () => {
  const d = mkdtempSync(join(tmpdir(), "k3s-images-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("k3s's own system images", () => {
  it("the release of an image tag and the asset's address (the + encoded)", () => {
    expect(k3sReleaseOf("rancher/k3s:v1.35.0-k3s1")).toBe("v1.35.0+k3s1");
    expect(k3sReleaseOf("docker.io/rancher/k3s:v1.37.1-k3s1")).toBe("v1.37.1+k3s1");
    expect(k3sReleaseOf("rancher/k3s:latest")).toBeUndefined();
    expect(k3sImageListUrl("v1.35.0+k3s1")).toBe("https://github.com/k3s-io/k3s/releases/download/v1.35.0%2Bk3s1/k3s-images.txt");
    expect(parseK3sImageList(`${PUBLISHED}\n# comment\n\n`)).toHaveLength(8);
  });

  it("downloaded once, kept in the cache, read from there after (no network the second time)", async () => {
    const dir = cache();
    const asked: string[] = [];
    const fetchImpl = (async (url: string) => (asked.push(url), new Response(PUBLISHED))) as unknown as typeof fetch;
    const first = await k3sSystemImages("rancher/k3s:v1.35.0-k3s1", { fetchImpl, cache: dir });
    expect(first.images).toEqual(parseK3sImageList(PUBLISHED));
    expect(first.from).toBe(k3sImageListUrl("v1.35.0+k3s1"));
    expect(readFileSync(join(dir, "v1.35.0-k3s1.txt"), "utf8")).toBe(PUBLISHED);
    const offline = (async () => Promise.reject(new Error("no network"))) as unknown as typeof fetch;
    const second = await k3sSystemImages("rancher/k3s:v1.35.0-k3s1", { fetchImpl: offline, cache: dir });
    expect(second).toEqual({ images: first.images, from: join(dir, "v1.35.0-k3s1.txt") });
    expect(asked).toHaveLength(1);
  });

  it("no list (offline, HTTP 404, not a list): none, with why, and nothing cached", async () => {
    const dir = cache();
    const cases: Array<[typeof fetch, RegExp]> = [
      [(async () => Promise.reject(new Error("getaddrinfo ENOTFOUND github.com"))) as unknown as typeof fetch, /ENOTFOUND/],
      [(async () => new Response("Not Found", { status: 404 })) as unknown as typeof fetch, /HTTP 404/],
      [(async () => new Response("<html>sign in</html>")) as unknown as typeof fetch, /not an image list/],
    ];
    for (const [fetchImpl, why] of cases) {
      const r = await k3sSystemImages("rancher/k3s:v1.35.0-k3s1", { fetchImpl, cache: dir });
      expect(r.images).toEqual([]);
      expect(r.from).toMatch(why);
    }
    expect(() => readFileSync(join(dir, "v1.35.0-k3s1.txt"))).toThrow();
  });

  it("a run's images include them, once, before the controller's", () => {
    const system = parseK3sImageList(PUBLISHED);
    const manifest = { version: "v1.15.1", images: ["registry.k8s.io/ingress-nginx/controller:v1.15.1"] } as Parameters<typeof imagesForRun>[1];
    const images = imagesForRun("rancher/k3s:v1.35.0-k3s1", manifest, [], [...system, system[0]!]);
    expect(images.filter((i) => system.includes(i))).toEqual(system);
    expect(images.indexOf(system.at(-1)!)).toBeLessThan(images.indexOf(manifest.images[0]!));
  });
});
