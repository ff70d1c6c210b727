// Defaults the CLI shows without loading the k3s target's heavy dependencies.
/** Kubernetes 1.35, the newest ingress-nginx v1.15.1 supports. */
export const DEFAULT_K3S_IMAGE = "rancher/k3s:v1.35.0-k3s1";
