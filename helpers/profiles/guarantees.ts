// Which of ingress-nginx's mTLS guarantees one Ingress relies on (on one of its hosts, as the
// policy model resolves it), and what each successor profile makes of each: a class, a reason in
// one sentence, and the sources it rests on with their basis exactly as
// the successors' sources (sources.ts) tag them. Static unless `migration --observe` runs: nothing here was
// observed on a live Traefik or Gateway API implementation.
import type { VerifyClient } from "../model/annotations.ts";
import type { HostPolicy, ResolvedIngress } from "../model/hosts.ts";
import { GUARANTEES, type Citation, type Guarantee, type MigrationClass, type ProfileName } from "./profile.ts";
import { CITATIONS } from "./sources.ts";
import { HAPROXY_INGRESS_SOURCES as HI } from "./haproxy-ingress.ts";
import { F5_SOURCES as F5 } from "./f5-nginx-ingress.ts";

export { CITATIONS };

/** The successor profiles a migration is judged against (ingress-nginx is the baseline). */
export const MIGRATION_PROFILES = ["traefik", "gateway-api", "nginx-gateway-fabric", "haproxy-ingress", "f5-nginx-ingress"] as const satisfies readonly ProfileName[];
export type MigrationProfile = (typeof MIGRATION_PROFILES)[number];

export interface GuaranteeRow {
  guarantee: Guarantee;
  class: MigrationClass;
  /** One sentence: what the successor does with it. */
  reason: string;
  sources: Citation[];
  /** `migration --observe`: whether the class was observed on the successor's data plane, or read in its source. */
  basis?: "observed" | "source";
  /** Observed: the class source reading gave, where the observation differs. */
  sourceClass?: MigrationClass;
  /** Observed: the checks behind the class, each with what it observed. */
  observed?: Array<{ id: string; class: MigrationClass; why: string; observed: string }>;
}

/**
 * `client-auth`: the host asks for client certificates (any verify-client mode, off included: a CA
 * is configured). `no-client-auth`: nothing declared, or a Secret without ca.crt. `rejected`: the
 * admission webhook refuses the Ingress. `denied`: the host answers 403 to everything today.
 * `not-served`: another IngressClass.
 */
export type IngressStatus = "client-auth" | "no-client-auth" | "rejected" | "denied" | "not-served";

export interface IngressGuarantees {
  namespace: string;
  name: string;
  /** The host of this entry ("*" for an Ingress whose rules name none). */
  host: string;
  status: IngressStatus;
  /** What ingress-nginx does on this host today, in one line. */
  baseline: string;
  /** The guarantees relied on, in GUARANTEES order. */
  relies: Guarantee[];
  /** Fallbacks, assumptions, who governs a shared host. */
  notes: string[];
  profiles: Partial<Record<MigrationProfile, GuaranteeRow[]>>;
}

export interface ProfileInfo {
  title: string;
  versions: string;
  /** Said once per report: what the rows do not cover. */
  note: string;
  sources: Citation[];
}

const C = CITATIONS;

