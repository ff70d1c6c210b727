// F5 NGINX Ingress Controller v5.5.4 (nginx/kubernetes-ingress@v5.5.4) on the run's Ingresses: first
// the objects a migrating user writes (translate.ts: an ingressMTLS Policy, nginx.org/policies, an
// nginx.org/ca Secret), then the nginx configuration the controller renders for them with its
// defaults (OSS template internal/configs/version1/nginx.ingress.tmpl). F5 serves every host on
// the same ports, told apart by server_name; here one https and one http port stand for 443 and
// 80. What it renders, cited at v5.5.4:
//  - per rule host one server (internal/configs/ingress.go:362-423): `listen 80` always, `listen 443
//    ssl` and the certificate only for a host in spec.tls (tmpl:44-78, ingress.go:944-997; a bad or
//    missing TLS Secret: `ssl_reject_handshake on`);
//  - the ingressMTLS stanza (tmpl:80-87) for TLS hosts only (ingress.go:447-457);
//  - `return 500;` on every server of an Ingress whose Policy is missing, invalid, or fails
//    (tmpl:110-112, internal/configs/policy.go:1223-1233, 459-463, 469-488);
//  - the ssl-redirect `if` with the literal first SSL port 443 (tmpl:164-185, config_params.go:266-267);
//  - a location per path (ingress.go:999-1008, tmpl:236-421) with F5's proxy headers, no
//    ssl-client-* header and no error_page;
//  - the default server: ssl_reject_handshake and `return 404` (configurator.go:425-454, tmpl:465-469).
// `http2 on;` is never rendered (HTTP2 defaults to false), and IPv6 listens are left out (loopback).
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { goParseBool } from "../../model/go-values.ts";
import { ingressId } from "../../model/annotations.ts";
import { DEFAULT_INGRESS_CLASS } from "../../model/hosts.ts";
import { secretData } from "../../model/secrets.ts";
import { controllerValidationErrors, isDns1123Subdomain } from "./policy-schema.ts";
import { CA_SECRET_TYPE, F5_RELEASE, POLICIES_ANNOTATION, translateToF5, type F5Policy } from "./translate.ts";
import { nginxPreamble } from "../nginx-process.ts";

export { F5_RELEASE };
/** worker_processes of the rendering: a reload is done once this many new workers accept. */
export const F5_WORKER_PROCESSES = 2;
/** The SSL port F5 renders into its redirect (config_params.go:278 SSLPorts [443]). */
export const F5_SSL_PORT = 443;

export interface F5RenderInput {
  ingresses: V1Ingress[];
  secrets: V1Secret[];
  /** The IngressClass both ingress-nginx and F5 serve; default nginx (F5's -ingress-class default too). */
  ingressClass?: string;
  prefix: string;
  listenAddress: string;
  /** The one https and one http port, standing for F5's 443 and 80. */
  ports: { https: number; http: number };
  backend: string;
  generation: number;
  /** Where nginx answers the generation it loaded. */
  controlPort: number;
}

export interface F5HostRendered {
  host: string;
  /** The Ingress that owns the host ("namespace/name"). */
  ingress: string;
  /** certificate: served with the spec.tls Secret; reject-handshake: its Secret is unusable; none: not in spec.tls (HTTP only). */
  tls: "certificate" | "reject-handshake" | "none";
  mtls?: { verifyClient: string; verifyDepth: number; crl: boolean };
  /** Why every request to the host is answered `return 500` (the Ingress's policy failed). */
  errorReturn?: string;
}

export interface F5Rendered {
  config: string;
  files: Array<{ path: string; content: string; mode: number }>;
  hosts: F5HostRendered[];
  /** What F5 would warn about or decide that a run should know (collisions, rejections, left-out Ingresses). */
  notes: string[];
  /** The translation's YAML, kept in the report. */
  translation: string;
  /** The translation's notes per Ingress (what cannot be carried over). */
  translationNotes: Record<string, string[]>;
  /** The translation's problems (objects F5 will not accept). */
  problems: string[];
}

type Stored = { type: string; data: Record<string, string> };

