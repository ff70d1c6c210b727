// The support table against the releases' own README tables (read from the ingress-nginx tags),
// not against a copy of our constants.
import { describe, expect, it } from "vitest";
import { k3sImageFor, kubernetesOfK3sImage, kubernetesSupport, supportedKubernetes } from "./compatibility.ts";

describe("controller release ↔ Kubernetes", () => {
  it("the releases the suite names: v1.15.1 up to 1.35, v1.14.5 up to 1.34, v1.13.9 up to 1.33 (README line 52 at each tag)", () => {
    // | 🔄 | **v1.15.1** | 1.35, 1.34, 1.33, 1.32, 1.31 | ...   (controller-v1.15.1 README.md:52)
    // | 🔄 | **v1.14.5** | 1.34, 1.33, 1.32, 1.31, 1.30 | ...   (controller-v1.14.5 README.md:52)
    // | 🔄 | **v1.13.9** | 1.33, 1.32, 1.31, 1.30, 1.29 | ...   (controller-v1.13.9 README.md:52)
    expect(supportedKubernetes("v1.15.1")).toEqual(["1.35", "1.34", "1.33", "1.32", "1.31"]);
    expect(supportedKubernetes("v1.14.5")).toEqual(["1.34", "1.33", "1.32", "1.31", "1.30"]);
    expect(supportedKubernetes("v1.13.9")).toEqual(["1.33", "1.32", "1.31", "1.30", "1.29"]);
    // | | v1.10.0 | 1.29, 1.28, 1.27, 1.26 | ...            (controller-v1.15.1 README.md:93)
    expect(supportedKubernetes("v1.10.0")).toEqual(["1.29", "1.28", "1.27", "1.26"]);
    expect(supportedKubernetes("v1.3.1")).toEqual([]);
  });

  it("each release gets a k3s of the newest Kubernetes it supports; an unknown one the default", () => {
    expect(k3sImageFor("v1.15.1", "fallback")).toBe("rancher/k3s:v1.35.0-k3s1");
    expect(k3sImageFor("v1.14.5", "fallback")).toBe("rancher/k3s:v1.34.1-k3s1");
    expect(k3sImageFor("v1.13.9", "fallback")).toBe("rancher/k3s:v1.33.1-k3s1");
    expect(k3sImageFor("v1.3.1", "fallback")).toBe("fallback");
    for (const v of ["v1.15.1", "v1.14.5", "v1.13.9", "v1.12.8", "v1.11.8"]) {
      expect(supportedKubernetes(v)).toContain(kubernetesOfK3sImage(k3sImageFor(v, "x")));
    }
  });

  it("a k3s image outside the release's range is said to be so", () => {
    expect(kubernetesSupport("v1.13.9", "rancher/k3s:v1.35.0-k3s1")).toMatchObject({ kubernetes: "1.35", inRange: false });
    expect(kubernetesSupport("v1.15.1", "rancher/k3s:v1.35.0-k3s1")).toMatchObject({ kubernetes: "1.35", inRange: true });
    expect(kubernetesSupport("v1.15.1", "my.registry/k3s:custom")).not.toHaveProperty("inRange");
  });
});
