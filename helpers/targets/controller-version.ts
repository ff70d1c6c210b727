// Which ingress-nginx release a running controller is. The status image is the weakest source:
// containerd drops the tag of an image pulled as `name:tag@digest`, so status.containerStatuses[]
// may say `registry.k8s.io/ingress-nginx/controller@sha256:…` or a bare image ID
// (containerd/cri#1343). What the pod was asked to run (spec) and the release's own label come first.
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";

/** The release manifests (and the Helm chart) label the Deployment and its pods with it, without the "v". */
export const VERSION_LABEL = "app.kubernetes.io/version";

export type VersionSource = "spec image" | "pod label" | "deployment label" | "status image";

export interface ControllerVersion {
  /** `v1.15.1`, or "unknown". */
  version: string;
  /** Where it was read; absent when it is unknown. */
  from?: VersionSource;
}

const RELEASE = /^v?(\d+\.\d+\.\d+\S*)$/;

/** `…/controller:v1.15.1@sha256:…` → `v1.15.1`; a digest-only reference or an image ID → undefined. */
export function imageTagVersion(image: string | undefined): string | undefined {
  const withoutDigest = (image ?? "").split("@")[0]!;
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf("/") + 1);
  const colon = lastSegment.indexOf(":");
  if (colon < 0) return undefined;
  const m = RELEASE.exec(lastSegment.slice(colon + 1));
  return m ? `v${m[1]}` : undefined;
}

/** `1.15.1` (as the manifests write it) or `v1.15.1` → `v1.15.1`. */
export function labelVersion(labels: Record<string, string> | undefined): string | undefined {
  const m = RELEASE.exec(labels?.[VERSION_LABEL]?.trim() ?? "");
  return m ? `v${m[1]}` : undefined;
}

/** The container named "controller" (the manifests' name), else the first. */
function pick<T extends { name: string }>(containers: T[] | undefined): T | undefined {
  return containers?.find((c) => c.name === "controller") ?? containers?.[0];
}

/** The spec image first, then the version label of the pod and of its Deployment, the status image last. */
export function controllerVersionOf(pod: V1Pod | undefined, deployment?: V1Deployment): ControllerVersion {
  const candidates: Array<[VersionSource, string | undefined]> = [
    ["spec image", imageTagVersion(pick(pod?.spec?.containers)?.image)],
    ["pod label", labelVersion(pod?.metadata?.labels)],
    ["deployment label", labelVersion(deployment?.metadata?.labels)],
    ["status image", imageTagVersion(pick(pod?.status?.containerStatuses)?.image)],
  ];
  const found = candidates.find(([, version]) => version);
  return found ? { version: found[1]!, from: found[0] } : { version: "unknown" };
}
