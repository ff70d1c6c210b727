// Which Kubernetes each ingress-nginx release supports, and so which k3s image a run of it gets.
// A controller run on a Kubernetes outside its range tests a combination its project never did:
// the run picks a supported one, and says so in the evidence when told to use another.
//
// The ranges are the "Supported Versions table" of the README at each release tag (kubernetes/
// ingress-nginx, README.md:50-67 at controller-v1.15.1; line 52 at controller-v1.14.5 and at
// controller-v1.13.9 for those patch releases). Each controller line supports the same five minors.

/** Kubernetes minors supported, newest first, per controller minor line (vMAJOR.MINOR). */
const SUPPORTED: Record<string, string[]> = {
  "1.15": ["1.35", "1.34", "1.33", "1.32", "1.31"],
  "1.14": ["1.34", "1.33", "1.32", "1.31", "1.30"],
  "1.13": ["1.33", "1.32", "1.31", "1.30", "1.29"],
  "1.12": ["1.32", "1.31", "1.30", "1.29", "1.28"],
  "1.11": ["1.30", "1.29", "1.28", "1.27", "1.26"],
};
/** v1.10.0 alone supports one minor fewer than the rest of its line (the same table). */
const EXCEPTIONS: Record<string, string[]> = { "v1.10.0": ["1.29", "1.28", "1.27", "1.26"] };
SUPPORTED["1.10"] = ["1.30", "1.29", "1.28", "1.27", "1.26"];

/**
 * A k3s release per Kubernetes minor (rancher/k3s tags are the k3s versions with "+" as "-").
 * The first or an early patch of each line: what matters is the Kubernetes minor.
 */
const K3S_IMAGES: Record<string, string> = {
  "1.35": "rancher/k3s:v1.35.0-k3s1",
  "1.34": "rancher/k3s:v1.34.1-k3s1",
  "1.33": "rancher/k3s:v1.33.1-k3s1",
  "1.32": "rancher/k3s:v1.32.1-k3s1",
  "1.31": "rancher/k3s:v1.31.1-k3s1",
  "1.30": "rancher/k3s:v1.30.2-k3s1",
};

export const SUPPORT_SOURCE = "ingress-nginx README.md, Supported Versions table, at the release's tag";

export interface KubernetesSupport {
  controller: string;
  /** Supported Kubernetes minors, newest first; empty when the table does not list the release. */
  supported: string[];
  /** The Kubernetes minor of the k3s image the run uses. */
  kubernetes?: string;
  /** Whether that minor is one the release supports (undefined: unknown). */
  inRange?: boolean;
  source: string;
}

/** `v1.14.5` → the Kubernetes minors its README lists. */
export function supportedKubernetes(controllerVersion: string): string[] {
  if (EXCEPTIONS[controllerVersion]) return EXCEPTIONS[controllerVersion]!;
  const line = /^v(\d+\.\d+)\./.exec(controllerVersion)?.[1];
  return (line && SUPPORTED[line]) || [];
}

/** The Kubernetes minor of a k3s image: `rancher/k3s:v1.34.1-k3s1` → `1.34`. */
export function kubernetesOfK3sImage(image: string): string | undefined {
  return /:v(\d+\.\d+)\.\d+/.exec(image)?.[1];
}

/** The k3s image for a controller release: the newest supported Kubernetes we have an image for. */
export function k3sImageFor(controllerVersion: string, fallback: string): string {
  const minor = supportedKubernetes(controllerVersion).find((m) => K3S_IMAGES[m]);
  return minor ? K3S_IMAGES[minor]! : fallback;
}

/** What the evidence says about the pairing of a controller release and a k3s image. */
export function kubernetesSupport(controllerVersion: string, k3sImage: string): KubernetesSupport {
  const supported = supportedKubernetes(controllerVersion);
  const kubernetes = kubernetesOfK3sImage(k3sImage);
  return {
    controller: controllerVersion,
    supported,
    ...(kubernetes ? { kubernetes } : {}),
    ...(kubernetes && supported.length ? { inRange: supported.includes(kubernetes) } : {}),
    source: SUPPORT_SOURCE,
  };
}
