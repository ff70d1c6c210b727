// ingress-nginx installs as a cluster holds them, written for the tests (not copied from
// ingress-nginx): the objects and labels the code reads.
// - The release manifest (deploy/static/provider/cloud/deploy.yaml at controller-vX.Y.Z) labels the
//   controller Deployment and its pods app.kubernetes.io/{component,instance,name,part-of,version},
//   the version without its "v"; it selects on component, instance and name; no managed-by label.
// - The Helm chart (charts/ingress-nginx, templates/_helpers.tpl "ingress-nginx.labels") adds
//   helm.sh/chart and app.kubernetes.io/managed-by: Helm, and selects on name, instance, component.
import type { V1Deployment } from "@kubernetes/client-node";

const RELEASE_SELECTOR = {
  "app.kubernetes.io/component": "controller",
  "app.kubernetes.io/instance": "ingress-nginx",
  "app.kubernetes.io/name": "ingress-nginx",
};

/** What a release manifest's objects look like to the code (namespace, Service, Deployment, IngressClass). */
export function releaseLikeManifest(version = "1.15.1"): string {
  const labels = `    app.kubernetes.io/component: controller
    app.kubernetes.io/instance: ingress-nginx
    app.kubernetes.io/name: ingress-nginx
    app.kubernetes.io/part-of: ingress-nginx
    app.kubernetes.io/version: ${version}`;
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ingress-nginx
---
apiVersion: v1
kind: Service
metadata:
  labels:
${labels}
  name: ingress-nginx-controller
  namespace: ingress-nginx
spec:
  type: LoadBalancer
  ports:
    - { name: https, port: 443, targetPort: https }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
${labels}
  name: ingress-nginx-controller
  namespace: ingress-nginx
spec:
  selector:
    matchLabels:
${Object.entries(RELEASE_SELECTOR).map(([k, v]) => `      ${k}: ${v}`).join("\n")}
  template:
    metadata:
      labels:
${labels.replace(/^ {4}/gm, "        ")}
    spec:
      containers:
        - name: controller
          image: registry.k8s.io/ingress-nginx/controller:v${version}@sha256:${"a".repeat(64)}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: k8s.io/ingress-nginx
`;
}

/** The controller Deployment as the cluster holds it after `kubectl apply` of the release manifest. */
export function releaseDeployment(version = "1.15.1"): V1Deployment {
  const labels = { ...RELEASE_SELECTOR, "app.kubernetes.io/part-of": "ingress-nginx", "app.kubernetes.io/version": version };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "ingress-nginx-controller", namespace: "ingress-nginx", labels },
    spec: {
      selector: { matchLabels: { ...RELEASE_SELECTOR } },
      template: { metadata: { labels }, spec: { containers: [{ name: "controller", image: `registry.k8s.io/ingress-nginx/controller:v${version}@sha256:${"a".repeat(64)}` }] } },
    },
  };
}

/** The controller Deployment of `helm install <release> ingress-nginx/ingress-nginx --namespace <namespace>`. */
export function helmDeployment(options: { release?: string; namespace?: string; chartVersion?: string; appVersion?: string } = {}): V1Deployment {
  const release = options.release ?? "ingress-nginx";
  const appVersion = options.appVersion ?? "1.14.5";
  const selector = { "app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/instance": release, "app.kubernetes.io/component": "controller" };
  const labels = {
    "helm.sh/chart": `ingress-nginx-${options.chartVersion ?? "4.14.5"}`,
    ...selector,
    "app.kubernetes.io/version": appVersion,
    "app.kubernetes.io/part-of": "ingress-nginx",
    "app.kubernetes.io/managed-by": "Helm",
  };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: release === "ingress-nginx" ? "ingress-nginx-controller" : `${release}-ingress-nginx-controller`, namespace: options.namespace ?? "ingress-nginx", labels },
    spec: {
      selector: { matchLabels: selector },
      template: { metadata: { labels }, spec: { containers: [{ name: "controller", image: `registry.k8s.io/ingress-nginx/controller:v${appVersion}@sha256:${"b".repeat(64)}` }] } },
    },
  };
}
