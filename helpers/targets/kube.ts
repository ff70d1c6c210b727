// Talking to a real cluster with @kubernetes/client-node (never kubectl): apply the run's
// objects, install the controller, wait for readiness, read versions, collect diagnostics.
// Shared by the k3s and cluster targets. Not runnable on machines that cannot pull images;
// written from the documented procedures (shared/reference/ingress-nginx-auth-tls.md).
import {
  AppsV1Api,
  CoreV1Api,
  Exec,
  KubeConfig,
  KubernetesObjectApi,
  NetworkingV1Api,
  PatchStrategy,
  VersionApi,
  type KubernetesObject,
  type V1Ingress,
  type V1Pod,
  type V1Secret,
} from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { controllerOrder } from "../model/hosts.ts";
import { MANAGED_BY_LABEL, manifestsYaml, redactedManifests, type Manifests } from "../manifests/manifests.ts";
import { retrying, StopWaiting, waitFor } from "../support/wait.ts";

export const CONTROLLER_NAMESPACE = "ingress-nginx";
export const CONTROLLER_SELECTOR = "app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx";
export const CONTROLLER_SERVICE = "ingress-nginx-controller";
const FIELD_MANAGER = "mtls-conformance";

export interface Timeouts {
  nodeReadyMs: number;
  controllerReadyMs: number;
  webhookMs: number;
  backendReadyMs: number;
  certificatesMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  nodeReadyMs: 180_000,
  controllerReadyMs: 300_000,
  webhookMs: 120_000,
  backendReadyMs: 180_000,
  certificatesMs: 120_000,
};

export interface AdmissionDenial {
  ingress: string;
  /** The webhook's own message. */
  message: string;
}

export class KubeApiError extends Error {
  override name = "KubeApiError";
  readonly code?: number;
  constructor(message: string, code?: number) {
    super(message);
    this.code = code;
  }
}

export function apiError(error: unknown): { code?: number; message: string } {
  const e = error as { code?: number; body?: unknown; message?: string };
  let message = e.message ?? String(error);
  if (error instanceof KubeApiError) return { code: e.code, message };
  if (typeof e.body === "string") {
    try {
      message = (JSON.parse(e.body) as { message?: string }).message ?? message;
    } catch {
      // keep the original message
    }
  }
  return { code: e.code, message };
}

/** The admission webhook is not serving yet: retry. (Documented: HTTP 500 "failed calling webhook".) */
/** The admission webhook refused the object (HTTP 400 "admission webhook ... denied the request"). */
export function isAdmissionDenial(error: unknown): boolean {
  const { code, message } = apiError(error);
  return code === 400 && /admission webhook .* denied the request|contains invalid value/i.test(message);
}

export function isWebhookNotReady(error: unknown): boolean {
  const { code, message } = apiError(error);
  return (code === undefined || code >= 500) && /failed calling webhook/i.test(message);
}

export class Kube {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly objects: KubernetesObjectApi;
  readonly networking: NetworkingV1Api;

