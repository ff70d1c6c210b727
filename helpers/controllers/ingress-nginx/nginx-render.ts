// Renders, from the run's Ingress and Secret objects, the nginx configuration that ingress-nginx
// renders for its auth-tls annotations (kubernetes/ingress-nginx@controller-v1.15.1:
// rootfs/etc/nginx/template/nginx.tmpl, internal/ingress/annotations/authtls/main.go). Which
// Ingress governs a host, which ones the controller rejects or denies, is the policy model's
// reading of the controller (helpers/model/hosts.ts): the renderer only writes it out.
// Only the parts that decide client-certificate behaviour are emulated, with the controller's
// connection limits, upstream keep-alive and name hash sizes (what decides how much it carries);
// Lua balancing, snippets and the rest of the controller's template are not.
import { MATCH_CN_BODY } from "../../catalogue/rejections.ts";
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { secretData } from "../../manifests/manifests.ts";
import { ANNOTATION_PREFIX, ingressId, parseAuthTls as parseModel, type ParsedAuthTls, type SecretLookup, type VerifyClient } from "../../model/annotations.ts";
import { controllerOrder, resolveHosts } from "../../model/hosts.ts";
import { secretView } from "../../model/secrets.ts";
import type { Mutation } from "./mutants.ts";

export type { VerifyClient } from "../../model/annotations.ts";

/** What ingress-nginx makes of one Ingress's auth-tls annotations (the policy model's parse, flattened for reports). */
export interface AuthTls {
  /** `namespace/name` as written. */
  secretRef: string;
  verifyClient: VerifyClient;
  verifyDepth: number;
  passCertificateToUpstream: boolean;
  errorPage?: string;
  matchCn?: string;
  /** Set when the secret cannot be used: the controller then answers 403 on the whole host. */
  brokenReason?: string;
  /** The secret has a key pair but no ca.crt: client-certificate auth is silently not configured. */
  noCa?: boolean;
  /** The admission webhook refuses the Ingress (the controller's store skips it). */
  rejected?: string;
}

export interface RenderedServer {
  host: string;
  ingress: string;
  authTls?: AuthTls;
  /** Things the controller would log or emit as events (annotation parse failures...). */
  warnings: string[];
}

export interface RenderInput {
  ingresses: V1Ingress[];
  secrets: V1Secret[];
  /** Directory the config, certificates and logs live under. */
  prefix: string;
  listenAddress: string;
  httpsPort: number;
  /** Plain-HTTP listener, as the controller's port 80. */
  httpPort?: number;
  /** Served by the default server at /__mtls-generation, so a reload can be seen to have happened. */
  generation?: number;
  /** A deliberately broken rendering, for the mutation self-test only. */
  mutation?: Mutation;
  /** Where a Service's port is really served (the echo backend for the local target). */
  backendFor: (service: string, port: number | string) => string;
  /** Certificate for SNI names no Ingress claims, as the controller's fake certificate. */
  defaultCertificate: { certPem: string; keyPem: string };
  /** The IngressClass the emulated controller serves (default nginx). */
  ingressClass?: string;
  /** Hard RLIMIT_NOFILE of the process starting nginx (nofileHardLimit()); undefined: unknown. */
  nofileHardLimit?: number;
  /** For tests only: a data plane that runs short of connections (default the controller's 16384). */
  workerConnections?: number;
}

export interface RenderedConfig {
  config: string;
  files: Array<{ path: string; content: string; mode: number }>;
  servers: RenderedServer[];
  /** Ingresses (or rules) the controller would not serve, and why. */
  skipped: string[];
}

const lookupIn = (secrets: V1Secret[]): SecretLookup => (ns, name) => {
  const s = secrets.find((x) => (x.metadata?.namespace ?? "default") === ns && x.metadata?.name === name);
  return s ? secretView(s) : undefined;
};

function flatten(parsed: ParsedAuthTls, written: string): AuthTls {
  return {
    secretRef: written,
    ...parsed.settings,
    ...(parsed.denied ? { brokenReason: parsed.denied.reason } : {}),
    ...(parsed.secret?.usable && !parsed.secret.trusted ? { noCa: true } : {}),
    ...(parsed.rejected ? { rejected: parsed.rejected.message } : {}),
  };
}

/** The controller's parsing rules (helpers/model/annotations.ts), including the silent fallbacks. */
export function parseAuthTls(ing: V1Ingress, secrets: V1Secret[]): AuthTls | undefined {
  const parsed = parseModel(ing, lookupIn(secrets));
  return parsed ? flatten(parsed, ing.metadata?.annotations?.[ANNOTATION_PREFIX + "auth-tls-secret"] ?? "") : undefined;
}

