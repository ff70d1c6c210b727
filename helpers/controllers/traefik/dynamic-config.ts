// How Traefik's kubernetesIngressNGINX provider (traefik/traefik@v3.7.9) turns the run's Ingresses
// and Secrets into its dynamic configuration: routers per rule and path, one TLS option per
// Ingress that names an auth-tls-secret, the pass-certificate middleware, the ssl-redirect of the
// non-TLS router. Only what decides client-certificate authentication is rendered; the output is in
// Traefik's own JSON field names (pkg/config/dynamic), read by the project's Go data plane
// (data-plane/main.go). Two fields are Traefik's internal ones, which its file provider cannot
// express (json/file:"-" or file:"-" at v3.7.9): RedirectScheme.ForcePermanentRedirect and the
// AuthTLSPassCertificateToUpstream middleware; they are written under the JSON names the Go data
// plane reads.
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { secretData } from "../../model/secrets.ts";
import { servedClass } from "../../model/hosts.ts";

export const TRAEFIK_RELEASE = "traefik/traefik@v3.7.9";
const P = `${TRAEFIK_RELEASE}:pkg/provider/kubernetes/ingress-nginx/`;

/** Where each rule of the rendering is read (shown in the evidence next to the rendering). */
export const RENDER_SOURCES = {
  optionName: `${P}build.go:342-363 one TLS option per Ingress, named Normalize(namespace-name-auth-tls-secret)`,
  clientAuth: `${P}build.go:824-855,1037-1057 buildClientAuthTLSOption, clientAuthTypeFromString`,
  skip: `${P}build.go:345-357 an auth-tls-secret that does not resolve skips the whole Ingress`,
  routers: `${P}translator.go:183-226 a router per rule and path on each entry point, -tls for websecure`,
  rule: `${P}translator.go:573-622 buildRule, buildPrefixRule`,
  passCert: `${P}middleware.go:340-367, translator.go:508-512 the pass-certificate middleware on the TLS router`,
  redirect: `${P}middleware.go:46-54, translator.go:396-402 ssl-redirect: RedirectScheme (308) on the non-TLS router`,
  bool: `${P}annotations.go:155-157 a bool annotation is strings.EqualFold(value, "true")`,
  certificates: `${P}build.go:327-336,755-789 spec.tls Secrets' tls.crt/tls.key as certificates`,
  normalize: `${TRAEFIK_RELEASE}:pkg/provider/configuration.go:126-132 Normalize`,
} as const;

const A = "nginx.ingress.kubernetes.io/";

export interface TraefikRouter {
  entryPoints: string[];
  rule: string;
  service: string;
  middlewares?: string[];
  tls?: { options: string };
}

export interface TraefikMiddleware {
  redirectScheme?: { scheme: string; forcePermanentRedirect: boolean };
  authTLSPassCertificateToUpstream?: { clientAuthType: string; caFiles?: string[] };
}

export interface TraefikTlsOptions {
  minVersion: string;
  alpnProtocols: string[];
  clientAuth: { caFiles: string[]; clientAuthType: string };
}

export interface TraefikDynamicConfig {
  generation: number;
  http: {
    routers: Record<string, TraefikRouter>;
    middlewares: Record<string, TraefikMiddleware>;
    services: Record<string, { loadBalancer: { servers: Array<{ url: string }> } }>;
  };
  tls: {
    certificates: Array<{ certFile: string; keyFile: string }>;
    options: Record<string, TraefikTlsOptions>;
  };
}

export interface RenderInput {
  ingresses: V1Ingress[];
  secrets: V1Secret[];
  ingressClass?: string;
  /** Every Service answers here (the echo backend). */
  backendUrl: string;
  generation: number;
}

export interface RenderedTraefik {
  config: TraefikDynamicConfig;
  /** Ingresses the provider skips or does not serve, with why. */
  skipped: string[];
}

/** pkg/provider/configuration.go Normalize: runs of anything but letters and digits become one "-". */
export const normalize = (name: string): string => name.split(/[^\p{L}\p{N}]+/u).filter(Boolean).join("-");

