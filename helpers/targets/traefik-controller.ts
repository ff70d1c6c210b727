// `--controller traefik`: Traefik's kubernetesIngressNGINX provider, which reads the
// `nginx.ingress.kubernetes.io/auth-tls-*` annotations (traefik/traefik@v3.7.9:pkg/provider/kubernetes/ingress-nginx),
// run as k3s's packaged Traefik customised with a HelmChartConfig.
//
// How k3s deploys it (read, not copied): k3s ships Traefik as a HelmChart named `traefik` in
// kube-system (k3s manifests/traefik.yaml); a HelmChartConfig of the same name and namespace adds
// a values file to that chart's `helm` command (docs.k3s.io "Customizing Packaged Components with
// HelmChartConfig", k3s-io/docs docs/helm/helm.md; helm-controller pkg/controllers/chart/chart.go:
// 244-246 finds the config by the chart's name/namespace, :584-590 merges it, :1104-1107 mounts it as
// values-1-000-HelmChartConfig-ValuesContent.yaml after the chart's own values-0-000 file, so it
// wins). Every file in /var/lib/rancher/k3s/server/manifests is applied when k3s starts
// (k3s-io/docs docs/installation/packaged-components.md "Auto-Deploying Manifests"); the
// documented place for this one is traefik-config.yaml there (docs/helm/helm.md, same section).
import { stringify } from "yaml";
import type { V1Pod } from "@kubernetes/client-node";
import { ConfigError } from "../support/errors.ts";
import { StopWaiting, waitFor } from "../support/wait.ts";
import { normalizeImageRef } from "./image-preload.ts";
import type { ControllerLocation, Kube } from "./kube.ts";

/**
 * The pinned Traefik release. Confirmed as a tag of traefik/traefik (`git tag` on the repository's
 * snapshot of 2026-07-24, master fd5a576: v3.7.0 … v3.7.9; v3.7.9 is commit d0bd2ec, CHANGELOG.md
 * "## [v3.7.9] (2026-07-24)"). Later patches are named elsewhere (traefik-helm-chart v41.3.0's
 * appVersion v3.7.11; k3s v1.37.x release notes list v3.7.13) but not by a tag this project could
 * read: bump here once one is.
 */
export const TRAEFIK_VERSION = "v3.7.9";

/**
 * The first release that clears client-sent Ssl-Client-Cert/-Subject-Dn/-Issuer-Dn when no client
 * certificate is presented: commit a669522 "Clear Ssl-Client-* headers when no client certificate
 * is present" (2026-06-02); `git tag --contains a669522` starts at v3.7.2. auth-tls support itself
 * came in v3.7.0 (traefik/traefik#12595, #12629).
 */
export const TRAEFIK_MIN_VERSION = "v3.7.2";

/**
 * The image the chart runs: `<registry>/<repository>:<tag>` (traefik-helm-chart v41.1.1
 * traefik/templates/_helpers.tpl:32-40 registry and repository defaults docker.io and traefik,
 * :65 the `printf "%s/%s:%s%s"`). The Docker Hub library image, as the chart deploys by default.
 */
export const TRAEFIK_IMAGE = `docker.io/traefik:${TRAEFIK_VERSION}`;

/**
 * The k3s whose packaged chart knows `providers.kubernetesIngressNGINX`. Not the newest k3s of
 * compatibility.ts (v1.35.0-k3s1): that release packages Traefik v3.5.1 (k3s-io/docs
 * docs/release-notes/v1.35.X.md, table; chart traefik-37.1.1+up37.1.0), whose chart has no such
 * provider. k3s packages its charts without values.schema.json (k3s-io/k3s-charts
 * packages/traefik/generated-changes/exclude/values.schema.json, since 2025-01-29; the packaged
 * traefik-37.1.1+up37.1.0.tgz and 39.0.701+up39.0.7.tgz hold none), so helm does not refuse an
 * unknown key: it drops it, and Traefik starts without the provider (every probe then gets 404).
 * Hence the preflight refuses every k3s not known to package a v3.7 chart, and the wait checks the
 * Deployment's arguments. The key came with chart v40.0.0 (commit 236d2b0 "kubernetesIngressNginx
 * => kubernetesIngressNGINX"; 38.x-39.x spelled it kubernetesIngressNginx), the first chart for
 * Traefik v3.7.0. k3s v1.37.1 packages Traefik v3.7.13 (docs/release-notes/v1.37.X.md, released
 * 2026-09-30, helm-controller v0.17.9), so a chart for v3.7.
 */
export const TRAEFIK_K3S_IMAGE = "rancher/k3s:v1.37.1-k3s1";

