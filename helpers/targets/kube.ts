// Talking to a real cluster with @kubernetes/client-node (never kubectl): apply the run's
// objects, install the controller, wait for readiness, read versions, collect diagnostics.
// Shared by the k3s and cluster targets. Not runnable on machines that cannot pull images;
// written from the documented procedures (kubernetes/ingress-nginx docs/deploy, client-node's API).
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
  type V1Deployment,
  type V1Ingress,
  type V1Namespace,
  type V1Pod,
  type V1Secret,
  type V1Service,
} from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { controllerOrder } from "../model/hosts.ts";
import { MANAGED_BY_LABEL, manifestsYaml, redactedManifests, type Manifests } from "../manifests/manifests.ts";
import { retrying, StopWaiting, waitFor, WaitTimeoutError } from "../support/wait.ts";
import { controllerVersionOf, type ControllerVersion } from "./controller-version.ts";
import type { Endpoint } from "./target.ts";

export const CONTROLLER_NAMESPACE = "ingress-nginx";
export const CONTROLLER_SELECTOR = "app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx";
export const CONTROLLER_SERVICE = "ingress-nginx-controller";
const FIELD_MANAGER = "mtls-conformance";

/** Where the controller under test runs. The defaults are the release manifest's. */
export interface ControllerLocation {
  /** Namespace of the controller's pods, Deployment and Service. */
  namespace: string;
  /** Label selector of the controller's pods. */
  selector: string;
  /** The (LoadBalancer) Service in front of the controller. */
  service: string;
}

export const DEFAULT_CONTROLLER: Readonly<ControllerLocation> = {
  namespace: CONTROLLER_NAMESPACE,
  selector: CONTROLLER_SELECTOR,
  service: CONTROLLER_SERVICE,
};

/**
 * k3s ServiceLB publishes a LoadBalancer Service through pods in kube-system labelled with the
 * Service's name and namespace (k3s pkg/cloudprovider/servicelb.go: DefaultLBNS, svcNameLabel,
 * svcNamespaceLabel; pods named svclb-<service>-<uid>-…).
 */
export const SERVICELB_NAMESPACE = "kube-system";
export const SERVICELB_NAME_LABEL = "svccontroller.k3s.cattle.io/svcname";
export const SERVICELB_NAMESPACE_LABEL = "svccontroller.k3s.cattle.io/svcnamespace";
const OWNER_LABEL = "app.kubernetes.io/managed-by";

export interface Timeouts {
  nodeReadyMs: number;
  controllerReadyMs: number;
  webhookMs: number;
  backendReadyMs: number;
  certificatesMs: number;
  /** A deleted namespace to be gone (its content removed by the namespace controller). */
  namespaceGoneMs: number;
  /** The controller's Service to get a load-balancer address. */
  loadBalancerMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  nodeReadyMs: 180_000,
  controllerReadyMs: 300_000,
  webhookMs: 120_000,
  backendReadyMs: 180_000,
  certificatesMs: 120_000,
  namespaceGoneMs: 120_000,
  loadBalancerMs: 120_000,
};

