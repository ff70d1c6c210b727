// Renders, from the run's Ingress and Secret objects, the nginx configuration that ingress-nginx
// renders for its auth-tls annotations (facts: shared/reference/ingress-nginx-auth-tls.md).
// Only the parts that decide client-certificate behaviour are emulated; Lua balancing,
// snippets and the rest of the controller's template are not.
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { join } from "node:path";
import { ANNOTATION_PREFIX } from "../catalogue/catalogue.ts";
import { secretData } from "../manifests/manifests.ts";
import type { Mutation } from "./mutants.ts";

export type VerifyClient = "on" | "off" | "optional" | "optional_no_ca";

/** What ingress-nginx makes of one host's auth-tls annotations. */
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
}

export interface RenderedConfig {
  config: string;
  files: Array<{ path: string; content: string; mode: number }>;
  servers: RenderedServer[];
}

const VERIFY_CLIENT_VALUES: readonly VerifyClient[] = ["on", "off", "optional", "optional_no_ca"];

function annotation(ing: V1Ingress, key: string): string | undefined {
  return ing.metadata?.annotations?.[ANNOTATION_PREFIX + key];
}

/** The controller's parsing rules, including the silent fallbacks. */
export function parseAuthTls(ing: V1Ingress, secrets: V1Secret[]): AuthTls | undefined {
  const secretRef = annotation(ing, "auth-tls-secret");
  if (secretRef === undefined) return undefined;
  const namespace = ing.metadata?.namespace ?? "default";

  const rawVerify = annotation(ing, "auth-tls-verify-client");
  // Case-sensitive; anything unknown silently becomes "on".
  const verifyClient = VERIFY_CLIENT_VALUES.includes(rawVerify as VerifyClient) ? (rawVerify as VerifyClient) : "on";

  const rawDepth = annotation(ing, "auth-tls-verify-depth");
  const parsedDepth = rawDepth !== undefined && /^-?\d+$/.test(rawDepth.trim()) ? Number(rawDepth.trim()) : 0;
  // 0, empty and non-numbers silently become 1; negatives are rendered as is (nginx then rejects them).
  const verifyDepth = parsedDepth === 0 ? 1 : parsedDepth;

  const auth: AuthTls = {
    secretRef,
    verifyClient,
    verifyDepth,
    passCertificateToUpstream: annotation(ing, "auth-tls-pass-certificate-to-upstream") === "true",
    errorPage: annotation(ing, "auth-tls-error-page"),
    matchCn: annotation(ing, "auth-tls-match-cn"),
  };

  const [secretNamespace, secretName, ...rest] = secretRef.split("/");
  if (!secretName || rest.length > 0) {
    auth.brokenReason = `auth-tls-secret "${secretRef}" is not namespace/name`;
  } else if (secretNamespace !== namespace) {
    auth.brokenReason = `auth-tls-secret "${secretRef}" is in another namespace than the Ingress (${namespace})`;
  } else {
    const secret = secrets.find((s) => s.metadata?.namespace === secretNamespace && s.metadata?.name === secretName);
    if (!secret) auth.brokenReason = `secret ${secretRef} not found`;
    else {
      const data = secretData(secret);
      const hasCa = !!data["ca.crt"]?.includes("BEGIN CERTIFICATE");
      const hasKeyPair = !!data["tls.crt"] && !!data["tls.key"];
      // A key pair without ca.crt is a usable secret: the controller just configures no client auth.
      if (!hasCa && !hasKeyPair) auth.brokenReason = `secret ${secretRef} has neither ca.crt nor tls.crt/tls.key`;
      else if (!hasCa) auth.noCa = true;
    }
  }
  return auth;
}

function findSecret(secrets: V1Secret[], namespace: string, name: string): V1Secret | undefined {
  return secrets.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name);
}

