// What the run gives k3s for `--controller traefik`, checked against what the upstream projects
// declare. Nothing is fetched at test time: the schema facts below were read from the sources
// named beside them and are encoded here, so a value the chart would refuse fails this test.
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { basename } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { buildManifests } from "../manifests/manifests.ts";
import { FakeKubeServer } from "../testing/fake-kube-server.ts";
import { WaitTimeoutError } from "../support/wait.ts";
import { ConfigError } from "../support/errors.ts";
import {
  atLeast,
  helmChartConfig,
  INGRESS_CLASS,
  INGRESS_NGINX_CONTROLLER_CLASS,
  K3S_PACKAGED_TRAEFIK,
  nginxIngressClass,
  packagedTraefikProblem,
  providerFlagProblem,
  sameImage,
  TRAEFIK_CONFIG_PATH,
  TRAEFIK_IMAGE,
  TRAEFIK_K3S_IMAGE,
  TRAEFIK_LOCATION,
  TRAEFIK_MIN_VERSION,
  TRAEFIK_VERSION,
  traefikConfigYaml,
  traefikValues,
  waitTraefikReady,
} from "./traefik-controller.ts";
import { sharedPki } from "../testing/shared-pki.ts";

/** A JSON-schema node as values.schema.json writes it, with the line it starts on. */
interface SchemaNode {
  type: string | string[];
  line: number;
  properties?: Record<string, SchemaNode>;
  /** false: no other key is allowed (the line of `"additionalProperties": false`); a node: every other key's schema. */
  additionalProperties?: { closedAt: number } | SchemaNode;
}

/**
 * traefik/traefik-helm-chart, tag v41.1.1 (Chart.yaml appVersion v3.7.9), traefik/values.schema.json:
 * the nodes on the way to every key the run sets. The same keys with the same types are in every
 * tag from v40.0.0 to v41.3.0 (each tag's values.yaml and values.schema.json read); v37.1.0 (what
 * k3s v1.35.0+k3s1 packages) has no kubernetesIngressNGINX (see PROVIDERS_V37_1_0).
 */
const CHART_SCHEMA: SchemaNode = {
  type: "object",
  line: 1,
  additionalProperties: { closedAt: 3319 },
  properties: {
    image: {
      type: "object",
      line: 1371,
      additionalProperties: { closedAt: 1408 },
      properties: {
        registry: { type: ["string", "null"], line: 1386 },
        repository: { type: ["string", "null"], line: 1393 },
        tag: { type: ["string", "null"], line: 1400 },
      },
    },
    ingressClass: { type: "object", line: 1410, additionalProperties: { closedAt: 1424 }, properties: { enabled: { type: "boolean", line: 1413 } } },
    ports: {
      type: "object",
      line: 2142,
      // Every entrypoint (web, websecure, …) has the one schema at :2144, closed at :2503.
      additionalProperties: { type: "object", line: 2144, additionalProperties: { closedAt: 2503 }, properties: { exposedPort: { type: "integer", line: 2182 } } },
    },
    providers: {
      type: "object",
      line: 2510,
      additionalProperties: { closedAt: 2992 },
      properties: {
        kubernetesIngress: { type: "object", line: 2663, additionalProperties: { closedAt: 2745 }, properties: { enabled: { type: "boolean", line: 2682 } } },
        kubernetesIngressNGINX: {
          type: "object",
          line: 2747,
          additionalProperties: { closedAt: 2985 },
          properties: {
            controllerClass: { type: "string", line: 2775 },
            enabled: { type: "boolean", line: 2791 },
            ingressClass: { type: "string", line: 2815 },
            publishService: { type: "object", line: 2933, properties: { enabled: { type: "boolean", line: 2936 } } },
            watchIngressWithoutClass: { type: "boolean", line: 2972 },
          },
        },
      },
    },
    service: { type: "object", line: 3065, properties: { spec: { type: "object", line: 3102, properties: { type: { type: "string", line: 3106 } } } } },
  },
};

