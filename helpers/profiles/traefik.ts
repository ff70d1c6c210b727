// Traefik's kubernetesIngressNGINX provider: what it does with every catalogue scenario.
// Read at traefik/traefik v3.7.9 (pkg/provider/kubernetes/ingress-nginx and the docs; the lines below were
// re-read at that tag). Rows for >=3.7.2 (the default, what --controller traefik deploys),
// 3.7.0-3.7.1 (client-sent Ssl-Client-* kept without a certificate) and <3.7.0 (no auth-tls at all).
import type { Expectation, Policy, Scenario } from "../catalogue/catalogue.ts";
import { answered, CLIENT_HEADERS, hasDnHeader, inGoDnOrder, reached, row, staticRow, TLS_REJECTED } from "./expect.ts";
import type { Citation, MigrationClass, Profile, ScenarioClass } from "./profile.ts";
import { guaranteeOf } from "./scenario-guarantee.ts";
import { CITATIONS as C } from "./sources.ts";

const T = "traefik/traefik@v3.7.9:";
const P = `${T}pkg/provider/kubernetes/ingress-nginx/`;
// The facts the migration report cites too come from sources.ts; the rest only a scenario needs.
export const TRAEFIK_SOURCES = {
  handshake: C.traefikHandshake,
  verifyClient: C.traefikClientAuthType,
  goVerify: { ref: "go crypto/tls handshake_server.go processCertsFromClient: chain verified against ClientCAs with ExtKeyUsageClientAuth", basis: "code" },
  depth: C.traefikDepth,
  errorPage: C.traefikErrorPage,
  matchCn: C.traefikMatchCn,
  crl: C.traefikNoCrl,
  headers: C.traefikHeaders,
  headersOnlyWithPass: C.traefikPassCertOnly,
  passBool: { ref: `${P}annotations.go:155-157 a bool annotation is strings.EqualFold(value, "true")`, basis: "code" },
  goDn: C.traefikDnOrder,
  noCaKeyUsage: C.traefikNoCaKeyUsage,
  sharedHost: C.traefikAggregator,
  sniCheck: { ref: `${T}pkg/middlewares/snicheck/snicheck.go:26-43 421 when the SNI's TLS options differ from the Host's`, basis: "code" },
  skipIngress: { ref: `${P}build.go:345-357,824-855 an unusable, cross-namespace or CA-less auth-tls-secret skips the whole Ingress`, basis: "code" },
  badCa: { ref: `${T}pkg/tls/tlsmanager.go:227-240,449-462 a ca.crt that is not PEM fails the TLS options; pkg/server/router/tcp/manager.go:182-196 and router.go:275-290,351-356 the host's TLS connections then go to brokenTLSRouter, which closes them at once`, basis: "code" },
  redirect: { ref: `${P}middleware.go:46-54, translator.go:396-399 ssl-redirect as RedirectScheme permanent: 308`, basis: "code" },
  redirectLocation: { ref: `${T}pkg/middlewares/redirect/redirect_scheme.go:20-60,64-95 and redirect.go:60-110 Location is https:// + host + the request URI as sent: a trailing slash is kept`, basis: "code" },
  noWebhook: { ref: "Traefik has no admission webhook: an Ingress ingress-nginx's webhook refuses is served", basis: "inferred" },
  clearedSince372: C.traefikHeaderFix,
  before37: C.traefikPre37,
} satisfies Record<string, Citation>;
const S = TRAEFIK_SOURCES;

/** Closed at once, neither alert nor answer: brokenTLSRouter. */
const CLOSED: Expectation = { transport: "connection-closed", upstream: "not-reached" };

type Entry = [MigrationClass, Expectation | "dn" | undefined, string, Citation[]];
const ok200 = reached({ "ssl-client-verify": "SUCCESS" });
const rejected = (why: string): Entry => ["equivalent", TLS_REJECTED, `${why}: refused in the TLS handshake instead of nginx's 400`, [S.handshake, S.verifyClient, S.goVerify]];
const depthLost: Entry = ["lost", ok200, "verify-depth is not read: Go accepts a chain of any length", [S.depth]];
const same = (reason: string, sources: Citation[] = [S.verifyClient]): Entry => ["same", undefined, reason, sources];
const dn = (reason: string): Entry => ["equivalent", "dn", `${reason}; the DN arrives in Go's order (compared as an attribute set)`, [S.headers, S.goDn]];