export const PROFILE_INFO: Record<MigrationProfile, ProfileInfo> = {
  traefik: {
    title: "Traefik kubernetesIngressNGINX provider",
    versions: ">=3.7.2 (read at v3.7.9)",
    note: "Traefik before 3.7.0 ignores every auth-tls annotation: there every guarantee is lost (mTLS silently off). 3.7.0-3.7.1 also let client-sent Ssl-Client-Cert/-Subject-Dn/-Issuer-Dn through when no certificate is presented.",
    sources: [C.traefikPre37, C.traefikHeaderFix],
  },
  "gateway-api": {
    title: "Gateway API core frontend validation (spec.tls.frontend)",
    versions: "v1.5+ standard channel (read at v1.5.0; unchanged in v1.6)",
    note: "Core frontend validation: one ConfigMap with ca.crt per port, AllowValidOnly or AllowInsecureFallback. Implementations that support it include NGINX Gateway Fabric (since 2.6.0) and Envoy Gateway (since v1.8.0); Traefik's Gateway provider does not (traefik/traefik#11975). The rows assume the translation written beside this report.",
    sources: [C.gwFrontend, C.gwPerPort],
  },
  "nginx-gateway-fabric": {
    title: "NGINX Gateway Fabric (Gateway API frontend validation on nginx)",
    versions: ">=2.6.0 (read at v2.6.7)",
    note: "The Gateway API translation written beside this report, on NGF: its rows are core frontend validation's (read), and --observe runs them on NGF's rendering, where a refused client's connection is closed without an answer (444) and the depth is fixed at 4.",
    sources: [C.gwFrontend, { ref: "nginx/nginx-gateway-fabric@v2.6.7:internal/controller/nginx/config/servers_template.go:105-125 (ssl_verify_client on, ssl_verify_depth 4, error_page 495 496 -> return 444, the 421 check)", basis: "code" }],
  },
  "haproxy-ingress": {
    title: "HAProxy Ingress (jcmoraisjr)",
    versions: ">=0.15.0 (read at v0.15.4)",
    note: "The same auth-tls annotation names per host, read only when --annotations-prefix includes nginx.ingress.kubernetes.io (by default v0.15 reads haproxy-ingress.github.io/ and ingress.kubernetes.io/ only: then every guarantee is lost). The handshake always completes; refusals are HTTP 496/495, or 303 to the error page.",
    sources: [HI.prefix, HI.handshake, HI.rules],
  },
  "f5-nginx-ingress": {
    title: "F5 NGINX Ingress Controller (Policy ingressMTLS)",
    versions: ">=5.0.0 (read at v5.5.4)",
    note: "No auth-tls annotation: a Policy with spec.ingressMTLS per Ingress, attached with nginx.org/policies (the translation beside this report with --observe). The same four nginx directives at server level, so refusals are nginx's 400; no error page, no CN match, no ssl-client-* header. One Ingress per host.",
    sources: [F5.stanza, F5.noField, F5.collision],
  },
};

/** What ingress-nginx enforces on one host, read off the model's resolution. */
export interface HostFacts {
  mode: VerifyClient;
  /** verify-client as the governing Ingress wrote it (absent: not written). */
  declaredMode?: string;
  depth: number;
  passCertificate: boolean;
  errorPage?: string;
  matchCn?: string;
  crl: boolean;
  /** The other served Ingresses on the host. */
  sharedWith: string[];
  /** The Ingress whose auth-tls the whole host uses. */
  governing: string;
}

const DEPTH_NOTE = (n: number) => `${n} intermediate CA${n === 1 ? "" : "s"}`;

/** The guarantees a host with this client auth relies on. */
export function reliedGuarantees(f: HostFacts): Guarantee[] {
  const out = new Set<Guarantee>();
  if (f.mode === "off") {
    // No certificate is asked for; the controller still sets ssl-client-verify: NONE and clears the
    // other ssl-client-* headers over whatever the client sent.
    out.add("headers");
  } else {
    if (f.mode === "on") out.add("client-cert-required");
    if (f.mode !== "optional_no_ca") out.add("trust-anchor");
    out.add("validity");
    out.add("verify-depth");
    if (f.mode === "optional" || f.mode === "optional_no_ca") out.add("optional-mode");
    if (f.errorPage) out.add("error-page");
    if (f.matchCn) out.add("match-cn");
    if (f.crl) out.add("crl");
    out.add("headers");
    if (f.sharedWith.length) out.add("host-isolation");
  }
  return GUARANTEES.filter((g) => out.has(g));
}

/** How Traefik's provider reads verify-client: the exact four values, anything else (or absent) is "on". */
export function traefikMode(declared: string | undefined): VerifyClient {
  return declared === "off" || declared === "optional" || declared === "optional_no_ca" || declared === "on" ? declared : "on";
}

const row = (guarantee: Guarantee, cls: MigrationClass, reason: string, ...sources: Citation[]): GuaranteeRow => ({ guarantee, class: cls, reason, sources });

