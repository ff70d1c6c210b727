// Gateway API frontend client-certificate validation (GEP-91, Standard in v1.5): what the same
// policies become on a Gateway (`spec.tls.frontend`, CA in a ConfigMap, AllowValidOnly unless
// optional_no_ca). Read at kubernetes-sigs/gateway-api v1.5.0 (apis/v1/gateway_types.go, geps/gep-91,
// conformance/). Validation is per port, with no depth, CRL, CN check or header forwarding; a failure is a
// request that fails (the conformance suite's own definition), not an HTTP status.
import type { Expectation, Scenario } from "../catalogue/catalogue.ts";
import { answered, CLIENT_HEADERS, reached, row, staticRow, TLS_REJECTED } from "./expect.ts";
import type { Citation, MigrationClass, Profile, ScenarioClass } from "./profile.ts";
import { guaranteeOf } from "./scenario-guarantee.ts";
import { CITATIONS as C } from "./sources.ts";

const G = "kubernetes-sigs/gateway-api@v1.5.0:";
// The facts the migration report cites too come from sources.ts; the rest only a scenario needs.
export const GATEWAY_SOURCES = {
  frontend: C.gwFrontend,
  failure: C.gwFailure,
  modes: C.gwModes,
  deferred: C.gwDeferred,
  noHeaders: { ref: `${G}apis/v1/gateway_types.go:728-818 no header forwarding in frontend validation`, basis: "code" },
  perPort: C.gwPerPort,
  invalidRef: { ref: `${G}conformance/tests/gateway-with-invalid-clientcertificate-validation.go: InvalidCACertificateRef / RefNotPermitted, NoValidCACertificate, HTTPS fails closed`, basis: "code" },
  redirect: { ref: `helpers/migration/gateway-api.ts: an HTTP listener whose route redirects to https (301, Core in ${G}apis/v1/httproute_types.go HTTPRequestRedirectFilter)`, basis: "code" },
  headerRemove: { ref: `helpers/migration/gateway-api.ts: every route removes client-sent ssl-client-* (RequestHeaderModifier, ${G}apis/v1/httproute_types.go)`, basis: "code" },
  noAnnotations: { ref: "Gateway API has no annotations: the values an ingress-nginx webhook parses have no counterpart", basis: "doc" },
} satisfies Record<string, Citation>;
const S = GATEWAY_SOURCES;

type Entry = [MigrationClass, Expectation | undefined, string, Citation[]];
const ok = reached(undefined, CLIENT_HEADERS);
const rejected = (why: string): Entry => ["equivalent", TLS_REJECTED, `${why}: the handshake fails (AllowValidOnly) instead of nginx's 400`, [S.frontend, S.failure]];
const access = (why: string): Entry => ["equivalent", ok, `${why}: accepted; no ssl-client-* header reaches the backend`, [S.frontend, S.noHeaders]];
const headersLost = (why: string): Entry => ["lost", ok, `${why}: frontend validation forwards no header`, [S.noHeaders, S.headerRemove]];
const depthLost: Entry = ["lost", ok, "no verify-depth: a longer chain is accepted", [S.deferred]];
const noOptional = (why: string): Entry => ["not-expressible", undefined, `${why}: "verify if given" has no mode (AllowValidOnly is stricter, AllowInsecureFallback weaker)`, [S.modes]];
const noValue = (why: string): Entry => ["not-expressible", undefined, `${why}: an annotation value with no Gateway API counterpart`, [S.noAnnotations]];
const perPort = (why: string): Entry => ["not-expressible", undefined, `${why}: per-host client authentication on one port cannot be written`, [S.perPort]];
const redirected: Entry = ["equivalent", answered([301, 302, 308]), "plain HTTP redirected to https by the HTTPRoute", [S.redirect]];
const same = (reason: string, sources: Citation[] = [S.frontend]): Entry => ["same", undefined, reason, sources];

