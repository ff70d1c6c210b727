// --registry-mirror: where k3s's containerd pulls each registry's images from (registries.yaml).
// A pull-through cache usually proxies one upstream, so a mirror can be named per registry
// (`registry.k8s.io=https://mirror-a`); a bare URL stands for every registry the run pulls from.
// containerd still falls back to the registry itself when a mirror fails (docs.k3s.io,
// "Private Registry Configuration", Default Endpoint Fallback).
import { ConfigError } from "../support/errors.ts";

/** The registry host of an image reference, as containerd reads it: no dot, colon or localhost first means docker.io. */
export function registryOf(image: string): string {
  const first = image.split("/")[0]!;
  return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}

/**
 * The mirror of each registry. `values` are `URL` (every registry in `registries`, which k3s's own
 * images on docker.io always join) or `REGISTRY=URL`; the later one wins for a registry.
 */
export function parseRegistryMirrors(values: string[], registries: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    const [registry, url] = eq > 0 && !value.slice(0, eq).includes("/") ? [value.slice(0, eq), value.slice(eq + 1)] : [undefined, value];
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(`--registry-mirror ${value}: ${url} is not a URL (http:// or https://)`);
    }
    if (!/^https?:$/.test(parsed.protocol)) throw new ConfigError(`--registry-mirror ${value}: an http:// or https:// URL is needed`);
    for (const r of registry ? [registry] : [...new Set(["docker.io", ...registries])]) out[r] = url;
  }
  return out;
}

/** k3s's /etc/rancher/k3s/registries.yaml for those mirrors. */
export function registriesYaml(mirrors: Record<string, string>): string {
  return `mirrors:\n${Object.entries(mirrors)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([registry, url]) => `  "${registry}":\n    endpoint:\n      - "${url}"\n`)
    .join("")}`;
}