export interface NamespaceDeletion {
  namespace: string;
  /** A read answers 404: the name can be used again. */
  gone: boolean;
  /** What the last read showed ("gone", the phase and conditions, or why it was left alone). */
  lastSeen: string;
}

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
  readonly controller: Readonly<ControllerLocation>;

  constructor(kc: KubeConfig, controller: Partial<ControllerLocation> = {}) {
    this.kc = kc;
    const given = Object.fromEntries(Object.entries(controller).filter(([, v]) => v !== undefined && v !== ""));
    this.controller = { ...DEFAULT_CONTROLLER, ...given };
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

  async waitControllerReady(timeoutMs: number, what = "the ingress-nginx controller pod"): Promise<V1Pod> {
    return waitFor(
      `${what} in namespace ${this.controller.namespace} to be Ready`,
      async () => {
        const pods = await this.controllerPods();
        const ready = pods.find(isReady);
        if (ready) return { done: true, value: ready };
        return { done: false, observation: pods.map(podState).join(", ") || `no pod matches ${this.controller.selector} yet` };
      },
      { timeoutMs, intervalMs: 1000 },
    );
  }

  /**
   * The controller's Service with a load-balancer address (status.loadBalancer.ingress). While
   * there is none, the wait names what k3s's ServiceLB pods for it are doing: a klipper-lb image
   * that cannot be pulled, a host port already taken.
   */
  async waitControllerLoadBalancer(timeoutMs: number): Promise<Endpoint> {
    const { namespace, service } = this.controller;
    return waitFor(
      `Service ${namespace}/${service} to get a load-balancer address`,
      async () => {
        const endpoint = serviceEndpoint(await this.core.readNamespacedService({ name: service, namespace }));
        if (endpoint) return { done: true, value: endpoint };
        return { done: false, observation: `no status.loadBalancer.ingress; ${await this.serviceLbState()}` };
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** What the ServiceLB pods publishing the controller's Service are doing (k3s; other clusters have none). */
  async serviceLbState(): Promise<string> {
    const { namespace, service } = this.controller;
    const labelSelector = `${SERVICELB_NAME_LABEL}=${service},${SERVICELB_NAMESPACE_LABEL}=${namespace}`;
    try {
      const pods = (await this.core.listNamespacedPod({ namespace: SERVICELB_NAMESPACE, labelSelector })).items;
      return pods.length ? `ServiceLB ${pods.map(podState).join(", ")}` : `no ServiceLB pod in ${SERVICELB_NAMESPACE} (${labelSelector})`;
    } catch (error) {
      return `ServiceLB pods unreadable: ${apiError(error).message}`;
    }
  }

  /**
   * The suite's own namespace: created with its label, or refused at once when someone else's. In
   * a cluster the run made for itself (k3s) every namespace is the run's, `default` included.
   * One still Terminating (an earlier group's, an earlier run's) is waited out, bounded, and made
   * again: anything created in it meanwhile is refused by the NamespaceLifecycle admission plugin
   * with 403 "unable to create new content in namespace X because it is being terminated"
   * (k8s.io/apiserver pkg/admission/plugin/namespace/lifecycle/admission.go, Lifecycle.Admit).
   */
  async claimNamespace(name: string, options: { ownCluster?: boolean; timeoutMs?: number } = {}): Promise<void> {
    await waitFor(
      `namespace ${name} to finish terminating before the run makes it again`,
      async () => {
        const existing = await this.readNamespace(name).catch(stopWaiting);
        if (existing) {
          if (!options.ownCluster && !isOurs(existing)) {
            throw new StopWaiting(new Error(`namespace ${name} exists and was not created by mtls-conformance; choose another with --namespace`));
          }
          return isTerminating(existing) ? { done: false, observation: namespaceState(existing) } : { done: true, value: undefined };
        }
        try {
          await this.core.createNamespace({ body: { metadata: { name, labels: { ...MANAGED_BY_LABEL } } } });
          return { done: true, value: undefined };
        } catch (error) {
          const { code, message } = apiError(error);
          // 409: it came back, or is still being deleted (between our read and the create): look again.
          if (code === 409) return { done: false, observation: message };
          throw new StopWaiting(new KubeApiError(`creating namespace ${name}: ${code ? `HTTP ${code}: ` : ""}${message}`, code));
        }
      },
      { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUTS.namespaceGoneMs, intervalMs: 250, maxIntervalMs: 2000 },
    );
  }

  /**
   * Deletes a namespace this tool made and waits, bounded, until a read answers 404: the API
   * accepts the DELETE at once and the namespace stays Terminating while its content is removed.
   * One without the tool's label is left alone. A timeout is not an error: the result says what
   * was last seen, and the next claim of the name waits for it.
   */
  async deleteNamespace(name: string, timeoutMs = DEFAULT_TIMEOUTS.namespaceGoneMs): Promise<NamespaceDeletion> {
    const existing = await this.readNamespace(name);
    if (!existing) return { namespace: name, gone: true, lastSeen: "gone" };
    if (!isOurs(existing)) {
      return { namespace: name, gone: false, lastSeen: `left in place: it has no ${OWNER_LABEL}=${MANAGED_BY_LABEL[OWNER_LABEL]} label, so the run did not create it` };
    }
    try {
      await this.core.deleteNamespace({ name });
    } catch (error) {
      const { code, message } = apiError(error);
      if (code === 404) return { namespace: name, gone: true, lastSeen: "gone" };
      // Older API servers answer a second DELETE with 409 "The system is ensuring all content is removed".
      if (code !== 409) throw new KubeApiError(`deleting namespace ${name}: ${code ? `HTTP ${code}: ` : ""}${message}`, code);
    }
    try {
      await waitFor(
        `namespace ${name} to be gone`,
        async () => {
          const ns = await this.readNamespace(name);
          return ns ? { done: false, observation: namespaceState(ns) } : { done: true, value: undefined };
        },
        { timeoutMs, intervalMs: 250, maxIntervalMs: 2000 },
      );
      return { namespace: name, gone: true, lastSeen: "gone" };
    } catch (error) {
      if (error instanceof WaitTimeoutError) return { namespace: name, gone: false, lastSeen: error.lastObservation };
      throw error;
    }
  }

  /** The namespace, or undefined on 404. */
  private async readNamespace(name: string): Promise<V1Namespace | undefined> {
    try {
      return await this.core.readNamespace({ name });
    } catch (error) {
      const { code, message } = apiError(error);
      if (code === 404) return undefined;
      throw new KubeApiError(`reading namespace ${name}: ${code ? `HTTP ${code}: ` : ""}${message}`, code);
    }
  }

  /** Which of these IngressClasses the cluster does not have (one that cannot be read is not counted). */
  async missingIngressClasses(names: string[]): Promise<string[]> {
    const missing: string[] = [];
    for (const name of names) {
      try {
        await this.networking.readIngressClass({ name });
      } catch (error) {
        if (apiError(error).code === 404) missing.push(name);
      }
    }
    return missing;
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
    for (const ns of manifests.namespaces) await this.claimNamespace(ns, { ...options, timeoutMs: timeouts.namespaceGoneMs });
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
    const pods = await this.controllerPods();
    return pods.flatMap((p) =>
      (p.status?.containerStatuses ?? []).map((c) => ({ pod: p.metadata?.name ?? "", container: c.name, image: c.image, imageID: c.imageID })),
    );
  }

  /** `host:port` of the controller's Service, as its load balancer publishes it. */
  async controllerAddress(): Promise<Endpoint | undefined> {
    const { namespace, service } = this.controller;
    return serviceEndpoint(await this.core.readNamespacedService({ name: service, namespace }));
  }

  async controllerPods(): Promise<V1Pod[]> {
    const { namespace, selector } = this.controller;
    return (await this.core.listNamespacedPod({ namespace, labelSelector: selector })).items;
  }

  async controllerPod(): Promise<V1Pod | undefined> {
    const pods = await this.controllerPods();
    return pods.find(isReady) ?? pods[0];
  }

  /** Deployments in the controller's namespace labelled as its pods (the release manifest and the Helm chart label both alike). */
  async controllerDeployments(): Promise<V1Deployment[]> {
    const { namespace, selector } = this.controller;
    return (await this.apps.listNamespacedDeployment({ namespace, labelSelector: selector })).items;
  }

  /**
   * The release running, from what the pod was asked to run, then the version label of the pod
   * and of its Deployment, and only then the status image (which may have lost its tag).
   */
  async controllerVersion(): Promise<ControllerVersion> {
    const pod = await this.controllerPod();
    const fromPod = controllerVersionOf(pod);
    if (fromPod.from === "spec image" || fromPod.from === "pod label") return fromPod;
    // Only now is the Deployment worth a read: its label comes before the status image.
    return controllerVersionOf(pod, (await this.controllerDeployments().catch(() => []))[0]);
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

/** Ends a wait with this error instead of trying again (a refusal is not going to pass). */
const stopWaiting = (error: unknown): never => {
  throw new StopWaiting(error);
};

const isReady = (p: V1Pod) => !!p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");

/** `name: Phase (Reason: message)`: a container's waiting reason, else why the pod is not scheduled. */
function podState(p: V1Pod): string {
  const unscheduled = p.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  const why = waitingReason(p) || (unscheduled ? ` (${unscheduled.reason ?? "Unschedulable"}${unscheduled.message ? `: ${unscheduled.message}` : ""})` : "");
  return `${p.metadata?.name}: ${p.status?.phase ?? "Unknown"}${why}`;
}

/** The first load-balancer address of a Service, on its HTTPS port. */
function serviceEndpoint(svc: V1Service): Endpoint | undefined {
  const lb = svc.status?.loadBalancer?.ingress?.[0];
  const address = lb?.ip ?? lb?.hostname;
  const port = svc.spec?.ports?.find((p) => p.name === "https" || p.port === 443)?.port ?? 443;
  return address ? { address, port } : undefined;
}

const isOurs = (ns: V1Namespace) => ns.metadata?.labels?.[OWNER_LABEL] === MANAGED_BY_LABEL[OWNER_LABEL];
const isTerminating = (ns: V1Namespace) => ns.status?.phase === "Terminating" || !!ns.metadata?.deletionTimestamp;

/** `Terminating since …`, with the namespace controller's conditions (content or finalizers remaining). */
function namespaceState(ns: V1Namespace): string {
  const since = ns.metadata?.deletionTimestamp;
  const conditions = (ns.status?.conditions ?? []).filter((c) => c.status === "True" && c.message).map((c) => `${c.type}: ${c.message}`);
  const when = since ? ` since ${since instanceof Date ? since.toISOString() : String(since)}` : "";
  return `namespace ${ns.metadata?.name} is ${ns.status?.phase ?? "Active"}${when}${conditions.length ? ` (${conditions.join("; ")})` : ""}`;
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
 * server blocks from its nginx.conf, the events of the run's namespaces, of the controller's and of
 * kube-system (where k3s's ServiceLB and system pods report a failed pull), and the applied objects
 * (Secrets redacted), plus any `extra` files. A piece that cannot be had is logged, not fatal.
 */
export async function saveDiagnostics(
  kube: Kube,
  input: { manifests: Manifests; log: (line: string) => void; /** false: the controller has no nginx.conf (Traefik). */ nginxConf?: boolean },
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
    if (input.nginxConf !== false) await put("nginx-server-blocks.conf", async () => serverBlocksFor(await kube.exec(pod, "controller", ["cat", "/etc/nginx/nginx.conf"]), hosts));
  }
  const eventNamespaces = [...new Set([...input.manifests.namespaces, kube.controller.namespace, SERVICELB_NAMESPACE])];
  await put("events.txt", async () => (await Promise.all(eventNamespaces.map((ns) => namespaceEvents(kube, ns)))).join("\n"));
  const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
  await put("manifests-applied.yaml", async () => manifestsYaml(redactedManifests(input.manifests, sha256)));
  for (const [name, content] of Object.entries(extra)) await put(name, content);
  return saved;
}

/** One namespace's events under a `# namespace` header; one that cannot be read says why. */
async function namespaceEvents(kube: Kube, namespace: string): Promise<string> {
  try {
    return `# ${namespace}\n${await kube.events(namespace)}`;
  } catch (error) {
    return `# ${namespace}\n(unavailable: ${apiError(error).message})`;
  }
}