/**
 * The Traefik release each k3s packages, from k3s-io/docs docs/release-notes/v1.33.X.md,
 * v1.34.X.md, v1.35.X.md, v1.36.X.md and v1.37.X.md (their tables' Traefik column). A k3s packaging
 * one below v3.7.0 has a chart below v40.0.0, without the provider's values key.
 */
export const K3S_PACKAGED_TRAEFIK: Readonly<Record<string, string>> = {
  // The k3s images compatibility.ts picks for ingress-nginx v1.13.x and v1.14.x.
  "v1.33.1-k3s1": "v3.3.6",
  "v1.34.1-k3s1": "v3.3.6",
  "v1.35.0-k3s1": "v3.5.1",
  "v1.35.0-k3s3": "v3.6.7",
  "v1.36.0-k3s1": "v3.6.13",
  "v1.36.1-k3s1": "v3.6.13",
  "v1.37.0-k3s1": "v3.7.13",
  "v1.37.1-k3s1": "v3.7.13",
};

/** Where the chart puts Traefik in k3s: HelmChart `traefik` in kube-system. */
export const TRAEFIK_NAMESPACE = "kube-system";
/**
 * The release is named after the HelmChart (`traefik`), so `traefik.fullname` is the release name
 * (traefik-helm-chart v41.1.1 traefik/templates/_helpers.tpl:74-86): Deployment and Service
 * `traefik`, its container `traefik` (_podtemplate.tpl:73).
 */
export const TRAEFIK_DEPLOYMENT = "traefik";
/**
 * Pods carry `app.kubernetes.io/name: traefik` and `app.kubernetes.io/instance:
 * <release>-<namespace>` (_helpers.tpl:96-99, traefik.labelselector). The name alone is the
 * selector, so a Traefik installed under another release name matches too (with
 * --controller-namespace); k3s's ServiceLB pods are labelled svccontroller.k3s.cattle.io/*, not this.
 */
export const TRAEFIK_LOCATION: Readonly<ControllerLocation> = {
  namespace: TRAEFIK_NAMESPACE,
  selector: "app.kubernetes.io/name=traefik",
  service: "traefik",
};

/** Where the HelmChartConfig goes: k3s's manifests directory, the name k3s's docs use. */
export const TRAEFIK_CONFIG_PATH = "/var/lib/rancher/k3s/server/manifests/traefik-config.yaml";

/** The IngressClass the catalogue's Ingresses name, and the controller Traefik's provider selects. */
export const INGRESS_CLASS = "nginx";
export const INGRESS_NGINX_CONTROLLER_CLASS = "k8s.io/ingress-nginx";

/**
 * The Helm values, each key as traefik-helm-chart declares it. Lines are of traefik/values.yaml at
 * v41.1.1 (the chart whose appVersion is v3.7.9); the same keys and types are in every chart
 * from v40.0.0 to v41.3.0 (checked tag by tag; traefik-controller.test.ts holds their schema).
 */
export function traefikValues(): Record<string, unknown> {
  return {
    // values.yaml:5-12 image.{registry,repository,tag}; the tag is also what the chart's version
    // checks read (templates/requirements.yaml:1, :48 "only available for traefik >= v3.6.2").
    image: { registry: "docker.io", repository: "traefik", tag: TRAEFIK_VERSION },
    providers: {
      // values.yaml:326-328. The Ingress provider serves Ingresses whose class is an IngressClass
      // of controller traefik.io/ingress-controller, or that have no class at all (traefik
      // v3.7.9 pkg/provider/kubernetes/ingress/kubernetes.go:547-557, client.go:357-375): it would
      // not route class nginx, but it would route a class-less Ingress the ingress-nginx runs leave
      // unserved, and Traefik's docs warn that the two providers together "may lead to duplicated
      // routers" (docs/content/reference/install-configuration/providers/kubernetes/
      // kubernetes-ingress-nginx.md:37). Off: only the ingress-nginx provider routes. The chart
      // keeps the Ingress RBAC for the NGINX provider (templates/rbac/clusterrole.yaml:51).
      kubernetesIngress: { enabled: false },
      // values.yaml:401-423. The provider serves Ingresses naming an IngressClass whose
      // spec.controller is controllerClass (ingress-nginx/client.go:395-409, build.go:953-965);
      // by name only with ingressClassByName; class-less ones only with watchIngressWithoutClass
      // (ingress-nginx's own default, --watch-ingress-without-class=false).
      kubernetesIngressNGINX: {
        enabled: true,
        ingressClass: INGRESS_CLASS,
        controllerClass: INGRESS_NGINX_CONTROLLER_CLASS,
        watchIngressWithoutClass: false,
        // Ingress status gets the Service's address, as ingress-nginx's --publish-service does.
        publishService: { enabled: true },
      },
    },
    // values.yaml:123-127. The chart's own IngressClass `traefik` is the cluster's default class
    // (isDefaultClass: true): the API server would then stamp it on class-less Ingresses. The
    // run's cluster has one IngressClass, nginx, as with ingress-nginx's manifest.
    ingressClass: { enabled: false },
    // values.yaml:942-950 (web) and :1000-1010 (websecure): the Service ports ServiceLB binds on
    // the node (k3s pkg/cloudprovider/servicelb.go publishes each Service port as a hostPort),
    // which the k3s container publishes; TLS on websecure is the chart's default (:1044).
    ports: { web: { exposedPort: 80 }, websecure: { exposedPort: 443 } },
    // values.yaml:1118-1136: a LoadBalancer Service, which is what ServiceLB serves.
    service: { spec: { type: "LoadBalancer" } },
  };
}

