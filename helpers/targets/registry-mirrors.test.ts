import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError } from "../support/errors.ts";
import { parseRegistryMirrors, registriesYaml, registryOf } from "./registry-mirrors.ts";

describe("registry mirrors", () => {
  it("the registry of an image as containerd reads it", () => {
    expect(registryOf("registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:" + "a".repeat(64))).toBe("registry.k8s.io");
    expect(registryOf("node:24-alpine")).toBe("docker.io");
    expect(registryOf("rancher/k3s:v1.35.0-k3s1")).toBe("docker.io");
    expect(registryOf("localhost:5000/x:1")).toBe("localhost:5000");
    expect(registryOf("localhost/x:1")).toBe("localhost");
  });

  it("a bare URL mirrors every registry the run pulls from (docker.io always); REGISTRY=URL one of them", () => {
    const registries = ["registry.k8s.io", "docker.io"];
    expect(parseRegistryMirrors(["https://cache.internal"], registries)).toEqual({ "docker.io": "https://cache.internal", "registry.k8s.io": "https://cache.internal" });
    expect(parseRegistryMirrors(["https://hub-cache.internal", "registry.k8s.io=https://k8s-cache.internal:5000"], registries)).toEqual({
      "docker.io": "https://hub-cache.internal",
      "registry.k8s.io": "https://k8s-cache.internal:5000",
    });
    expect(() => parseRegistryMirrors(["cache.internal"], registries)).toThrow(ConfigError);
    expect(() => parseRegistryMirrors(["docker.io=ftp://x"], registries)).toThrow("an http:// or https:// URL is needed");
  });

  it("registries.yaml as k3s reads it: mirrors.<registry>.endpoint", () => {
    const doc = parse(registriesYaml({ "registry.k8s.io": "https://k8s-cache.internal:5000", "docker.io": "https://hub-cache.internal" }));
    expect(doc).toEqual({ mirrors: { "docker.io": { endpoint: ["https://hub-cache.internal"] }, "registry.k8s.io": { endpoint: ["https://k8s-cache.internal:5000"] } } });
  });
});
