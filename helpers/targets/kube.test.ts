// The cluster code against a fake Kubernetes API server on loopback that answers as the real one
// does (helpers/testing/fake-kube-server.ts): what it sends, how it retries the admission webhook,
// how it guards, deletes and waits out namespaces, how it finds the controller, its version and
// its load-balancer address, and how its waits end.
import type { V1Pod } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { buildManifests, type Manifests } from "../manifests/manifests.ts";
import { WaitTimeoutError } from "../support/wait.ts";
import { FakeKubeServer } from "../testing/fake-kube-server.ts";
import { CONTROLLER_SELECTOR, DEFAULT_TIMEOUTS, Kube, saveDiagnostics } from "./kube.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { sharedPki } from "../testing/shared-pki.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

const fake = new FakeKubeServer();
let kube: Kube;
let manifests: Manifests;
const OURS = { "app.kubernetes.io/managed-by": "mtls-conformance" };
const DIGEST = `sha256:${"d".repeat(64)}`;

const namespace = (name: string, labels?: Record<string, string>) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, ...(labels ? { labels } : {}) } });
const labelsOf = (selector: string) => Object.fromEntries(selector.split(",").map((t) => t.split("=") as [string, string]));
const namespaceReads = (name: string) => fake.calls.filter((c) => c.method === "GET" && c.path === `/api/v1/namespaces/${name}`);

beforeAll(async () => {
  await fake.start();
  kube = fake.kube();
  const pki = await sharedPki(catalogue.policies.map((p) => p.host));
  // The first three policies (the guide's, depth 2, no pass-cert): the order test names them.
  manifests = buildManifests({ namespace: "mtls-conformance", policies: catalogue.policies.slice(0, 3), pki });
});
afterAll(() => fake.stop());
beforeEach(() => fake.reset());

describe("namespaces", () => {
  it("creates its namespace with the managed-by label", async () => {
    await kube.claimNamespace("mtls-conformance");
    const post = fake.calls.find((c) => c.method === "POST");
    expect(post?.body).toMatchObject({ metadata: { name: "mtls-conformance", labels: OURS } });
    expect(post?.status).toBe(201);
  });

  it("reuses a namespace it created earlier", async () => {
    fake.put(namespace("mtls-conformance", OURS));
    await kube.claimNamespace("mtls-conformance");
    expect(fake.writes).toHaveLength(0);
  });

  it("in a cluster made for the run (k3s), an existing namespace such as default is the run's", async () => {
    fake.put(namespace("default"));
    await kube.claimNamespace("default", { ownCluster: true });
    expect(fake.writes).toHaveLength(0);
    await expect(kube.claimNamespace("default")).rejects.toThrow("namespace default exists and was not created by mtls-conformance");
  });

  it("refuses a namespace someone else created, and touches nothing", async () => {
    fake.put(namespace("payments", { team: "payments" }));
    await expect(kube.claimNamespace("payments")).rejects.toThrow("namespace payments exists and was not created by mtls-conformance");
    expect(fake.writes).toHaveLength(0);
  });

  it("refuses someone else's namespace at once even while it is Terminating: nothing to wait for", async () => {
    fake.put({ ...namespace("payments", { team: "payments" }), metadata: { name: "payments", labels: { team: "payments" }, deletionTimestamp: new Date() }, status: { phase: "Terminating" } } as never);
    const t = Date.now();
    await expect(kube.claimNamespace("payments", { timeoutMs: 5_000 })).rejects.toThrow("was not created by mtls-conformance");
    expect(Date.now() - t).toBeLessThan(500);
    expect(fake.writes).toHaveLength(0);
  });
});

