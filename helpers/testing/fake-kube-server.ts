// A Kubernetes API server on loopback that keeps state and answers writes as the real one does, for
// the code that changes a cluster (kube.ts, the cluster target). It records every call with the
// status it answered, so a test can prove what was sent and that nothing was refused.
//
// What it copies from the real server, and where that behaviour is written:
// - Server-side apply (PATCH application/apply-patch+yaml) creates or updates. Discovery lists tell
//   client-node which resources are namespaced.
// - Namespaces are created Active, with spec.finalizers [kubernetes] and the
//   kubernetes.io/metadata.name label. DELETE answers 200 with the Namespace, now in
//   status.phase Terminating with a deletionTimestamp; a second DELETE answers the same
//   (kubernetes pkg/registry/core/namespace/storage/storage.go, REST.Delete; the handler answers
//   200 unless OrphanDependents=false, apiserver pkg/endpoints/handlers/delete.go). Its content is
//   deleted (here at once); reads keep answering the namespace Terminating until the namespace
//   controller is done with it (`terminationMs` here), then 404. Creating it again meanwhile
//   answers 409 AlreadyExists, prefixed "object is being deleted: " (apiserver
//   pkg/registry/generic/registry/store.go, Store.Create).
// - Creating an object in a Terminating namespace answers 403 Forbidden from the NamespaceLifecycle
//   admission plugin: "unable to create new content in namespace X because it is being terminated",
//   with a NamespaceTerminating cause (apiserver pkg/admission/plugin/namespace/lifecycle/admission.go,
//   Lifecycle.Admit). In a namespace that does not exist: 404 `namespaces "X" not found`.
// - Errors are Status objects with code, reason and details, as apimachinery's StatusError.
import type { KubernetesObject } from "@kubernetes/client-node";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Kube, loadKubeConfig, type ControllerLocation } from "../targets/kube.ts";

export interface FakeCall {
  method: string;
  path: string;
  query: string;
  contentType?: string;
  body?: unknown;
  /** The status this fake answered, and what it answered. */
  status: number;
  response?: unknown;
}

interface Resource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** The resources the run and the controller's release manifest touch, per group version. */
const DISCOVERY: Record<string, Resource[]> = {
  "api/v1": [
    { name: "namespaces", kind: "Namespace", namespaced: false },
    { name: "secrets", kind: "Secret", namespaced: true },
    { name: "configmaps", kind: "ConfigMap", namespaced: true },
    { name: "services", kind: "Service", namespaced: true },
    { name: "serviceaccounts", kind: "ServiceAccount", namespaced: true },
    { name: "pods", kind: "Pod", namespaced: true },
    { name: "events", kind: "Event", namespaced: true },
  ],
  "apis/apps/v1": [{ name: "deployments", kind: "Deployment", namespaced: true }],
  "apis/batch/v1": [{ name: "jobs", kind: "Job", namespaced: true }],
  "apis/networking.k8s.io/v1": [
    { name: "ingresses", kind: "Ingress", namespaced: true },
    { name: "ingressclasses", kind: "IngressClass", namespaced: false },
  ],
  "apis/rbac.authorization.k8s.io/v1": [
    { name: "roles", kind: "Role", namespaced: true },
    { name: "rolebindings", kind: "RoleBinding", namespaced: true },
    { name: "clusterroles", kind: "ClusterRole", namespaced: false },
    { name: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false },
  ],
  "apis/admissionregistration.k8s.io/v1": [{ name: "validatingwebhookconfigurations", kind: "ValidatingWebhookConfiguration", namespaced: false }],
};

type Obj = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; deletionTimestamp?: string; [k: string]: unknown };
  status?: Record<string, unknown>;
  spec?: Record<string, unknown>;
  [k: string]: unknown;
};

/** apimachinery's StatusError as JSON. */
export function statusBody(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details ? { details } : {}), code };
}

/** `resource.group`, as GroupResource.String() prints it ("configmaps", "deployments.apps"). */
const groupResource = (groupVersion: string, resource: string) => {
  const group = groupVersion === "api/v1" ? "" : groupVersion.split("/")[1]!;
  return group ? `${resource}.${group}` : resource;
};

