// The cluster code against a fake Kubernetes API server on loopback: what it sends, how it
// retries the admission webhook, how it guards namespaces, how its waits end.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { buildManifests, type Manifests } from "../manifests/manifests.ts";
import { buildPki } from "../pki/pki.ts";
import { WaitTimeoutError } from "../support/wait.ts";
import { DEFAULT_TIMEOUTS, Kube, loadKubeConfig } from "./kube.ts";

interface Call {
  method: string;
  path: string;
  contentType?: string;
  body?: unknown;
}

const RESOURCES: Record<string, Array<{ name: string; kind: string; namespaced: boolean }>> = {
  "/api/v1": [
    { name: "namespaces", kind: "Namespace", namespaced: false },
    { name: "secrets", kind: "Secret", namespaced: true },
    { name: "configmaps", kind: "ConfigMap", namespaced: true },
    { name: "services", kind: "Service", namespaced: true },
    { name: "pods", kind: "Pod", namespaced: true },
  ],
  "/apis/apps/v1": [{ name: "deployments", kind: "Deployment", namespaced: true }],
  "/apis/networking.k8s.io/v1": [{ name: "ingresses", kind: "Ingress", namespaced: true }],
};

let server: Server;
let kube: Kube;
let calls: Call[] = [];
let namespaces: Record<string, Record<string, unknown>> = {};
let webhookFailuresLeft = 0;
/** Ingress names the fake webhook denies, as the real one denies an invalid annotation. */
let deniedIngresses: string[] = [];
let controllerPods: unknown[] = [];
let manifests: Manifests;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
const status = (code: number, message: string, reason = "") => ({ kind: "Status", apiVersion: "v1", status: "Failure", code, message, reason });

function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
  const url = new URL(req.url ?? "/", "http://x");
  const path = url.pathname;
  let body: unknown;
  try {
    body = raw ? JSON.parse(raw) : undefined;
  } catch {
    body = raw;
  }
  calls.push({ method: req.method ?? "", path, contentType: req.headers["content-type"], body });
  if (req.method === "GET" && RESOURCES[path]) {
    return send(res, 200, { kind: "APIResourceList", groupVersion: path.replace(/^\/apis?\//, ""), resources: RESOURCES[path]!.map((r) => ({ ...r, singularName: "", verbs: ["get", "patch"] })) });
  }
  const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
  if (ns && req.method === "GET") return namespaces[ns[1]!] ? send(res, 200, namespaces[ns[1]!]) : send(res, 404, status(404, `namespaces "${ns[1]}" not found`, "NotFound"));
  if (path === "/api/v1/namespaces" && req.method === "POST") {
    const o = body as { metadata: { name: string } };
    namespaces[o.metadata.name] = o as Record<string, unknown>;
    return send(res, 201, o);
  }
  if (path === "/api/v1/namespaces/ingress-nginx/pods" && req.method === "GET") return send(res, 200, { kind: "PodList", apiVersion: "v1", items: controllerPods });
  const deployment = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/.exec(path);
  if (deployment && req.method === "GET") {
    return send(res, 200, { kind: "Deployment", apiVersion: "apps/v1", metadata: { name: deployment[2], namespace: deployment[1] }, spec: { replicas: 1 }, status: { availableReplicas: 1 } });
  }
  if (req.method === "PATCH" && /\/ingresses\//.test(path) && webhookFailuresLeft > 0) {
    webhookFailuresLeft--;
    return send(res, 500, status(500, 'Internal error occurred: failed calling webhook "validate.nginx.ingress.kubernetes.io": connection refused', "InternalError"));
  }
  const ingressName = /\/ingresses\/([^/]+)$/.exec(path)?.[1];
  if (req.method === "PATCH" && ingressName && deniedIngresses.includes(ingressName)) {
    return send(res, 400, status(400, 'admission webhook "validate.nginx.ingress.kubernetes.io" denied the request: annotation nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream contains invalid value', "BadRequest"));
  }
  if (req.method === "PATCH") return send(res, 200, body);
  return send(res, 404, status(404, `no route for ${req.method} ${path}`));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => handle(req, res, raw));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const yaml = `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: fake, context: { cluster: fake, user: u } }]
current-context: fake
`;
  kube = new Kube(loadKubeConfig({ yaml, context: "fake" }));
  const pki = await buildPki({ serverHosts: catalogue.policies.map((p) => p.host) });
  // The first three policies (the guide's, depth 2, no pass-cert): the order test names them.
  manifests = buildManifests({ namespace: "mtls-conformance", policies: catalogue.policies.slice(0, 3), pki });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  calls = [];
  namespaces = {};
  webhookFailuresLeft = 0;
  deniedIngresses = [];
  controllerPods = [];
});

