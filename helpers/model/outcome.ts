// The policy model: what a host (as the controller configures it) answers to one request with one
// credential. It is the single source of expected outcomes for generated checks, and the fixed
// catalogue's entries are proven equal to it (fixtures/catalogue-model.test.ts). Every outcome
// names the sources of the rules that decided it.
import { RE2JS } from "re2js";
import type { Expectation, UpstreamExpectation } from "../catalogue/catalogue.ts";
import type { ClientAuth, HostPolicy } from "./hosts.ts";
import { SOURCES } from "./sources.ts";

import { CERT_ERROR_BODY, MATCH_CN_BODY, NO_CERT_BODY } from "../catalogue/rejections.ts";
export { CERT_ERROR_BODY, MATCH_CN_BODY, NO_CERT_BODY };
export const CLIENT_HEADERS = ["ssl-client-cert", "ssl-client-verify", "ssl-client-subject-dn", "ssl-client-issuer-dn"] as const;

/** What the model needs to know about a credential; derived from how it was made, not from a run. */
export interface CredentialTraits {
  /** SHA-256 of the CA certificate at the top of the chain, or "self-signed". */
  anchor: string;
  /** CAs between the leaf and the anchor. */
  intermediates: number;
  /** false: the leaf is sent without the intermediates it needs. */
  sendsIntermediates: boolean;
  validity: "valid" | "expired" | "not-yet-valid";
  /** The extended key usage allows clientAuth (or there is none). */
  clientAuth: boolean;
  /** Leaf serial, lower-case hex. */
  serial: string;
  /** RFC 2253, as $ssl_client_s_dn / $ssl_client_i_dn show them. */
  subject: string;
  issuer: string;
}

export interface ProbeShape {
  scheme: "https" | "http";
  path: string;
  /** The SNI sent, when it is not the Host header's name; null: none at all. */
  sni?: string | null;
  /** Headers the client sends itself (spoofing attempts), names lower-case. */
  headers?: Record<string, string>;
  /** The Ingress whose path is probed (decides port 80's redirect). */
  ingress?: string;
}

export type Outcome = { expect: Expectation; explanation: string; sources: string[] } | { undetermined: string };

export const MISDIRECTED_BODY = "Misdirected Request";

/** What the controller's default server answers for a host no Ingress (it serves) claims. */
export function defaultServerOutcome(host: string): Outcome {
  return {
    expect: { status: 404, upstream: "not-reached" },
    explanation: `no server is configured for ${host}: the default server answers (the controller's default backend)`,
    sources: [SOURCES.defaultServer],
  };
}

interface VerifyResult {
  ok: boolean;
  /** OpenSSL's text for the last error (what FAILED: carries). */
  reason?: string;
  /** The last error is one optional_no_ca lets through. */
  optional?: boolean;
}

/**
 * The result of OpenSSL's verification as nginx reports it. nginx's verify callback continues past
 * every error, so the last one decides: chain building, then purpose, then CRLs, then validity.
 * Observed on nginx 1.22.1 + OpenSSL 3.0 (helpers/model/outcome.nginx.test.ts).
 */
export function verifyCredential(c: CredentialTraits, auth: ClientAuth): VerifyResult {
  const errors: Array<{ reason: string; optional: boolean }> = [];
  const trusted = auth.trusted.some((t) => t.sha256 === c.anchor);
  // The chain reaches a trusted CA (maybe past the depth limit): CRLs are then looked up for it.
  const anchored = trusted && (c.sendsIntermediates || c.intermediates === 0);
  if (c.anchor === "self-signed") errors.push({ reason: "self-signed certificate", optional: true });
  else if (!c.sendsIntermediates && c.intermediates > 0) errors.push({ reason: "unable to verify the first certificate", optional: true });
  else if (!trusted) errors.push({ reason: c.intermediates > 0 ? "unable to get local issuer certificate" : "unable to verify the first certificate", optional: true });
  else if (c.intermediates > auth.settings.verifyDepth) errors.push({ reason: "unable to get local issuer certificate", optional: true });
  if (!c.clientAuth) errors.push({ reason: "unsupported certificate purpose", optional: false });
  if (auth.crl) {
    // ssl_crl turns on CRL checks for the whole chain: only the anchor's CRL is in the secret.
    if (c.anchor === "self-signed" || (anchored && c.intermediates > 0)) errors.push({ reason: "unable to get certificate CRL", optional: false });
    else if (anchored && auth.crl.revokedSerials.includes(c.serial.toLowerCase())) errors.push({ reason: "certificate revoked", optional: false });
    if (anchored && auth.crl.expired) errors.push({ reason: "CRL has expired", optional: false });
  }
  if (c.validity === "expired") errors.push({ reason: "certificate has expired", optional: false });
  if (c.validity === "not-yet-valid") errors.push({ reason: "certificate is not yet valid", optional: false });
  const last = errors.at(-1);
  return last ? { ok: false, reason: last.reason, optional: last.optional } : { ok: true };
}