const quote = (s: string): string => `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

export function renderNginxConfig(input: RenderInput): RenderedConfig {
  const { prefix } = input;
  const sslDir = join(prefix, "ssl");
  const files: RenderedConfig["files"] = [];
  const servers: RenderedServer[] = [];
  const upstreams = new Map<string, string>();

  const defaultPem = join(sslDir, "default-fake-certificate.pem");
  files.push({
    path: defaultPem,
    content: `${input.defaultCertificate.certPem}\n${input.defaultCertificate.keyPem}\n`,
    mode: 0o600,
  });

  const listen = `listen ${input.listenAddress}:${input.httpsPort} ssl http2`;
  const mutant = input.mutation?.name;
  const blocks: string[] = [];

  // One server block per host. Several Ingresses may share a host: the oldest (first) Ingress whose
  // CA secret resolves sets the host's client auth, and any unusable auth-tls secret on the host
  // turns the whole host into 403 (shared/reference/ingress-nginx-auth-tls.md).
  const byHost = new Map<string, Array<{ ing: V1Ingress; rule: NonNullable<NonNullable<V1Ingress["spec"]>["rules"]>[number] }>>();
  for (const ing of input.ingresses) {
    for (const rule of ing.spec?.rules ?? []) {
      const id = `${ing.metadata?.namespace ?? "default"}/${ing.metadata?.name ?? ""}`;
      if (!rule.host) throw new Error(`Ingress ${id}: rules without host are not supported by the nginx target`);
      byHost.set(rule.host, [...(byHost.get(rule.host) ?? []), { ing, rule }]);
    }
  }

  for (const [host, entries] of byHost) {
    const warnings: string[] = [];
    const parsed = entries.map((e) => ({ ...e, id: `${e.ing.metadata?.namespace ?? "default"}/${e.ing.metadata?.name ?? ""}`, auth: parseAuthTls(e.ing, input.secrets) }));
    for (const p of parsed) if (p.auth?.brokenReason) warnings.push(`AnnotationParsingFailed (Ingress ${p.id}): ${p.auth.brokenReason}`);
    const broken = parsed.find((p) => p.auth?.brokenReason);
    const owner = parsed.find((p) => p.auth && !p.auth.brokenReason && !p.auth.noCa);
    const noCa = parsed.find((p) => p.auth?.noCa);
    const authTls = broken?.auth ?? owner?.auth ?? noCa?.auth;

    const withTls = parsed.find((p) => p.ing.spec?.tls?.some((t) => t.hosts?.includes(host)));
    const tlsEntry = withTls?.ing.spec?.tls?.find((t) => t.hosts?.includes(host));
    const tlsNamespace = withTls?.ing.metadata?.namespace ?? "default";
    const tlsSecret = tlsEntry?.secretName ? findSecret(input.secrets, tlsNamespace, tlsEntry.secretName) : undefined;
    let certFile = defaultPem;
    if (tlsSecret) {
      const data = secretData(tlsSecret);
      if (data["tls.crt"] && data["tls.key"]) {
        certFile = join(sslDir, `${tlsNamespace}-${tlsEntry!.secretName}.pem`);
        if (!files.some((f) => f.path === certFile)) {
          files.push({ path: certFile, content: `${data["tls.crt"].trim()}\n${data["tls.key"].trim()}\n`, mode: 0o600 });
        }
      }
    } else if (tlsEntry) {
      warnings.push(`TLS secret ${tlsNamespace}/${tlsEntry.secretName} not found: the fake certificate is served`);
    }

    const server: string[] = [];
    server.push(`    ## start server ${host} (Ingress ${parsed.map((p) => p.id).join(", ")})`);
    server.push(`    server {`);
    server.push(`        server_name ${host};`);
    server.push(`        ${listen};`);
    if (input.httpPort) server.push(`        listen ${input.listenAddress}:${input.httpPort};`);
    server.push(`        ssl_certificate ${certFile};`);
    server.push(`        ssl_certificate_key ${certFile};`);

    // Client-certificate auth is per server block: these lines decide the host's mTLS.
    let caConfigured = false;
    if (broken) {
      server.push(`        # auth-tls-secret unusable (${broken.auth!.brokenReason}): the controller denies the whole host`);
      server.push(`        return 403;`);
    } else if (owner) {
      const auth = owner.auth!;
      const [secretNamespace, secretName] = auth.secretRef.split("/") as [string, string];
      const data = secretData(findSecret(input.secrets, secretNamespace, secretName)!);
      // With tls.crt in the same secret, the controller writes one combined file, so the
      // server certificate becomes a trusted CA entry too.
      const caFile = join(sslDir, `ca-${secretNamespace}-${secretName}.pem`);
      const bundle = [data["tls.crt"], data["ca.crt"], mutant === "foreign-ca-trusted" ? input.mutation?.foreignCaPem : undefined]
        .filter((x): x is string => !!x)
        .map((x) => x.trim());
      if (!files.some((f) => f.path === caFile)) files.push({ path: caFile, content: bundle.join("\n") + "\n", mode: 0o644 });
      caConfigured = true;
      if (auth.matchCn && mutant !== "match-cn-dropped") {
        server.push(`        if ($ssl_client_s_dn !~ ${quote(auth.matchCn)}) {`);
        server.push(`            return 403 "client certificate unauthorized";`);
        server.push(`        }`);
      }
      server.push(`        ssl_client_certificate ${caFile};`);
      const verifyClient =
        auth.verifyClient === "on" && mutant === "verify-off" ? "off" : auth.verifyClient === "on" && mutant === "optional-instead-of-on" ? "optional" : auth.verifyClient;
      server.push(`        ssl_verify_client ${verifyClient};`);
      server.push(`        ssl_verify_depth ${auth.verifyDepth + (mutant === "depth-raised" ? 1 : 0)};`);
      if (data["ca.crl"] && mutant !== "crl-not-loaded") {
        const crlFile = join(sslDir, `crl-${secretNamespace}-${secretName}.pem`);
        if (!files.some((f) => f.path === crlFile)) files.push({ path: crlFile, content: data["ca.crl"].trim() + "\n", mode: 0o644 });
        server.push(`        ssl_crl ${crlFile};`);
      }
      if (auth.errorPage && mutant !== "error-page-dropped") server.push(`        error_page 495 496 = ${auth.errorPage};`);
    } else if (noCa) {
      server.push(`        # auth-tls-secret ${noCa.auth!.secretRef} has no ca.crt: no client-certificate auth`);
    }

    for (const { ing, rule, id } of parsed) {
      const namespace = ing.metadata?.namespace ?? "default";
      const ingressName = ing.metadata?.name ?? "";
      for (const path of rule.http?.paths ?? []) {
        const svc = path.backend.service;
        if (!svc) throw new Error(`Ingress ${id}: only service backends are supported`);
        const port = svc.port?.number ?? svc.port?.name ?? 80;
        const upstreamName = `upstream-${namespace}-${svc.name}-${port}`;
        upstreams.set(upstreamName, input.backendFor(svc.name, port));
        const location = path.pathType === "Exact" ? `= ${path.path}` : (path.path ?? "/");
        server.push(`        location ${location} {`);
        server.push(`            set $namespace ${quote(namespace)};`);
        server.push(`            set $ingress_name ${quote(ingressName)};`);
        server.push(`            set $service_name ${quote(svc.name)};`);
        server.push(`            set $service_port ${quote(String(port))};`);
        if (tlsEntry) {
          // ssl-redirect (on by default) for hosts with TLS; without `tls:` port 80 is served as is.
          server.push(`            if ($scheme = http) {`);
          server.push(`                return 308 https://$http_host$request_uri;`);
          server.push(`            }`);
        }
        server.push(`            proxy_set_header Host $host;`);
        if (caConfigured) {
          if (owner!.auth!.passCertificateToUpstream && mutant !== "cert-header-dropped") {
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
    server.push(`    }`);
    server.push(`    ## end server ${host}`);
    blocks.push(server.join("\n"));
    servers.push({ host, ingress: parsed.map((p) => p.id).join(", "), authTls, warnings });
  }

  const upstreamBlocks = [...upstreams].map(
    ([name, address]) => `    upstream ${name} {\n        server ${address};\n        keepalive 16;\n    }`,
  );

  const config = `# Rendered by mtls-conformance (nginx target): ingress-nginx's auth-tls rendering emulated
# on the nginx data plane. This is not the ingress-nginx controller.
daemon off;
worker_processes 1;
pid ${join(prefix, "nginx.pid")};
error_log ${join(prefix, "logs", "error.log")} info;

events {
    worker_connections 1024;
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
  return { config, files, servers };
}