  constructor(kc: KubeConfig) {
    this.kc = kc;
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.networking = kc.makeApiClient(NetworkingV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
  }

  /** Every Ingress, in one namespace or in all. */
  async listIngresses(namespace?: string): Promise<V1Ingress[]> {
    try {
      const list = namespace ? await this.networking.listNamespacedIngress({ namespace }) : await this.networking.listIngressForAllNamespaces();
      return list.items;
    } catch (error) {
      const { code, message } = apiError(error);
      throw new KubeApiError(`listing Ingresses${namespace ? ` in ${namespace}` : ""}: ${code ? `HTTP ${code}: ` : ""}${message}`, code);
    }
  }

  /** One Secret, or undefined when it does not exist. */
  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ namespace, name });
    } catch (error) {
      const { code, message } = apiError(error);
      if (code === 404) return undefined;
      throw new KubeApiError(`reading Secret ${namespace}/${name}: ${code ? `HTTP ${code}: ` : ""}${message}`, code);
    }
  }

  async serverVersion(): Promise<string> {
    return (await this.kc.makeApiClient(VersionApi).getCode()).gitVersion;
  }

  /** Server-side apply: creates or updates, owned by this tool's field manager. */
  async apply(object: KubernetesObject): Promise<KubernetesObject> {
    try {
      return await this.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (error) {
      const { code, message } = apiError(error);
      // The API's own message, not the client's dump of the whole response.
      throw new KubeApiError(`${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ""}${object.metadata?.name}: ${code ? `HTTP ${code}: ` : ""}${message}`, code);
    }
  }

  async waitNodesReady(timeoutMs: number): Promise<void> {
    await waitFor(
      "the Kubernetes node to be Ready",
      async () => {
        const nodes = (await this.core.listNode()).items;
        const ready = nodes.filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
        return nodes.length > 0 && ready.length === nodes.length
          ? { done: true, value: undefined }
          : { done: false, observation: `${ready.length}/${nodes.length} nodes Ready` };
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** Applies the controller's release manifest as it is. */
  async installController(objects: Array<Record<string, unknown>>): Promise<void> {
    for (const o of objects) await this.apply(o as KubernetesObject);
  }

  async waitControllerReady(timeoutMs: number): Promise<V1Pod> {
    return waitFor(
      "the ingress-nginx controller pod to be Ready",
      async () => {
        const pods = (await this.core.listNamespacedPod({ namespace: CONTROLLER_NAMESPACE, labelSelector: CONTROLLER_SELECTOR })).items;
        const ready = pods.find((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
        if (ready) return { done: true, value: ready };
        const states = pods.map((p) => `${p.metadata?.name}: ${p.status?.phase}${waitingReason(p)}`).join(", ");
        return { done: false, observation: states || "no controller pod yet" };
      },
      { timeoutMs, intervalMs: 1000 },
    );
  }

  /**
   * The suite's own namespace: created with its label, or refused when someone else's. In a
   * cluster the run made for itself (k3s) every namespace is the run's, `default` included.
   */
  async claimNamespace(name: string, options: { ownCluster?: boolean } = {}): Promise<void> {
    try {
      const existing = await this.core.readNamespace({ name });
      if (options.ownCluster) return;
      const owner = existing.metadata?.labels?.["app.kubernetes.io/managed-by"];
      if (owner !== MANAGED_BY_LABEL["app.kubernetes.io/managed-by"]) {
        throw new StopWaiting(new Error(`namespace ${name} exists and was not created by mtls-conformance; choose another with --namespace`));
      }
      return;
    } catch (error) {
      if (error instanceof StopWaiting) throw error.reason;
      if (apiError(error).code !== 404) throw error;
    }
    await this.core.createNamespace({ body: { metadata: { name, labels: { ...MANAGED_BY_LABEL } } } });
  }

  async deleteNamespace(name: string): Promise<void> {
    try {
      await this.core.deleteNamespace({ name });
    } catch (error) {
      if (apiError(error).code !== 404) throw error;
    }
  }

  /**
   * Backend and Secrets first, then every Ingress back to back, so the controller folds them into
   * one reload. Ingress creation is retried while the admission webhook is not serving. An Ingress
   * the webhook denies is not an error of the run: it is what the controller does with it, and the
   * denial (with the webhook's message) is returned for the evidence.
   */
  async deploy(manifests: Manifests, timeouts: Timeouts): Promise<AdmissionDenial[]> {
    for (const o of [...manifests.workloads, ...manifests.secrets]) await this.apply(o as KubernetesObject);
    const denied: AdmissionDenial[] = [];
    // In the controller's tie-break order (namespace/name descending): whichever second each lands
    // in, the order they are created in is the order the controller sorts them in.
    for (const ingress of controllerOrder(manifests.ingresses)) {
      try {
        await retrying(`the admission webhook to accept Ingress ${ingress.metadata?.name}`, () => this.apply(ingress as KubernetesObject), isWebhookNotReady, {
          timeoutMs: timeouts.webhookMs,
          intervalMs: 500,
        });
      } catch (error) {
        const cause = error instanceof KubeApiError ? error : (error as { cause?: unknown }).cause;
        if (!isAdmissionDenial(cause ?? error)) throw error;
        denied.push({ ingress: `${ingress.metadata?.namespace}/${ingress.metadata?.name}`, message: apiError(cause ?? error).message });
      }
    }
    return denied;
  }

  /** Claims every namespace of the objects, applies them, and waits for their backends. */
  async deployAll(manifests: Manifests, timeouts: Timeouts, options: { ownCluster?: boolean } = {}): Promise<AdmissionDenial[]> {
    for (const ns of manifests.namespaces) await this.claimNamespace(ns, options);
    const denied = await this.deploy(manifests, timeouts);
    for (const b of manifests.backends) await this.waitDeploymentReady(b.namespace, b.name, timeouts.backendReadyMs);
    return denied;
  }

  async waitDeploymentReady(namespace: string, name: string, timeoutMs: number): Promise<void> {
    await waitFor(
      `Deployment ${namespace}/${name} to be available`,
      async () => {
        const d = await this.apps.readNamespacedDeployment({ name, namespace });
        const want = d.spec?.replicas ?? 1;
        const have = d.status?.availableReplicas ?? 0;
        return have >= want ? { done: true, value: undefined } : { done: false, observation: `${have}/${want} available` };
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** Images and digests actually running in the controller's pods (status.containerStatuses). */
  async controllerImages(): Promise<Array<{ pod: string; container: string; image: string; imageID: string }>> {
    const pods = (await this.core.listNamespacedPod({ namespace: CONTROLLER_NAMESPACE, labelSelector: CONTROLLER_SELECTOR })).items;
    return pods.flatMap((p) =>
      (p.status?.containerStatuses ?? []).map((c) => ({ pod: p.metadata?.name ?? "", container: c.name, image: c.image, imageID: c.imageID })),
    );
  }

  /** `host:port` of the controller's Service, as its load balancer publishes it. */
  async controllerAddress(): Promise<{ address: string; port: number } | undefined> {
    const svc = await this.core.readNamespacedService({ name: CONTROLLER_SERVICE, namespace: CONTROLLER_NAMESPACE });
    const lb = svc.status?.loadBalancer?.ingress?.[0];
    const address = lb?.ip ?? lb?.hostname;
    const port = svc.spec?.ports?.find((p) => p.name === "https" || p.port === 443)?.port ?? 443;
    return address ? { address, port } : undefined;
  }

  async controllerPod(): Promise<V1Pod | undefined> {
    return (await this.core.listNamespacedPod({ namespace: CONTROLLER_NAMESPACE, labelSelector: CONTROLLER_SELECTOR })).items[0];
  }

  async podLogs(pod: V1Pod, tailLines = 2000): Promise<string> {
    return this.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, tailLines });
  }

  /** Runs a command in a pod and returns its standard output. */
  async exec(pod: V1Pod, container: string, command: string[], timeoutMs = 30_000): Promise<string> {
    let out = "";
    let err = "";
    const sink = (append: (s: string) => void) =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          append(chunk.toString());
          cb();
        },
      });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`exec ${command.join(" ")} took over ${timeoutMs} ms`)), timeoutMs);
      new Exec(this.kc)
        .exec(pod.metadata!.namespace!, pod.metadata!.name!, container, command, sink((s) => (out += s)), sink((s) => (err += s)), null, false, (status) => {
          clearTimeout(timer);
          if (status.status === "Success") resolve();
          else reject(new Error(`exec ${command.join(" ")}: ${status.message ?? status.status} ${err}`.trim()));
        })
        .catch((e: unknown) => {
          clearTimeout(timer);
          reject(e as Error);
        });
    });
    return out;
  }

  async events(namespace: string): Promise<string> {
    const list = await this.core.listNamespacedEvent({ namespace });
    return list.items
      .map((e) => `${e.lastTimestamp?.toISOString?.() ?? e.eventTime ?? ""} ${e.type} ${e.reason} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`)
      .join("\n");
  }
}