/** The rejected-ingress-served mutant: a controller that renders what its webhook should refuse, minus the invalid values. */
function withoutRejectedValues(ingresses: V1Ingress[], lookup: SecretLookup): V1Ingress[] {
  return ingresses.map((ing) => {
    const copy = structuredClone(ing);
    for (let r = parseModel(copy, lookup)?.rejected; r; r = parseModel(copy, lookup)?.rejected) delete copy.metadata!.annotations![ANNOTATION_PREFIX + r.annotation];
    return copy;
  });
}

function findSecret(secrets: V1Secret[], namespace: string, name: string): V1Secret | undefined {
  return secrets.find((s) => (s.metadata?.namespace ?? "default") === namespace && s.metadata?.name === name);
}

const quote = (s: string): string => `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

/** The hard RLIMIT_NOFILE of this process, which nginx inherits (Node has no getrlimit); undefined where /proc cannot say. */
export async function nofileHardLimit(): Promise<number | undefined> {
  const limits = await readFile("/proc/self/limits", "utf8").catch(() => "");
  const hard = /^Max open files\s+\S+\s+(\d+)\s/m.exec(limits)?.[1];
  return hard === undefined ? undefined : Number(hard);
}

/**
 * worker_rlimit_nofile as the controller computes it: the hard limit less 1024, at least 1024
 * (kubernetes/ingress-nginx@controller-v1.15.1:internal/ingress/controller/nginx.go:537-548).
 * An unknown limit is a failed getrlimit there, counted as 0
 * (kubernetes/ingress-nginx@controller-v1.15.1:internal/ingress/controller/util.go:90-98), so 1024.
 */
export function maxWorkerOpenFiles(hardLimit: number | undefined): number {
  return Math.max((hardLimit ?? 0) - 1024, 1024);
}

/** kubernetes/ingress-nginx@controller-v1.15.1:internal/ingress/controller/nginx.go:803-813 */
function nextPowerOf2(v: number): number {
  let p = 1;
  while (p < v) p *= 2;
  return p;
}

/**
 * server_names_hash_bucket_size / _max_size as the controller adjusts them to its servers' names
 * (kubernetes/ingress-nginx@controller-v1.15.1:internal/ingress/controller/nginx.go:498-535, :792-799),
 * its default server "_" among them (kubernetes/ingress-nginx@controller-v1.15.1:internal/ingress/controller/controller.go:1299).
 * Defaults: no bucket size, max size 1024 (kubernetes/ingress-nginx@controller-v1.15.1:internal/ingress/controller/config/config.go:823).
 * Aliases and www-redirects are not emulated.
 */
export function serverNameHashSizes(hostnames: string[]): { bucketSize: number; maxSize: number } {
  const longest = Math.max(0, ...hostnames.map((h) => Buffer.byteLength(h)));
  const bytes = hostnames.reduce((sum, h) => sum + Buffer.byteLength(h), 0);
  const wordSize = 8;
  const aligned = (longest + 2 + wordSize - 1) & ~(wordSize - 1);
  return { bucketSize: nextPowerOf2(wordSize + wordSize + aligned), maxSize: Math.max(1024, nextPowerOf2(bytes)) };
}

/** Two workers: what the controller renders on a 2-core machine (WorkerProcesses = NumCPU), and enough to show that every worker serves a reload. */
export const WORKER_PROCESSES = 2;

export function renderNginxConfig(input: RenderInput): RenderedConfig {
  const { prefix } = input;
  const sslDir = join(prefix, "ssl");
  const files: RenderedConfig["files"] = [];
  const servers: RenderedServer[] = [];
  // One upstream per backend address, not per Service: the controller renders a single
  // `upstream upstream_balancer` whose Lua balancer picks the endpoints
  // (kubernetes/ingress-nginx@controller-v1.15.1:rootfs/etc/nginx/template/nginx.tmpl:518-540).
  // The emulator resolves every Service to the echo backend, so there is one. Per-Service upstreams
  // each keep their own idle connections and exhaust worker_connections past a few hundred.
  const upstreams = new Map<string, string>(); // address -> name

  const defaultPem = join(sslDir, "default-fake-certificate.pem");
  files.push({
    path: defaultPem,
    content: `${input.defaultCertificate.certPem}\n${input.defaultCertificate.keyPem}\n`,
    mode: 0o600,
  });

  const listen = `listen ${input.listenAddress}:${input.httpsPort} ssl http2`;
  const mutant = input.mutation?.name;
  const blocks: string[] = [];

  // One server block per host, as the controller builds its servers (helpers/model/hosts.ts): the
  // first Ingress whose CA secret is usable sets the host's client auth, and any unusable auth-tls
  // secret on the host turns the whole host into 403.
  const lookup = lookupIn(input.secrets);
  const { hosts, ingresses } = resolveHosts(mutant === "rejected-ingress-served" ? withoutRejectedValues(input.ingresses, lookup) : input.ingresses, lookup, {
    ingressClass: input.ingressClass,
    ...(mutant === "newest-ca-wins" ? { order: (list: V1Ingress[]) => controllerOrder(list).reverse() } : {}),
  });
  for (const h of hosts) {
    if (mutant === "broken-secret-ignored") delete h.denied;
    if (mutant === "match-cn-needs-ca" && !h.clientAuth) delete h.matchCn;
  }
  const byId = new Map(ingresses.map((i) => [i.id, i]));
  const skipped: string[] = [];
  for (const i of ingresses) {
    if (i.notServed) skipped.push(`Ingress ${i.id} not rendered: ${i.notServed}`);
    for (const note of i.notes) skipped.push(`Ingress ${i.id}: ${note}`);
  }

  for (const policy of hosts) {
    const host = policy.host;
    const warnings: string[] = [];
    const onHost = policy.ingresses.map((e) => ({ ...e, resolved: byId.get(e.id)! }));
    for (const e of onHost) if (e.resolved.auth?.denied) warnings.push(`AnnotationParsingFailed (Ingress ${e.id}): ${e.resolved.auth.denied.reason} (auth-tls-secret ${e.resolved.auth.declared["auth-tls-secret"]})`);
    const governing = policy.clientAuth ? byId.get(policy.clientAuth.governing)?.auth : undefined;
    const reportAuth = policy.denied ? byId.get(policy.denied.by)?.auth : (governing ?? onHost.map((e) => e.resolved.auth).find((a) => a));
    const authTls = reportAuth ? flatten(reportAuth, reportAuth.declared["auth-tls-secret"] ?? "") : undefined;

    let certFile = defaultPem;
    if (policy.certificate) {
      const [tlsNamespace, tlsName] = policy.certificate.secret.split("/") as [string, string];
      const tlsSecret = findSecret(input.secrets, tlsNamespace, tlsName);
      const data = tlsSecret ? secretData(tlsSecret) : {};
      if (data["tls.crt"] && data["tls.key"]) {
        certFile = join(sslDir, `${tlsNamespace}-${tlsName}.pem`);
        if (!files.some((f) => f.path === certFile)) {
          files.push({ path: certFile, content: `${data["tls.crt"].trim()}\n${data["tls.key"].trim()}\n`, mode: 0o600 });
        }
      } else warnings.push(`TLS secret ${policy.certificate.secret} not found: the fake certificate is served`);
    }

    const server: string[] = [];
    server.push(`    ## start server ${host} (Ingress ${onHost.map((e) => e.id).join(", ")})`);
    server.push(`    server {`);
    server.push(`        server_name ${host};`);
    server.push(`        ${listen};`);
    if (input.httpPort) server.push(`        listen ${input.listenAddress}:${input.httpPort};`);
    server.push(`        ssl_certificate ${certFile};`);
    server.push(`        ssl_certificate_key ${certFile};`);

    // nginx.tmpl:915-921: the match-cn test is rendered whenever the server's config has one,
    // with or without a CA, and before the host's `return 403`.
    if (policy.matchCn && mutant !== "match-cn-dropped") {
      server.push(`        if ($ssl_client_s_dn !~ ${quote(policy.matchCn)}) {`);
      server.push(`            return 403 "${MATCH_CN_BODY}";`);
      server.push(`        }`);
    }
    // Client-certificate auth is per server block: these lines decide the host's mTLS.
    const auth = policy.clientAuth;
    if (policy.denied) {
      server.push(`        # auth-tls-secret unusable (${policy.denied.reason}, Ingress ${policy.denied.by}): the controller denies the whole host`);
      server.push(`        return 403;`);
    } else if (auth) {
      const [secretNamespace, secretName] = auth.secretRef.split("/") as [string, string];
      const data = secretData(findSecret(input.secrets, secretNamespace, secretName)!);
      // With tls.crt in the same secret, the controller writes one combined file, so the
      // server certificate becomes a trusted CA entry too.
      const caFile = join(sslDir, `ca-${secretNamespace}-${secretName}.pem`);
      const pair = data["tls.crt"] !== undefined && data["tls.key"] !== undefined;
      const bundle = [pair ? data["tls.crt"] : undefined, data["ca.crt"], mutant === "foreign-ca-trusted" ? input.mutation?.foreignCaPem : undefined]
        .filter((x): x is string => !!x)
        .map((x) => x.trim());
      if (!files.some((f) => f.path === caFile)) files.push({ path: caFile, content: bundle.join("\n") + "\n", mode: 0o644 });
      server.push(`        ssl_client_certificate ${caFile};`);
      const s = auth.settings;
      const verifyClient = s.verifyClient === "on" && mutant === "verify-off" ? "off" : s.verifyClient === "on" && mutant === "optional-instead-of-on" ? "optional" : s.verifyClient;
      server.push(`        ssl_verify_client ${verifyClient};`);
      server.push(`        ssl_verify_depth ${s.verifyDepth + (mutant === "depth-raised" ? 1 : 0)};`);
      if (auth.crl && mutant !== "crl-not-loaded") {
        const crlFile = join(sslDir, `crl-${secretNamespace}-${secretName}.pem`);
        if (!files.some((f) => f.path === crlFile)) files.push({ path: crlFile, content: data["ca.crl"]!.trim() + "\n", mode: 0o644 });
        server.push(`        ssl_crl ${crlFile};`);
      }
      if (s.errorPage && mutant !== "error-page-dropped") server.push(`        error_page 495 496 = ${s.errorPage};`);
    } else {
      const noCa = onHost.find((e) => e.resolved.auth?.secret?.usable && !e.resolved.auth.secret.trusted);
      if (noCa) server.push(`        # auth-tls-secret ${noCa.resolved.auth!.secretRef} has no ca.crt: no client-certificate auth`);
    }

    if (!policy.denied) {
      for (const e of onHost) {
        const ing = e.resolved.ingress;
        const id = ingressId(ing);
        const namespace = ing.metadata?.namespace ?? "default";
        const ingressName = ing.metadata?.name ?? "";
        for (const path of e.paths) {
          if (!path.service) throw new Error(`Ingress ${id}: only service backends are supported`);
          const address = input.backendFor(path.service, path.port);
          if (!upstreams.has(address)) upstreams.set(address, upstreams.size === 0 ? "upstream_balancer" : `upstream_balancer_${upstreams.size + 1}`);
          const upstreamName = upstreams.get(address)!;
          const location = path.pathType === "Exact" ? `= ${path.path}` : path.path;
          server.push(`        location ${location} {`);
          server.push(`            set $namespace ${quote(namespace)};`);
          server.push(`            set $ingress_name ${quote(ingressName)};`);
          server.push(`            set $service_name ${quote(path.service)};`);
          server.push(`            set $service_port ${quote(String(path.port))};`);
          if (e.redirectsHttp) {
            // ssl-redirect (on by default) for hosts with a certificate, as the controller's Lua does
            // it (lua_ingress.lua:81-89,157-173): the Host header without its port, the request URI
            // with one trailing "/" removed unless preserve-trailing-slash. Without `tls:` port 80
            // is served as is.
            server.push(`            set $mtls_redirect_host $http_host;`);
            server.push(`            if ($mtls_redirect_host = "") {`);
            server.push(`                set $mtls_redirect_host $host;`);
            server.push(`            }`);
            server.push(`            if ($mtls_redirect_host ~ "^([^:]*)") {`);
            server.push(`                set $mtls_redirect_host $1;`);
            server.push(`            }`);
            server.push(`            set $mtls_redirect_uri $request_uri;`);
            if (!e.preserveTrailingSlash && mutant !== "redirect-keeps-trailing-slash") {
              server.push(`            if ($mtls_redirect_uri ~ "^(.*)/$") {`);
              server.push(`                set $mtls_redirect_uri $1;`);
              server.push(`            }`);
            }
            server.push(`            if ($scheme = http) {`);
            server.push(`                return 308 https://$mtls_redirect_host$mtls_redirect_uri;`);
            server.push(`            }`);
          }
          server.push(`            proxy_set_header Host $host;`);
          if (auth) {
            if (auth.settings.passCertificateToUpstream && mutant !== "cert-header-dropped") {
              const variable =
                mutant === "cert-header-unescaped" ? "$ssl_client_raw_cert" : mutant === "cert-header-wrong-variable" ? "$ssl_client_fingerprint" : "$ssl_client_escaped_cert";
              server.push(`            proxy_set_header ssl-client-cert ${variable};`);
            }
            if (mutant !== "spoofable-headers") {
              server.push(`            proxy_set_header ssl-client-verify $ssl_client_verify;`);
              server.push(`            proxy_set_header ssl-client-subject-dn $ssl_client_s_dn;`);
              server.push(`            proxy_set_header ssl-client-issuer-dn $ssl_client_i_dn;`);
            }
          }
          server.push(`            proxy_set_header X-Forwarded-For $remote_addr;`);
          server.push(`            proxy_set_header X-Forwarded-Host $host;`);
          server.push(`            proxy_set_header X-Forwarded-Proto $scheme;`);
          server.push(`            proxy_set_header X-Scheme $scheme;`);
          server.push(`            proxy_http_version 1.1;`);
          server.push(`            proxy_set_header Connection "";`);
          server.push(`            proxy_pass http://${upstreamName};`);
          server.push(`        }`);
        }
      }
    }
    server.push(`    }`);
    server.push(`    ## end server ${host}`);
    blocks.push(server.join("\n"));
    servers.push({ host, ingress: onHost.map((e) => e.id).join(", "), authTls, warnings });
  }

  // The controller's upstream keep-alive: kubernetes/ingress-nginx@controller-v1.15.1:rootfs/etc/nginx/template/nginx.tmpl:534-539
  // with the defaults of kubernetes/ingress-nginx@controller-v1.15.1:internal/ingress/controller/config/config.go:888-891.
  const upstreamBlocks = [...upstreams].map(
    ([address, name]) =>
      `    upstream ${name} {\n        server ${address};\n        keepalive 320;\n        keepalive_time 1h;\n        keepalive_timeout 60s;\n        keepalive_requests 10000;\n    }`,
  );
  const hashSizes = serverNameHashSizes(["_", ...hosts.map((h) => h.host)]);

  const config = `# Rendered by mtls-conformance (nginx target): ingress-nginx's auth-tls rendering emulated
# on the nginx data plane. This is not the ingress-nginx controller.
daemon off;
# The controller runs one per CPU (kubernetes/ingress-nginx@controller-v1.15.1:internal/ingress/controller/config/config.go:844);
# two here: more than one, as in a pod, whatever the machine running the suite has.
worker_processes ${WORKER_PROCESSES};
# kubernetes/ingress-nginx@controller-v1.15.1:rootfs/etc/nginx/template/nginx.tmpl:43
# computed as kubernetes/ingress-nginx@controller-v1.15.1:internal/ingress/controller/nginx.go:537-548
worker_rlimit_nofile ${maxWorkerOpenFiles(input.nofileHardLimit)};
pid ${join(prefix, "nginx.pid")};
error_log ${join(prefix, "logs", "error.log")} info;

# kubernetes/ingress-nginx@controller-v1.15.1:rootfs/etc/nginx/template/nginx.tmpl:53-60
# with the defaults of kubernetes/ingress-nginx@controller-v1.15.1:internal/ingress/controller/config/config.go:815-816.
# No \`use epoll\`: nginx picks it by itself on Linux, and the target may run where there is none.
events {
    multi_accept on;
    worker_connections ${input.workerConnections ?? 16384};
}

http {
    log_format mtls '$remote_addr "$host" sni="$ssl_server_name" "$request" $status verify="$ssl_client_verify" subject="$ssl_client_s_dn"';
    access_log ${join(prefix, "logs", "access.log")} mtls;
    client_body_temp_path ${join(prefix, "tmp", "client-body")};
    proxy_temp_path ${join(prefix, "tmp", "proxy")};
    fastcgi_temp_path ${join(prefix, "tmp", "fastcgi")};
    uwsgi_temp_path ${join(prefix, "tmp", "uwsgi")};
    scgi_temp_path ${join(prefix, "tmp", "scgi")};
    default_type text/html;
    server_tokens on;

    # kubernetes/ingress-nginx@controller-v1.15.1:rootfs/etc/nginx/template/nginx.tmpl:292-293
    # sized to the host names as kubernetes/ingress-nginx@controller-v1.15.1:internal/ingress/controller/nginx.go:498-535
    server_names_hash_max_size ${hashSizes.maxSize};
    server_names_hash_bucket_size ${hashSizes.bucketSize};

    # As the controller's defaults: TLS 1.2/1.3, session tickets off.
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets off;

${upstreamBlocks.join("\n")}

    # Catch-all for names no Ingress claims, as the controller's default server.
    server {
        server_name _;
        ${listen} default_server;${input.httpPort ? `\n        listen ${input.listenAddress}:${input.httpPort} default_server;` : ""}
        ssl_certificate ${defaultPem};
        ssl_certificate_key ${defaultPem};
        location / {
            return 404;
        }${input.generation !== undefined ? `\n        location = /__mtls-generation {\n            return 200 "${input.generation}";\n        }` : ""}
    }

${blocks.join("\n\n")}
}
`;
  return { config, files, servers, skipped };
}