describe("a namespace being deleted (the API accepts the DELETE at once; the namespace controller empties it afterwards)", () => {
  it("the fake answers as the real server: DELETE gives 200 with the Namespace Terminating, and creating content in it meanwhile is refused with 403", async () => {
    fake.terminationMs = 60_000;
    fake.put(namespace("mtls-conformance", OURS));
    await kube.core.deleteNamespace({ name: "mtls-conformance" });
    const del = fake.calls.find((c) => c.method === "DELETE")!;
    expect(del.status).toBe(200);
    expect(del.response).toMatchObject({ kind: "Namespace", metadata: { name: "mtls-conformance", deletionTimestamp: expect.any(String) }, status: { phase: "Terminating" } });
    // What the code did before: the namespace exists with the run's label, so it was "claimed" and used.
    const error = (await kube.deploy(manifests, DEFAULT_TIMEOUTS).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('configmaps "mtls-echo" is forbidden: unable to create new content in namespace mtls-conformance because it is being terminated');
    expect(fake.calls.at(-1)).toMatchObject({ status: 403, response: { reason: "Forbidden", details: { causes: [{ reason: "NamespaceTerminating" }] } } });
  });

  it("deleteNamespace waits until a read answers 404, and says so", async () => {
    fake.terminationMs = 700;
    fake.put(namespace("mtls-conformance", OURS));
    const t = Date.now();
    const result = await kube.deleteNamespace("mtls-conformance", 5_000);
    const took = Date.now() - t;
    expect(result).toEqual({ namespace: "mtls-conformance", gone: true, lastSeen: "gone" });
    expect(took).toBeGreaterThanOrEqual(650);
    expect(took).toBeLessThan(3_000);
    expect(fake.calls.filter((c) => c.method === "DELETE")).toHaveLength(1);
    const reads = namespaceReads("mtls-conformance").map((c) => c.status);
    // Read once before deleting (is it ours?), then Terminating for a while, then gone.
    expect(reads.at(-1)).toBe(404);
    expect(reads.slice(1, -1).length).toBeGreaterThan(0);
    expect(reads.slice(0, -1).every((s) => s === 200)).toBe(true);
  });

  it("a deletion that outlasts its bound ends there and returns what it last saw", async () => {
    fake.terminationMs = 60_000;
    fake.put(namespace("mtls-conformance", OURS));
    const t = Date.now();
    const result = await kube.deleteNamespace("mtls-conformance", 600);
    expect(Date.now() - t).toBeLessThan(2_500);
    expect(result.gone).toBe(false);
    expect(result.lastSeen).toMatch(/^namespace mtls-conformance is Terminating since \d{4}-\d\d-\d\dT/);
  });

  it("a namespace the run did not create is never deleted", async () => {
    fake.put(namespace("payments", { team: "payments" }));
    const result = await kube.deleteNamespace("payments", 1_000);
    expect(result).toMatchObject({ gone: false, lastSeen: expect.stringContaining("left in place") });
    expect(fake.writes).toHaveLength(0);
  });

  it("a second claim right after a delete waits out Terminating, makes the namespace again, and nothing is refused", async () => {
    fake.terminationMs = 800;
    await kube.claimNamespace("mtls-conformance");
    await kube.deploy(manifests, DEFAULT_TIMEOUTS);
    // Group 1 ends with a bare DELETE, as the code did before (and as the cleanup of a CI run that
    // just ended does): the API accepts it at once and the namespace stays Terminating.
    await kube.core.deleteNamespace({ name: "mtls-conformance" });
    const t = Date.now();
    await kube.claimNamespace("mtls-conformance", { timeoutMs: 5_000 });
    const took = Date.now() - t;
    await kube.deploy(manifests, DEFAULT_TIMEOUTS);

    expect(took).toBeGreaterThanOrEqual(500);
    expect(took).toBeLessThan(4_000);
    expect(fake.calls.filter((c) => c.status === 403 || c.status === 409)).toEqual([]);
    const posts = fake.calls.filter((c) => c.method === "POST" && c.path === "/api/v1/namespaces");
    expect(posts.map((c) => c.status)).toEqual([201, 201]);
    // The second create came only after a read answered 404.
    const secondPost = fake.calls.indexOf(posts[1]!);
    expect(fake.calls[secondPost - 1]).toMatchObject({ method: "GET", path: "/api/v1/namespaces/mtls-conformance", status: 404 });
    expect(fake.get("Namespace", "mtls-conformance")).toMatchObject({ metadata: { labels: OURS }, status: { phase: "Active" } });
    expect(fake.get("ConfigMap", "mtls-echo", "mtls-conformance")).toBeDefined();
  });

  it("in a cluster made for the run (k3s) a Terminating namespace is waited out the same way", async () => {
    fake.terminationMs = 600;
    fake.put(namespace("demo"));
    await kube.core.deleteNamespace({ name: "demo" });
    await kube.claimNamespace("demo", { ownCluster: true, timeoutMs: 5_000 });
    expect(fake.calls.filter((c) => c.method === "POST").map((c) => c.status)).toEqual([201]);
    expect(fake.get("Namespace", "demo")?.status).toEqual({ phase: "Active" });
  });

  it("a namespace that stays Terminating ends the claim at its bound, naming it", async () => {
    fake.terminationMs = 60_000;
    fake.put(namespace("mtls-conformance", OURS));
    await kube.core.deleteNamespace({ name: "mtls-conformance" });
    const t = Date.now();
    const error = (await kube.claimNamespace("mtls-conformance", { timeoutMs: 700 }).catch((e: unknown) => e)) as Error;
    expect(Date.now() - t).toBeLessThan(2_500);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.message).toMatch(/waiting for namespace mtls-conformance to finish terminating before the run makes it again \(last seen: namespace mtls-conformance is Terminating since /);
    expect(fake.calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });
});

describe("deploy", () => {
  beforeEach(() => fake.put(namespace("mtls-conformance", OURS)));

  it("server-side applies backend and Secrets first, then every Ingress in the controller's tie-break order (namespace/name descending), retrying while the webhook is not serving", async () => {
    fake.webhookFailuresLeft = 2;
    await kube.deploy(manifests, { ...DEFAULT_TIMEOUTS, webhookMs: 10_000 });
    const patches = fake.calls.filter((c) => c.method === "PATCH");
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
    expect(patches[0]!.query).toContain("fieldManager=mtls-conformance");
  });

  it("an Ingress the webhook denies is recorded with the webhook's message, and the others are still applied", async () => {
    fake.deniedIngresses = ["mtls-depth-2"];
    const denied = await kube.deploy(manifests, { ...DEFAULT_TIMEOUTS, webhookMs: 5_000 });
    expect(denied).toEqual([{ ingress: "mtls-conformance/mtls-depth-2", message: expect.stringContaining("denied the request: annotation nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream contains invalid value") }]);
    const applied = fake.calls.filter((c) => c.method === "PATCH" && c.path.includes("/ingresses/")).map((c) => c.path.split("/").at(-1));
    expect(applied).toEqual(["test-localhost", "mtls-no-pass-cert", "mtls-depth-2"]);
  });

  it("a webhook that never comes up ends at its bound, naming the Ingress", async () => {
    fake.webhookFailuresLeft = 1_000;
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
    expect(fake.calls.filter((c) => c.method === "POST" && c.path === "/api/v1/namespaces").map((c) => (c.body as { metadata: { name: string; labels: Record<string, string> } }).metadata)).toEqual([
      { name: "partners", labels: OURS },
      { name: "shop", labels: OURS },
    ]);
    const applied = fake.calls.filter((c) => c.method === "PATCH").map((c) => c.path.replace(/^\/apis?\/(?:[^/]+\/)?v1\/namespaces\//, ""));
    const firstIngress = applied.findIndex((p) => p.includes("/ingresses/"));
    expect(applied.slice(0, firstIngress).some((p) => p.includes("/ingresses/"))).toBe(false);
    expect(applied.slice(firstIngress)).toEqual(["shop/ingresses/backoffice", "shop/ingresses/assets", "shop/ingresses/api", "partners/ingresses/status", "partners/ingresses/partners"]);
    expect(applied).toEqual(expect.arrayContaining(["shop/services/api", "shop/services/backoffice", "partners/services/partners", "partners/services/status", "shop/secrets/shop-client-ca", "partners/secrets/partner-ca", "shop/secrets/api-tls"]));
    expect(fake.calls.filter((c) => c.method === "GET" && c.path.includes("/deployments/")).map((c) => c.path)).toEqual([
      "/apis/apps/v1/namespaces/partners/deployments/mtls-echo",
      "/apis/apps/v1/namespaces/shop/deployments/mtls-echo",
    ]);
    expect(fake.writes.filter((c) => c.status >= 400)).toEqual([]);
    // The applied Ingresses are the user's, as written.
    const api = fake.calls.find((c) => c.method === "PATCH" && c.path.endsWith("/ingresses/api"))!.body as { metadata: { annotations: Record<string, string>; labels?: unknown } };
    expect(api.metadata.annotations["nginx.ingress.kubernetes.io/auth-tls-verify-depth"]).toBe("3");
    expect(api.metadata.labels).toBeUndefined();
  });
});

/** A controller pod as the release manifest's Deployment makes it (labels, container name). */
function controllerPod(options: { ready?: boolean; waiting?: string; namespace?: string; labels?: Record<string, string>; specImage?: string; statusImage?: string } = {}): V1Pod {
  const ready = options.ready ?? true;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "ingress-nginx-controller-abc", namespace: options.namespace ?? "ingress-nginx", labels: options.labels ?? { ...labelsOf(CONTROLLER_SELECTOR), "app.kubernetes.io/instance": "ingress-nginx", "app.kubernetes.io/version": "1.15.1" } },
    spec: { containers: [{ name: "controller", image: options.specImage ?? `registry.k8s.io/ingress-nginx/controller:v1.15.1@${DIGEST}` }] },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      containerStatuses: [
        {
          name: "controller",
          image: options.statusImage ?? "registry.k8s.io/ingress-nginx/controller:v1.15.1",
          imageID: `registry.k8s.io/ingress-nginx/controller@${DIGEST}`,
          ready,
          restartCount: 0,
          ...(options.waiting ? { state: { waiting: { reason: options.waiting } } } : {}),
        },
      ],
    },
  };
}

describe("controller", () => {
  it("waits for a Ready controller pod and reads its image digests", async () => {
    fake.put(controllerPod());
    const ready = await kube.waitControllerReady(2000);
    expect(ready.metadata?.name).toBe("ingress-nginx-controller-abc");
    const images = await kube.controllerImages();
    expect(images).toEqual([{ pod: "ingress-nginx-controller-abc", container: "controller", image: "registry.k8s.io/ingress-nginx/controller:v1.15.1", imageID: `registry.k8s.io/ingress-nginx/controller@${DIGEST}` }]);
    const list = fake.calls.find((c) => c.path === "/api/v1/namespaces/ingress-nginx/pods")!;
    expect(new URLSearchParams(list.query).get("labelSelector")).toBe(CONTROLLER_SELECTOR);
  });

  it("a controller that never gets Ready times out with what it last saw (ImagePullBackOff)", async () => {
    fake.put(controllerPod({ ready: false, waiting: "ImagePullBackOff" }));
    const error = (await kube.waitControllerReady(800).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.message).toContain("waiting for the ingress-nginx controller pod in namespace ingress-nginx to be Ready (last seen: ingress-nginx-controller-abc: Running (ImagePullBackOff))");
  });

  it("namespace, pod selector and Service are the ones given: a Helm release elsewhere is found where it is", async () => {
    const edge = fake.kube({ namespace: "edge", selector: "app.kubernetes.io/instance=edge,app.kubernetes.io/component=controller", service: "edge-ingress-nginx-controller" });
    fake.put(controllerPod({ namespace: "edge", labels: { "app.kubernetes.io/instance": "edge", "app.kubernetes.io/component": "controller" } }));
    fake.put({ apiVersion: "v1", kind: "Service", metadata: { name: "edge-ingress-nginx-controller", namespace: "edge" }, spec: { ports: [{ name: "https", port: 8443 }] }, status: { loadBalancer: { ingress: [{ ip: "203.0.113.7" }] } } } as never);
    expect((await edge.waitControllerReady(1000)).metadata?.namespace).toBe("edge");
    expect(await edge.controllerAddress()).toEqual({ address: "203.0.113.7", port: 8443 });
    expect(fake.calls.map((c) => c.path)).toEqual(["/api/v1/namespaces/edge/pods", "/api/v1/namespaces/edge/services/edge-ingress-nginx-controller"]);
    // And a timeout names the namespace actually searched.
    const error = (await fake.kube({ namespace: "elsewhere" }).waitControllerReady(300).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain("controller pod in namespace elsewhere to be Ready (last seen: no pod matches app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx yet)");
  });

  it("unset options keep the release manifest's defaults", () => {
    expect(fake.kube({ namespace: undefined, service: "" }).controller).toEqual({ namespace: "ingress-nginx", selector: CONTROLLER_SELECTOR, service: "ingress-nginx-controller" });
  });
});

describe("controller version (containerd may drop the tag of an image pulled as name:tag@digest)", () => {
  const deployment = (labels: Record<string, string>) => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "ingress-nginx-controller", namespace: "ingress-nginx", labels }, spec: { selector: { matchLabels: {} }, template: { spec: { containers: [] } } } }) as never;
  const untagged = `registry.k8s.io/ingress-nginx/controller@${DIGEST}`;
  const podLabels = labelsOf(CONTROLLER_SELECTOR);

  it("reads the pod's spec image first, even when the status image has lost its tag", async () => {
    fake.put(controllerPod({ statusImage: untagged }));
    expect(await kube.controllerVersion()).toEqual({ version: "v1.15.1", from: "spec image" });
    // The Deployment is not read when the pod says it.
    expect(fake.calls.some((c) => c.path.includes("/deployments"))).toBe(false);
  });

  it("then the pod's app.kubernetes.io/version label (1.15.1 in the manifests)", async () => {
    fake.put(controllerPod({ specImage: untagged, statusImage: `sha256:${"e".repeat(64)}` }));
    expect(await kube.controllerVersion()).toEqual({ version: "v1.15.1", from: "pod label" });
  });

  it("then the Deployment's label", async () => {
    fake.put(controllerPod({ specImage: untagged, statusImage: untagged, labels: podLabels }));
    fake.put(deployment({ ...podLabels, "app.kubernetes.io/version": "1.14.5" }));
    expect(await kube.controllerVersion()).toEqual({ version: "v1.14.5", from: "deployment label" });
  });

  it("only then the status image, and unknown when nothing says", async () => {
    fake.put(controllerPod({ specImage: untagged, labels: podLabels, statusImage: "registry.k8s.io/ingress-nginx/controller:v1.13.9" }));
    expect(await kube.controllerVersion()).toEqual({ version: "v1.13.9", from: "status image" });
    fake.reset();
    fake.put(controllerPod({ specImage: untagged, labels: podLabels, statusImage: untagged }));
    expect(await kube.controllerVersion()).toEqual({ version: "unknown" });
  });
});