describe("namespaces", () => {
  it("creates its namespace with the managed-by label", async () => {
    await kube.claimNamespace("mtls-conformance");
    const post = calls.find((c) => c.method === "POST");
    expect(post?.body).toMatchObject({ metadata: { name: "mtls-conformance", labels: { "app.kubernetes.io/managed-by": "mtls-conformance" } } });
  });

  it("reuses a namespace it created earlier", async () => {
    namespaces["mtls-conformance"] = { metadata: { name: "mtls-conformance", labels: { "app.kubernetes.io/managed-by": "mtls-conformance" } } };
    await kube.claimNamespace("mtls-conformance");
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });

  it("in a cluster made for the run (k3s), an existing namespace such as default is the run's", async () => {
    namespaces.default = { metadata: { name: "default" } };
    await kube.claimNamespace("default", { ownCluster: true });
    expect(calls.filter((c) => c.method !== "GET")).toHaveLength(0);
    await expect(kube.claimNamespace("default")).rejects.toThrow("namespace default exists and was not created by mtls-conformance");
  });

  it("refuses a namespace someone else created, and touches nothing", async () => {
    namespaces.payments = { metadata: { name: "payments", labels: { team: "payments" } } };
    await expect(kube.claimNamespace("payments")).rejects.toThrow("namespace payments exists and was not created by mtls-conformance");
    expect(calls.filter((c) => c.method !== "GET")).toHaveLength(0);
  });
});