/**
 * The HelmChartConfig (helm-controller pkg/apis/helm.cattle.io/v1/types.go:175-209; its CRD
 * pkg/crds/yaml/generated/helm.cattle.io_helmchartconfigs.yaml:44-87: spec.valuesContent is a
 * string). Only valuesContent: failurePolicy stays `reinstall` (the default).
 */
export function helmChartConfig(): Record<string, unknown> {
  return {
    apiVersion: "helm.cattle.io/v1",
    kind: "HelmChartConfig",
    metadata: { name: "traefik", namespace: TRAEFIK_NAMESPACE },
    spec: { valuesContent: stringify(traefikValues()) },
  };
}

/**
 * IngressClass nginx of controller k8s.io/ingress-nginx. Traefik's migration guide keeps
 * ingress-nginx's IngressClass because "Traefik needs it to continue discovering your Ingresses"
 * (traefik v3.7.9 docs/content/migrate/nginx-to-traefik.md:632, the object at :662-668); the
 * chart makes none (its only IngressClass template, templates/ingressclass.yaml, is Traefik's own).
 */
export function nginxIngressClass(): Record<string, unknown> {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "IngressClass",
    metadata: { name: INGRESS_CLASS },
    spec: { controller: INGRESS_NGINX_CONTROLLER_CLASS },
  };
}

/** traefik-config.yaml: both objects, one YAML document each (k3s applies every document of the file). */
export function traefikConfigYaml(): string {
  const header = `# mtls-conformance: Traefik ${TRAEFIK_VERSION} with its kubernetesIngressNGINX provider for IngressClass ${INGRESS_CLASS}\n`;
  return header + [helmChartConfig(), nginxIngressClass()].map((o) => `---\n${stringify(o)}`).join("");
}

