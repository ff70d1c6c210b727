// HAProxy Ingress (jcmoraisjr/haproxy-ingress@v0.15.4) on the run's Ingresses: how its controller
// reads the auth-tls-* annotations per host and the haproxy.cfg, crt-list, lists and Lua responses
// it renders for them, on Debian's HAProxy 2.6 (v0.15.4 embeds haproxy:2.6.27, rootfs/Dockerfile:15).
// The deployment is assumed to run with --annotations-prefix including nginx.ingress.kubernetes.io:
// by default v0.15 reads only haproxy-ingress.github.io/ and ingress.kubernetes.io/
// (pkg/controller/config/options.go:25), and nginx.ingress.kubernetes.io/* would be ignored.
// What it renders, each cited at v0.15.4 (V below):
//  - host keys, first value wins per key across the host's Ingresses, oldest Ingress first
//    (pkg/converters/ingress/annotations/mapper.go:98-134, pkg/converters/ingress/ingress.go:348-357);
//  - verify-client: off -> none, optional_no_ca -> skip-check, optional -> optional, anything else
//    -> always (pkg/converters/ingress/annotations/host.go:36-78); no verify-depth, no match-cn;
//  - an unusable CA secret with auth-tls-strict (default true, defaults.go:35) -> a self-generated
//    fake CA, so every request is refused with 495/496 (host.go:46-64, controller/services/ssl.go:228-261);
//  - crt-list: the default certificate `!*`, then per host `<crt> [ca-file <ca> verify optional
//    crl-file <crl>] <host>` (pkg/haproxy/config.go:194-197,295-340): the handshake always completes;
//  - the HTTPS bind `ssl alpn h2,http/1.1 crt-list ... ca-ignore-err all crt-ignore-err all`
//    (rootfs/etc/templates/haproxy/haproxy.tmpl:1261-1268);
//  - the frontend's rules in template order (haproxy.tmpl:1347-1424): 303 to auth-tls-error-page,
//    421 when a certificate was presented and SNI != Host, 496, 421 for no certificate on a host
//    that needs one, 495; the Lua responses (responses.lua.tmpl:12-24, annotations/global.go:495-547);
//  - client-sent X-SSL-Client-* deleted in both frontends, and set in each backend with auth
//    (haproxy.tmpl:616-631,1187-1199,1336-1341): CN, DN, SHA1 (upper-case hex);
//  - ssl-redirect: 302 (no code rendered, haproxy.tmpl:483-493), 404 from lua.send-404 for an
//    unknown host (haproxy.tmpl:1569-1582).
import { X509Certificate } from "node:crypto";
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { annotationOf, ingressId } from "../../model/annotations.ts";
import { servedClass } from "../../model/hosts.ts";
import { parseCrl, secretView, type SecretView } from "../../model/secrets.ts";

export const HAPROXY_INGRESS_RELEASE = "jcmoraisjr/haproxy-ingress@v0.15.4";
const V = `${HAPROXY_INGRESS_RELEASE}:`;

/** How a host's client certificates are handled (pkg/haproxy/types/types.go:306-310). */
export type CaVerify = "always" | "optional" | "skip-check";

export interface HaproxyHost {
  host: string;
  /** The Ingresses with rules for the host, oldest first. */
  ingresses: string[];
  tlsSecret?: string;
  /** Client-certificate auth, when a CA is configured (or the fake CA stands in for a broken one). */
  auth?: { verify: CaVerify; secret: string; fakeCa?: string; crl: boolean; errorPage?: string };
  /** Annotations a later Ingress set differently, dropped (mapper.go:109-112). */
  conflicts: string[];
}

export interface HaproxyRenderInput {
  ingresses: V1Ingress[];
  secrets: V1Secret[];
  ingressClass?: string;
  prefix: string;
  listenAddress: string;
  https: number;
  http: number;
  controlPort: number;
  /** The echo backend every Service is served by. */
  backend: string;
  generation: number;
  /** The controller's self-generated default certificate and fake CA (PEM files). */
  fakeCertificate: string;
  fakeCa: string;
}

