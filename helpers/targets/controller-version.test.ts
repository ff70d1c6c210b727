// The controller's release, read as containerd leaves it: the status image may have lost its tag.
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { controllerVersionOf, imageTagVersion, labelVersion } from "./controller-version.ts";

const DIGEST = `sha256:${"c".repeat(64)}`;
const pod = (spec?: string, status?: string, labels?: Record<string, string>): V1Pod => ({
  metadata: { name: "ingress-nginx-controller-abc", labels },
  spec: { containers: [{ name: "controller", ...(spec ? { image: spec } : {}) }] },
  status: { containerStatuses: status ? [{ name: "controller", image: status, imageID: "", ready: true, restartCount: 0 }] : [] },
});
const deployment = (version: string): V1Deployment => ({ metadata: { labels: { "app.kubernetes.io/version": version } } });

describe("controller version", () => {
  it("an image reference gives its tag; a digest-only reference or an image ID gives nothing", () => {
    expect(imageTagVersion(`registry.k8s.io/ingress-nginx/controller:v1.15.1@${DIGEST}`)).toBe("v1.15.1");
    expect(imageTagVersion("mirror.internal:5000/ingress-nginx/controller:v1.14.5")).toBe("v1.14.5");
    expect(imageTagVersion(`registry.k8s.io/ingress-nginx/controller@${DIGEST}`)).toBeUndefined();
    expect(imageTagVersion(DIGEST)).toBeUndefined();
    expect(imageTagVersion("mirror.internal:5000/ingress-nginx/controller")).toBeUndefined();
    expect(imageTagVersion("docker.io/library/busybox:1.36")).toBeUndefined();
  });

  it("the version label is written without its v in the manifests", () => {
    expect(labelVersion({ "app.kubernetes.io/version": "1.15.1" })).toBe("v1.15.1");
    expect(labelVersion({ "app.kubernetes.io/version": "v1.13.9" })).toBe("v1.13.9");
    expect(labelVersion({ "app.kubernetes.io/version": "latest" })).toBeUndefined();
  });

  it("spec image, then pod label, then Deployment label, then status image", () => {
    const untagged = `registry.k8s.io/ingress-nginx/controller@${DIGEST}`;
    const label = { "app.kubernetes.io/version": "1.14.5" };
    expect(controllerVersionOf(pod(`registry.k8s.io/ingress-nginx/controller:v1.15.1@${DIGEST}`, untagged, label))).toEqual({ version: "v1.15.1", from: "spec image" });
    expect(controllerVersionOf(pod(untagged, "registry.k8s.io/ingress-nginx/controller:v1.13.9", label))).toEqual({ version: "v1.14.5", from: "pod label" });
    expect(controllerVersionOf(pod(untagged, "registry.k8s.io/ingress-nginx/controller:v1.13.9"), deployment("1.14.5"))).toEqual({ version: "v1.14.5", from: "deployment label" });
    expect(controllerVersionOf(pod(untagged, "registry.k8s.io/ingress-nginx/controller:v1.13.9"))).toEqual({ version: "v1.13.9", from: "status image" });
    expect(controllerVersionOf(pod(untagged, untagged))).toEqual({ version: "unknown" });
    expect(controllerVersionOf(undefined)).toEqual({ version: "unknown" });
  });
});