function traefikRow(g: Guarantee, f: HostFacts): GuaranteeRow {
  const shared = f.sharedWith.length > 0;
  const sharedWhy = `host is shared with ${f.sharedWith.join(", ")}: each Ingress gets its own TLS option, and Traefik gives a host whose routers name different TLS options the default options, which ask for no client certificate (read in aggregator.go; observed on its data plane here with migration --observe)`;
  const sharedLost = (what: string) => row(g, "lost", `${what}: the ${sharedWhy}.`, C.traefikOptionNames, C.traefikAggregator, C.traefikAggregatorDoc);
  const tMode = traefikMode(f.declaredMode);
  switch (g) {
    case "client-cert-required":
      if (shared) return sharedLost("No client certificate is required on this host any more");
      return row(g, "equivalent", "A client without a valid certificate is still refused, in the TLS handshake (an alert such as certificate_required) instead of with HTTP 400; Traefik before 3.7.0 ignores auth-tls entirely (lost there).", C.traefikClientAuthType, C.traefikHandshake, C.goAlerts, C.traefikPre37);
    case "trust-anchor":
      if (shared) return sharedLost("Certificates from any CA pass");
      return row(g, "equivalent", "Traefik trusts the Secret's ca.crt as ingress-nginx does; a certificate from another CA (even one with the same name), a self-signed one or a chain missing its intermediate is refused in the handshake (unknown_ca) instead of with 400.", C.traefikCaOnly, C.traefikHandshake, C.goAlerts);
    case "validity":
      if (shared) return sharedLost("Expired certificates pass");
      if (f.mode === "optional_no_ca") return row(g, "lost", "With optional_no_ca Traefik requests a certificate without verifying it: an expired certificate is let through with Ssl-Client-Verify FAILED where ingress-nginx answers 400.", C.traefikClientAuthType, C.traefikExpiredNoCa);
      return row(g, "equivalent", "An expired or not-yet-valid certificate is refused in the handshake (certificate_expired) instead of with 400.", C.traefikClientAuthType, C.goAlerts);
    case "verify-depth":
      return row(g, "lost", `auth-tls-verify-depth is not parsed and Go has no depth limit: chains longer than the ${DEPTH_NOTE(f.depth)} ingress-nginx allows are accepted.`, C.traefikDepth);
    case "optional-mode": {
      if (shared) return sharedLost(`verify-client ${f.mode} no longer verifies anything`);
      if (tMode !== f.mode) return row(g, "stricter", `ingress-nginx reads verify-client ${JSON.stringify(f.declaredMode)} as ${f.mode}, Traefik takes only the exact words and makes it RequireAndVerifyClientCert: clients without a certificate are refused (inferred from the parser, not run).`, C.traefikClientAuthType, C.traefikExactWords);
      if (f.mode === "optional") return row(g, "equivalent", "VerifyClientCertIfGiven: a client without a certificate passes (Ssl-Client-Verify NONE with pass-certificate), one with a bad certificate is refused in the handshake instead of with 400.", C.traefikClientAuthType, C.traefikHandshake);
      return row(g, "same", "RequestClientCert: any certificate or none passes, as with optional_no_ca.", C.traefikClientAuthType);
    }
    case "error-page":
      return row(g, "lost", `auth-tls-error-page is ignored: the client is still refused (in the handshake) but no longer redirected to ${f.errorPage}.`, C.traefikErrorPage, C.traefikHandshake);
    case "match-cn":
      return row(g, "lost", `auth-tls-match-cn is ignored: any certificate the CA issued passes, whatever its subject (${f.matchCn} is not checked).`, C.traefikMatchCn);
    case "crl":
      return row(g, "lost", "ca.crl is never read: revoked certificates are accepted.", C.traefikNoCrl, C.traefikCaOnly);
    case "headers": {
      if (!f.passCertificate) {
        return row(g, "lost", `pass-certificate-to-upstream is not "true", so Traefik adds no Ssl-Client-* header and removes none a client sends (ingress-nginx always sets ssl-client-verify, -subject-dn and -issuer-dn): a forged ssl-client-verify: SUCCESS reaches the backend.`, C.traefikPassCertOnly, C.traefikNoStrip);
      }
      if (f.mode === "off") return row(g, "same", "Ssl-Client-Verify NONE and the other Ssl-Client-* headers removed, over whatever the client sent, as ingress-nginx does (since Traefik 3.7.2).", C.traefikHeaders, C.traefikHeaderFix);
      if (shared) return sharedLost("The backend no longer receives a verified identity");
      if (f.mode === "optional_no_ca") return row(g, "stricter", "Traefik computes Ssl-Client-Verify itself, with the serverAuth key usage and no intermediates: a valid client certificate (clientAuth-only, or through an intermediate) reads FAILED where ingress-nginx says SUCCESS.", C.traefikNoCaKeyUsage, C.traefikNoIntermediates);
      return row(g, "equivalent", "The same four header names, set over client values; the subject and issuer DNs arrive in Go's order (CN=...,O=...), not OpenSSL's, so compare them as RDN sets (since 3.7.2 also cleared without a certificate).", C.traefikHeaders, C.traefikDnOrder, C.traefikHeaderFix);
    }
    case "host-isolation":
      return row(g, "lost", `ingress-nginx applies ${f.governing}'s client auth to every path of the host; on Traefik the ${sharedWhy}, so the whole host, this Ingress's paths included, is open.`, C.traefikOptionNames, C.traefikAggregator, C.traefikAggregatorDoc);
  }
}

