// Lifecycle stages on a cluster, against a fake API server on loopback that answers as the real
// one: discovery lists, server-side apply echoing the object, DELETE answering a Status
// "Success" (generic registry store.go: objects without ReturnDeletedObject) or 404 NotFound.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { manifestsAtStage } from "../../fixtures/lifecycle.ts";
import { buildManifests, type Manifests } from "../manifests/manifests.ts";
import { type Pki } from "../pki/pki.ts";
import { DEFAULT_TIMEOUTS, Kube, loadKubeConfig } from "./kube.ts";
import { applyChanges, objectChanges } from "./kube-update.ts";
import { sharedPki } from "../testing/shared-pki.ts";

const RESOURCES: Record<string, Array<{ name: string; kind: string; namespaced: boolean }>> = {
  "/api/v1": [
    { name: "secrets", kind: "Secret", namespaced: true },
    { name: "configmaps", kind: "ConfigMap", namespaced: true },
    { name: "services", kind: "Service", namespaced: true },
  ],
  "/apis/apps/v1": [{ name: "deployments", kind: "Deployment", namespaced: true }],
  "/apis/networking.k8s.io/v1": [{ name: "ingresses", kind: "Ingress", namespaced: true }],
};

let server: Server;
let kube: Kube;
let calls: Array<{ method: string; path: string }> = [];
/** Paths of objects that exist on the fake cluster. */
let stored = new Set<string>();
let pki: Pki;
let base: Manifests;

const send = (res: ServerResponse, code: number, body: unknown): void => void res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));

function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
  const path = new URL(req.url ?? "/", "http://x").pathname;
  calls.push({ method: req.method ?? "", path });
  if (req.method === "GET" && RESOURCES[path]) {
    return send(res, 200, { kind: "APIResourceList", groupVersion: path.replace(/^\/apis?\//, ""), resources: RESOURCES[path]!.map((r) => ({ ...r, singularName: "", verbs: ["get", "patch", "delete"] })) });
  }
  const m = /\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (m && req.method === "PATCH") {
    stored.add(path);
    return send(res, 200, JSON.parse(raw));
  }
  if (m && req.method === "DELETE") {
    if (!stored.delete(path)) return send(res, 404, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `${m[2]} "${m[3]}" not found`, reason: "NotFound", details: { name: m[3], kind: m[2] }, code: 404 });
    return send(res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name: m[3], kind: m[2], uid: "0b8f" } });
  }
  return send(res, 404, { kind: "Status", apiVersion: "v1", status: "Failure", code: 404, message: `no route for ${req.method} ${path}`, reason: "NotFound" });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => handle(req, res, raw));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  kube = new Kube(
    loadKubeConfig({
      yaml: `apiVersion: v1\nkind: Config\nclusters: [{ name: fake, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]\nusers: [{ name: u, user: { token: t } }]\ncontexts: [{ name: fake, context: { cluster: fake, user: u } }]\ncurrent-context: fake\n`,
    }),
  );
  pki = await sharedPki(["lifecycle.test.localdev.me"]);
  base = buildManifests({ namespace: "ns", policies: catalogue.policies.filter((p) => p.name === "lifecycle"), pki });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  calls = [];
  stored = new Set();
});

const sent = (method: string) => calls.filter((c) => c.method === method).map((c) => c.path);

describe("objectChanges", () => {
  it("nothing to do between identical stages", () => {
    const m = manifestsAtStage(base, pki, "secret-created");
    const changes = objectChanges(m, structuredClone(m));
    expect([...changes.apply.workloads, ...changes.apply.secrets, ...changes.apply.ingresses]).toEqual([]);
    expect(changes.remove).toEqual([]);
  });
});

describe("applyChanges on a cluster", () => {
  it("the first stage change sends only the new Secret; a rotation only the changed one; unchanged objects are not sent", async () => {
    const missing = manifestsAtStage(base, pki, "missing-secret");
    await kube.deploy(missing, DEFAULT_TIMEOUTS);
    const everything = sent("PATCH");
    expect(everything.some((p) => p.endsWith("/ingresses/mtls-lifecycle"))).toBe(true);
    calls = [];

    const created = manifestsAtStage(base, pki, "secret-created");
    const first = await applyChanges(kube, missing, created, DEFAULT_TIMEOUTS);
    expect(sent("PATCH")).toEqual(["/api/v1/namespaces/ns/secrets/lifecycle-ca"]);
    expect(first).toEqual({ denied: [], applied: ["Secret/ns/lifecycle-ca"], removed: [] });
    calls = [];

    const rotated = manifestsAtStage(base, pki, "ca-rotated");
    await applyChanges(kube, created, rotated, DEFAULT_TIMEOUTS);
    expect(sent("PATCH")).toEqual(["/api/v1/namespaces/ns/secrets/lifecycle-ca"]);
    expect(sent("DELETE")).toEqual([]);
  });

  it("a stage without the Secret deletes it; a Secret already gone (404) is not an error", async () => {
    const corrupted = manifestsAtStage(base, pki, "secret-corrupted");
    await kube.deploy(corrupted, DEFAULT_TIMEOUTS);
    calls = [];
    const deleted = manifestsAtStage(base, pki, "secret-deleted");
    const result = await applyChanges(kube, corrupted, deleted, DEFAULT_TIMEOUTS);
    expect(sent("DELETE")).toEqual(["/api/v1/namespaces/ns/secrets/lifecycle-ca"]);
    expect(sent("PATCH")).toEqual([]);
    expect(result.removed).toEqual(["Secret/ns/lifecycle-ca"]);
    // Again: the cluster answers 404, which is what was wanted.
    calls = [];
    await expect(applyChanges(kube, corrupted, deleted, DEFAULT_TIMEOUTS)).resolves.toMatchObject({ removed: ["Secret/ns/lifecycle-ca"] });
    expect(sent("DELETE")).toEqual(["/api/v1/namespaces/ns/secrets/lifecycle-ca"]);
  });

  it("an added Ingress (the negative-depth blocker) is applied; the Ingress that changed too", async () => {
    const invalid = manifestsAtStage(base, pki, "invalid-update");
    const negative = manifestsAtStage(base, pki, "negative-depth");
    await applyChanges(kube, invalid, negative, DEFAULT_TIMEOUTS);
    expect(sent("PATCH").sort()).toEqual(["/apis/networking.k8s.io/v1/namespaces/ns/ingresses/mtls-lifecycle", "/apis/networking.k8s.io/v1/namespaces/ns/ingresses/mtls-lifecycle-blocker"]);
  });
});