// internal/k8s/secrets/validation.go:165-173: other types are never stored (handlers.go:61-64).
const SUPPORTED_SECRET_TYPES = new Set(["kubernetes.io/tls", CA_SECRET_TYPE, "nginx.org/jwk", "nginx.org/oidc", "nginx.org/htpasswd", "nginx.org/apikey", "nginx.com/license"]);

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const pemBlocks = (text: string) => [...text.matchAll(PEM_BLOCK)].map((m) => ({ type: m[1]!, der: Buffer.from(m[2]!.replace(/\s+/g, ""), "base64"), pem: m[0] }));

/** ValidateCASecret after its type check (internal/k8s/secrets/validation.go:81-98): only the first PEM block is read. */
function caCertProblem(data: Record<string, string>): string | undefined {
  if (data["ca.crt"] === undefined) return "CA secret must have the data field ca.crt";
  const [first] = pemBlocks(data["ca.crt"]);
  if (!first) return "the data field ca.crt must hold a valid CERTIFICATE PEM block";
  if (first.type !== "CERTIFICATE") return `the data field ca.crt must hold a valid CERTIFICATE PEM block, but got '${first.type}'`;
  try {
    new X509Certificate(first.der);
  } catch (error) {
    return `failed to validate certificate: ${(error as Error).message}`;
  }
  return undefined;
}

/** ValidateTLSSecret's tls.X509KeyPair (internal/k8s/secrets/validation.go:44-57). */
function keyPairProblem(data: Record<string, string>): string | undefined {
  const certs = pemBlocks(data["tls.crt"] ?? "").filter((b) => b.type === "CERTIFICATE");
  if (!certs.length) return "failed to validate TLS cert and key: tls: failed to find any PEM data in certificate input";
  try {
    const cert = new X509Certificate(certs[0]!.der);
    if (!cert.checkPrivateKey(createPrivateKey(data["tls.key"] ?? ""))) return "failed to validate TLS cert and key: tls: private key does not match public key";
  } catch (error) {
    return `failed to validate TLS cert and key: ${(error as Error).message}`;
  }
  return undefined;
}

const crlChecks = new Map<string, string | undefined>();
/**
 * Whether nginx can load a ca.crl as ssl_crl. F5 never validates it (validation.go:76-99 reads
 * only ca.crt) and writes it as it is (configurator.go:1120-1128); nginx refuses to load a file
 * without a parseable CRL, so F5's reload fails (derived: nginx's ngx_ssl_crl, not F5 code).
 */