function gatewayRow(g: Guarantee, f: HostFacts): GuaranteeRow {
  switch (g) {
    case "client-cert-required":
      return row(g, "equivalent", "AllowValidOnly: a client without a valid certificate fails the TLS handshake instead of getting HTTP 400.", C.gwModes, C.gwFailure);
    case "trust-anchor":
      return row(g, "equivalent", "caCertificateRefs names a ConfigMap holding the same ca.crt; a certificate from another CA fails the handshake instead of getting 400 (the conformance case).", C.gwFrontend, C.gwFailure);
    case "validity":
      if (f.mode === "optional_no_ca") return row(g, "lost", "AllowInsecureFallback accepts a certificate that fails verification: an expired one is let through where ingress-nginx answers 400.", C.gwModes);
      return row(g, "equivalent", "An expired or not-yet-valid certificate fails validation in the handshake instead of getting 400.", C.gwModes, C.gwFailure);
    case "verify-depth":
      return row(g, "lost", `There is no depth field (the maximum chain depth is implementation specific): the limit of ${DEPTH_NOTE(f.depth)} cannot be written.`, C.gwFrontend, C.gwDeferred);
    case "optional-mode":
      if (f.mode === "optional") return row(g, "not-expressible", "verify-client optional (verify a certificate if one is given) has no mode: AllowValidOnly, which the translation writes, refuses clients without a certificate (stricter); AllowInsecureFallback would accept invalid certificates (weaker).", C.gwModes);
      return row(g, "equivalent", "AllowInsecureFallback accepts any certificate or none, as optional_no_ca does; the Gateway reports InsecureFrontendValidationMode=True.", C.gwModes);
    case "error-page":
      return row(g, "lost", `There is no error-page field: a refused client gets a failed handshake, not the redirect to ${f.errorPage}.`, C.gwFrontend, C.gwFailure);
    case "match-cn":
      return row(g, "lost", `There is no CN or SAN matching in core (deferred by GEP-91): any certificate the CA issued passes, whatever its subject (${f.matchCn} is not checked).`, C.gwFrontend, C.gwDeferred);
    case "crl":
      return row(g, "lost", "There is no CRL field: revoked certificates are accepted.", C.gwFrontend, C.gwDeferred);
    case "headers":
      if (f.mode === "off") return row(g, "equivalent", "Core forwards no client-certificate header; the translation's HTTPRoutes remove client-sent ssl-client-* headers, so the backend sees none where ingress-nginx sends ssl-client-verify: NONE.", C.gwDeferred, C.gwHeaderRemove);
      return row(g, "lost", "Core forwards nothing about the client certificate: the backend no longer receives ssl-client-verify, the subject and issuer DNs" + (f.passCertificate ? " or the certificate" : "") + " (the translation removes client-sent ones so they cannot be forged).", C.gwDeferred, C.gwHeaderRemove);
    case "host-isolation":
      return row(g, "equivalent", `Validation applies to a whole port, so every route on the host's listener is protected, as ingress-nginx protects the whole host with ${f.governing}'s client auth; the translation gives the host a Gateway of its own so that hosts needing other client auth are not affected.`, C.gwFrontend, C.gwPerPort);
  }
}