/** Equality terms (`k=v`) and existence terms (`k`) of a label selector. */
function matchesSelector(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const [k, v] = term.split("=") as [string, string | undefined];
    return v === undefined ? labels?.[k.trim()] !== undefined : labels?.[k.trim()] === v.trim();
  });
}

export class FakeKubeServer {
  readonly calls: FakeCall[] = [];
  /** How long a deleted namespace stays Terminating before reads answer 404. */
  terminationMs = 0;
  /** PATCHes of Ingresses answered 500 "failed calling webhook" before the webhook serves. */
  webhookFailuresLeft = 0;
  /** Ingress names the webhook denies, as the real one denies an invalid annotation. */
  deniedIngresses: string[] = [];
  version = "v1.35.0";
  /** A Deployment applied here is available at once (no scheduler, no kubelet). */
  rolloutInstantly = true;
  private objects = new Map<string, Obj>();
  /** Namespace name -> when the namespace controller will have removed it. */
  private goneAt = new Map<string, number>();
  private server?: Server;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = "";
      req.on("data", (d) => (raw += d));
      req.on("end", () => this.handle(req, res, raw));
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Forgets every object and call (between tests). */
  reset(): void {
    this.calls.length = 0;
    this.objects.clear();
    this.goneAt.clear();
    this.terminationMs = 0;
    this.webhookFailuresLeft = 0;
    this.deniedIngresses = [];
    this.rolloutInstantly = true;
  }

  get kubeconfigYaml(): string {
    return `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "${this.url}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: fake, context: { cluster: fake, user: u } }]
current-context: fake
`;
  }

  kube(controller: Partial<ControllerLocation> = {}): Kube {
    return new Kube(loadKubeConfig({ yaml: this.kubeconfigYaml }), controller);
  }

  /** Puts an object in place as if something else had made it (a controller, Helm, k3s). */
  put(object: KubernetesObject): void {
    const o = structuredClone(object) as Obj;
    const r = this.resourceOf(o);
    if (o.kind === "Namespace") this.initNamespace(o);
    this.objects.set(this.key(r.groupVersion, r.resource.name, o.metadata.namespace, o.metadata.name), o);
  }

  /** The stored object, or undefined (namespaces past their termination included). */
  get(kind: string, name: string, namespace?: string): Obj | undefined {
    this.purgeTerminated();
    const r = this.resourceOf({ kind, metadata: { name, namespace } } as Obj);
    return this.objects.get(this.key(r.groupVersion, r.resource.name, namespace, name));
  }

  /** The calls that changed something (anything but GET). */
  get writes(): FakeCall[] {
    return this.calls.filter((c) => c.method !== "GET");
  }

  private key(groupVersion: string, resource: string, namespace: string | undefined, name: string): string {
    return `${groupVersion}|${resource}|${namespace ?? ""}|${name}`;
  }

  private resourceOf(o: Obj): { groupVersion: string; resource: Resource } {
    for (const [groupVersion, resources] of Object.entries(DISCOVERY)) {
      const resource = resources.find((r) => r.kind === o.kind);
      if (resource) return { groupVersion, resource };
    }
    throw new Error(`the fake API server knows no kind ${o.kind}`);
  }

