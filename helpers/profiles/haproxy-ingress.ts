// HAProxy Ingress (jcmoraisjr/haproxy-ingress v0.15.4, deployed with --annotations-prefix including
// nginx.ingress.kubernetes.io): what it answers for every catalogue scenario, read at v0.15.4 and
// observed on its rendering (helpers/controllers/haproxy-ingress). It reads the same auth-tls-*
// names per host, on another contract: the handshake always completes; then 496 without a
// certificate, 495 for a bad one, or 303 to auth-tls-error-page; 421 when SNI and Host disagree;
// X-SSL-Client-* headers (never ssl-client-*); no verify-depth, no match-cn; optional_no_ca checks
// nothing; an unusable CA secret means a fake CA that refuses everyone. The class of each row
// follows from its answer (derive.ts).
import type { Expectation, Policy, Scenario } from "../catalogue/catalogue.ts";
import { answer, derivedRows, type SuccessorAnswer } from "./derive.ts";
import { CLIENT_HEADERS } from "./expect.ts";
import type { Citation, Profile } from "./profile.ts";

const V = "jcmoraisjr/haproxy-ingress@v0.15.4:";
export const HAPROXY_INGRESS_SOURCES = {
  prefix: { ref: `${V}pkg/controller/config/options.go:25 (--annotations-prefix defaults to haproxy-ingress.github.io,ingress.kubernetes.io: the rows assume nginx.ingress.kubernetes.io added, or every auth-tls annotation is ignored)`, basis: "code" },
  handshake: { ref: `${V}rootfs/etc/templates/haproxy/haproxy.tmpl:1261-1268 and pkg/haproxy/config.go:315-320 (bind ca-ignore-err all crt-ignore-err all, per host ca-file ... verify optional: the handshake always completes)`, basis: "code" },
  rules: { ref: `${V}rootfs/etc/templates/haproxy/haproxy.tmpl:1347-1424 (303 to the error page, 421 for a certificate with SNI != Host, 496 without one, 421 for no certificate on a host that needs one, 495 for an invalid one)`, basis: "code" },
  responses: { ref: `${V}pkg/converters/ingress/annotations/global.go:495-547 (the 421, 495 and 496 pages, sent with those statuses)`, basis: "code" },
  modes: { ref: `${V}pkg/converters/ingress/annotations/host.go:36-78 (off: none; optional_no_ca: skip-check; optional; any other value: always)`, basis: "code" },
  skipCheck: { ref: `${V}pkg/haproxy/config.go:254-267 and docs/content/en/docs/configuration/keys.md:901 (skip-check hosts are in no auth list: no certificate is validated)`, basis: "code" },
  noDepthNoCn: { ref: `${V}pkg/converters/ingress/types/annotations.go:41-44,117 (auth-tls-error-page, -secret, -strict, -verify-client, -cert-header: verify-depth and match-cn are not read)`, basis: "code" },
  headers: { ref: `${V}rootfs/etc/templates/haproxy/haproxy.tmpl:616-631,1336-1341 (X-SSL-Client-CN, -DN, -SHA1 set in each backend with auth; client-sent X-SSL-Client-* deleted; ssl-client-* neither set nor deleted)`, basis: "code" },
  crl: { ref: `${V}pkg/haproxy/config.go:315-320 (crl-file from the secret's ca.crl)`, basis: "code" },
  strict: { ref: `${V}pkg/converters/ingress/annotations/host.go:46-64, pkg/controller/services/ssl.go:200-211,228-261, cache.go:545-598 (an unusable CA secret with auth-tls-strict, the default: a fake CA, so every client gets 495/496)`, basis: "code" },
  merge: { ref: `${V}pkg/converters/ingress/annotations/mapper.go:98-134 and pkg/converters/ingress/ingress.go:348-357 (auth-tls keys per host, the oldest Ingress's value wins; same creation second: namespace/name ascending)`, basis: "code" },
  redirect: { ref: `${V}rootfs/etc/templates/haproxy/haproxy.tmpl:483-493 (ssl-redirect: redirect scheme https with no code: 302, the path kept)`, basis: "code" },
  crlUnloadable: { ref: `${V}pkg/controller/services/ssl.go:107-127,209-211 (only the PEM type of ca.crl is checked) and pkg/haproxy/instance.go:368-372,399-407 (a configuration haproxy refuses is not loaded)`, basis: "code" },
  noWebhook: { ref: "HAProxy Ingress has no admission webhook: an Ingress ingress-nginx's webhook refuses is served", basis: "inferred" },
} satisfies Record<string, Citation>;
const S = HAPROXY_INGRESS_SOURCES;