describe("deploy", () => {
  it("server-side applies backend and Secrets first, then every Ingress in the controller's tie-break order (namespace/name descending), retrying while the webhook is not serving", async () => {
    webhookFailuresLeft = 2;
    await kube.deploy(manifests, { ...DEFAULT_TIMEOUTS, webhookMs: 10_000 });
    const patches = calls.filter((c) => c.method === "PATCH");
    expect(patches.every((c) => c.contentType === "application/apply-patch+yaml")).toBe(true);
    const order = patches.map((c) => c.path.split("/").slice(-2).join("/"));
    expect(order).toEqual([
      "configmaps/mtls-echo",
      "deployments/demo-app",
      "services/demo-app",
      "secrets/ca-secret",
      "secrets/self-tls",
      "ingresses/test-localhost",
      "ingresses/test-localhost",
      "ingresses/test-localhost",
      "ingresses/mtls-no-pass-cert",
      "ingresses/mtls-depth-2",
    ]);
    expect(patches[0]!.path).toBe("/api/v1/namespaces/mtls-conformance/configmaps/mtls-echo");
  });

  it("an Ingress the webhook denies is recorded with the webhook's message, and the others are still applied", async () => {
    deniedIngresses = ["mtls-depth-2"];
    const denied = await kube.deploy(manifests, { ...DEFAULT_TIMEOUTS, webhookMs: 5_000 });
    expect(denied).toEqual([{ ingress: "mtls-conformance/mtls-depth-2", message: expect.stringContaining('denied the request: annotation nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream contains invalid value') }]);
    const applied = calls.filter((c) => c.method === "PATCH" && c.path.includes("/ingresses/")).map((c) => c.path.split("/").at(-1));
    expect(applied).toEqual(["test-localhost", "mtls-no-pass-cert", "mtls-depth-2"]);
  });

  it("a webhook that never comes up ends at its bound, naming the Ingress", async () => {
    webhookFailuresLeft = 1_000;
    const t = Date.now();
    const error = (await kube.deploy(manifests, { ...DEFAULT_TIMEOUTS, webhookMs: 1200 }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.message).toMatch(/waiting for the admission webhook to accept Ingress test-localhost \(last seen: .*failed calling webhook/);
    expect(Date.now() - t).toBeLessThan(5000);
  });
});

describe("the user's objects (--manifests) on a cluster", () => {
  it("claims every namespace, applies backends and Secrets before the Ingresses, waits for each namespace's echo backend", async () => {
    const { loadUserManifests, prepareUserObjects } = await import("../manifests/user-manifests.ts");
    const { CredentialFactory } = await import("../pki/credentials.ts");
    const example = new URL("../../fixtures/examples/shop", import.meta.url).pathname;
    const prepared = await prepareUserObjects(loadUserManifests(example), new CredentialFactory());
    await kube.deployAll(prepared.manifests, { ...DEFAULT_TIMEOUTS, webhookMs: 5_000, backendReadyMs: 5_000 });
    expect(calls.filter((c) => c.method === "POST" && c.path === "/api/v1/namespaces").map((c) => (c.body as { metadata: { name: string; labels: Record<string, string> } }).metadata)).toEqual([
      { name: "partners", labels: { "app.kubernetes.io/managed-by": "mtls-conformance" } },
      { name: "shop", labels: { "app.kubernetes.io/managed-by": "mtls-conformance" } },
    ]);
    const applied = calls.filter((c) => c.method === "PATCH").map((c) => c.path.replace(/^\/apis?\/(?:[^/]+\/)?v1\/namespaces\//, ""));
    const firstIngress = applied.findIndex((p) => p.includes("/ingresses/"));
    expect(applied.slice(0, firstIngress).some((p) => p.includes("/ingresses/"))).toBe(false);
    expect(applied.slice(firstIngress)).toEqual(["shop/ingresses/backoffice", "shop/ingresses/assets", "shop/ingresses/api", "partners/ingresses/status", "partners/ingresses/partners"]);
    expect(applied).toEqual(expect.arrayContaining(["shop/services/api", "shop/services/backoffice", "partners/services/partners", "partners/services/status", "shop/secrets/shop-client-ca", "partners/secrets/partner-ca", "shop/secrets/api-tls"]));
    expect(calls.filter((c) => c.method === "GET" && c.path.includes("/deployments/")).map((c) => c.path)).toEqual([
      "/apis/apps/v1/namespaces/partners/deployments/mtls-echo",
      "/apis/apps/v1/namespaces/shop/deployments/mtls-echo",
    ]);
    // The applied Ingresses are the user's, as written.
    const api = calls.find((c) => c.method === "PATCH" && c.path.endsWith("/ingresses/api"))!.body as { metadata: { annotations: Record<string, string>; labels?: unknown } };
    expect(api.metadata.annotations["nginx.ingress.kubernetes.io/auth-tls-verify-depth"]).toBe("3");
    expect(api.metadata.labels).toBeUndefined();
  });
});

describe("controller", () => {
  const pod = (ready: boolean, waiting?: string) => ({
    metadata: { name: "ingress-nginx-controller-abc", namespace: "ingress-nginx" },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      containerStatuses: [
        {
          name: "controller",
          image: "registry.k8s.io/ingress-nginx/controller:v1.15.1",
          imageID: `registry.k8s.io/ingress-nginx/controller@sha256:${"d".repeat(64)}`,
          ready,
          restartCount: 0,
          ...(waiting ? { state: { waiting: { reason: waiting } } } : {}),
        },
      ],
    },
  });

  it("waits for a Ready controller pod and reads its image digests", async () => {
    controllerPods = [pod(true)];
    const ready = await kube.waitControllerReady(2000);
    expect(ready.metadata?.name).toBe("ingress-nginx-controller-abc");
    const images = await kube.controllerImages();
    expect(images).toEqual([{ pod: "ingress-nginx-controller-abc", container: "controller", image: "registry.k8s.io/ingress-nginx/controller:v1.15.1", imageID: `registry.k8s.io/ingress-nginx/controller@sha256:${"d".repeat(64)}` }]);
    expect(calls.find((c) => c.path.endsWith("/pods"))).toBeDefined();
  });

  it("a controller that never gets Ready times out with what it last saw (ImagePullBackOff)", async () => {
    controllerPods = [pod(false, "ImagePullBackOff")];
    const error = (await kube.waitControllerReady(800).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.message).toContain("waiting for the ingress-nginx controller pod to be Ready (last seen: ingress-nginx-controller-abc: Running (ImagePullBackOff))");
  });
});
