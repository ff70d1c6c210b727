// Target `cluster --audit`: every Ingress with auth-tls annotations in an existing cluster (all
// namespaces, or --namespace), checked through the controller's address as it is. The run reads
// Ingresses and the public parts of the Secrets they name (ca.crt, ca.crl, tls.crt; the names of
// the other keys, never their values), creates and changes nothing in the cluster, and probes with
// the checks that need no CA key, plus positive checks where --clients gives a client for a host.
import type { V1Ingress } from "@kubernetes/client-node";
import { existsSync, readFileSync } from "node:fs";
import { annotationOf } from "../model/annotations.ts";
import type { SecretView } from "../model/secrets.ts";
import { secretData } from "../manifests/manifests.ts";
import { ConfigError } from "../support/errors.ts";
import { parseIngressAddress, type ClusterTargetOptions } from "./cluster-target.ts";
import { readClients } from "./endpoint-target.ts";
import { Kube, loadKubeConfig } from "./kube.ts";
import { TRAEFIK_LOCATION } from "./traefik-controller.ts";
import type { DeclaredObjects, DeployInput, Endpoint, StartedTarget, Target, TargetAvailability } from "./target.ts";

export interface ClusterAuditOptions extends ClusterTargetOptions {
  /** Only this namespace (default: all). */
  auditNamespace?: string;
  serverCa?: string;
  insecureServer?: boolean;
  clients?: string;
  echo?: boolean;
}

/** The values of a Secret an audit may read: public material only. */
const READABLE = new Set(["ca.crt", "ca.crl", "tls.crt"]);

/** auth-tls-secret references that can name a Secret (the controller's namespace/name form). */
function secretRefs(ingresses: V1Ingress[]): string[] {
  return [
    ...new Set(
      ingresses.flatMap((i) => {
        const parts = annotationOf(i, "auth-tls-secret")?.trim().split("/");
        return parts?.length === 2 && parts[1] ? [`${parts[0] || (i.metadata?.namespace ?? "default")}/${parts[1]}`] : [];
      }),
    ),
  ];
}

/** The Ingresses worth checking: those with auth-tls, and every other Ingress on one of their hosts. */
export function auditedIngresses(all: V1Ingress[]): V1Ingress[] {
  const withAuth = all.filter((i) => annotationOf(i, "auth-tls-secret") !== undefined);
  const hosts = new Set(withAuth.flatMap((i) => (i.spec?.rules ?? []).map((r) => r.host).filter(Boolean)));
  return all.filter((i) => withAuth.includes(i) || (i.spec?.rules ?? []).some((r) => r.host && hosts.has(r.host)));
}

export class ClusterAuditTarget implements Target {
  readonly kind = "cluster" as const;
  private readonly options: ClusterAuditOptions;
  private kube?: Kube;

  constructor(options: ClusterAuditOptions) {
    this.options = options;
  }

  validate(): void {
    const o = this.options;
    if (o.kubeconfig && !existsSync(o.kubeconfig)) throw new ConfigError(`--kubeconfig ${o.kubeconfig}: no such file`);
    try {
      loadKubeConfig({ file: o.kubeconfig, context: o.context });
    } catch (error) {
      throw new ConfigError(`cannot use the kubeconfig${o.kubeconfig ? ` ${o.kubeconfig}` : ""}: ${(error as Error).message}`);
    }
    if (o.ingressAddress) parseIngressAddress(o.ingressAddress);
    if (o.installController) throw new ConfigError("--audit changes nothing in the cluster: --install-controller does not go with it");
    if (o.serverCa && !existsSync(o.serverCa)) throw new ConfigError(`--server-ca ${o.serverCa}: no such file`);
    if (!o.serverCa && !o.insecureServer) throw new ConfigError("--audit needs --server-ca FILE (the CA of the hosts' server certificates) or --insecure-server");
    // Where ingress-nginx and k3s's Traefik run is known; another successor's is the cluster's own choice.
    if (o.controller && o.controller !== "ingress-nginx" && o.controller !== "traefik" && !o.ingressAddress && !(o.controllerNamespace && o.controllerService)) {
      throw new ConfigError(`--audit --controller ${o.controller}: say where it answers: --ingress-address HOST:PORT, or --controller-namespace and --controller-service`);
    }
    if (o.clients) readClients(o.clients);
  }

