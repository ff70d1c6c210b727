// NGINX Gateway Fabric v2.6.7: Gateway API frontend validation (the gateway-api profile's rows, on
// the translation helpers/migration/gateway-api.ts writes) as NGF renders it onto nginx. Where the
// generic rows say "the handshake fails", NGF's nginx completes the handshake and, for a client
// AllowValidOnly refuses, answers the request with `return 444`: the connection is closed without
// an answer. Only the port's default server refuses handshakes (`ssl_reject_handshake on`): an
// unknown or absent SNI, or a listener NGF did not program (an invalid CA reference).
import type { Expectation, Policy, Scenario } from "../catalogue/catalogue.ts";
import { CLIENT_HEADERS } from "./expect.ts";
import { gatewayApiProfile } from "./gateway-api.ts";
import type { Citation, Profile, ScenarioClass } from "./profile.ts";

const N = "nginx/nginx-gateway-fabric@v2.6.7:";
export const NGF_SOURCES = {
  closed: { ref: `${N}internal/controller/nginx/config/servers_template.go:105-119 AllowValidOnly: ssl_verify_client on, ssl_verify_depth 4, error_page 495 496 = @frontend_tls_verify_failed, which returns 444 (the connection closed, nothing sent)`, basis: "code" },
  defaultServer: { ref: `${N}internal/controller/nginx/config/servers_template.go:7-57 the port's default SSL server has no certificate: ssl_reject_handshake on`, basis: "code" },
  notProgrammed: { ref: `${N}internal/controller/state/graph/gateway_listener.go:869-926 an invalid caCertificateRef (or one RefNotPermitted) leaves the listener unprogrammed; only the default server answers`, basis: "code" },
  depth4: { ref: `${N}internal/controller/nginx/config/servers_template.go:115 ssl_verify_depth 4, hard-coded`, basis: "code" },
} satisfies Record<string, Citation>;

const CLOSED: Expectation = { transport: "connection-closed", upstream: "not-reached" };
const HANDSHAKE: Expectation = { transport: "tls-rejected", upstream: "not-reached" };
const OK: Expectation = { status: 200, upstream: "reached" };
const T = "helpers/migration/gateway-api.ts (the translation): ";
const NOT_TRANSLATED: Citation = { ref: `${T}a host ingress-nginx denies (403 for an unusable Secret) gets no Gateway: nothing serves it, and the port's default server refuses the handshake`, basis: "code" };
const NGINX_NO_CA: Citation = { ref: "nginx/nginx@release-1.22.1:src/event/ngx_event_openssl.h:243-248 and src/http/ngx_http_request.c:2056-2071 (optional_no_ca forgives only issuer errors: an expired certificate is 400, as with ingress-nginx); observed on nginx 1.22.1 with OpenSSL 3.0", basis: "code" };

/** Where NGF (on the translation) differs from the generic Gateway API row, each with why. */
const OVERRIDES: Record<string, Omit<ScenarioClass, "guarantee">> = {
  "MTLS-MODE-011": { class: "same", reason: "AllowInsecureFallback is nginx's optional_no_ca, which still refuses an expired certificate with 400", sources: [NGINX_NO_CA] },
  "MTLS-SECRETS-002": { class: "equivalent", expect: HANDSHAKE, reason: "ingress-nginx denies the host for its unusable ca.crl; the translation writes no Gateway for it, so the handshake is refused", sources: [NOT_TRANSLATED, NGF_SOURCES.defaultServer] },
  "MTLS-SECRETS-003": { class: "equivalent", expect: HANDSHAKE, reason: "ingress-nginx denies the host for its unusable ca.crl; the translation writes no Gateway for it, so the handshake is refused", sources: [NOT_TRANSLATED, NGF_SOURCES.defaultServer] },
  "MTLS-ISOLATION-008": { class: "equivalent", expect: { status: 404, upstream: "not-reached" }, reason: "the denied host has no Gateway: its port 80 answers 404 from the default server, not 403", sources: [NOT_TRANSLATED] },
  "MTLS-ISOLATION-004": { class: "equivalent", expect: { ...OK, upstreamHeaders: { absent: CLIENT_HEADERS } }, reason: "the translation gives every host a Gateway of its own: a broken CA reference on one does not touch the others (no ssl-client-* header reaches the backend, as nowhere on Gateway API)", sources: [{ ref: `${T}a Gateway per host with client auth`, basis: "code" }] },
};

/** The scenarios whose refusal is a handshake refused by the default server, not a 444. */
const HANDSHAKE_REFUSED = new Set(["MTLS-TRANSPORT-006", "MTLS-TRANSPORT-007", "MTLS-ISOLATION-003", "MTLS-ISOLATION-004", "MTLS-LIFECYCLE-001", "MTLS-LIFECYCLE-007", "MTLS-LIFECYCLE-008", "MTLS-SECRETS-001", "MTLS-SECRETS-005"]);

function classify(s: Scenario, p: Policy): ScenarioClass {
  const base = gatewayApiProfile.rows[0]!.scenario(s, p);
  const o = OVERRIDES[s.id];
  if (o) return { ...o, guarantee: base.guarantee, ...(o.class === "same" ? { expect: undefined } : {}) } as ScenarioClass;
  if (base.expect?.transport !== "tls-rejected") return base;
  if (HANDSHAKE_REFUSED.has(s.id)) return { ...base, reason: `${base.reason} (NGF: the port's default server refuses the handshake)`, sources: [...base.sources, s.id.startsWith("MTLS-TRANSPORT-") ? NGF_SOURCES.defaultServer : NGF_SOURCES.notProgrammed] };
  const reason = base.reason.replace(/the handshake fails( \(AllowValidOnly\))?|fails the TLS handshake/g, "nginx closes the connection without an answer (444)");
  return { ...base, expect: CLOSED, reason, sources: [...base.sources, NGF_SOURCES.closed] };
}

export const nginxGatewayFabricProfile: Profile = {
  name: "nginx-gateway-fabric",
  title: "NGINX Gateway Fabric (Gateway API frontend validation on nginx)",
  rows: [{ versions: ">=2.6.0", scenario: classify }],
};