const ROWS: Record<string, Entry> = {
  "MTLS-GUIDE-001": rejected("no certificate"),
  "MTLS-GUIDE-002": headersLost("the subject the guide's backend reads"),
  "MTLS-CLIENT-001": rejected("no certificate"),
  "MTLS-CLIENT-002": access("a valid client"),
  "MTLS-CLIENT-003": rejected("another CA with the same name"),
  "MTLS-CLIENT-004": rejected("an expired certificate"),
  "MTLS-CLIENT-005": rejected("a not yet valid certificate"),
  "MTLS-CLIENT-006": rejected("a self-signed certificate"),
  "MTLS-CLIENT-007": rejected("a chain without its intermediate"),
  "MTLS-CLIENT-008": rejected("a serverAuth-only certificate (implementation-specific; Go and BoringSSL refuse it)"),
  "MTLS-CLIENT-009": access("one intermediate"),
  "MTLS-CLIENT-010": depthLost,
  "MTLS-CLIENT-011": access("two intermediates"),
  "MTLS-CLIENT-012": access("a direct client"),
  "MTLS-CLIENT-013": rejected("no certificate"),
  "MTLS-CLIENT-014": noValue('verify-depth "0"'),
  "MTLS-CLIENT-015": depthLost,
  "MTLS-CLIENT-016": depthLost,
  "MTLS-CLIENT-017": depthLost,
  "MTLS-HEADERS-001": headersLost("ssl-client-cert"),
  "MTLS-HEADERS-002": headersLost("ssl-client-verify"),
  "MTLS-HEADERS-003": headersLost("the subject and issuer DNs"),
  "MTLS-HEADERS-004": headersLost("ssl-client-cert"),
  "MTLS-HEADERS-005": headersLost("ssl-client-verify and the subject"),
  "MTLS-HEADERS-006": headersLost("ssl-client-cert (no X-SSL-Client-Cert either)"),
  "MTLS-MODE-001": access("no validation on the port"),
  "MTLS-MODE-002": access("no validation on the port"),
  "MTLS-MODE-003": noOptional("optional"),
  "MTLS-MODE-004": noOptional("optional"),
  "MTLS-MODE-005": noOptional("optional"),
  "MTLS-MODE-006": noOptional("optional"),
  "MTLS-MODE-007": ["equivalent", ok, "optional_no_ca as AllowInsecureFallback: accepted without a certificate", [S.modes]],
  "MTLS-MODE-008": ["lost", ok, "AllowInsecureFallback accepts, and no header tells the backend the certificate FAILED", [S.modes, S.noHeaders]],
  "MTLS-MODE-009": ["lost", ok, "AllowInsecureFallback accepts, and no header tells the backend the certificate FAILED", [S.modes, S.noHeaders]],
  "MTLS-MODE-010": ["lost", ok, "AllowInsecureFallback accepts, and no header tells the backend the certificate FAILED", [S.modes, S.noHeaders]],
  "MTLS-MODE-011": ["lost", ok, "AllowInsecureFallback accepts an expired certificate; nginx rejects it", [S.modes]],
  "MTLS-MODE-012": noValue('verify-client "ON"'),
  "MTLS-MODE-013": noValue('verify-client "maybe"'),
  "MTLS-MODE-014": noValue('verify-client "maybe"'),
  "MTLS-ERRPAGE-001": ["lost", TLS_REJECTED, "no error page: the handshake fails, no redirect", [S.frontend, S.failure]],
  "MTLS-ERRPAGE-002": ["lost", TLS_REJECTED, "no error page: the handshake fails, no redirect", [S.frontend, S.failure]],
  "MTLS-ERRPAGE-003": access("a valid client"),
  "MTLS-MATCHCN-001": access("no CN check"),
  "MTLS-MATCHCN-002": ["lost", ok, "no CN check: any certificate of the CA is accepted", [S.deferred]],
  "MTLS-MATCHCN-003": ["lost", ok, "no CN check: any certificate of the CA is accepted", [S.deferred]],
  "MTLS-MATCHCN-004": access("no CN check (the finding becomes: nothing is checked)"),
  "MTLS-MATCHCN-005": access("no CN check"),
  "MTLS-MATCHCN-006": access("no CN check"),
  "MTLS-MATCHCN-007": rejected("an expired certificate"),
  "MTLS-MATCHCN-008": noValue("match-cn without a CA"),
  "MTLS-MATCHCN-009": redirected,
  "MTLS-CRL-001": ["lost", ok, "no CRL in frontend validation: a revoked certificate is accepted", [S.deferred]],
  "MTLS-CRL-002": access("an unrevoked certificate"),
  "MTLS-CRL-003": ["lost", ok, "no CRL: nothing requires one per CA", [S.deferred]],
  "MTLS-CRL-004": ["lost", ok, "no CRL: an expired one refuses nobody", [S.deferred]],
  "MTLS-TRANSPORT-001": perPort("a public host beside an mTLS host"),
  "MTLS-TRANSPORT-002": perPort("SNI of a public host, Host of an mTLS host"),
  "MTLS-TRANSPORT-005": perPort("SNI of a verify-off host, Host of an mTLS host"),
  "MTLS-TRANSPORT-006": rejected("an unknown SNI on the validated port with a valid client"),
  "MTLS-TRANSPORT-007": rejected("no SNI on the validated port"),
  "MTLS-TRANSPORT-003": redirected,
  "MTLS-TRANSPORT-008": redirected,
  "MTLS-TRANSPORT-004": same("an HTTP listener carrying the route is not validated (the finding stands)", [S.frontend]),
  "MTLS-ISOLATION-001": rejected("the whole port is validated, the open path too"),
  "MTLS-ISOLATION-002": access("the secure path"),
  "MTLS-ISOLATION-003": rejected("a missing CA: NoValidCACertificate, the port fails closed"),
  "MTLS-ISOLATION-004": ["stricter", TLS_REJECTED, "hosts sharing the port of a broken CA reference fail with it, unless each has its own port", [S.invalidRef, S.perPort]],
  "MTLS-ISOLATION-005": rejected("no certificate"),
  "MTLS-ISOLATION-006": perPort("two CAs for two paths of one host"),
  "MTLS-ISOLATION-007": perPort("two CAs for two paths of one host"),
  "MTLS-ISOLATION-008": redirected,
  "MTLS-LIFECYCLE-001": rejected("a missing CA: NoValidCACertificate, fail closed"),
  "MTLS-LIFECYCLE-002": access("a created CA"),
  "MTLS-LIFECYCLE-003": rejected("no certificate"),
  "MTLS-LIFECYCLE-004": rejected("the old CA's client after rotation"),
  "MTLS-LIFECYCLE-005": access("the new CA's client"),
  "MTLS-LIFECYCLE-007": ["stricter", TLS_REJECTED, "a ca.crt that is not a certificate: NoValidCACertificate, fail closed (nginx keeps the previous CA)", [S.invalidRef]],
  "MTLS-LIFECYCLE-008": rejected("a deleted CA: fail closed"),
  "MTLS-LIFECYCLE-009": access("a restored CA"),
  "MTLS-LIFECYCLE-006": access("validation removed"),
  "MTLS-LIFECYCLE-010": noValue('pass-certificate "yes"'),
  "MTLS-LIFECYCLE-011": noValue("verify-depth -1"),
  "MTLS-LIFECYCLE-012": noValue("verify-depth"),
  "MTLS-SPOOF-001": rejected("no certificate, forged header"),
  "MTLS-SPOOF-002": headersLost("the real subject is not passed; the forged one is removed"),
  "MTLS-SPOOF-003": headersLost("the certificate is not passed; the forged one is removed"),
  "MTLS-SPOOF-004": ["stricter", ok, "the translation removes client-sent ssl-client-* headers", [S.headerRemove]],
  "MTLS-SPOOF-005": noOptional("optional"),
  "MTLS-SPOOF-006": ["equivalent", ok, "AllowInsecureFallback, the forged headers removed by the translation", [S.modes, S.headerRemove]],
  "MTLS-SPOOF-007": same("a host without client authentication passes forged headers (the finding stands)", [S.noHeaders]),
  "MTLS-ADMISSION-001": noValue('pass-certificate "yes"'),
  "MTLS-ADMISSION-002": noValue("an error page with a query"),
  "MTLS-ADMISSION-003": noValue("match-cn without CN="),
  "MTLS-ADMISSION-004": noValue("match-cn outside RE2"),
  "MTLS-ADMISSION-005": noValue("a secret name with bad characters"),
  "MTLS-ADMISSION-006": noValue('verify-client " off "'),
  "MTLS-ADMISSION-007": noValue('verify-depth "+2"'),
  "MTLS-ADMISSION-008": noValue('verify-depth " 2"'),
  "MTLS-ADMISSION-009": noValue('pass-certificate "True"'),
  "MTLS-ADMISSION-010": noValue('pass-certificate "1"'),
  "MTLS-SECRETS-001": rejected("garbage in ca.crt: InvalidCACertificateRef, fail closed"),
  "MTLS-SECRETS-002": ["lost", ok, "no CRL: a broken ca.crl is not read, the host is served", [S.deferred]],
  "MTLS-SECRETS-003": ["lost", ok, "no CRL: a broken ca.crl is not read, the host is served", [S.deferred]],
  "MTLS-SECRETS-004": access("other hosts"),
  "MTLS-SECRETS-005": rejected("a cross-namespace CA without a ReferenceGrant: RefNotPermitted, fail closed"),
};

function classify(s: Scenario): ScenarioClass {
  const lint = staticRow(s);
  if (lint) return lint;
  const e = ROWS[s.id];
  if (!e) throw new Error(`${s.id}: not classified for gateway-api`);
  return row(e[0], guaranteeOf(s), e[1], e[2], e[3]);
}

export const gatewayApiProfile: Profile = {
  name: "gateway-api",
  title: "Gateway API frontend validation (v1.5+, core)",
  rows: [{ versions: ">=1.5.0", scenario: classify }],
};