/** `v3.7.9` → [3, 7, 9]; anything else → undefined. */
export function parseVersion(version: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Whether `version` is at least `min` (both `vX.Y.Z`); undefined when either is not a release. */
export function atLeast(version: string, min: string): boolean | undefined {
  const a = parseVersion(version);
  const b = parseVersion(min);
  if (!a || !b) return undefined;
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

/**
 * Why a k3s image cannot serve this configuration, when its packaged Traefik is known to be older
 * than v3.7.0 (no kubernetesIngressNGINX values key in its chart); undefined when it can or is unknown.
 */
export function packagedTraefikProblem(k3sImage: string): string | undefined {
  const tag = k3sImage.slice(k3sImage.lastIndexOf(":") + 1);
  const packaged = K3S_PACKAGED_TRAEFIK[tag];
  // k3s's packaged chart has no values schema: a chart without the key would drop it silently, so
  // only a k3s known to package a v3.7 chart is taken.
  if (!packaged) return `${k3sImage} is not a k3s this project knows to package a Traefik v3.7 chart (known: ${Object.keys(K3S_PACKAGED_TRAEFIK).join(", ")}); k3s's chart has no values schema, so on an older chart providers.kubernetesIngressNGINX would be dropped without an error and Traefik would serve no Ingress; use ${TRAEFIK_K3S_IMAGE}`;
  if (atLeast(packaged, "v3.7.0")) return undefined;
  return `${k3sImage} packages Traefik ${packaged}, whose Helm chart has no providers.kubernetesIngressNGINX (it came with chart v40.0.0, for Traefik v3.7.0) and, packaged by k3s without a values schema, would drop it silently; use ${TRAEFIK_K3S_IMAGE}`;
}

/** The flag the chart renders for the provider (traefik-helm-chart v41.1.1 traefik/templates/_podtemplate.tpl:620-637). */
export const PROVIDER_FLAG = "--providers.kubernetesingressnginx";

/** Why a Deployment the chart rendered serves no Ingress of ours: its container lacks the provider flag. */
export function providerFlagProblem(args: string[] | undefined): string | undefined {
  if ((args ?? []).some((a) => a === PROVIDER_FLAG || a.startsWith(`${PROVIDER_FLAG}=`) || a.startsWith(`${PROVIDER_FLAG}.`))) return undefined;
  return `the Deployment's Traefik runs without ${PROVIDER_FLAG} (its arguments: ${(args ?? []).join(" ") || "none"}): k3s's chart dropped providers.kubernetesIngressNGINX, which it does not know, without an error; no Ingress of class nginx would be served`;
}

/** The same image, however it is written (`traefik:v3.7.9` = `docker.io/library/traefik:v3.7.9`). */
export function sameImage(a: string | undefined, b: string): boolean {
  return !!a && normalizeImageRef(a) === normalizeImageRef(b);
}

/** `Ready` pods of the chart, by the location's selector. */
const isReady = (p: V1Pod) => !!p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");

/** The chart's container (named after the release), else the first. */
const traefikContainer = <T extends { name: string }>(containers: T[] | undefined): T | undefined =>
  containers?.find((c) => c.name === TRAEFIK_DEPLOYMENT) ?? containers?.[0];

/**
 * Waits, bounded, until the Deployment kube-system/traefik runs the pinned image and one of its
 * pods is Ready with it. While it is not, the wait says what it sees: no Deployment yet (with what
 * helm-controller's install job is doing), another image (k3s's own, the HelmChartConfig not
 * applied), or the pods' states.
 */
export async function waitTraefikReady(kube: Kube, timeoutMs: number, image = TRAEFIK_IMAGE): Promise<V1Pod> {
  const { namespace, selector } = kube.controller;
  return waitFor(
    `Traefik ${TRAEFIK_VERSION} (Deployment ${namespace}/${TRAEFIK_DEPLOYMENT}, image ${image}) to be Ready`,
    async () => {
      let deployed: string | undefined;
      let args: string[] | undefined;
      try {
        const d = await kube.apps.readNamespacedDeployment({ name: TRAEFIK_DEPLOYMENT, namespace });
        const container = traefikContainer(d.spec?.template?.spec?.containers);
        deployed = container?.image;
        args = container?.args;
      } catch (error) {
        if ((error as { code?: number }).code !== 404) throw error;
        return { done: false, observation: `no Deployment ${namespace}/${TRAEFIK_DEPLOYMENT} yet; ${await helmInstallState(kube)}` };
      }
      if (!sameImage(deployed, image)) return { done: false, observation: `Deployment ${namespace}/${TRAEFIK_DEPLOYMENT} runs ${deployed ?? "no image"}, not ${image}` };
      // The pinned image with our values applied, yet no provider: waiting will not change it.
      const noProvider = providerFlagProblem(args);
      // A ConfigError: the run ends with exit 2 and this reason (run.ts startTarget).
      if (noProvider) throw new StopWaiting(new ConfigError(`${noProvider}; use ${TRAEFIK_K3S_IMAGE}`));
      const pods = (await kube.core.listNamespacedPod({ namespace, labelSelector: selector })).items;
      const ready = pods.find((p) => isReady(p) && sameImage(traefikContainer(p.spec?.containers)?.image, image));
      if (ready) return { done: true, value: ready };
      return { done: false, observation: pods.map(podState).join(", ") || `no pod matches ${selector} yet` };
    },
    { timeoutMs, intervalMs: 1000 },
  );
}

/** What helm-controller's job for the chart (helm-install-traefik-…) is doing. */
async function helmInstallState(kube: Kube): Promise<string> {
  try {
    const pods = (await kube.core.listNamespacedPod({ namespace: TRAEFIK_NAMESPACE })).items.filter((p) => p.metadata?.name?.startsWith("helm-install-traefik-"));
    return pods.length ? `helm install job: ${pods.map(podState).join(", ")}` : "no helm-install-traefik pod yet";
  } catch (error) {
    return `helm install job unreadable: ${(error as Error).message}`;
  }
}

function podState(p: V1Pod): string {
  const waiting = p.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
  const terminated = p.status?.containerStatuses?.find((c) => c.state?.terminated)?.state?.terminated;
  const why = waiting ? ` (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""})` : terminated ? ` (exited ${terminated.exitCode}${terminated.reason ? `: ${terminated.reason}` : ""})` : "";
  return `${p.metadata?.name}: ${p.status?.phase ?? "Unknown"}${why}`;
}

/** The images a Traefik run pulls inside k3s (the chart's Traefik, the echo backend) besides k3s's own. */
export const traefikClusterImages = (echoImage: string): string[] => [TRAEFIK_IMAGE, echoImage];