/** Go's strings.EqualFold(value, "true"): the provider's bool annotations. */
const isTrue = (v: string | undefined): boolean => v !== undefined && v.toLowerCase() === "true";

/** clientAuthTypeFromString: on (and anything unknown) requires and verifies. */
export function clientAuthType(verifyClient: string | undefined): string {
  switch (verifyClient) {
    case "off":
      return "NoClientCert";
    case "optional":
      return "VerifyClientCertIfGiven";
    case "optional_no_ca":
      return "RequestClientCert";
    default:
      return "RequireAndVerifyClientCert";
  }
}

/** buildPrefixRule / buildRule for one host and path (Go's %q on the plain strings used here). */
export function buildRule(host: string, path: string | undefined, pathType: string | undefined): string {
  const q = (s: string) => JSON.stringify(s);
  const rules: string[] = [];
  if (host) rules.push(`Host(${q(host)})`);
  if (path) {
    const type = !pathType || pathType === "ImplementationSpecific" ? "Prefix" : pathType;
    if (type === "Exact") rules.push(`Path(${q(path)})`);
    else if (type === "Prefix") {
      if (path === "/") rules.push(`PathPrefix("/")`);
      else {
        const p = path.replace(/\/$/, "");
        rules.push(`(Path(${q(p)}) || PathPrefix(${q(p + "/")}))`);
      }
    }
  }
  return rules.join(" && ");
}

type Blocks = { ca?: string; cert?: string; key?: string };

/** certificateBlocks (build.go:755-789): what a Secret holds, or why it cannot be used. */
function certificateBlocks(secrets: V1Secret[], namespace: string, name: string): Blocks | string {
  const secret = secrets.find((s) => (s.metadata?.namespace ?? "default") === namespace && s.metadata?.name === name);
  if (!secret) return `fetching secret ${namespace}/${name}: not found`;
  const data = secretData(secret);
  const has = (k: string) => Object.prototype.hasOwnProperty.call(data, k);
  if (!has("tls.crt") && !has("tls.key") && !has("ca.crt")) return "secret does not contain a keypair or CA certificate";
  const blocks: Blocks = {};
  if (has("ca.crt")) {
    if (!data["ca.crt"]) return "secret contains an empty CA certificate";
    blocks.ca = data["ca.crt"];
  }
  if (has("tls.crt") && has("tls.key")) {
    if (!data["tls.crt"]) return "secret contains an empty certificate";
    if (!data["tls.key"]) return "secret contains an empty key";
    blocks.cert = data["tls.crt"];
    blocks.key = data["tls.key"];
  }
  return blocks;
}

/** The CA of an auth-tls-secret, or why the Ingress is skipped (buildClientAuthTLSOption). */
function clientCa(secrets: V1Secret[], namespace: string, ref: string): string | { error: string } {
  const parts = ref.split("/");
  if (parts.length < 2 || !parts[0] || !parts.slice(1).join("/")) return { error: "auth-tls-secret must be in namespace/name format" };
  const [ns, name] = [parts[0], parts.slice(1).join("/")];
  // AllowCrossNamespaceResources defaults to false.
  if (ns !== namespace) return { error: `cross-namespace auth-tls-secret not allowed: ${ns}/${name}` };
  const blocks = certificateBlocks(secrets, ns, name);
  if (typeof blocks === "string") return { error: `reading client certificate: ${blocks}` };
  if (!blocks.ca) return { error: "secret does not contain a CA certificate" };
  return blocks.ca;
}