/** Traefik >= 3.7.2, per scenario. */
const ROWS: Record<string, Entry> = {
  "MTLS-GUIDE-001": rejected("no certificate"),
  "MTLS-GUIDE-002": dn("accepted with Ssl-Client-Subject-Dn"),
  "MTLS-CLIENT-001": rejected("no certificate"),
  "MTLS-CLIENT-002": same("accepted, Ssl-Client-Verify: SUCCESS", [S.verifyClient, S.headers]),
  "MTLS-CLIENT-003": rejected("a same-name certificate of another CA"),
  "MTLS-CLIENT-004": rejected("an expired certificate"),
  "MTLS-CLIENT-005": rejected("a not yet valid certificate"),
  "MTLS-CLIENT-006": rejected("a self-signed certificate"),
  "MTLS-CLIENT-007": rejected("a chain without its intermediate"),
  "MTLS-CLIENT-008": rejected("a serverAuth-only certificate"),
  "MTLS-CLIENT-009": dn("one intermediate accepted, issuer DN passed"),
  "MTLS-CLIENT-010": depthLost,
  "MTLS-CLIENT-011": dn("two intermediates accepted at depth 2"),
  "MTLS-CLIENT-012": same("a direct client accepted"),
  "MTLS-CLIENT-013": rejected("no certificate"),
  "MTLS-CLIENT-014": same("one intermediate accepted (no depth limit at all)", [S.depth]),
  "MTLS-CLIENT-015": depthLost,
  "MTLS-CLIENT-016": depthLost,
  "MTLS-CLIENT-017": depthLost,
  "MTLS-HEADERS-001": same("Ssl-Client-Cert is the leaf's PEM, query-escaped; it percent-decodes to the leaf", [S.headers]),
  "MTLS-HEADERS-002": same("Ssl-Client-Verify: SUCCESS", [S.headers]),
  "MTLS-HEADERS-003": dn("subject and issuer passed"),
  "MTLS-HEADERS-004": same("the leaf alone", [S.headers]),
  "MTLS-HEADERS-005": ["lost", reached(undefined, CLIENT_HEADERS), "without pass-certificate-to-upstream no Ssl-Client-* header is set: the backend loses the verify result and the subject", [S.headersOnlyWithPass]],
  "MTLS-HEADERS-006": same("no X-SSL-Client-Cert either", [S.headers]),
  "MTLS-MODE-001": same("off: no certificate asked, Ssl-Client-Verify: NONE", [S.verifyClient, S.headers]),
  "MTLS-MODE-002": same("off: the certificate is not asked for", [S.verifyClient, S.headers]),
  "MTLS-MODE-003": same("optional maps to VerifyClientCertIfGiven", [S.verifyClient, S.headers]),
  "MTLS-MODE-004": dn("optional, a valid certificate"),
  "MTLS-MODE-005": rejected("optional, a self-signed certificate"),
  "MTLS-MODE-006": rejected("optional, an expired certificate"),
  "MTLS-MODE-007": same("optional_no_ca maps to RequestClientCert", [S.verifyClient, S.headers]),
  "MTLS-MODE-008": same("optional_no_ca: Ssl-Client-Verify FAILED:<Go error>", [S.headers]),
  "MTLS-MODE-009": same("optional_no_ca: FAILED:", [S.headers]),
  "MTLS-MODE-010": same("optional_no_ca: FAILED:", [S.headers]),
  "MTLS-MODE-011": ["lost", { status: 200, upstream: "reached", upstreamHeaders: { prefixes: { "ssl-client-verify": "FAILED:" } } }, "optional_no_ca lets an expired certificate through (only the header says FAILED); nginx rejects it with 400", [S.verifyClient, S.headers, S.noCaKeyUsage]],
  "MTLS-MODE-012": rejected('"ON" is not a known value: RequireAndVerifyClientCert'),
  "MTLS-MODE-013": rejected('"maybe" is not a known value: RequireAndVerifyClientCert'),
  "MTLS-MODE-014": same('"maybe" acts as on: a valid client accepted'),
  "MTLS-ERRPAGE-001": ["lost", TLS_REJECTED, "the error page is ignored: refused in the handshake, no redirect", [S.errorPage, S.handshake]],
  "MTLS-ERRPAGE-002": ["lost", TLS_REJECTED, "the error page is ignored: refused in the handshake, no redirect", [S.errorPage, S.handshake]],
  "MTLS-ERRPAGE-003": same("a valid client accepted"),
  "MTLS-MATCHCN-001": same("a matching CN accepted (nothing is checked)", [S.matchCn]),
  "MTLS-MATCHCN-002": ["lost", ok200, "match-cn is ignored: any certificate of the CA is accepted", [S.matchCn]],
  "MTLS-MATCHCN-003": ["lost", ok200, "match-cn is ignored: any certificate of the CA is accepted", [S.matchCn]],
  "MTLS-MATCHCN-004": same("accepted, as the substring pitfall is (the finding stands: no CN check at all)", [S.matchCn]),
  "MTLS-MATCHCN-005": same("accepted", [S.matchCn]),
  "MTLS-MATCHCN-006": same("accepted", [S.matchCn]),
  "MTLS-MATCHCN-007": rejected("an expired certificate"),
  "MTLS-MATCHCN-008": ["equivalent", answered(404), "a secret without ca.crt skips the whole Ingress: 404 instead of 403", [S.skipIngress]],
  "MTLS-MATCHCN-009": ["equivalent", answered(308), "plain HTTP is redirected (308) before any CN check; nginx answers 403", [S.redirect, S.matchCn]],
  "MTLS-CRL-001": ["lost", ok200, "ca.crl is never read: a revoked certificate is accepted", [S.crl]],
  "MTLS-CRL-002": same("an unrevoked certificate accepted", [S.crl]),
  "MTLS-CRL-003": ["lost", ok200, "ca.crl is never read: a chain whose intermediate has no CRL is accepted", [S.crl]],
  "MTLS-CRL-004": ["lost", ok200, "ca.crl is never read: an expired CRL does not refuse anyone", [S.crl]],
  "MTLS-TRANSPORT-001": same("a host without auth-tls stays open", [S.sniCheck]),
  "MTLS-TRANSPORT-002": same("421 from the SNI check", [S.sniCheck]),
  "MTLS-TRANSPORT-005": same("421 from the SNI check", [S.sniCheck]),
  "MTLS-TRANSPORT-006": ["equivalent", answered(421), "an unknown SNI gets the default TLS options, which differ from the Host's: 421", [S.sniCheck]],
  "MTLS-TRANSPORT-007": ["equivalent", answered(421), "no SNI gets the default TLS options, which differ from the Host's: 421", [S.sniCheck]],
  "MTLS-TRANSPORT-003": ["equivalent", { status: 308, responseHeaders: { location: "https://test.localdev.me/" }, upstream: "not-reached" }, "308 to https, the request URI kept as sent (https://test.localdev.me/; ingress-nginx drops the trailing slash)", [S.redirect, S.redirectLocation]],
  "MTLS-TRANSPORT-008": ["equivalent", { status: 308, responseHeaders: { location: "https://test.localdev.me/docs/page/" }, upstream: "not-reached" }, "308 to https, path kept with its trailing slash (ingress-nginx drops it)", [S.redirect, S.redirectLocation]],
  "MTLS-TRANSPORT-004": same("without tls: the HTTP router reaches the backend (the finding stands)", [S.redirect]),
  "MTLS-ISOLATION-001": ["lost", reached(), "a host shared by Ingresses with different TLS options gets the default options: no client authentication", [S.sharedHost]],
  "MTLS-ISOLATION-002": ["lost", reached({ "ssl-client-verify": "NONE" }), "the shared host has no client authentication: the certificate is not even asked for", [S.sharedHost, S.headers]],
  "MTLS-ISOLATION-003": ["lost", reached(), "the Ingress with the missing secret is skipped; the other Ingress on the host stays open (nginx denies the whole host)", [S.skipIngress]],
  "MTLS-ISOLATION-004": dn("other hosts unaffected"),
  "MTLS-ISOLATION-005": rejected("no certificate"),
  "MTLS-ISOLATION-006": ["lost", reached({ "ssl-client-verify": "NONE" }), "two CAs on one host: different TLS options, so the default options and no client authentication", [S.sharedHost]],
  "MTLS-ISOLATION-007": ["lost", reached({ "ssl-client-verify": "NONE" }), "two CAs on one host: no client authentication (the certificate is not asked for)", [S.sharedHost]],
  "MTLS-ISOLATION-008": ["lost", answered(308), "the broken Ingress is skipped; the open Ingress's HTTP router redirects instead of nginx's whole-host 403", [S.skipIngress, S.redirect]],
  "MTLS-LIFECYCLE-001": ["equivalent", answered(404), "a missing secret skips the Ingress: 404 instead of 403", [S.skipIngress]],
  "MTLS-LIFECYCLE-002": same("created secret: the Ingress is served (Secret informer)", [S.skipIngress]),
  "MTLS-LIFECYCLE-003": rejected("no certificate"),
  "MTLS-LIFECYCLE-004": rejected("the old CA's client after rotation"),
  "MTLS-LIFECYCLE-005": dn("the new CA's client after rotation"),
  "MTLS-LIFECYCLE-007": ["stricter", CLOSED, "a ca.crt that is not a certificate fails the TLS options: the host's connections are closed at once; nginx keeps serving the previous CA", [S.badCa]],
  "MTLS-LIFECYCLE-008": ["equivalent", answered(404), "a deleted secret skips the Ingress: 404 instead of 403", [S.skipIngress]],
  "MTLS-LIFECYCLE-009": dn("a restored secret heals"),
  "MTLS-LIFECYCLE-006": same("on to off: no certificate asked"),
  "MTLS-LIFECYCLE-010": ["stricter", TLS_REJECTED, 'no webhook refuses pass-certificate "yes": verify-client on applies, so no certificate is refused', [S.noWebhook, S.passBool, S.handshake]],
  "MTLS-LIFECYCLE-011": ["stricter", TLS_REJECTED, "a negative verify-depth elsewhere blocks nothing (depth is not read): verify-client on applies", [S.depth, S.handshake]],
  "MTLS-LIFECYCLE-012": rejected("no certificate"),
  "MTLS-SPOOF-001": rejected("no certificate, forged header"),
  "MTLS-SPOOF-002": dn("forged subject and verify overwritten (Set)"),
  "MTLS-SPOOF-003": same("a forged Ssl-Client-Cert overwritten", [S.headers]),
  "MTLS-SPOOF-004": ["lost", reached({ "ssl-client-cert": "forged-by-client" }, ["ssl-client-verify"]), "without pass-certificate nothing overwrites the forged header (the finding stands), and no Ssl-Client-Verify is set: the backend loses the verify result", [S.headersOnlyWithPass]],
  "MTLS-ADMISSION-001": ["equivalent", reached(undefined, ["ssl-client-cert"]), 'no webhook: pass-certificate "yes" is false, the Ingress is served with client authentication', [S.noWebhook, S.passBool]],
  "MTLS-ADMISSION-002": ["equivalent", TLS_REJECTED, "no webhook: the Ingress is served, the error page ignored, no certificate refused", [S.noWebhook, S.errorPage, S.handshake]],
  "MTLS-ADMISSION-003": ["lost", ok200, "no webhook refuses the match-cn, which is ignored: any client of the CA is accepted", [S.noWebhook, S.matchCn]],
  "MTLS-ADMISSION-004": ["lost", ok200, "no webhook refuses the match-cn, which is ignored: any client of the CA is accepted", [S.noWebhook, S.matchCn]],
  "MTLS-ADMISSION-005": same("the secret name resolves to no secret: the Ingress is skipped, 404", [S.skipIngress]),
  "MTLS-ADMISSION-006": ["stricter", TLS_REJECTED, '" off " is not trimmed: not a known value, so RequireAndVerifyClientCert', [S.verifyClient, S.handshake]],
  "MTLS-ADMISSION-007": same("two intermediates accepted (no depth limit)", [S.depth]),
  "MTLS-ADMISSION-008": depthLost,
  "MTLS-ADMISSION-009": same('"True" is true (EqualFold): the leaf is passed', [S.passBool, S.headers]),
  "MTLS-ADMISSION-010": ["lost", reached(undefined, ["ssl-client-cert"]), '"1" is not "true" for Traefik: no certificate header', [S.passBool, S.headersOnlyWithPass]],
  "MTLS-SECRETS-001": ["equivalent", CLOSED, "garbage in ca.crt fails the TLS options: the host's connections are closed at once, where nginx denies with 403", [S.badCa]],
  "MTLS-SECRETS-002": ["lost", ok200, "ca.crl is never read, so a broken one denies nothing: the host is served", [S.crl]],
  "MTLS-SECRETS-003": ["lost", ok200, "ca.crl is never read, so a broken one denies nothing: the host is served", [S.crl]],
  "MTLS-SECRETS-004": dn("other hosts unaffected"),
  "MTLS-SECRETS-005": ["equivalent", answered(404), "a cross-namespace secret skips the Ingress: 404 instead of 403", [S.skipIngress]],
  "MTLS-SPOOF-005": same("optional without a certificate: Ssl-Client-Verify NONE, the forged ones deleted", [S.headers, S.clearedSince372]),
  "MTLS-SPOOF-006": same("optional_no_ca without a certificate: NONE, the forged ones deleted", [S.headers, S.clearedSince372]),
  "MTLS-SPOOF-007": same("a host without auth-tls passes forged headers (the finding stands)", [S.headersOnlyWithPass]),
};