/** nginx matches match-cn with PCRE; the controller admitted it as RE2, whose matching agrees on that syntax. */
export function matchesCn(pattern: string, subject: string): boolean {
  return RE2JS.compile(pattern).matcher(subject).find();
}

function upstream(host: HostPolicy, headers: Record<string, string | undefined>, clientSent: Record<string, string>, presentedLeaf: boolean): UpstreamExpectation {
  const out: UpstreamExpectation = { headers: {}, absent: [], prefixes: {} };
  const auth = host.clientAuth;
  for (const name of CLIENT_HEADERS) {
    // Without a CA no ssl-client-* line is rendered: what the client sent passes through.
    const rendered = auth ? name !== "ssl-client-cert" || auth.settings.passCertificateToUpstream : false;
    if (!rendered) {
      if (clientSent[name] !== undefined) out.headers![name] = clientSent[name]!;
      else out.absent!.push(name);
      continue;
    }
    const value = headers[name];
    if (name === "ssl-client-cert" && value === "<presented leaf>") out.clientCertIsPresentedLeaf = presentedLeaf;
    else if (value === undefined || value === "") out.absent!.push(name);
    else if (value.endsWith("…")) out.prefixes![name] = value.slice(0, -1);
    else out.headers![name] = value;
  }
  return out;
}

const rejected = (status: number, extra: Partial<Expectation> = {}): Expectation => ({ status, upstream: "not-reached", ...extra });

/**
 * @param servers every host the data plane has a server for: an SNI naming one of them selects it
 *   for the TLS handshake, any other SNI (or none) the default server.
 */