  async check(): Promise<TargetAvailability> {
    try {
      this.validate();
      return { available: true, reason: `audit of kubeconfig ${this.options.kubeconfig ?? "(default)"}${this.options.context ? `, context ${this.options.context}` : ""}, ${this.options.auditNamespace ? `namespace ${this.options.auditNamespace}` : "all namespaces"}; nothing is created or changed` };
    } catch (error) {
      return { available: false, reason: (error as Error).message };
    }
  }

  private client(): Kube {
    const o = this.options;
    // With --controller traefik, Traefik's location where k3s runs it unless the options say otherwise.
    const d: Partial<typeof TRAEFIK_LOCATION> = o.controller === "traefik" ? TRAEFIK_LOCATION : {};
    this.kube ??= new Kube(loadKubeConfig({ file: o.kubeconfig, context: o.context }), { namespace: o.controllerNamespace ?? d.namespace, selector: o.controllerSelector ?? d.selector, service: o.controllerService ?? d.service });
    return this.kube;
  }

  async discover(log: (line: string) => void): Promise<DeclaredObjects> {
    this.validate();
    const o = this.options;
    const kube = this.client();
    const ingresses = auditedIngresses(await kube.listIngresses(o.auditNamespace));
    log(`audit: ${ingresses.length} Ingress(es) with auth-tls or sharing a host with one${o.auditNamespace ? ` in ${o.auditNamespace}` : ""}`);
    const secrets: SecretView[] = [];
    const cas: DeclaredObjects["cas"] = [];
    for (const ref of secretRefs(ingresses)) {
      const [namespace, name] = ref.split("/") as [string, string];
      const secret = await kube.readSecret(namespace, name);
      if (!secret) continue;
      const all = secretData(secret);
      const data = Object.fromEntries(Object.entries(all).filter(([k]) => READABLE.has(k)));
      secrets.push({ namespace, name, data, opaqueKeys: Object.keys(all).filter((k) => !READABLE.has(k)) });
      if (data["ca.crt"]?.includes("BEGIN CERTIFICATE")) cas.push({ id: ref, refs: [ref], certPem: data["ca.crt"] });
    }
    return {
      origin: "audit",
      source: `cluster ${o.context ?? "(current context)"}${o.auditNamespace ? `, namespace ${o.auditNamespace}` : ", all namespaces"}`,
      ingresses,
      secrets,
      cas,
      clients: o.clients ? readClients(o.clients) : {},
      trust: o.serverCa ? { caPem: readFileSync(o.serverCa, "utf8") } : { insecure: true, why: "--insecure-server" },
      ignoreClass: false,
      echo: o.echo === true,
    };
  }

  async start(input: DeployInput): Promise<StartedTarget> {
    const kube = this.client();
    const kubernetes = await kube.serverVersion().catch(() => "unknown");
    const endpoint: Endpoint | undefined = this.options.ingressAddress ? parseIngressAddress(this.options.ingressAddress) : await kube.controllerAddress().catch(() => undefined);
    const { namespace, service } = kube.controller;
    if (!endpoint) throw new Error(`Service ${namespace}/${service} publishes no load-balancer address; pass --ingress-address HOST:PORT (or --controller-namespace / --controller-service for another Service)`);
    const images = await kube.controllerImages().catch(() => []);
    const controller = await kube.controllerVersion().catch(() => ({ version: "unknown", from: undefined }));
    input.log(`auditing through ${endpoint.address}:${endpoint.port} as ${(input.hosts ?? []).length} host(s); nothing is created or changed`);
    return {
      kind: "cluster",
      description: `the ${this.options.controller ?? "ingress-nginx"} controller of an existing cluster, audited as it is (no object created or changed)`,
      versions: { kubernetes, controller: controller.version },
      details: {
        audit: true,
        context: this.options.context ?? null,
        namespace: this.options.auditNamespace ?? "(all)",
        endpoint: `${endpoint.address}:${endpoint.port}`,
        controllerImages: images,
        controllerVersionFrom: controller.from ?? null,
        controllerLocation: kube.controller,
        ingresses: (input.hosts ?? []).length,
      },
      endpointFor: () => endpoint,
      collectDiagnostics: async () => [],
      stop: async () => undefined,
    };
  }
}