/** traefik-helm-chart v37.1.0 values.schema.json: `providers` is closed and knows only these. */
const PROVIDERS_V37_1_0 = ["file", "kubernetesCRD", "kubernetesGateway", "kubernetesIngress"];

const jsonType = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v === "number" ? "number" : typeof v);

/** What the chart's schema would refuse in `value`, as `path: why (values.schema.json:line)`. */
function schemaProblems(value: unknown, node: SchemaNode, path = "values"): string[] {
  const types = ([] as string[]).concat(node.type);
  const t = jsonType(value);
  if (!types.includes(t) && !(t === "integer" && types.includes("number"))) return [`${path}: ${t}, the schema wants ${types.join("|")} (values.schema.json:${node.line})`];
  if (t !== "object") return [];
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const child = node.properties?.[key] ?? (node.additionalProperties && "type" in node.additionalProperties ? node.additionalProperties : undefined);
    if (child) problems.push(...schemaProblems(v, child, `${path}.${key}`));
    else if (node.additionalProperties && "closedAt" in node.additionalProperties) problems.push(`${path}.${key}: not allowed (additionalProperties false, values.schema.json:${node.additionalProperties.closedAt})`);
    else problems.push(`${path}.${key}: not among the keys read from the schema (add it with its citation)`);
  }
  return problems;
}