export function expectedOutcome(host: HostPolicy, credential: CredentialTraits | undefined, probe: ProbeShape, servers?: string[]): Outcome {
  if (probe.scheme === "https" && probe.sni !== undefined && probe.sni !== host.host) {
    const verifies = !host.denied && !!host.clientAuth && host.clientAuth.settings.verifyClient !== "off";
    if (probe.sni !== null && (servers ?? []).includes(probe.sni)) {
      if (verifies) {
        return { expect: { status: 421, bodyIncludes: MISDIRECTED_BODY, upstream: "not-reached" }, explanation: `the SNI names ${probe.sni}, the Host ${host.host} whose server verifies client certificates`, sources: [SOURCES.misdirected] };
      }
      return { undetermined: `the SNI names ${probe.sni} and the Host ${host.host}, whose server does not verify: the request is served with the other server's TLS` };
    }
    // The default server handled the handshake and asked for no certificate; the Host's server answers.
    const outcome = expectedOutcome(host, undefined, { ...probe, sni: undefined }, servers);
    if ("undetermined" in outcome) return outcome;
    return { ...outcome, explanation: `${probe.sni === null ? "no SNI" : `the SNI names no server (${probe.sni})`}, so the default server made the handshake without asking for a certificate; ${outcome.explanation}`, sources: [...outcome.sources, SOURCES.sniNoCert] };
  }
  const sources: string[] = [...host.sources];
  const clientSent = Object.fromEntries(Object.entries(probe.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const auth = host.clientAuth;
  const done = (expect: Expectation, explanation: string, ...more: string[]): Outcome => ({ expect, explanation, sources: [...new Set([...sources, ...more])] });

  // The server-rewrite phase runs the match-cn test before the host's `return 403`.
  if (host.denied) return done(rejected(403), `the host is denied: ${host.denied.reason} (Ingress ${host.denied.by})`, SOURCES.locationDenied);

  if (probe.scheme === "http") {
    const ing = host.ingresses.find((i) => i.id === probe.ingress) ?? host.ingresses[0];
    if (host.matchCn) return done(rejected(403, { bodyEquals: MATCH_CN_BODY }), "plain HTTP carries no certificate, so match-cn refuses it", SOURCES.matchCn);
    if (ing?.redirectsHttp) {
      // lua_ingress.lua:81-89,157-173: the Host header without its port, the request URI with one
      // trailing "/" removed unless preserve-trailing-slash.
      const uri = !ing.preserveTrailingSlash && probe.path.endsWith("/") ? probe.path.slice(0, -1) : probe.path;
      return done(rejected(308, { responseHeaders: { location: `https://${host.host}${uri}` } }), "plain HTTP is redirected to HTTPS", SOURCES.httpRedirect);
    }
    return done(
      { status: 200, upstream: "reached", upstreamHeaders: upstream(host, {}, clientSent, false) },
      "plain HTTP reaches the backend: no client certificate is checked on port 80",
      SOURCES.httpNoCheck,
    );
  }

  if (!auth) {
    if (host.matchCn) return done(rejected(403, { bodyEquals: MATCH_CN_BODY }), "match-cn without a CA: no certificate is requested, so every subject fails the test", SOURCES.matchCn);
    return done({ status: 200, upstream: "reached", upstreamHeaders: upstream(host, {}, clientSent, false) }, "the host has no client-certificate auth");
  }
  sources.push(SOURCES.perServer, SOURCES.upstreamHeaders);
  const s = auth.settings;
  const errorPage = (why: string): Outcome => {
    if (s.errorPage!.startsWith("@") || s.errorPage!.startsWith("/")) {
      return { undetermined: `auth-tls-error-page ${s.errorPage} is served internally: the answer depends on what serves it` };
    }
    return done(rejected(302, { responseHeaders: { location: s.errorPage! } }), `${why}; the error page redirects`, SOURCES.errorPage);
  };
  const reached = (verify: string, c: CredentialTraits | undefined, why: string, ...more: string[]): Outcome => {
    const dn = c ? { "ssl-client-subject-dn": c.subject, "ssl-client-issuer-dn": c.issuer, "ssl-client-cert": "<presented leaf>" } : {};
    if (s.matchCn && !matchesCn(s.matchCn, c?.subject ?? "")) {
      return done(rejected(403, { bodyEquals: MATCH_CN_BODY }), `${why}, but the subject ${JSON.stringify(c?.subject ?? "")} does not match match-cn ${s.matchCn}`, SOURCES.matchCn, ...more);
    }
    return done(
      { status: 200, upstream: "reached", upstreamHeaders: upstream(host, { "ssl-client-verify": verify, ...dn }, clientSent, !!c) },
      why + (s.matchCn ? ` and the subject matches ${s.matchCn}` : ""),
      ...(s.matchCn ? [SOURCES.matchCn] : []),
      ...more,
    );
  };

  if (s.verifyClient === "off") return reached("NONE", undefined, "verify-client off: no certificate is requested", SOURCES.verifyOff);
  if (!credential) {
    if (s.verifyClient === "on") {
      if (s.errorPage) return errorPage("no certificate");
      return done(rejected(400, { bodyIncludes: NO_CERT_BODY }), "verify-client on and no certificate", SOURCES.noCertificate);
    }
    return reached("NONE", undefined, `verify-client ${s.verifyClient} and no certificate`);
  }
  const v = verifyCredential(credential, auth);
  if (v.ok) return reached("SUCCESS", credential, "the certificate verifies", SOURCES.depthSemantics);
  if (s.verifyClient === "optional_no_ca" && v.optional) {
    return reached("FAILED:…", credential, `optional_no_ca passes "${v.reason}" on to the backend`, SOURCES.badCertificate, SOURCES.verifyOrder);
  }
  if (s.errorPage) return errorPage(`verification fails (${v.reason})`);
  return done(rejected(400, { bodyIncludes: CERT_ERROR_BODY }), `verification fails: ${v.reason}`, SOURCES.badCertificate, SOURCES.verifyOrder);
}