const REQUIRED: Expectation = { status: 496, bodyIncludes: "A client certificate must be provided.", upstream: "not-reached" };
const INVALID: Expectation = { status: 495, bodyIncludes: "An invalid certificate has been provided.", upstream: "not-reached" };
const MISDIRECTED: Expectation = { status: 421, bodyIncludes: "Misdirected Request", upstream: "not-reached" };
/** Reached; ssl-client-* is HAProxy Ingress's neither to set nor to clear. */
const reachedHi = (extra: Record<string, string> = {}, absent = CLIENT_HEADERS): Expectation => ({ status: 200, upstream: "reached", upstreamHeaders: { ...(Object.keys(extra).length ? { headers: extra } : {}), ...(absent.length ? { absent } : {}) } });
/** The headers it sets for the guide's client (ssl_c_s_dn prints OpenSSL's one-line form, in the certificate's RDN order). */
const CLIENT_X_SSL = { "x-ssl-client-cn": "authorized-client", "x-ssl-client-dn": "/CN=authorized-client/O=MyOrganization" };

const a = answer;
const required = (why: string) => a(REQUIRED, `${why}: the handshake completes, then 496 (ingress-nginx: 400)`, [S.handshake, S.rules, S.responses]);
const invalid = (why: string) => a(INVALID, `${why}: the handshake completes, then 495 (ingress-nginx: 400)`, [S.handshake, S.rules, S.responses]);
const fake = (why: string, none: boolean) => a(none ? REQUIRED : INVALID, `${why}: the fake CA stands in, ${none ? "496" : "495"} (ingress-nginx: 403)`, [S.strict, S.rules]);
const depthLost = (why: string, credential: string) => a(reachedHi(credential === "client" ? CLIENT_X_SSL : {}), `${why}: verify-depth is not read, any chain the CA anchors passes`, [S.noDepthNoCn]);

/** What ingress-nginx refuses and why, read off its expectation (the body nginx sends). */
const refusal = (e: Expectation): "no-cert" | "bad-cert" | undefined => (e.bodyIncludes?.includes("No required SSL certificate") ? "no-cert" : e.bodyIncludes?.includes("SSL certificate error") ? "bad-cert" : undefined);