/** NGF: core frontend validation's rows, except where its nginx answers otherwise. */
function ngfRow(g: Guarantee, f: HostFacts): GuaranteeRow {
  // AllowInsecureFallback is nginx's optional_no_ca, which forgives only issuer errors: an expired
  // certificate is refused (400) as by ingress-nginx (observed: MTLS-MODE-011).
  if (g === "validity" && f.mode === "optional_no_ca") {
    return row(g, "same", "AllowInsecureFallback is rendered as nginx's ssl_verify_client optional_no_ca, which still refuses an expired or not yet valid certificate with 400, as ingress-nginx does.", {
      ref: "nginx/nginx@release-1.22.1:src/event/ngx_event_openssl.h:243-248, src/http/ngx_http_request.c:2056-2071 (optional_no_ca forgives only issuer errors)",
      basis: "code",
    });
  }
  return gatewayRow(g, f);
}

/** HAProxy Ingress: the same annotation names per host, refused at HTTP level with its own statuses. */
function haproxyIngressRow(g: Guarantee, f: HostFacts): GuaranteeRow {
  const hiMode = f.declaredMode === "off" || f.declaredMode === "optional" || f.declaredMode === "optional_no_ca" ? f.declaredMode : "on";
  switch (g) {
    case "client-cert-required":
      return row(g, "equivalent", "A client without a certificate is still refused: the handshake completes and HAProxy Ingress answers 496 (ingress-nginx: 400), or 421 when it reaches the host with another SNI.", HI.handshake, HI.rules, HI.responses);
    case "trust-anchor":
      return row(g, "equivalent", "The Secret's ca.crt is the crt-list's ca-file: a certificate from another CA, self-signed, or missing its intermediate gets 495 (ingress-nginx: 400).", HI.handshake, HI.rules);
    case "validity":
      if (f.mode === "optional_no_ca") return row(g, "lost", "optional_no_ca is skip-check: no certificate is validated, an expired one reaches the backend where ingress-nginx answers 400.", HI.modes, HI.skipCheck);
      return row(g, "equivalent", "An expired or not yet valid certificate gets 495 (ingress-nginx: 400).", HI.rules);
    case "verify-depth":
      return row(g, "lost", `auth-tls-verify-depth is not read: chains longer than the ${DEPTH_NOTE(f.depth)} ingress-nginx allows are accepted.`, HI.noDepthNoCn);
    case "optional-mode":
      if (hiMode !== f.mode) return row(g, "stricter", `ingress-nginx reads verify-client ${JSON.stringify(f.declaredMode)} as ${f.mode}; HAProxy Ingress takes only the exact words and requires a certificate: clients without one get 496.`, HI.modes);
      if (f.mode === "optional") return row(g, "equivalent", "optional: a client without a certificate passes, a bad certificate gets 495 (ingress-nginx: 400).", HI.modes, HI.rules);
      return row(g, "equivalent", "optional_no_ca is skip-check: any certificate or none passes (the validity row says what that costs).", HI.modes, HI.skipCheck);
    case "error-page":
      return row(g, "equivalent", `A refused client is sent to ${f.errorPage} with 303 (ingress-nginx: 302).`, HI.rules);
    case "match-cn":
      return row(g, "lost", `auth-tls-match-cn is not read: any certificate the CA issued passes, whatever its subject (${f.matchCn} is not checked).`, HI.noDepthNoCn);
    case "crl":
      return row(g, "equivalent", "The Secret's ca.crl becomes the crt-list's crl-file: a revoked certificate gets 495 (ingress-nginx: 400). A ca.crl that is PEM but no CRL makes HAProxy refuse the whole configuration.", HI.crl, HI.crlUnloadable);
    case "headers":
      return row(g, "lost", "The backend gets X-SSL-Client-CN, -DN and -SHA1 (OpenSSL's one-line DN), never ssl-client-verify, -subject-dn, -issuer-dn or -cert; client-sent ssl-client-* headers are not removed, so a forged ssl-client-verify: SUCCESS reaches the backend.", HI.headers);
    case "host-isolation":
      return row(g, "equivalent", `auth-tls is per host, as on ingress-nginx: ${f.governing}'s client auth covers every path of the host. Where several Ingresses set it differently, the oldest's value wins (at one creation second: namespace/name ascending, where ingress-nginx takes descending).`, HI.merge);
  }
}

