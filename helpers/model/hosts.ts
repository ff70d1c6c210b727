// From Ingress objects to what each host really does, as the controller builds its servers:
// Ingresses in the controller's order, rejected and foreign-class ones left out, one server per
// host whose client auth comes from the first Ingress with a usable CA, and which answers 403 to
// everything when any Ingress on it has an unusable auth-tls secret.
import type { V1Ingress } from "@kubernetes/client-node";
import { annotationOf, ingressId, parseAuthTls, type AuthTlsSettings, type ParsedAuthTls, type ParseOptions, type SecretLookup } from "./annotations.ts";
import { goParseBool } from "./go-values.ts";
import type { TrustedCa } from "./secrets.ts";
import { SOURCES } from "./sources.ts";

export const DEFAULT_INGRESS_CLASS = "nginx";
export const CLASS_ANNOTATION = "kubernetes.io/ingress.class";

export interface IngressPath {
  path: string;
  pathType: string;
  service: string;
  port: number | string;
}

export interface IngressOnHost {
  id: string;
  paths: IngressPath[];
  /** Port 80 redirects to HTTPS for this Ingress's locations (ssl-redirect / force-ssl-redirect). */
  redirectsHttp: boolean;
  /** preserve-trailing-slash: the redirect keeps a trailing "/". */
  preserveTrailingSlash?: boolean;
}

export interface ClientAuth {
  /** The Ingress whose settings the whole host uses. */
  governing: string;
  secretRef: string;
  settings: AuthTlsSettings;
  trusted: TrustedCa[];
  crl?: { expired: boolean; revokedSerials: string[]; sha256: string };
}

export interface HostPolicy {
  host: string;
  /** Ingresses with an HTTP rule for this host, in the controller's order. */
  ingresses: IngressOnHost[];
  /** Every request answered 403: an Ingress on the host names an unusable auth-tls secret. */
  denied?: { by: string; reason: string };
  /** Client-certificate auth of the host's server; absent: none (no auth-tls, or no ca.crt). */
  clientAuth?: ClientAuth;
  /** The server's match-cn, rendered even when no CA is configured (then everything is 403). */
  matchCn?: string;
  /** The Ingress (and Secret) whose certificate the host serves; absent: the fake certificate. */
  certificate?: { ingress: string; secret: string };
  sources: string[];
}

export interface ResolvedIngress {
  id: string;
  ingress: V1Ingress;
  auth?: ParsedAuthTls;
  /** Hosts of its HTTP rules. */
  hosts: string[];
  /** Why the controller under test does not serve it (rejected at admission, another class). */
  notServed?: string;
  /** Rules the model cannot probe (no host: the default server). */
  notes: string[];
}

export interface ResolveOptions extends ParseOptions {
  /** The order the controller takes Ingresses in; default controllerOrder (store.go sortIngressSlice). */
  order?: (ingresses: V1Ingress[]) => V1Ingress[];
  /** The IngressClass the controller serves; default nginx. */
  ingressClass?: string;
  /** Every Ingress counts as served whatever its class (a live endpoint: what answers there is the deployment). */
  ignoreClass?: boolean;
}

const seconds = (ing: V1Ingress): number | undefined => {
  const t = ing.metadata?.creationTimestamp;
  if (t === undefined) return undefined;
  return Math.floor(new Date(t as unknown as string).getTime() / 1000);
};

/**
 * The controller's order (store.go sortIngressSlice): creationTimestamp ascending, at one-second
 * resolution; equal timestamps by "namespace/name" descending. Objects without a timestamp
 * (not yet created) are taken as created in one second, which is how a run creates them.
 */
export function controllerOrder(ingresses: V1Ingress[]): V1Ingress[] {
  return [...ingresses].sort((a, b) => {
    const ta = seconds(a) ?? 0;
    const tb = seconds(b) ?? 0;
    if (ta !== tb) return ta - tb;
    const ia = ingressId(a);
    const ib = ingressId(b);
    return ia > ib ? -1 : ia < ib ? 1 : 0;
  });
}

export function servedClass(ing: V1Ingress, ingressClass = DEFAULT_INGRESS_CLASS): string | undefined {
  const name = ing.spec?.ingressClassName;
  if (name !== undefined && name !== null) return name === ingressClass ? undefined : `spec.ingressClassName is "${name}", not "${ingressClass}"`;
  const annotated = ing.metadata?.annotations?.[CLASS_ANNOTATION];
  if (annotated !== undefined) return annotated === ingressClass ? undefined : `${CLASS_ANNOTATION} is "${annotated}", not "${ingressClass}"`;
  return `it names no IngressClass (neither spec.ingressClassName nor ${CLASS_ANNOTATION}), and the controller serves only class "${ingressClass}"`;
}

function pathsOf(rule: NonNullable<NonNullable<V1Ingress["spec"]>["rules"]>[number]): IngressPath[] {
  return (rule.http?.paths ?? []).map((p) => ({
    path: p.path ?? "/",
    pathType: p.pathType ?? "ImplementationSpecific",
    service: p.backend.service?.name ?? "",
    port: p.backend.service?.port?.number ?? p.backend.service?.port?.name ?? 80,
  }));
}