const OVERRIDES: Record<string, SuccessorAnswer> = {
  "MTLS-CLIENT-010": depthLost("two intermediates at depth 1", "client-via-2-intermediates"),
  "MTLS-CLIENT-015": depthLost("two intermediates at depth 0", "x"),
  "MTLS-CLIENT-016": depthLost('two intermediates, depth "abc"', "x"),
  "MTLS-CLIENT-017": depthLost("three intermediates at depth 2", "x"),
  "MTLS-ADMISSION-008": depthLost('two intermediates, depth " 2"', "x"),
  "MTLS-MODE-008": a(reachedHi(), "optional_no_ca is skip-check: a self-signed certificate passes, and nothing tells the backend it FAILED", [S.modes, S.skipCheck]),
  "MTLS-MODE-009": a(reachedHi(), "optional_no_ca is skip-check: another CA's certificate passes, and nothing tells the backend it FAILED", [S.modes, S.skipCheck]),
  "MTLS-MODE-010": a(reachedHi(), "optional_no_ca is skip-check: a chain without its intermediate passes, and nothing tells the backend it FAILED", [S.modes, S.skipCheck]),
  "MTLS-MODE-011": a(reachedHi(), "optional_no_ca is skip-check: an expired certificate passes (ingress-nginx: 400)", [S.modes, S.skipCheck]),
  "MTLS-MATCHCN-002": a(reachedHi(), "auth-tls-match-cn is not read: any certificate the CA issued passes", [S.noDepthNoCn]),
  "MTLS-MATCHCN-003": a(reachedHi(), "auth-tls-match-cn is not read: any certificate the CA issued passes", [S.noDepthNoCn]),
  "MTLS-MATCHCN-008": fake("a secret without ca.crt", false),
  "MTLS-MATCHCN-009": a({ status: 302, responseHeaders: { location: "https://match-cn-anchored.test.localdev.me/" }, upstream: "not-reached" }, "plain HTTP is redirected (302) to https, where the client certificate is checked (match-cn is not)", [S.redirect]),
  "MTLS-CRL-001": invalid("a revoked certificate (crl-file)"),
  "MTLS-CRL-003": invalid("a chain whose intermediate has no CRL"),
  "MTLS-CRL-004": invalid("an expired CRL"),
  "MTLS-TRANSPORT-006": a(MISDIRECTED, "an unknown SNI gets the default certificate, which asks for no client certificate; the Host needs one: 421", [S.rules]),
  "MTLS-TRANSPORT-007": a(MISDIRECTED, "no SNI gets the default certificate, which asks for no client certificate; the Host needs one: 421", [S.rules]),
  "MTLS-TRANSPORT-003": a({ status: 302, responseHeaders: { location: "https://test.localdev.me/" }, upstream: "not-reached" }, "302 to https, the path kept as sent", [S.redirect]),
  "MTLS-TRANSPORT-008": a({ status: 302, responseHeaders: { location: "https://test.localdev.me/docs/page/" }, upstream: "not-reached" }, "302 to https, the path kept with its trailing slash", [S.redirect]),
  "MTLS-ISOLATION-003": fake("the host's keys merge: the broken Ingress's missing secret", false),
  "MTLS-ISOLATION-008": a({ status: 302, responseHeaders: { location: "https://broken.test.localdev.me/open/" }, upstream: "not-reached" }, "plain HTTP is redirected (302); on https the fake CA refuses every client", [S.redirect, S.strict]),
  // Created in the same second: namespace/name ascending, so the alpha Ingress's CA governs the host (ingress-nginx takes zulu's).
  "MTLS-ISOLATION-006": a(reachedHi({ "x-ssl-client-cn": "authorized-client" }), "two CAs on one host: the older (same second: first by name) Ingress's ca-secret governs, so the first CA's client passes where ingress-nginx uses the other Ingress's CA", [S.merge]),
  "MTLS-ISOLATION-007": a(INVALID, "two CAs on one host: the other Ingress's CA governs (first by name), so the second CA's client gets 495", [S.merge, S.rules]),
  "MTLS-SECRETS-001": fake("a ca.crt that does not parse", false),
  "MTLS-SECRETS-002": fake("a ca.crl not labelled X509 CRL", false),
  "MTLS-SECRETS-003": a({ transport: "host-not-served", upstream: "not-reached" }, "a PEM X509 CRL that does not parse passes the controller's check; HAProxy then refuses the whole configuration, so the change bringing this host is never applied: its name gets the default certificate (and every later change is refused with it)", [S.crlUnloadable]),
  "MTLS-SECRETS-005": fake("a secret in another namespace (cross-namespace-secrets-ca: deny)", false),
  "MTLS-ADMISSION-001": a(reachedHi(CLIENT_X_SSL), 'no webhook: the Ingress is served with client authentication (pass-certificate "yes" is not read)', [S.noWebhook, S.headers], "equivalent"),
  "MTLS-ADMISSION-002": a({ status: 303, responseHeaders: { location: "https://login.example.invalid/mtls?from=ingress" }, upstream: "not-reached" }, "no webhook: the Ingress is served; no certificate is sent to its error page (303)", [S.noWebhook, S.rules], "equivalent"),
  "MTLS-ADMISSION-003": a(reachedHi(CLIENT_X_SSL), "no webhook, and match-cn is not read: any client of the CA passes", [S.noWebhook, S.noDepthNoCn]),
  "MTLS-ADMISSION-004": a(reachedHi(CLIENT_X_SSL), "no webhook, and match-cn is not read: any client of the CA passes", [S.noWebhook, S.noDepthNoCn]),
  "MTLS-ADMISSION-005": fake("no webhook: the secret name resolves to no secret", true),
  "MTLS-ADMISSION-006": a(REQUIRED, '" off " is not "off": always, so no certificate gets 496', [S.modes, S.rules]),
  "MTLS-SPOOF-002": a(reachedHi({ ...CLIENT_X_SSL, "ssl-client-verify": "FAILED:forged", "ssl-client-subject-dn": "CN=admin" }, []), "client-sent ssl-client-* reach the backend as sent: only X-SSL-Client-* are cleared", [S.headers]),
  "MTLS-SPOOF-003": a(reachedHi({ ...CLIENT_X_SSL, "ssl-client-cert": "forged" }, []), "a forged ssl-client-cert reaches the backend as sent", [S.headers]),
  "MTLS-SPOOF-004": a(reachedHi({ ...CLIENT_X_SSL, "ssl-client-cert": "forged-by-client" }, ["ssl-client-verify"]), "the forged ssl-client-cert reaches the backend, and no ssl-client-verify is set", [S.headers]),
  "MTLS-SPOOF-005": a(reachedHi({ "ssl-client-verify": "SUCCESS", "ssl-client-subject-dn": "CN=admin" }, []), "without a certificate the forged ssl-client-verify: SUCCESS and subject reach the backend", [S.headers]),
  "MTLS-SPOOF-006": a(reachedHi({ "ssl-client-verify": "SUCCESS", "ssl-client-subject-dn": "CN=admin" }, []), "without a certificate the forged ssl-client-verify: SUCCESS and subject reach the backend", [S.headers]),
  "MTLS-LIFECYCLE-001": fake("a missing secret", false),
  "MTLS-LIFECYCLE-007": a(INVALID, "a corrupted ca.crt fails the CA: the fake CA refuses the client ingress-nginx still serves with the previous CA (495)", [S.strict]),
  "MTLS-LIFECYCLE-008": fake("a deleted secret", false),
  "MTLS-LIFECYCLE-010": a(REQUIRED, 'no webhook refuses the update (pass-certificate "yes" is not read): verify-client on applies, no certificate gets 496', [S.noWebhook, S.modes]),
  "MTLS-LIFECYCLE-011": a(REQUIRED, "verify-depth is not read, so the negative value blocks nothing: verify-client on applies, no certificate gets 496", [S.noDepthNoCn, S.modes]),
};