function fromEntry(s: Scenario, e: Entry | undefined): ScenarioClass {
  const lint = staticRow(s);
  if (lint) return lint;
  if (!e) throw new Error(`${s.id}: not classified for traefik`);
  const [klass, expect, reason, sources] = e;
  if (expect === "dn" && !hasDnHeader(s.expect)) throw new Error(`${s.id}: an rdn-set row for a scenario without a DN header`);
  return row(klass, guaranteeOf(s), expect === "dn" ? inGoDnOrder(s.expect) : expect, reason, sources);
}

const hasAuthTls = (p: Policy) => p.annotations["auth-tls-secret"] !== undefined;

/** Before 3.7.0 no auth-tls annotation is read: the Ingress is served without client authentication. */
function before37(s: Scenario, p: Policy): ScenarioClass {
  const g = guaranteeOf(s);
  const lint = staticRow(s);
  if (lint) return lint;
  if (!hasAuthTls(p) && !s.policy.startsWith("shared") && !s.policy.startsWith("broken")) return row("same", g, undefined, "no auth-tls declared", [S.before37]);
  if (s.request?.scheme === "http") return s.expect.status === 308 ? row("same", g, undefined, "308 to https", [S.redirect]) : row("lost", g, answered(308), "no client-certificate policy: plain HTTP is redirected", [S.before37, S.redirect]);
  const rejects = s.expect.upstream === "not-reached";
  const headers = Object.keys(s.expect.upstreamHeaders?.headers ?? {}).length > 0 || s.expect.upstreamHeaders?.clientCertIsPresentedLeaf;
  if (!rejects && !headers) return row("same", g, undefined, "reached, as without client authentication", [S.before37]);
  return row("lost", g, reached(undefined, ["ssl-client-verify"]), "auth-tls annotations are not read before 3.7.0: no certificate asked, no header set", [S.before37]);
}

/** 3.7.0-3.7.1: as 3.7.2, but a client-sent Ssl-Client-* reaches the backend when no certificate is presented. */
function before372(s: Scenario): ScenarioClass {
  if (s.id === "MTLS-SPOOF-005" || s.id === "MTLS-SPOOF-006") {
    return row("lost", guaranteeOf(s), reached({ "ssl-client-verify": "NONE", "ssl-client-subject-dn": "CN=admin" }), "without a certificate the forged Ssl-Client-Subject-Dn reaches the backend (fixed in 3.7.2)", [S.clearedSince372]);
  }
  return fromEntry(s, ROWS[s.id]);
}

export const traefikProfile: Profile = {
  name: "traefik",
  title: "Traefik kubernetesIngressNGINX provider",
  rows: [
    { versions: ">=3.7.2", scenario: (s) => fromEntry(s, ROWS[s.id]) },
    { versions: "3.7.0-3.7.1", scenario: before372 },
    { versions: "<3.7.0", scenario: before37 },
  ],
};