function boolAnnotation(ing: V1Ingress, key: string, fallback: boolean): boolean {
  const v = annotationOf(ing, key);
  return v === undefined ? fallback : (goParseBool(v) ?? fallback);
}

export function resolveHosts(ingresses: V1Ingress[], secrets: SecretLookup, options: ResolveOptions = {}): { hosts: HostPolicy[]; ingresses: ResolvedIngress[] } {
  const resolved: ResolvedIngress[] = [];
  const servers = new Map<string, HostPolicy & { caSet: boolean; config?: ParsedAuthTls }>();

  for (const ing of (options.order ?? controllerOrder)(ingresses)) {
    const id = ingressId(ing);
    const auth = parseAuthTls(ing, secrets, options);
    const rules = ing.spec?.rules ?? [];
    const entry: ResolvedIngress = { id, ingress: ing, auth, hosts: [], notes: [] };
    resolved.push(entry);
    for (const rule of rules) {
      if (!rule.host) entry.notes.push("a rule without host is served by the default server, which never asks for a client certificate: not checked");
      else if (rule.http && !entry.hosts.includes(rule.host)) entry.hosts.push(rule.host);
    }
    if (auth?.rejected) {
      entry.notServed = `the controller rejects it: ${auth.rejected.message}`;
      continue;
    }
    const classProblem = options.ignoreClass ? undefined : servedClass(ing, options.ingressClass);
    if (classProblem) {
      entry.notServed = `not served by the controller under test: ${classProblem}`;
      continue;
    }
    const sslRedirect = boolAnnotation(ing, "ssl-redirect", true);
    const forceSslRedirect = boolAnnotation(ing, "force-ssl-redirect", false);
    for (const rule of rules) {
      if (!rule.host || !rule.http) continue;
      const host = rule.host;
      let server = servers.get(host);
      if (!server) {
        server = { host, ingresses: [], sources: [SOURCES.perServer], caSet: false };
        servers.set(host, server);
      }
      const tlsEntry = ing.spec?.tls?.find((t) => !t.hosts?.length || t.hosts.includes(host));
      if (!server.certificate && tlsEntry?.secretName) server.certificate = { ingress: id, secret: `${ing.metadata?.namespace ?? "default"}/${tlsEntry.secretName}` };
      const existing = server.ingresses.find((i) => i.id === id);
      if (existing) existing.paths.push(...pathsOf(rule));
      else server.ingresses.push({ id, paths: pathsOf(rule), redirectsHttp: forceSslRedirect || sslRedirect, ...(boolAnnotation(ing, "preserve-trailing-slash", false) ? { preserveTrailingSlash: true } : {}) });
      // controller.go:762-775: the first unusable secret denies the host; the auth config is
      // replaced by each Ingress's until one with a CA file is found.
      if (!server.denied && auth?.denied) {
        server.denied = { by: id, reason: auth.denied.reason };
        server.sources.push(SOURCES.locationDenied);
      }
      if (!server.caSet) {
        server.config = auth;
        if (auth && !auth.denied && auth.secret?.usable && auth.secret.trusted) {
          server.caSet = true;
          server.clientAuth = {
            governing: id,
            secretRef: auth.secretRef!,
            settings: auth.settings,
            trusted: auth.secret.trusted,
            ...(auth.secret.crl ? { crl: auth.secret.crl } : {}),
          };
        }
      }
    }
  }

  const hosts: HostPolicy[] = [];
  for (const server of servers.values()) {
    const { caSet, config, ...policy } = server;
    if (config?.settings.matchCn && !config.denied) policy.matchCn = config.settings.matchCn;
    if (policy.ingresses.length > 1) policy.sources.push(SOURCES.ingressOrder, SOURCES.firstCaWins);
    if (policy.matchCn) policy.sources.push(SOURCES.matchCn);
    // A certificate is configured only where a tls: entry names the host (the run creates its Secret).
    for (const i of policy.ingresses) i.redirectsHttp = i.redirectsHttp && (!!policy.certificate || forceRedirect(ingresses, i.id));
    hosts.push(policy);
  }
  return { hosts, ingresses: resolved };
}

/** The entries of `certificates` (host -> SHA-256) for hosts the controller serves with a certificate. */
export function servedCertificates(certificates: Record<string, string>, ingresses: V1Ingress[], secrets: SecretLookup): Record<string, string> {
  const served = new Set(resolveHosts(ingresses, secrets).hosts.filter((h) => h.certificate).map((h) => h.host));
  return Object.fromEntries(Object.entries(certificates).filter(([h]) => served.has(h)));
}

function forceRedirect(ingresses: V1Ingress[], id: string): boolean {
  const ing = ingresses.find((i) => ingressId(i) === id);
  return ing ? boolAnnotation(ing, "force-ssl-redirect", false) : false;
}