describe("the pinned Traefik", () => {
  it("is a v3.7 release at or after v3.7.2, which clears client-sent Ssl-Client-* headers", () => {
    expect(TRAEFIK_VERSION).toMatch(/^v3\.7\.\d+$/);
    expect(atLeast(TRAEFIK_VERSION, TRAEFIK_MIN_VERSION)).toBe(true);
    expect(TRAEFIK_MIN_VERSION).toBe("v3.7.2");
    // The comparison itself, on the boundary.
    expect(atLeast("v3.7.1", "v3.7.2")).toBe(false);
    expect(atLeast("v3.7.10", "v3.7.9")).toBe(true);
    expect(atLeast("v3.6.24", "v3.7.0")).toBe(false);
    expect(atLeast("latest", "v3.7.2")).toBeUndefined();
    expect(TRAEFIK_IMAGE).toBe(`docker.io/traefik:${TRAEFIK_VERSION}`);
  });

  it("a Deployment the chart rendered without the provider flag is named, with its arguments; with it, nothing is said", () => {
    // As chart v41.1.1's _podtemplate.tpl:620-637 renders the provider (and as a chart without the key renders nothing of it).
    const rendered = ["--entryPoints.web.address=:8000/tcp", "--entryPoints.websecure.address=:8443/tcp", "--providers.kubernetesingressnginx", "--providers.kubernetesingressnginx.ingressclass=nginx", "--providers.kubernetesingressnginx.controllerclass=k8s.io/ingress-nginx"];
    expect(providerFlagProblem(rendered)).toBeUndefined();
    const dropped = rendered.filter((a) => !a.startsWith("--providers.kubernetesingressnginx"));
    expect(providerFlagProblem(dropped)).toMatch(/^the Deployment's Traefik runs without --providers\.kubernetesingressnginx \(its arguments: --entryPoints\.web/);
    expect(providerFlagProblem(undefined)).toContain("its arguments: none");
  });

  it("runs on a k3s whose packaged chart knows the provider; older ones are named with the reason", () => {
    expect(atLeast(K3S_PACKAGED_TRAEFIK[TRAEFIK_K3S_IMAGE.split(":")[1]!]!, "v3.7.0")).toBe(true);
    expect(packagedTraefikProblem(TRAEFIK_K3S_IMAGE)).toBeUndefined();
    expect(packagedTraefikProblem("rancher/k3s:v1.35.0-k3s1")).toBe(
      `rancher/k3s:v1.35.0-k3s1 packages Traefik v3.5.1, whose Helm chart has no providers.kubernetesIngressNGINX (it came with chart v40.0.0, for Traefik v3.7.0) and, packaged by k3s without a values schema, would drop it silently; use ${TRAEFIK_K3S_IMAGE}`,
    );
    expect(packagedTraefikProblem("rancher/k3s:v1.36.1-k3s1")).toContain("packages Traefik v3.6.13");
    // A release not known to package a v3.7 chart is refused too: k3s's chart has no values schema,
    // so a chart without the key would drop it silently.
    expect(packagedTraefikProblem("rancher/k3s:v1.34.1-k3s1")).toContain("packages Traefik v3.3.6");
    for (const image of ["rancher/k3s:v1.38.0-k3s1", "rancher/k3s:v1.35.2-k3s1"]) {
      expect(packagedTraefikProblem(image), image).toMatch(/is not a k3s this project knows to package a Traefik v3\.7 chart .*dropped without an error/);
    }
  });
});

describe("the Helm values", () => {
  const values = traefikValues();

  it("validate against the chart's values.schema.json (v41.1.1, the chart of v3.7.9)", () => {
    expect(schemaProblems(values, CHART_SCHEMA)).toEqual([]);
  });

  it("the validation bites: the chart's older spelling, a string port, and chart 37.1's closed providers are refused", () => {
    const old = structuredClone(values) as { providers: Record<string, unknown> };
    old.providers.kubernetesIngressNginx = old.providers.kubernetesIngressNGINX;
    delete old.providers.kubernetesIngressNGINX;
    expect(schemaProblems(old, CHART_SCHEMA)).toEqual(["values.providers.kubernetesIngressNginx: not allowed (additionalProperties false, values.schema.json:2992)"]);
    const stringPort = structuredClone(values) as { ports: { websecure: { exposedPort: unknown } } };
    stringPort.ports.websecure.exposedPort = "443";
    expect(schemaProblems(stringPort, CHART_SCHEMA)).toEqual(["values.ports.websecure.exposedPort: string, the schema wants integer (values.schema.json:2182)"]);
    // What k3s v1.35.0+k3s1's chart would say: the provider is not one of its providers.
    expect(Object.keys((values as { providers: object }).providers).filter((p) => !PROVIDERS_V37_1_0.includes(p))).toEqual(["kubernetesIngressNGINX"]);
  });

  it("pin the image, serve class nginx with the ingress-nginx provider only, and publish 443 and 80 through a LoadBalancer", () => {
    expect(values).toEqual({
      image: { registry: "docker.io", repository: "traefik", tag: TRAEFIK_VERSION },
      providers: {
        kubernetesIngress: { enabled: false },
        kubernetesIngressNGINX: { enabled: true, ingressClass: "nginx", controllerClass: "k8s.io/ingress-nginx", watchIngressWithoutClass: false, publishService: { enabled: true } },
      },
      ingressClass: { enabled: false },
      ports: { web: { exposedPort: 80 }, websecure: { exposedPort: 443 } },
      service: { spec: { type: "LoadBalancer" } },
    });
    // The chart builds the image as registry/repository:tag (templates/_helpers.tpl:65).
    const image = values.image as { registry: string; repository: string; tag: string };
    expect(`${image.registry}/${image.repository}:${image.tag}`).toBe(TRAEFIK_IMAGE);
  });

  it("every Ingress of the catalogue names the IngressClass the provider selects (by its controller, k8s.io/ingress-nginx)", async () => {
    const pki = await sharedPki(catalogue.policies.map((p) => p.host));
    const { ingresses } = buildManifests({ namespace: "mtls-conformance", policies: catalogue.policies, pki });
    expect(ingresses.length).toBeGreaterThan(0);
    // Traefik v3.7.9 ingress-nginx/build.go:953-965: an Ingress naming a class is served when that
    // class is one of those whose spec.controller is controllerClass (client.go:395-409).
    const provider = (values.providers as { kubernetesIngressNGINX: { controllerClass: string; ingressClass: string } }).kubernetesIngressNGINX;
    const cls = nginxIngressClass() as { metadata: { name: string }; spec: { controller: string } };
    expect(cls.spec.controller).toBe(provider.controllerClass);
    expect(cls.metadata.name).toBe(provider.ingressClass);
    for (const i of ingresses) {
      const named = i.spec?.ingressClassName ?? i.metadata?.annotations?.["kubernetes.io/ingress.class"];
      expect(named, `${i.metadata?.namespace}/${i.metadata?.name}`).toBe(INGRESS_CLASS);
    }
  });
});

describe("the HelmChartConfig and its place", () => {
  /**
   * k3s-io/helm-controller (master 21a911f, 2026-07-27) pkg/crds/yaml/generated/
   * helm.cattle.io_helmchartconfigs.yaml: group helm.cattle.io (:9), kind HelmChartConfig (:11),
   * Namespaced (:17), version v1 (:19); spec's properties (:48-112) are exactly these, and
   * valuesContent is a string (:83-87); pkg/apis/helm.cattle.io/v1/types.go:184-209.
   */
  const SPEC_FIELDS = ["failurePolicy", "forceConflicts", "serverSide", "values", "valuesContent", "valuesSecrets"];

  it("has the CRD's shape, and matches k3s's HelmChart traefik in kube-system by name and namespace", () => {
    const hcc = helmChartConfig() as { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown> };
    expect(hcc.apiVersion).toBe("helm.cattle.io/v1");
    expect(hcc.kind).toBe("HelmChartConfig");
    // helm-controller pkg/controllers/chart/chart.go:244-246 and :584-585: the config is found by the chart's name and namespace.
    expect(hcc.metadata).toEqual({ name: "traefik", namespace: "kube-system" });
    expect(Object.keys(hcc.spec).filter((k) => !SPEC_FIELDS.includes(k))).toEqual([]);
    expect(typeof hcc.spec.valuesContent).toBe("string");
    // valuesContent is the values file helm gets (chart.go:1088-1107): it parses back to the values.
    expect(parseYaml(hcc.spec.valuesContent as string)).toEqual(traefikValues());
  });

  it("traefik-config.yaml holds the HelmChartConfig and IngressClass nginx, one document each, and goes where k3s applies manifests", () => {
    const docs = parseAllDocuments(traefikConfigYaml());
    expect(docs.map((d) => d.errors)).toEqual(docs.map(() => []));
    const objects = docs.map((d) => d.toJS() as { kind: string }).filter(Boolean);
    expect(objects).toEqual([helmChartConfig(), nginxIngressClass()]);
    expect(objects[1]).toEqual({ apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "nginx" }, spec: { controller: INGRESS_NGINX_CONTROLLER_CLASS } });
    // k3s-io/docs docs/installation/packaged-components.md: files in server/manifests are applied at
    // start; the AddOn is named after the file's basename, which must be an RFC 1123 name and not
    // a packaged component's (traefik). docs/helm/helm.md names this very path.
    expect(TRAEFIK_CONFIG_PATH).toBe("/var/lib/rancher/k3s/server/manifests/traefik-config.yaml");
    const addon = basename(TRAEFIK_CONFIG_PATH, ".yaml");
    expect(addon).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
    expect(["coredns", "traefik", "local-storage", "metrics-server", "ccm", "rolebindings", "runtimes"]).not.toContain(addon);
  });
});