  /** kind and apiVersion, which the server sets whatever the client sent. */
  private typeMeta(groupVersion: string, resource: Resource): { kind: string; apiVersion: string } {
    return { kind: resource.kind, apiVersion: groupVersion.replace(/^apis?\//, "") };
  }

  private initNamespace(o: Obj): void {
    o.metadata.uid ??= randomUUID();
    o.metadata.creationTimestamp ??= new Date().toISOString();
    o.metadata.labels = { ...o.metadata.labels, "kubernetes.io/metadata.name": o.metadata.name };
    o.spec = { finalizers: ["kubernetes"], ...o.spec };
    o.status = { phase: "Active", ...o.status };
  }

  /** The namespace controller's work: a Terminating namespace past its time is gone, with its content. */
  private purgeTerminated(): void {
    for (const [name, at] of this.goneAt) {
      if (Date.now() < at) continue;
      this.goneAt.delete(name);
      for (const [key, o] of this.objects) {
        if ((o.kind === "Namespace" && o.metadata.name === name) || o.metadata.namespace === name) this.objects.delete(key);
      }
    }
  }

  private namespacePhase(name: string): "Active" | "Terminating" | undefined {
    const ns = this.objects.get(this.key("api/v1", "namespaces", undefined, name));
    return ns ? ((ns.status?.phase as "Active" | "Terminating" | undefined) ?? "Active") : undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = new URL(req.url ?? "/", "http://x");
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const call: FakeCall = { method: req.method ?? "", path: url.pathname, query: url.search, contentType: req.headers["content-type"], body, status: 0 };
    this.calls.push(call);
    const send = (status: number, payload: unknown, type = "application/json") => {
      call.status = status;
      call.response = structuredClone(payload);
      res.writeHead(status, { "content-type": type }).end(typeof payload === "string" ? payload : JSON.stringify(payload));
    };
    this.purgeTerminated();
    try {
      this.route(req.method ?? "GET", url, body, send);
    } catch (error) {
      send(500, statusBody(500, "InternalError", `fake API server: ${(error as Error).message}`));
    }
  }

  private route(method: string, url: URL, body: unknown, send: (status: number, payload: unknown, type?: string) => void): void {
    const path = url.pathname.replace(/^\//, "");
    if (method === "GET" && path === "version") return send(200, { major: "1", minor: "35", gitVersion: this.version });
    if (method === "GET" && DISCOVERY[path]) {
      return send(200, { kind: "APIResourceList", groupVersion: path.replace(/^apis?\//, ""), resources: DISCOVERY[path]!.map((r) => ({ ...r, singularName: "", verbs: ["create", "delete", "get", "list", "patch"] })) });
    }
    const m = /^(api\/v1|apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
    const resource = m && DISCOVERY[m[1]!]?.find((r) => r.name === m[3]);
    if (!m || !resource) return send(404, statusBody(404, "NotFound", `the server could not find the requested resource (${method} /${path})`));
    const [, groupVersion, namespace, , name, subresource] = m as unknown as [string, string, string | undefined, string, string | undefined, string | undefined];
    const key = (n: string) => this.key(groupVersion, resource.name, namespace, n);
    const notFound = (n: string) => send(404, statusBody(404, "NotFound", `${groupResource(groupVersion, resource.name)} "${n}" not found`, { name: n, kind: resource.name }));

    if (method === "GET" && name && subresource === "log") {
      return this.objects.has(key(name)) ? send(200, `log of ${namespace}/${name}\n`, "text/plain") : notFound(name);
    }
    if (method === "GET" && name) {
      const o = this.objects.get(key(name));
      return o ? send(200, o) : notFound(name);
    }
    if (method === "GET") {
      const items = [...this.objects.entries()]
        .filter(([k]) => k.startsWith(`${groupVersion}|${resource.name}|${namespace === undefined ? "" : `${namespace}|`}`))
        .map(([, o]) => o)
        .filter((o) => matchesSelector(o.metadata.labels, url.searchParams.get("labelSelector")));
      return send(200, { kind: `${resource.kind}List`, apiVersion: groupVersion.replace(/^apis?\//, ""), metadata: { resourceVersion: "1" }, items });
    }
    if (method === "DELETE" && name) return this.remove(resource, key(name), name, send, notFound);
    if (method === "POST" && !name) return this.create(groupVersion, resource, namespace, body as Obj, send);
    if (method === "PATCH" && name) return this.apply(groupVersion, resource, namespace, name, body as Obj, send);
    return send(405, statusBody(405, "MethodNotAllowed", `${method} is not supported on /${path}`));
  }

  /** Why the NamespaceLifecycle admission plugin refuses a new object, if it does. */
  private lifecycleRefusal(groupVersion: string, resource: Resource, namespace: string | undefined, name: string): { code: number; body: unknown } | undefined {
    if (!resource.namespaced || !namespace) return undefined;
    const phase = this.namespacePhase(namespace);
    if (!phase) return { code: 404, body: statusBody(404, "NotFound", `namespaces "${namespace}" not found`, { name: namespace, kind: "namespaces" }) };
    if (phase !== "Terminating") return undefined;
    const gr = groupResource(groupVersion, resource.name);
    return {
      code: 403,
      body: statusBody(403, "Forbidden", `${gr} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        name,
        ...(gr.includes(".") ? { group: gr.slice(gr.indexOf(".") + 1) } : {}),
        kind: resource.name,
        causes: [{ reason: "NamespaceTerminating", message: `namespace ${namespace} is being terminated`, field: "metadata.namespace" }],
      }),
    };
  }

  private create(groupVersion: string, resource: Resource, namespace: string | undefined, o: Obj, send: (s: number, p: unknown) => void): void {
    const name = o.metadata.name;
    const existing = this.objects.get(this.key(groupVersion, resource.name, namespace, name));
    if (existing) {
      const message = `${groupResource(groupVersion, resource.name)} "${name}" already exists`;
      return send(409, statusBody(409, "AlreadyExists", existing.metadata.deletionTimestamp ? `object is being deleted: ${message}` : message, { name, kind: resource.name }));
    }
    const refusal = this.lifecycleRefusal(groupVersion, resource, namespace, name);
    if (refusal) return send(refusal.code, refusal.body);
    const stored = { ...this.typeMeta(groupVersion, resource), ...structuredClone(o) };
    if (namespace) stored.metadata.namespace = namespace;
    if (resource.kind === "Namespace") this.initNamespace(stored);
    this.objects.set(this.key(groupVersion, resource.name, namespace, name), stored);
    send(201, stored);
  }

  private apply(groupVersion: string, resource: Resource, namespace: string | undefined, name: string, o: Obj, send: (s: number, p: unknown) => void): void {
    if (resource.kind === "Ingress" && this.webhookFailuresLeft > 0) {
      this.webhookFailuresLeft--;
      return send(500, statusBody(500, "InternalError", 'Internal error occurred: failed calling webhook "validate.nginx.ingress.kubernetes.io": failed to call webhook: Post "https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s": dial tcp 10.43.0.10:443: connect: connection refused'));
    }
    if (resource.kind === "Ingress" && this.deniedIngresses.includes(name)) {
      return send(400, statusBody(400, "BadRequest", 'admission webhook "validate.nginx.ingress.kubernetes.io" denied the request: annotation nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream contains invalid value'));
    }
    const key = this.key(groupVersion, resource.name, namespace, name);
    const existing = this.objects.get(key);
    if (!existing) {
      const refusal = this.lifecycleRefusal(groupVersion, resource, namespace, name);
      if (refusal) return send(refusal.code, refusal.body);
    }
    // Apply replaces what this manager sets; what the server owns (status, a namespace's phase) stays.
    const stored = { ...this.typeMeta(groupVersion, resource), ...structuredClone(o), ...(existing?.status ? { status: existing.status } : {}) } as Obj;
    if (resource.kind === "Namespace" && !existing) this.initNamespace(stored);
    if (existing?.metadata.deletionTimestamp) stored.metadata.deletionTimestamp = existing.metadata.deletionTimestamp;
    if (resource.kind === "Deployment" && !existing && this.rolloutInstantly) {
      const replicas = (stored.spec?.replicas as number | undefined) ?? 1;
      stored.status = { replicas, readyReplicas: replicas, availableReplicas: replicas };
    }
    this.objects.set(key, stored);
    send(existing ? 200 : 201, stored);
  }

  private remove(resource: Resource, key: string, name: string, send: (s: number, p: unknown) => void, notFound: (n: string) => void): void {
    const o = this.objects.get(key);
    if (!o) return notFound(name);
    if (resource.kind !== "Namespace") {
      this.objects.delete(key);
      return send(200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, kind: resource.name } });
    }
    if (!o.metadata.deletionTimestamp) {
      o.metadata.deletionTimestamp = new Date().toISOString();
      o.status = { ...o.status, phase: "Terminating" };
      this.goneAt.set(name, Date.now() + this.terminationMs);
      // The namespace controller deletes the content first (here at once); the namespace itself
      // stays until the last finalizer is done (pods shutting down, here `terminationMs`).
      for (const [key, content] of this.objects) if (content.metadata.namespace === name) this.objects.delete(key);
    }
    send(200, o);
  }
}