function answerOf(s: Scenario, p: Policy): SuccessorAnswer {
  const e = s.expect;
  if (p.tls === false && s.request?.scheme === "http") return a(undefined, "an Ingress without tls: plain HTTP reaches the backend (no redirect, no client certificate on port 80)", [S.redirect]);
  if (e.status === 421) return a(undefined, "421 when SNI and Host disagree", [S.rules]);
  if (e.status === 302) return a({ status: 303, responseHeaders: e.responseHeaders ?? {}, upstream: "not-reached" }, "auth-tls-error-page: 303 to the page", [S.rules]);
  const why = refusal(e);
  if (why === "no-cert") return required("no certificate");
  if (why === "bad-cert") return invalid(`${s.credential}`);
  if (e.upstream === "reached") {
    const mode = p.annotations["auth-tls-verify-client"];
    if (!p.annotations["auth-tls-secret"]) return a(undefined, "no client authentication declared", [S.modes]);
    const noCert = s.credential === "none";
    const extra = mode === "off" || noCert ? {} : s.credential === "client" ? CLIENT_X_SSL : {};
    // Forged ssl-client-* sent by the client pass unchanged.
    const sent = Object.keys(s.request?.headers ?? {});
    return a(reachedHi(extra, CLIENT_HEADERS.filter((h) => !sent.includes(h))), `${mode === "off" ? "off: no certificate asked" : noCert ? "no certificate, as allowed" : "accepted"}; the backend gets X-SSL-Client-* instead of ssl-client-*`, [S.modes, S.headers]);
  }
  throw new Error(`${s.id}: not classified for haproxy-ingress`);
}

export const haproxyIngressProfile: Profile = {
  name: "haproxy-ingress",
  title: "HAProxy Ingress (jcmoraisjr, the auth-tls annotations per host, on HAProxy)",
  rows: [
    {
      versions: ">=0.15.0",
      scenario: derivedRows(answerOf, OVERRIDES),
    },
  ],
};