export interface HaproxyRendered {
  config: string;
  files: Array<{ path: string; content: string; mode: number }>;
  hosts: HaproxyHost[];
  notes: string[];
}

const PREFIX = "nginx.ingress.kubernetes.io/";
const HOST_KEYS = ["auth-tls-secret", "auth-tls-verify-client", "auth-tls-error-page", "auth-tls-strict"] as const;

/** ingress.go:348-357: creationTimestamp, then namespace/name, ascending. */
export function haproxyIngressOrder(ingresses: V1Ingress[]): V1Ingress[] {
  const ts = (i: V1Ingress) => (i.metadata?.creationTimestamp ? new Date(i.metadata.creationTimestamp).getTime() : 0);
  return [...ingresses].sort((a, b) => ts(a) - ts(b) || (ingressId(a) < ingressId(b) ? -1 : ingressId(a) > ingressId(b) ? 1 : 0));
}

/** host.go:36-78. */
export function caVerifyOf(value: string | undefined): CaVerify | "off" {
  if (value === "off") return "off";
  if (value === "optional_no_ca") return "skip-check";
  if (value === "optional") return "optional";
  return "always";
}

const certs = (pem: string): string[] => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

/**
 * Why the controller cannot use a CA secret (controller/services/cache.go:545-598, ssl.go:129-211),
 * or undefined. A cross-namespace reference is refused (cross-namespace-secrets-ca: deny).
 */
export function caSecretProblem(ref: string, ingressNamespace: string, lookup: (ns: string, name: string) => SecretView | undefined): string | undefined {
  const [ns, name] = ref.includes("/") ? (ref.split("/", 2) as [string, string]) : [ingressNamespace, ref];
  if (ns !== ingressNamespace) return `secret ${ns}/${name} is in another namespace (cross-namespace-secrets-ca: deny)`;
  const s = lookup(ns, name);
  if (!s) return `secret ${ns}/${name} not found`;
  const ca = s.data["ca.crt"];
  if (ca === undefined) return s.data["tls.crt"] && s.data["tls.key"] ? `secret ${ns}/${name} does not have key 'ca.crt'` : `secret ${ns}/${name} have neither ca.crt nor tls.crt/tls.key pair`;
  const found = certs(ca);
  if (!found.length) return `secret ${ns}/${name}: ca.crt holds no PEM certificate`;
  try {
    for (const c of found) new X509Certificate(c);
  } catch (error) {
    return `secret ${ns}/${name}: ca.crt does not parse (${(error as Error).message})`;
  }
  const crl = s.data["ca.crl"];
  // ssl.go:205-211: an empty ca.crl is ignored; one that is not a PEM "X509 CRL" fails the whole CA.
  if (crl && crl.trim() && !/-----BEGIN X509 CRL-----[\s\S]+-----END X509 CRL-----/.test(crl)) return `secret ${ns}/${name}: ca.crl is not a PEM X509 CRL`;
  return undefined;
}

interface PathEntry {
  host: string;
  path: string;
  pathType: string;
  backend: string;
}

const parsesAsCrl = (pem: string): boolean => {
  try {
    parseCrl(pem, new Date());
    return true;
  } catch {
    return false;
  }
};

const backendName = (ns: string, service: string, port: string | number) => `${ns}_${service}_${port}`.replace(/[^A-Za-z0-9_.-]/g, "_");