export function renderTraefikConfig(input: RenderInput): RenderedTraefik {
  const { secrets } = input;
  const config: TraefikDynamicConfig = {
    generation: input.generation,
    http: { routers: {}, middlewares: {}, services: {} },
    tls: { certificates: [], options: {} },
  };
  const skipped: string[] = [];
  const certs = new Map<string, { certFile: string; keyFile: string }>();

  for (const ing of input.ingresses) {
    const ns = ing.metadata?.namespace ?? "default";
    const name = ing.metadata?.name ?? "";
    const id = `${ns}/${name}`;
    const notServed = servedClass(ing, input.ingressClass);
    if (notServed) {
      skipped.push(`${id}: not served: ${notServed}`);
      continue;
    }
    const annotations = ing.metadata?.annotations ?? {};
    const hasTls = (ing.spec?.tls?.length ?? 0) > 0;
    // Certificates load even when the rest of the Ingress is skipped (build.go:327-336).
    for (const t of ing.spec?.tls ?? []) {
      if (!t.secretName) continue;
      const blocks = certificateBlocks(secrets, ns, t.secretName);
      if (typeof blocks === "string" || !blocks.cert || !blocks.key) continue;
      certs.set(`${ns}/${t.secretName}`, { certFile: blocks.cert, keyFile: blocks.key });
    }

    let optionName = "";
    let caPem: string | undefined;
    const authSecret = annotations[`${A}auth-tls-secret`];
    const verifyClient = annotations[`${A}auth-tls-verify-client`];
    if (authSecret !== undefined) {
      const ca = clientCa(secrets, ns, authSecret);
      if (typeof ca !== "string") {
        skipped.push(`${id}: Cannot build client auth TLS option, skipping ingress: ${ca.error}`);
        continue;
      }
      caPem = ca;
      optionName = normalize(`${ns}-${name}-${authSecret}`);
      config.tls.options[optionName] ??= {
        // opt.SetDefaults(): TLS 1.2 and up, ALPN h2, http/1.1 (acme-tls/1 only matters to ACME).
        minVersion: "VersionTLS12",
        alpnProtocols: ["h2", "http/1.1"],
        clientAuth: { caFiles: [ca], clientAuthType: clientAuthType(verifyClient) },
      };
    }

    const forceRedirect = isTrue(annotations[`${A}force-ssl-redirect`]);
    const sslRedirectAnnotation = annotations[`${A}ssl-redirect`];
    const sslRedirect = hasTls && (sslRedirectAnnotation === undefined ? true : isTrue(sslRedirectAnnotation));
    const passCert = isTrue(annotations[`${A}auth-tls-pass-certificate-to-upstream`]) && authSecret !== undefined;

    (ing.spec?.rules ?? []).forEach((rule, ri) => {
      (rule.http?.paths ?? []).forEach((path, pi) => {
        const svc = path.backend.service;
        if (!svc) return;
        const port = svc.port?.number !== undefined ? String(svc.port.number) : (svc.port?.name ?? "");
        const serviceName = normalize(`${ns}-${name}-${svc.name}-${port}`);
        config.http.services[serviceName] = { loadBalancer: { servers: [{ url: input.backendUrl }] } };
        const key = normalize(`${ns}-${name}-rule-${ri}-path-${pi}`);
        const ruleText = buildRule(rule.host ?? "", path.path, path.pathType);
        const web: TraefikRouter = { entryPoints: ["web"], rule: ruleText, service: serviceName };
        if (forceRedirect || sslRedirect) {
          const mw = `${key}-redirect-scheme`;
          config.http.middlewares[mw] = { redirectScheme: { scheme: "https", forcePermanentRedirect: true } };
          web.middlewares = [mw];
        }
        const secure: TraefikRouter = { entryPoints: ["websecure"], rule: ruleText, service: serviceName, tls: { options: optionName } };
        if (passCert) {
          const mw = `${key}-tls-pass-certificate-to-upstream`;
          const type = clientAuthType(verifyClient);
          // The middleware re-verifies with the CA only for optional_no_ca (middleware.go:340-367).
          config.http.middlewares[mw] = { authTLSPassCertificateToUpstream: { clientAuthType: type, ...(type === "RequestClientCert" && caPem ? { caFiles: [caPem] } : {}) } };
          secure.middlewares = [mw];
        }
        config.http.routers[key] = web;
        config.http.routers[`${key}-tls`] = secure;
      });
    });
  }
  // Sorted by Secret key, as translate() does (translator.go:42-50).
  config.tls.certificates = [...certs.keys()].sort().map((k) => certs.get(k)!);
  return { config, skipped };
}