describe("the controller Service's load-balancer address (k3s ServiceLB)", () => {
  const service = (ip?: string) =>
    ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "ingress-nginx-controller", namespace: "ingress-nginx", uid: "5f3c2a1b-0000-4000-8000-000000000000" },
      spec: { type: "LoadBalancer", ports: [{ name: "http", port: 80 }, { name: "https", port: 443 }] },
      status: { loadBalancer: ip ? { ingress: [{ ip, ipMode: "VIP" }] } : {} },
    }) as never;
  /** A pod of the DaemonSet k3s makes for the Service: in kube-system, labelled with the Service. */
  const svclb = (status: V1Pod["status"]) =>
    ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "svclb-ingress-nginx-controller-5f3c2a1b-x7k2p",
        namespace: "kube-system",
        labels: { app: "svclb-ingress-nginx-controller-5f3c2a1b", "svccontroller.k3s.cattle.io/svcname": "ingress-nginx-controller", "svccontroller.k3s.cattle.io/svcnamespace": "ingress-nginx" },
      },
      spec: { containers: [{ name: "lb-tcp-443", image: "rancher/klipper-lb:v0.4.13" }] },
      status,
    }) as never;

  it("returns the address once ServiceLB has set it", async () => {
    fake.put(service());
    setTimeout(() => fake.put(service("172.18.0.2")), 400);
    const t = Date.now();
    expect(await kube.waitControllerLoadBalancer(5_000)).toEqual({ address: "172.18.0.2", port: 443 });
    expect(Date.now() - t).toBeGreaterThanOrEqual(350);
  });

  it("while there is none, the wait names the ServiceLB pod's waiting reason, and ends at its bound", async () => {
    fake.put(service());
    fake.put(
      svclb({
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "True" }],
        containerStatuses: [{ name: "lb-tcp-443", image: "rancher/klipper-lb:v0.4.13", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "rancher/klipper-lb:v0.4.13"' } } }],
      }),
    );
    const t = Date.now();
    const error = (await kube.waitControllerLoadBalancer(700).catch((e: unknown) => e)) as Error;
    expect(Date.now() - t).toBeLessThan(2_500);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.message).toContain(
      'waiting for Service ingress-nginx/ingress-nginx-controller to get a load-balancer address (last seen: no status.loadBalancer.ingress; ServiceLB svclb-ingress-nginx-controller-5f3c2a1b-x7k2p: Pending (ImagePullBackOff: Back-off pulling image "rancher/klipper-lb:v0.4.13"))',
    );
    const list = fake.calls.find((c) => c.path === "/api/v1/namespaces/kube-system/pods")!;
    expect(new URLSearchParams(list.query).get("labelSelector")).toBe("svccontroller.k3s.cattle.io/svcname=ingress-nginx-controller,svccontroller.k3s.cattle.io/svcnamespace=ingress-nginx");
  });

  it("a ServiceLB pod that cannot be scheduled (host port 443 taken) says why", async () => {
    fake.put(service());
    fake.put(svclb({ phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports." }] }));
    const error = (await kube.waitControllerLoadBalancer(300).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain("svclb-ingress-nginx-controller-5f3c2a1b-x7k2p: Pending (Unschedulable: 0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.)");
  });

  it("without ServiceLB (another cluster) it says there is no such pod", async () => {
    fake.put(service());
    const error = (await kube.waitControllerLoadBalancer(300).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain("no ServiceLB pod in kube-system (svccontroller.k3s.cattle.io/svcname=ingress-nginx-controller,");
  });
});

describe("diagnostics", () => {
  it("save the events of kube-system and of the controller's namespace beside the run's", async () => {
    const event = (ns: string, reason: string, message: string) =>
      ({ apiVersion: "v1", kind: "Event", metadata: { name: `${reason}.1`, namespace: ns }, type: "Warning", reason, message, involvedObject: { kind: "Pod", name: "p" }, lastTimestamp: new Date("2026-11-01T10:00:00Z") }) as never;
    fake.put(event("kube-system", "Failed", 'Failed to pull image "rancher/klipper-lb:v0.4.13": 429 Too Many Requests'));
    fake.put(event("ingress-nginx", "RELOAD", "NGINX reload triggered due to a change in configuration"));
    fake.put(event("mtls-conformance", "BackOff", "Back-off restarting failed container"));
    const dir = tempDir("kube-diag-");
    const logged: string[] = [];
    const saved = await saveDiagnostics(kube, { manifests, log: (l) => logged.push(l) }, [], dir);
    expect(saved).toContain(join(dir, "events.txt"));
    const events = readFileSync(join(dir, "events.txt"), "utf8");
    expect(events).toMatch(/^# mtls-conformance\n.*BackOff[\s\S]*# ingress-nginx\n.*RELOAD[\s\S]*# kube-system\n.*Warning Failed Pod\/p: Failed to pull image "rancher\/klipper-lb:v0\.4\.13": 429 Too Many Requests/);
    expect(logged).toEqual([]);
  });
});