export function renderHaproxyIngress(input: HaproxyRenderInput): HaproxyRendered {
  const views = input.secrets.map(secretView);
  const lookup = (ns: string, name: string) => views.find((s) => s.namespace === ns && s.name === name);
  const notes: string[] = [];
  const files: HaproxyRendered["files"] = [];
  const hosts = new Map<string, HaproxyHost & { keys: Partial<Record<(typeof HOST_KEYS)[number], { value: string; ns: string }>> }>();
  const paths: PathEntry[] = [];
  const backends = new Set<string>();

  for (const ing of haproxyIngressOrder(input.ingresses)) {
    const id = ingressId(ing);
    const notServed = servedClass(ing, input.ingressClass ?? "nginx");
    if (notServed) {
      notes.push(`${id}: not served (${notServed})`);
      continue;
    }
    const ns = ing.metadata?.namespace ?? "default";
    for (const rule of ing.spec?.rules ?? []) {
      if (!rule.host) {
        notes.push(`${id}: a rule without host goes to the default backend; not emulated`);
        continue;
      }
      const h = hosts.get(rule.host) ?? { host: rule.host, ingresses: [], conflicts: [], keys: {} };
      hosts.set(rule.host, h);
      if (!h.ingresses.includes(id)) h.ingresses.push(id);
      for (const key of HOST_KEYS) {
        const value = annotationOf(ing, key);
        if (value === undefined) continue;
        const held = h.keys[key];
        if (!held) h.keys[key] = { value, ns };
        else if (held.value !== value) h.conflicts.push(`${id}: ${PREFIX}${key} "${value}" dropped, the host already has "${held.value}" (${V}pkg/converters/ingress/annotations/mapper.go:98-134)`);
      }
      // ingress.go:458-476: the first tls secret of a host wins.
      const tls = (ing.spec?.tls ?? []).find((t) => (t.hosts ?? []).includes(rule.host!));
      if (tls?.secretName && !h.tlsSecret) h.tlsSecret = `${ns}/${tls.secretName}`;
      for (const p of rule.http?.paths ?? []) {
        const svc = p.backend.service;
        const backend = backendName(ns, svc?.name ?? "default", svc?.port?.number ?? svc?.port?.name ?? 80);
        backends.add(backend);
        paths.push({ host: rule.host, path: p.path ?? "/", pathType: p.pathType ?? "ImplementationSpecific", backend });
      }
    }
  }

  // Client-certificate auth per host (host.go:36-93).
  const unapplied = new Set<string>();
  for (const h of hosts.values()) {
    const secret = h.keys["auth-tls-secret"];
    const verify = caVerifyOf(h.keys["auth-tls-verify-client"]?.value);
    if (!secret?.value || verify === "off") continue;
    const strict = (h.keys["auth-tls-strict"]?.value ?? "true") === "true";
    const problem = caSecretProblem(secret.value, secret.ns, lookup);
    const errorPage = h.keys["auth-tls-error-page"]?.value;
    if (problem) {
      notes.push(`${h.host}: error building TLS auth config: ${problem}${strict ? "; auth-tls-strict: the fake CA refuses every client (495/496)" : "; auth-tls-strict false: served without client authentication"}`);
      if (strict) h.auth = { verify, secret: secret.value, fakeCa: problem, crl: false, ...(errorPage ? { errorPage } : {}) };
      continue;
    }
    const [ns, name] = secret.value.includes("/") ? (secret.value.split("/", 2) as [string, string]) : [secret.ns, secret.value];
    const s = lookup(ns, name)!;
    const crl = !!s.data["ca.crl"]?.trim();
    // The controller checks only the PEM type (ssl.go:107-127,209-211): a PEM "X509 CRL" whose
    // content is not a CRL reaches haproxy.cfg, `haproxy -c` refuses the whole configuration and
    // the controller does not reload (pkg/haproxy/instance.go:368-372,399-407): the change that
    // brought it is never applied. Rendered as that: the host left out, as if added by that change.
    if (crl && !parsesAsCrl(s.data["ca.crl"]!)) {
      notes.push(`${h.host}: ca.crl of ${ns}/${name} is a PEM X509 CRL that does not parse: HAProxy refuses the whole configuration, so the change adding this host is never applied (and every later change is refused with it) (${V}pkg/haproxy/instance.go:368-372,399-407); rendered without the host`);
      unapplied.add(h.host);
      continue;
    }
    h.auth = { verify, secret: `${ns}/${name}`, crl, ...(errorPage ? { errorPage } : {}) };
  }

  for (const h of unapplied) hosts.delete(h);
  for (let i = paths.length - 1; i >= 0; i--) if (unapplied.has(paths[i]!.host)) paths.splice(i, 1);
  // Files: certificates, CAs, CRLs, the crt-list, the lists and maps, the Lua responses.
  const dir = input.prefix;
  const crtList: string[] = [`${input.fakeCertificate} !*`];
  const needCrt: string[] = [];
  const authList: string[] = [];
  const missingPages: string[] = [];
  const invalidPages: string[] = [];
  let n = 0;
  for (const h of hosts.values()) {
    n++;
    let crt = input.fakeCertificate;
    if (h.tlsSecret) {
      const [ns, name] = h.tlsSecret.split("/") as [string, string];
      const s = lookup(ns, name);
      if (s?.data["tls.crt"] && s.data["tls.key"]) {
        crt = `${dir}/ssl/crt-${n}.pem`;
        files.push({ path: crt, content: `${s.data["tls.crt"].trim()}\n${s.data["tls.key"].trim()}\n`, mode: 0o600 });
      } else notes.push(`${h.host}: TLS secret ${h.tlsSecret} unusable: the default certificate is served`);
    }
    const options: string[] = [];
    if (h.auth) {
      let caFile = input.fakeCa;
      if (!h.auth.fakeCa) {
        const [ns, name] = h.auth.secret.split("/") as [string, string];
        const s = lookup(ns, name)!;
        caFile = `${dir}/ssl/ca-${n}.pem`;
        files.push({ path: caFile, content: s.data["ca.crt"]!, mode: 0o644 });
        options.push("ca-file", caFile, "verify", "optional");
        if (h.auth.crl) {
          const crlFile = `${dir}/ssl/crl-${n}.pem`;
          files.push({ path: crlFile, content: s.data["ca.crl"]!, mode: 0o644 });
          options.push("crl-file", crlFile);
        }
      } else options.push("ca-file", caFile, "verify", "optional");
      // config.go:254-267: skip-check hosts are in neither list.
      if (h.auth.verify !== "skip-check") authList.push(h.host);
      if (h.auth.verify === "always") needCrt.push(h.host);
      if (h.auth.errorPage) {
        invalidPages.push(`${h.host} ${h.auth.errorPage}`);
        if (h.auth.verify === "always") missingPages.push(`${h.host} ${h.auth.errorPage}`);
      }
    }
    if (crt !== input.fakeCertificate || options.length) crtList.push(options.length ? `${crt} [${options.join(" ")}] ${h.host}` : `${crt} ${h.host}`);
  }
  const maps = {
    crtList: `${dir}/maps/_front_bind_crt.list`,
    needCrt: `${dir}/maps/_front_tls_needcrt__exact.list`,
    auth: `${dir}/maps/_front_tls_auth__exact.list`,
    missingPages: `${dir}/maps/_front_tls_missingcrt_pages__exact.map`,
    invalidPages: `${dir}/maps/_front_tls_invalidcrt_pages__exact.map`,
    exact: `${dir}/maps/_front_host__exact.map`,
    begin: `${dir}/maps/_front_host__begin.map`,
    redirect: `${dir}/maps/_front_redirect__begin.map`,
    lua: `${dir}/lua/responses.lua`,
  };
  const lines = (xs: string[]) => (xs.length ? `${xs.join("\n")}\n` : "");
  // Exact paths match the whole host+path; Prefix and ImplementationSpecific match from the start
  // (Prefix on a path element boundary: "/x" and "/x/..."), longest key first as HAProxy's maps do.
  const exact: string[] = [];
  const begin: string[] = [];
  const redirect: string[] = [];
  for (const p of paths) {
    const hostHasTls = !!hosts.get(p.host)!.tlsSecret;
    const key = `${p.host}${p.path}`;
    if (p.pathType === "Exact") exact.push(`${key} ${p.backend}`);
    else if (p.pathType === "Prefix" && p.path !== "/") {
      const base = key.replace(/\/$/, "");
      exact.push(`${base} ${p.backend}`);
      begin.push(`${base}/ ${p.backend}`);
    } else begin.push(`${p.pathType === "Prefix" ? key : key.toLowerCase()} ${p.backend}`);
    // ssl-redirect (default true) for hosts with TLS (backend.go:1011-1025, host.go:331-339).
    if (hostHasTls) redirect.push(`${p.pathType === "Exact" ? key : key.replace(/\/$/, "") || key} 1`);
  }
  begin.sort((a, b) => b.split(" ")[0]!.length - a.split(" ")[0]!.length);
  files.push(
    { path: maps.crtList, content: lines(crtList), mode: 0o644 },
    { path: maps.needCrt, content: lines(needCrt), mode: 0o644 },
    { path: maps.auth, content: lines(authList), mode: 0o644 },
    { path: maps.missingPages, content: lines(missingPages), mode: 0o644 },
    { path: maps.invalidPages, content: lines(invalidPages), mode: 0o644 },
    { path: maps.exact, content: lines(exact), mode: 0o644 },
    { path: maps.begin, content: lines(begin), mode: 0o644 },
    { path: maps.redirect, content: lines(redirect), mode: 0o644 },
    { path: maps.lua, content: responsesLua(), mode: 0o644 },
  );

  const hasTlsAuth = [...hosts.values()].some((h) => h.auth);
  const hasErrorPages = missingPages.length + invalidPages.length > 0;
  const authBackends = new Set(paths.filter((p) => hosts.get(p.host)!.auth).map((p) => p.backend));
  const delHeaders = ["CN", "DN", "SHA1", "SHA2", "Cert"].map((h) => `    http-request del-header X-SSL-Client-${h}`).join("\n");
  const hostMaps = `    http-request set-var(req.hostbackend) var(req.base),map_str(${maps.exact})
    http-request set-var(req.hostbackend) var(req.base),lower,map_beg(${maps.begin}) if !{ var(req.hostbackend) -m found }`;
  const setBase = `    http-request set-var(req.path) path
    http-request set-var(req.host) hdr(host),field(1,:),lower
    http-request set-var(req.base) var(req.host),concat(,req.path)`;
  const tlsRules = !hasTlsAuth
    ? ""
    : [
        "    acl tls-has-crt ssl_c_used",
        needCrt.length ? `    acl tls-need-crt ssl_fc_sni -i -m str -f ${maps.needCrt}` : "",
        needCrt.length ? `    acl tls-host-need-crt var(req.host) -i -m str -f ${maps.needCrt}` : "",
        "    acl tls-has-invalid-crt ssl_c_verify gt 0",
        authList.length ? `    acl tls-check-crt ssl_fc_sni -i -m str -f ${maps.auth}` : "",
        ...(hasErrorPages
          ? [
              needCrt.length ? `    http-request set-var(req.tls_nocrt_redir) ssl_fc_sni,lower,map_str(${maps.missingPages},_internal) if !tls-has-crt tls-need-crt` : "",
              authList.length ? `    http-request set-var(req.tls_invalidcrt_redir) ssl_fc_sni,lower,map_str(${maps.invalidPages},_internal) if tls-has-invalid-crt tls-check-crt` : "",
              "    http-request redirect location %[var(req.tls_nocrt_redir)] code 303 if { var(req.tls_nocrt_redir) -m found } !{ var(req.tls_nocrt_redir) -m str _internal }",
              "    http-request redirect location %[var(req.tls_invalidcrt_redir)] code 303 if { var(req.tls_invalidcrt_redir) -m found } !{ var(req.tls_invalidcrt_redir) -m str _internal }",
            ]
          : [
              needCrt.length ? "    http-request set-var(req.tls_nocrt_redir) str(_internal) if !tls-has-crt tls-need-crt" : "",
              authList.length ? "    http-request set-var(req.tls_invalidcrt_redir) str(_internal) if tls-has-invalid-crt tls-check-crt" : "",
            ]),
        "    http-request use-service lua.send-421 if tls-has-crt { ssl_fc_has_sni } !{ ssl_fc_sni,strcmp(req.host) eq 0 }",
        needCrt.length && authList.length ? "    http-request use-service lua.send-496 if { var(req.tls_nocrt_redir) -m str _internal }" : "",
        needCrt.length && authList.length ? "    http-request use-service lua.send-421 if !tls-has-crt tls-host-need-crt" : "",
        authList.length ? "    http-request use-service lua.send-495 if { var(req.tls_invalidcrt_redir) -m str _internal }" : "",
      ]
        .filter(Boolean)
        .join("\n");

  const backendBlocks = [...backends].map((b) => {
    const headers = authBackends.has(b)
      ? `
    http-request set-header X-SSL-Client-CN %{+Q}[ssl_c_s_dn(cn)] if local-offload
    http-request set-header X-SSL-Client-DN %{+Q}[ssl_c_s_dn] if local-offload
    http-request set-header X-SSL-Client-SHA1 %{+Q}[ssl_c_sha1,hex] if local-offload`
      : "";
    return `backend ${b}
    mode http
    acl https-request ssl_fc
    acl local-offload ssl_fc
    http-request redirect scheme https if !https-request { var(txn.redirect) -m found }${headers}
    server srv001 ${input.backend}`;
  });

  const config = `# ${HAPROXY_INGRESS_RELEASE} rendering (generation ${input.generation}), --annotations-prefix with nginx.ingress.kubernetes.io
global
    lua-load ${maps.lua}
    hard-stop-after 5s
    tune.ssl.default-dh-param 2048
    maxconn 4000

defaults
    mode http
    timeout connect 5s
    timeout client 50s
    timeout server 50s
    timeout http-request 10s

frontend _control
    bind ${input.listenAddress}:${input.controlPort}
    http-request return status 200 content-type text/plain string "${input.generation}" if { path /generation }
    http-request return status 404

frontend _front_http
    bind ${input.listenAddress}:${input.http}
${setBase}
${delHeaders}
${hostMaps}
    http-request set-var(txn.redirect) var(req.base),lower,map_beg(${maps.redirect}) if { var(req.hostbackend) -m found }
    use_backend %[var(req.hostbackend)] if { var(req.hostbackend) -m found }
    default_backend _error404

frontend _front_https
    bind ${input.listenAddress}:${input.https} ssl alpn h2,http/1.1 crt-list ${maps.crtList} ca-ignore-err all crt-ignore-err all
${setBase}
${hostMaps}
    http-request set-header X-Forwarded-Proto https
${delHeaders}
${tlsRules}
    use_backend %[var(req.hostbackend)] if { var(req.hostbackend) -m found }
    default_backend _error404

${backendBlocks.join("\n\n")}

backend _error404
    mode http
    http-request use-service lua.send-404
`;
  return { config, files, hosts: [...hosts.values()].map(({ keys: _keys, ...h }) => h), notes };
}