describe("waiting for Traefik, against an API server that answers as the real one", () => {
  const fake = new FakeKubeServer();
  beforeAll(() => fake.start().then(() => undefined));
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  // The arguments chart v41.1.1 renders for the provider (traefik/templates/_podtemplate.tpl:620-637).
  const CHART_ARGS = ["--entryPoints.web.address=:8000/tcp", "--entryPoints.websecure.address=:8443/tcp", "--providers.kubernetesingressnginx", "--providers.kubernetesingressnginx.ingressclass=nginx", "--providers.kubernetesingressnginx.controllerclass=k8s.io/ingress-nginx"];
  const deployment = (image: string, args = CHART_ARGS) =>
    fake.put({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "traefik", namespace: "kube-system", labels: { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-kube-system" } },
      spec: { template: { spec: { containers: [{ name: "traefik", image, args }] } } },
    } as never);
  const pod = (name: string, image: string, ready: boolean, labels: Record<string, string> = { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-kube-system" }, state?: object) =>
    fake.put({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "kube-system", labels },
      spec: { containers: [{ name: "traefik", image }] },
      status: { phase: ready ? "Running" : "Pending", conditions: [{ type: "Ready", status: ready ? "True" : "False" }], ...(state ? { containerStatuses: [{ name: "helm", image, imageID: "", ready: false, restartCount: 0, state }] } : {}) },
    } as never);

  it("no Deployment yet: the wait says what helm-controller's install job is doing", async () => {
    pod("helm-install-traefik-x7k2p", "rancher/klipper-helm:v0.9.14", false, { "batch.kubernetes.io/job-name": "helm-install-traefik" }, { waiting: { reason: "ErrImagePull", message: "no such host" } });
    const error = (await waitTraefikReady(fake.kube(TRAEFIK_LOCATION), 300).catch((e: unknown) => e)) as WaitTimeoutError;
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.message).toContain(`waiting for Traefik ${TRAEFIK_VERSION} (Deployment kube-system/traefik, image ${TRAEFIK_IMAGE}) to be Ready`);
    expect(error.lastObservation).toBe("no Deployment kube-system/traefik yet; helm install job: helm-install-traefik-x7k2p: Pending (ErrImagePull: no such host)");
  });

  it("k3s's own image still deployed (the HelmChartConfig not applied) is not Traefik ready", async () => {
    deployment("rancher/mirrored-library-traefik:3.7.13");
    pod("traefik-6d8f9", "rancher/mirrored-library-traefik:3.7.13", true);
    const error = (await waitTraefikReady(fake.kube(TRAEFIK_LOCATION), 300).catch((e: unknown) => e)) as WaitTimeoutError;
    expect(error.lastObservation).toBe(`Deployment kube-system/traefik runs rancher/mirrored-library-traefik:3.7.13, not ${TRAEFIK_IMAGE}`);
  });

  it("the pinned image, however it is written, and a Ready pod running it: done", async () => {
    deployment(`traefik:${TRAEFIK_VERSION}`);
    pod("traefik-old", "rancher/mirrored-library-traefik:3.7.13", true);
    pod("traefik-new", `docker.io/library/traefik:${TRAEFIK_VERSION}`, true);
    const ready = await waitTraefikReady(fake.kube(TRAEFIK_LOCATION), 2000);
    expect(ready.metadata?.name).toBe("traefik-new");
    const list = fake.calls.find((c) => c.path === "/api/v1/namespaces/kube-system/pods" && c.query.includes("labelSelector"))!;
    expect(new URLSearchParams(list.query).get("labelSelector")).toBe("app.kubernetes.io/name=traefik");
    expect(sameImage("traefik:v3.7.9", "docker.io/library/traefik:v3.7.9")).toBe(true);
    expect(sameImage("rancher/mirrored-library-traefik:v3.7.9", "docker.io/traefik:v3.7.9")).toBe(false);
  });

  it("the pinned image rendered by a chart that dropped the provider (k3s's, without a values schema): the wait stops at once and names the missing flag", async () => {
    deployment(TRAEFIK_IMAGE, CHART_ARGS.filter((a) => !a.startsWith("--providers.kubernetesingressnginx")));
    pod("traefik-new", TRAEFIK_IMAGE, true);
    const started = Date.now();
    const error = (await waitTraefikReady(fake.kube(TRAEFIK_LOCATION), 30_000).catch((e: unknown) => e)) as Error;
    expect(error).not.toBeInstanceOf(WaitTimeoutError);
    // A ConfigError: the run ends with exit 2 and this line (run.ts startTarget).
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`the Deployment's Traefik runs without --providers.kubernetesingressnginx (its arguments: --entryPoints.web.address=:8000/tcp --entryPoints.websecure.address=:8443/tcp): k3s's chart dropped providers.kubernetesIngressNGINX, which it does not know, without an error; no Ingress of class nginx would be served; use rancher/k3s:v1.37.1-k3s1`);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