export function crlLoadProblem(pem: string): string | undefined {
  if (crlChecks.has(pem)) return crlChecks.get(pem);
  let problem: string | undefined;
  try {
    execFileSync("openssl", ["crl", "-noout"], { input: pem, stdio: ["pipe", "ignore", "pipe"] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      // No openssl: the first X509 CRL block must parse.
      const block = pemBlocks(pem).find((b) => b.type === "X509 CRL");
      try {
        if (!block) throw new Error("no X509 CRL block");
        new x509.X509Crl(new Uint8Array(block.der));
      } catch (e) {
        problem = `ca.crl holds no CRL nginx can load (${(e as Error).message})`;
      }
    } else problem = `ca.crl holds no CRL nginx can load (openssl crl: ${String((error as { stderr?: Buffer }).stderr ?? "").trim().split("\n")[0]})`;
  }
  crlChecks.set(pem, problem);
  return problem;
}

/** nginx loads every certificate of ssl_client_certificate's file: one that does not parse fails the reload (derived). */
function caBundleLoadProblem(pem: string): string | undefined {
  for (const [i, b] of pemBlocks(pem).entries()) {
    if (b.type !== "CERTIFICATE") continue;
    try {
      new X509Certificate(b.der);
    } catch {
      return `certificate ${i + 1} of ca.crt does not parse, so nginx cannot load ssl_client_certificate`;
    }
  }
  return undefined;
}

const pathRegexp = /^\/[^\s;]*$/;
/** validatePath (internal/k8s/validation.go:1314-1351), without the Perl-regex check (JS RegExp stands in). */
function pathProblem(path: string | undefined, pathType: string | undefined): string | undefined {
  if (!path) return pathType === "ImplementationSpecific" ? undefined : "path is required for Exact and Prefix PathTypes";
  if (path.startsWith("//")) return `${path}: protocol-relative URIs not allowed`;
  if (path.split(/[/\\]/).includes("..")) return `${path}: path traversal not allowed`;
  if (!pathRegexp.test(path)) return `${path}: must start with / and must not include any whitespace character or ';'`;
  try {
    new RegExp(path);
  } catch {
    return `${path}: must be a valid regular expression`;
  }
  if (!/^([^"\\]|\\.)*$/.test(path)) return `${path}: must have all '"' escaped and must not end with an unescaped '\\'`;
  if ([...path.matchAll(/\{(.*?)\}/g)].some((m) => /[A-Za-z]/.test(m[1]!))) return `${path}: must not include curly braces containing alphabetical characters`;
  return undefined;
}

/** The validation that rejects a whole Ingress (internal/k8s/validation.go), as far as it concerns this emulation. */
function ingressProblems(ing: V1Ingress): string[] {
  const out: string[] = [];
  const annotations = ing.metadata?.annotations ?? {};
  // :1249-1295 validateIngressSpec (-allow-empty-ingress-host is false: cmd/nginx-ingress/flags.go:235).
  const rules = ing.spec?.rules ?? [];
  if (!rules.length) out.push("spec.rules: Required value");
  const seen = new Set<string>();
  for (const r of rules) {
    if (!r.host) out.push("spec.rules.host: Required value");
    else if (seen.has(r.host)) out.push(`spec.rules.host: Duplicate value: ${JSON.stringify(r.host)}`);
    else seen.add(r.host);
    for (const p of r.http?.paths ?? []) {
      const problem = pathProblem(p.path, p.pathType);
      if (problem) out.push(`spec.rules.http.paths.path: ${problem}`);
      // :1297-1305 validateBackend
      if (p.backend.resource) out.push("spec.rules.http.paths.backend.resource: resource backends are not supported");
      else if (!p.backend.service) out.push("spec.rules.http.paths.backend.service: service backend must be specified");
    }
  }
  // :426-431 nginx.com/policies is NGINX Plus only.
  if (annotations["nginx.com/policies"] !== undefined) out.push("nginx.com/policies: annotation requires NGINX Plus");
  const value = annotations[POLICIES_ANNOTATION];
  if (value !== undefined) {
    // :421-425, 436-475: required, comma-separated values without $ or unescaped ", DNS subdomain names.
    if (value === "") out.push(`${POLICIES_ANNOTATION}: Required value`);
    for (const item of value.split(",").map((s) => s.trim())) {
      if (!/^([^"$\\]|\\[^$])*$/.test(item)) out.push(`${POLICIES_ANNOTATION}: ${JSON.stringify(item)}: a valid annotation value must have all '"' escaped and must not contain any '$'`);
      const slash = item.indexOf("/");
      const [ns, name] = slash < 0 ? [undefined, item] : [item.slice(0, slash), item.slice(slash + 1)];
      if (ns !== undefined && !isDns1123Subdomain(ns)) out.push(`${POLICIES_ANNOTATION}: ${JSON.stringify(item)}: policy namespace must be a valid DNS subdomain`);
      if (!isDns1123Subdomain(name)) out.push(`${POLICIES_ANNOTATION}: ${JSON.stringify(item)}: policy name must be a valid DNS subdomain`);
    }
  }
  return out;
}

/** internal/k8s/policies/policy_refs.go:11-29, de-duplicated (internal/configs/ingress.go:186-215). */
function policyRefs(ing: V1Ingress): string[] {
  const value = ing.metadata?.annotations?.[POLICIES_ANNOTATION];
  if (value === undefined) return [];
  const ns = ing.metadata?.namespace ?? "default";
  const keys = value.split(",").map((item) => {
    const parts = item.trim().split("/");
    return parts.length === 2 ? `${parts[0]}/${parts[1]}` : `${ns}/${item.trim()}`;
  });
  return [...new Set(keys)];
}

interface MtlsConfig {
  caKey: string;
  crt: string;
  crl?: string;
  /** The CRL is spec.crlFileName's file, not the Secret's ca.crl. */
  crlFileName?: boolean;
  verifyClient: string;
  verifyDepth: number;
}

const seconds = (ing: V1Ingress | undefined) => {
  const t = ing?.metadata?.creationTimestamp;
  return t === undefined ? 0 : Math.floor(new Date(t as unknown as string).getTime() / 1000);
};

const indent = (lines: string[], n: number) => lines.map((l) => " ".repeat(n) + l);

export function renderF5Config(input: F5RenderInput): F5Rendered {
  const translation = translateToF5({ ingresses: input.ingresses, secrets: input.secrets, ingressClass: input.ingressClass });
  const ingressClass = input.ingressClass ?? DEFAULT_INGRESS_CLASS;
  const notes: string[] = [];
  const files = new Map<string, F5Rendered["files"][number]>();
  const secretsDir = `${input.prefix}/secrets`;

  // The cluster F5 watches: the run's Secrets, the nginx.org/ca ones re-created in their place
  // (Kubernetes defaults an absent type to Opaque), the Policies, the translated Ingresses.
  const store = new Map<string, Stored>();
  for (const s of input.secrets) store.set(`${s.metadata?.namespace ?? "default"}/${s.metadata?.name ?? ""}`, { type: s.type ?? "Opaque", data: secretData(s) });
  const policies = new Map<string, F5Policy>();
  const ingresses: V1Ingress[] = [];
  for (const o of translation.objects) {
    if (o.kind === "Secret") store.set(`${o.metadata!.namespace}/${o.metadata!.name}`, { type: (o as V1Secret).type!, data: secretData(o as V1Secret) });
    else if (o.kind === "Policy") policies.set(`${o.metadata!.namespace}/${o.metadata!.name}`, o as F5Policy);
    else ingresses.push(o as V1Ingress);
  }
  const originals = new Map(input.ingresses.map((i) => [ingressId(i), i]));

  /** The secret store's answer (internal/k8s/secrets/store.go:49-96). */
  const secretRef = (key: string): { type?: string; data?: Record<string, string>; error?: string } => {
    const s = store.get(key);
    if (!s || !SUPPORTED_SECRET_TYPES.has(s.type)) return { error: "secret doesn't exist or of an unsupported type" };
    const error = s.type === "kubernetes.io/tls" ? keyPairProblem(s.data) : s.type === CA_SECRET_TYPE ? caCertProblem(s.data) : undefined;
    return { type: s.type, data: s.data, ...(error ? { error } : {}) };
  };

  /** getPolicies (internal/k8s/controller.go:3404-3457): a Policy F5 keeps, or why not. */
  const policyFor = (key: string): { policy?: F5Policy; problem?: string } => {
    const policy = policies.get(key);
    if (!policy) return { problem: `policy ${key} doesn't exist` };
    const cls = policy.spec.ingressClassName;
    if (cls && cls !== ingressClass) return { problem: `referenced policy ${key} has incorrect ingress class: ${cls} (controller ingress class: ${ingressClass})` };
    const invalid = controllerValidationErrors(policy);
    if (invalid.length) return { problem: `policy ${key} is invalid: ${invalid.join("; ")}` };
    return { policy };
  };

  /** generatePolicies for an Ingress's nginx.org/policies (internal/configs/policy.go:1144-1240, 445-526). */
  const policiesOf = (ing: V1Ingress, id: string): { errorReturn?: string; mtls?: MtlsConfig } => {
    let mtls: MtlsConfig | undefined;
    for (const key of policyRefs(ing)) {
      const { policy, problem } = policyFor(key);
      // policy.go:1228-1233: the config is only the error return.
      if (!policy) return { errorReturn: `Policy ${key} is missing or invalid (${problem})` };
      const spec = policy.spec.ingressMTLS;
      // policy.go:459-463; spec.tls is decoded as nil when empty (an empty list does not survive the API's encoding).
      if (!ing.spec?.tls?.length) return { errorReturn: `TLS must be enabled for IngressMTLS policy ${key}` };
      if (mtls) {
        notes.push(`${id}: Multiple ingressMTLS policies are not allowed. IngressMTLS policy ${key} will be ignored (policy.go:464-467)`);
        continue;
      }
      const secretKey = `${policy.metadata.namespace}/${spec.clientCertSecret}`;
      const ref = secretRef(secretKey);
      // policy.go:476-487
      if (ref.type && ref.type !== CA_SECRET_TYPE) return { errorReturn: `IngressMTLS policy ${key} references a secret ${secretKey} of a wrong type '${ref.type}', must be '${CA_SECRET_TYPE}'` };
      if (ref.error) return { errorReturn: `IngressMTLS policy "${key}" references an invalid secret ${secretKey}: ${ref.error}` };
      // configurator.go:977-982, 1120-1128: <ns>-<name>-ca.crt and -ca.crl under the secrets directory.
      const base = `${secretsDir}/${policy.metadata.namespace}-${spec.clientCertSecret}`;
      mtls = {
        caKey: secretKey,
        crt: `${base}-ca.crt`,
        // policy.go:505-524: crlFileName names a file in /etc/nginx/secrets the translation never writes; ca.crl otherwise.
        ...(spec.crlFileName ? { crl: `${secretsDir}/${spec.crlFileName}`, crlFileName: true } : ref.data!["ca.crl"] !== undefined ? { crl: `${base}-ca.crl` } : {}),
        verifyClient: spec.verifyClient || "on",
        verifyDepth: spec.verifyDepth ?? 1,
      };
    }
    return mtls ? { mtls } : {};
  };

  // Host ownership (internal/k8s/configuration.go:1658-1673, 54-60): the oldest creationTimestamp
  // wins; on a tie F5 takes the larger UID, which a local run cannot know. The order here is
  // controllerOrder's (helpers/model/hosts.ts: ties by namespace/name descending), so a tie is
  // decided as ingress-nginx would decide it and reported as unknown.
  const owners = new Map<string, string>();
  const servers: string[] = [];
  const hosts: F5HostRendered[] = [];
  for (const ing of ingresses) {
    const id = ingressId(ing);
    const namespace = ing.metadata?.namespace ?? "default";
    const invalid = ingressProblems(ing);
    if (invalid.length) {
      // internal/k8s/configuration.go:496-503: the Ingress is rejected and takes part in nothing.
      notes.push(`${id}: rejected by F5: ${invalid.join("; ")}`);
      continue;
    }
    const owned: string[] = [];
    for (const r of ing.spec!.rules!) {
      const host = r.host!;
      const holder = owners.get(host);
      if (!holder) {
        owners.set(host, id);
        owned.push(host);
        continue;
      }
      const tie = seconds(originals.get(holder)) === seconds(originals.get(id));
      notes.push(
        `${id}: host ${host} is taken by another resource (${holder}, ${tie ? "created in the same second: F5 gives the host to the larger UID, which a local run cannot know; assumed " + holder : "the older one"}) (configuration.go:1658-1673)`,
      );
    }
    if (!owned.length) {
      notes.push(`${id}: rejected by F5: All hosts are taken by other resources (configuration.go:1316-1335)`);
      continue;
    }
    const { errorReturn, mtls } = policiesOf(ing, id);
    if (errorReturn) notes.push(`${id}: every host answers 500: ${errorReturn}`);

    // What nginx would refuse to load: F5's reload would fail. The Ingress is left out (basis
    // inferred: F5 renders it, nginx -s reload rejects the configuration).
    const loadProblems: string[] = [];
    let caPem: string | undefined;
    let crlPem: string | undefined;
    if (mtls) {
      const data = store.get(mtls.caKey)!.data;
      caPem = data["ca.crt"]!;
      const bundle = caBundleLoadProblem(caPem);
      if (bundle) loadProblems.push(bundle);
      if (mtls.crlFileName) loadProblems.push(`crlFileName names ${mtls.crl}, a file the controller's image would have to hold and this emulation does not`);
      else if (mtls.crl) {
        crlPem = data["ca.crl"]!;
        const crl = crlLoadProblem(crlPem);
        if (crl) loadProblems.push(crl);
      }
    }
    // No de-duplication of paths in F5 (ingress.go:514-657): two paths making one location fail nginx's load.
    const locationsOf = (r: NonNullable<NonNullable<V1Ingress["spec"]>["rules"]>[number]) => {
      const list = (r.http?.paths ?? []).map((p) => {
        const path = p.path || "/"; // ingress.go:1136-1141
        return { location: p.pathType === "Exact" ? `= ${path}` : path, service: p.backend.service!.name, root: path === "/" };
      });
      // ingress.go:660-692: defaultBackend without a "/" path becomes a "/" location.
      if (!list.some((l) => l.root) && ing.spec?.defaultBackend?.service) list.push({ location: "/", service: ing.spec.defaultBackend.service.name, root: true });
      return list;
    };
    for (const r of ing.spec!.rules!) {
      if (!owned.includes(r.host!)) continue;
      const seen = new Set<string>();
      for (const l of locationsOf(r)) {
        if (seen.has(l.location)) loadProblems.push(`host ${r.host}: two paths render the same "location ${l.location}" (nginx: duplicate location)`);
        seen.add(l.location);
      }
    }
    if (loadProblems.length) {
      notes.push(`${id}: left out: nginx could not load what F5 renders for it, so F5's reload would fail (inferred): ${loadProblems.join("; ")}; its hosts ${owned.join(", ")} are answered by the default server`);
      continue;
    }

    if (mtls) {
      files.set(mtls.crt, { path: mtls.crt, content: caPem!, mode: 0o644 });
      if (crlPem !== undefined) files.set(mtls.crl!, { path: mtls.crl!, content: crlPem, mode: 0o644 });
    }
    // ssl-redirect (annotations.go:357-369): nginx.org/ssl-redirect, else ingress.kubernetes.io/ssl-redirect; default true.
    const annotations = ing.metadata?.annotations ?? {};
    const sslRedirectValue = annotations["nginx.org/ssl-redirect"] ?? annotations["ingress.kubernetes.io/ssl-redirect"];
    const sslRedirect = sslRedirectValue === undefined ? true : (goParseBool(sslRedirectValue) ?? true);

    for (const r of ing.spec!.rules!) {
      const host = r.host!;
      if (!owned.includes(host)) continue;
      const entry: F5HostRendered = { host, ingress: id, tls: "none", ...(errorReturn ? { errorReturn } : {}) };
      const lines = [`listen ${input.listenAddress}:${input.ports.http};`];
      // addSSLConfig (ingress.go:944-997): the last spec.tls entry listing the host (the inner loop's break).
      let tlsEntry: { secretName?: string } | undefined;
      for (const t of ing.spec?.tls ?? []) if ((t.hosts ?? []).includes(host)) tlsEntry = t;
      if (tlsEntry) {
        lines.push(`listen ${input.listenAddress}:${input.ports.https} ssl;`);
        let problem: string | undefined;
        let pemFile: string | undefined;
        if (!tlsEntry.secretName) problem = `TLS termination for host '${host}' requires specifying a TLS secret or configuring a global wildcard TLS secret`;
        else {
          const key = `${namespace}/${tlsEntry.secretName}`;
          const ref = secretRef(key);
          if (ref.type && ref.type !== "kubernetes.io/tls") problem = `TLS secret ${tlsEntry.secretName} is of a wrong type '${ref.type}', must be 'kubernetes.io/tls'`;
          else if (ref.error) problem = `TLS secret ${tlsEntry.secretName} is invalid: ${ref.error}`;
          else {
            // configurator.go:1085-1089: <ns>-<name>, the certificate then the key.
            pemFile = `${secretsDir}/${namespace}-${tlsEntry.secretName}`;
            files.set(pemFile, { path: pemFile, content: `${ref.data!["tls.crt"]!.trim()}\n${ref.data!["tls.key"]!.trim()}\n`, mode: 0o600 });
          }
        }
        if (problem) {
          notes.push(`${id}: host ${host} rejects TLS handshakes: ${problem}`);
          lines.push("ssl_reject_handshake on;");
          entry.tls = "reject-handshake";
        } else {
          lines.push(`ssl_certificate ${pemFile};`, `ssl_certificate_key ${pemFile};`);
          entry.tls = "certificate";
        }
        if (mtls) {
          lines.push(`ssl_client_certificate ${mtls.crt};`, ...(mtls.crl ? [`ssl_crl ${mtls.crl};`] : []), `ssl_verify_client ${mtls.verifyClient};`, `ssl_verify_depth ${mtls.verifyDepth};`);
          entry.mtls = { verifyClient: mtls.verifyClient, verifyDepth: mtls.verifyDepth, crl: !!mtls.crl };
        }
      } else if (mtls) notes.push(`${id}: IngressMTLS policy is ignored for host "${host}" because TLS is not enabled for that host (ingress.go:447-457)`);
      lines.push("server_tokens on;");
      if (errorReturn) lines.push("return 500;");
      lines.push(
        `server_name ${host};`,
        'set $resource_type "ingress";',
        `set $resource_name "${ing.metadata?.name ?? ""}";`,
        `set $resource_namespace "${namespace}";`,
        'set $service "-";',
      );
      if (tlsEntry && sslRedirect) lines.push("if ($scheme = http) {", `    return 301 https://$host:${F5_SSL_PORT}$request_uri;`, "}");
      for (const l of locationsOf(r)) {
        lines.push(
          `location ${l.location} {`,
          ...indent(
            [
              `set $service "${l.service}";`,
              "proxy_http_version 1.1;",
              "proxy_connect_timeout 60s;",
              "proxy_read_timeout 60s;",
              "proxy_send_timeout 60s;",
              "client_max_body_size 1m;",
              "proxy_set_header Host $host;",
              "proxy_set_header X-Real-IP $remote_addr;",
              "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
              "proxy_set_header X-Forwarded-Host $host;",
              "proxy_set_header X-Forwarded-Port $server_port;",
              "proxy_set_header X-Forwarded-Proto $scheme;",
              "proxy_buffering on;",
              `proxy_pass http://${input.backend};`,
            ],
            4,
          ),
          "}",
        );
      }
      servers.push(`    # ${id}\n    server {\n${indent(lines, 8).join("\n")}\n    }`);
      hosts.push(entry);
    }
  }

  // F5's image runs nginx as its non-root user (no user directive: internal/configs/version1/nginx.tmpl:1-2), so
  // the workers can read html/; here they run as the user running nginx for the same reason: a path no location serves is 404.
  const config = `${nginxPreamble({ release: `${F5_RELEASE} for the translated objects`, generation: input.generation, prefix: input.prefix, workers: F5_WORKER_PROCESSES, errorLevel: "notice", workerConnections: 1024, mainLines: process.getuid?.() === 0 ? ["user root;"] : [] })}
    sendfile on;
    keepalive_timeout 75s;
    keepalive_requests 1000;
    server_names_hash_max_size 1024;
    server_names_hash_bucket_size 256;
    variables_hash_bucket_size 256;
    variables_hash_max_size 1024;
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    server {
        listen ${input.listenAddress}:${input.controlPort};
        location = /generation { return 200 "${input.generation}"; }
    }
    # the default server (configurator.go:425-454): no default certificate, so ssl_reject_handshake
    server {
        listen ${input.listenAddress}:${input.ports.http} default_server;
        listen ${input.listenAddress}:${input.ports.https} ssl default_server;
        ssl_reject_handshake on;
        server_tokens on;
        server_name _;
        location / {
            return 404;
        }
    }
${servers.join("\n")}
}
`;
  return { config, files: [...files.values()], hosts, notes, translation: translation.yaml, translationNotes: translation.notes, problems: translation.problems };
}