/** The Lua services of responses.lua.tmpl:12-24 with the default responses (annotations/global.go:477-547). */
function responsesLua(): string {
  const responses: Array<[string, number, string, string]> = [
    ["send-404", 404, "Not Found", "<html><body><h1>404 Not Found</h1>\nThe requested URL was not found.\n</body></html>\n"],
    ["send-421", 421, "Misdirected Request", "<html><body><h1>421 Misdirected Request</h1>\nRequest sent to a non-authoritative server.\n</body></html>\n"],
    ["send-495", 495, "SSL Certificate Error", "<html><body><h1>495 SSL Certificate Error</h1>\nAn invalid certificate has been provided.\n</body></html>\n"],
    ["send-496", 496, "SSL Certificate Required", "<html><body><h1>496 SSL Certificate Required</h1>\nA client certificate must be provided.\n</body></html>\n"],
  ];
  return responses
    .map(
      ([name, code, reason, body]) => `core.register_service("${name}", "http", function(applet)
    local response = [==[${body}]==]
    applet:set_status(${code}, "${reason}")
    applet:add_header("Content-Length", string.len(response))
    applet:add_header("Content-Type", "text/html")
    applet:add_header("Cache-Control", "no-cache")
    applet:start_response()
    applet:send(response)
end)
`,
    )
    .join("\n");
}