function waitingReason(p: V1Pod): string {
  const waiting = p.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
  return waiting ? ` (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""})` : "";
}

/** The `server { ... }` blocks of nginx.conf whose server_name is one of `hosts`. */
export function serverBlocksFor(nginxConf: string, hosts: string[]): string {
  const blocks: string[] = [];
  for (const host of hosts) {
    const start = nginxConf.indexOf(`## start server ${host}`);
    const end = nginxConf.indexOf(`## end server ${host}`);
    if (start >= 0 && end > start) blocks.push(nginxConf.slice(start, end + `## end server ${host}`.length));
    else blocks.push(`## server ${host}: not found in nginx.conf`);
  }
  return blocks.join("\n\n") + "\n";
}

export function loadKubeConfig(input: { file?: string; yaml?: string; context?: string }): KubeConfig {
  const kc = new KubeConfig();
  if (input.yaml) kc.loadFromString(input.yaml);
  else if (input.file) kc.loadFromFile(input.file);
  else kc.loadFromDefault();
  if (input.context) {
    if (!kc.getContexts().some((c) => c.name === input.context)) {
      throw new Error(`context "${input.context}" is not in the kubeconfig (it has: ${kc.getContexts().map((c) => c.name).join(", ") || "none"})`);
    }
    kc.setCurrentContext(input.context);
  }
  return kc;
}


/**
 * What explains a failure on a real controller, saved into `dir`: the controller's log, the run's
 * server blocks from its nginx.conf, the namespace's events and the applied objects (Secrets
 * redacted), plus any `extra` files. A piece that cannot be had is logged, not fatal.
 */
export async function saveDiagnostics(
  kube: Kube,
  input: { manifests: Manifests; log: (line: string) => void },
  hosts: string[],
  dir: string,
  extra: Record<string, () => Promise<string>> = {},
): Promise<string[]> {
  const saved: string[] = [];
  const put = async (name: string, content: () => Promise<string>) => {
    try {
      const file = join(dir, name);
      await writeFile(file, await content());
      saved.push(file);
    } catch (error) {
      input.log(`diagnostics: ${name} unavailable: ${(error as Error).message}`);
    }
  };
  const pod = await kube.controllerPod().catch(() => undefined);
  if (pod) {
    await put("controller.log", () => kube.podLogs(pod));
    await put("nginx-server-blocks.conf", async () => serverBlocksFor(await kube.exec(pod, "controller", ["cat", "/etc/nginx/nginx.conf"]), hosts));
  }
  await put("events.txt", async () => (await Promise.all(input.manifests.namespaces.map(async (ns) => `# ${ns}\n${await kube.events(ns)}`))).join("\n"));
  const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
  await put("manifests-applied.yaml", async () => manifestsYaml(redactedManifests(input.manifests, sha256)));
  for (const [name, content] of Object.entries(extra)) await put(name, content);
  return saved;
}