/** F5 NGINX Ingress: a Policy per Ingress, the same nginx directives; what has no field is lost. */
function f5Row(g: Guarantee, f: HostFacts): GuaranteeRow {
  const shared = f.sharedWith.length > 0;
  switch (g) {
    case "client-cert-required":
    case "trust-anchor":
    case "validity":
    case "verify-depth":
    case "optional-mode":
    case "crl":
      if (shared) return row(g, "lost", `The host is shared with ${f.sharedWith.join(", ")}: F5 serves one Ingress per host (the oldest; at one creation second the larger UID), so which client auth applies, if any, is not this declaration's.`, F5.collision);
      return row(g, "same", g === "crl" ? "The Secret's ca.crl becomes ssl_crl: refused with nginx's 400, as by ingress-nginx." : "The Policy's ingressMTLS renders the same ssl_verify_client, ssl_verify_depth and CA at server level: nginx refuses as for ingress-nginx (400).", F5.stanza, F5.defaults);
    case "error-page":
      return row(g, "lost", `ingressMTLS has no error page: a refused client gets nginx's 400, not the redirect to ${f.errorPage}.`, F5.noField, F5.stanza);
    case "match-cn":
      return row(g, "lost", `ingressMTLS has no CN match: any certificate the CA issued passes (${f.matchCn} is not checked).`, F5.noField);
    case "headers":
      return row(g, "lost", "F5 sets no ssl-client-* header and removes none a client sends: the backend loses the verify result and the subject, and a forged ssl-client-verify: SUCCESS reaches it.", F5.noHeaders);
    case "host-isolation":
      return row(g, "lost", `F5 serves one Ingress per host: ${f.sharedWith.join(", ")} and this Ingress compete for it (the oldest wins; at one creation second the larger UID), and the other's paths are not served.`, F5.collision);
  }
}

/** Each successor's rows by name: a profile without an entry does not compile (no silent fallback). */
const ROWS_OF: Record<MigrationProfile, (g: Guarantee, f: HostFacts) => GuaranteeRow> = {
  traefik: traefikRow,
  "gateway-api": gatewayRow,
  // NGF implements core frontend validation: its rows, except where its nginx answers otherwise.
  "nginx-gateway-fabric": ngfRow,
  "haproxy-ingress": haproxyIngressRow,
  "f5-nginx-ingress": f5Row,
};

export function classify(profile: MigrationProfile, guarantee: Guarantee, facts: HostFacts): GuaranteeRow {
  return ROWS_OF[profile](guarantee, facts);
}

/** The facts of one host's client auth, from the model; undefined when the host asks for none. */
export function hostFacts(host: HostPolicy, ingresses: ResolvedIngress[], self: string): HostFacts | undefined {
  const auth = host.clientAuth;
  if (!auth) return undefined;
  const governing = ingresses.find((i) => i.id === auth.governing);
  return {
    mode: auth.settings.verifyClient,
    ...(governing?.auth?.declared["auth-tls-verify-client"] !== undefined ? { declaredMode: governing.auth.declared["auth-tls-verify-client"] } : {}),
    depth: auth.settings.verifyDepth,
    passCertificate: auth.settings.passCertificateToUpstream,
    ...(auth.settings.errorPage ? { errorPage: auth.settings.errorPage } : {}),
    ...(host.matchCn ? { matchCn: host.matchCn } : {}),
    crl: !!auth.crl,
    sharedWith: host.ingresses.map((i) => i.id).filter((id) => id !== self),
    governing: auth.governing,
  };
}

export interface GuaranteeOptions {
  profiles: readonly MigrationProfile[];
  /** Secrets (namespace/name) the manifests do not hold, taken as holding a ca.crt. */
  assumedSecrets?: ReadonlySet<string>;
}

/**
 * One entry per host of one Ingress: what it relies on and, per profile, each guarantee's class.
 * `hosts` is the model's resolution of all the Ingresses read together (shared hosts, order).
 */
export function ingressGuarantees(ingress: ResolvedIngress, hosts: HostPolicy[], all: ResolvedIngress[], options: GuaranteeOptions): IngressGuarantees[] {
  const namespace = ingress.ingress.metadata?.namespace ?? "default";
  const name = ingress.ingress.metadata?.name ?? "";
  const base = { namespace, name };
  const names = ingress.hosts.length ? ingress.hosts : ["*"];
  const auth = ingress.auth;
  const fallbacks = auth?.fallbacks.map((f) => `ingress-nginx falls back silently: ${f}.`) ?? [];
  const none = (host: string, status: IngressStatus, baseline: string, notes: string[] = []): IngressGuarantees => ({ ...base, host, status, baseline, relies: [], notes, profiles: {} });

  if (auth?.rejected) return names.map((h) => none(h, "rejected", `ingress-nginx's admission rejects this Ingress (${auth.rejected!.message}): it is not served today, so there is nothing to carry over; fix it before migrating.`));
  if (ingress.notServed) return names.map((h) => none(h, "not-served", `${ingress.notServed}: ingress-nginx does not serve it.`));
  if (!ingress.hosts.length) return [none("*", "no-client-auth", "Its rules name no host: the default server answers them and never asks for a client certificate.", ingress.notes)];

  return ingress.hosts.map((hostName) => {
    const host = hosts.find((h) => h.host === hostName);
    const notes = [...fallbacks];
    if (auth?.secretRef && options.assumedSecrets?.has(auth.secretRef)) {
      notes.push(`Secret ${auth.secretRef} is not in the manifests: taken as holding a ca.crt and no ca.crl (if it has a ca.crl, CRL checking is lost on both successors too).`);
    }
    if (!host) return none(hostName, "no-client-auth", "The model resolved no server for this host.", notes);
    if (host.denied) {
      const by = host.denied.by === ingress.id ? "its auth-tls-secret" : `${host.denied.by}'s auth-tls-secret`;
      return none(hostName, "denied", `ingress-nginx answers 403 to every request on ${hostName} because ${by} is unusable (${host.denied.reason}): fix it before migrating.`, notes);
    }
    const facts = hostFacts(host, all, ingress.id);
    if (!facts) {
      if (!auth) return none(hostName, "no-client-auth", "no client authentication declared", notes);
      const why = host.matchCn ? `its Secret has no ca.crt, and the match-cn ${host.matchCn} then refuses every request (403)` : "its Secret has no ca.crt, so ingress-nginx asks for no client certificate";
      return none(hostName, host.matchCn ? "denied" : "no-client-auth", `auth-tls declared, but ${why}.`, notes);
    }
    if (!auth) {
      // The controller's host-wide client auth covers this Ingress's paths, by accident of sharing.
      notes.push(`On ingress-nginx its paths on ${hostName} get ${facts.governing}'s client auth (verify-client ${facts.mode}, host-wide); that is reported under ${facts.governing}'s host-isolation.`);
      return none(hostName, "no-client-auth", "no client authentication declared", notes);
    }
    if (facts.governing !== ingress.id) {
      notes.push(`On ingress-nginx ${hostName}'s client auth is ${facts.governing}'s (the first Ingress with a CA governs the host), not this Ingress's own declaration: the rows are for what the host enforces.`);
    }
    const tMode = traefikMode(facts.declaredMode);
    if (facts.mode === "off" && tMode !== "off") notes.push(`Traefik reads verify-client ${JSON.stringify(facts.declaredMode)} as "on" (exact values only): it will require client certificates where ingress-nginx asks for none.`);
    const relies = reliedGuarantees(facts);
    const baseline = `verify-client ${facts.mode}, depth ${facts.depth}, pass-certificate ${facts.passCertificate}${facts.errorPage ? `, error-page ${facts.errorPage}` : ""}${facts.matchCn ? `, match-cn ${facts.matchCn}` : ""}${facts.crl ? ", ca.crl" : ""}${facts.sharedWith.length ? `, host shared with ${facts.sharedWith.join(", ")}` : ""}`;
    const profiles: Partial<Record<MigrationProfile, GuaranteeRow[]>> = {};
    for (const p of options.profiles) profiles[p] = relies.map((g) => classify(p, g, facts));
    return { ...base, host: hostName, status: "client-auth" as const, baseline, relies, notes, profiles };
  });
}
