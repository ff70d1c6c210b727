// F5 NGINX Ingress Controller (nginx/kubernetes-ingress v5.5.4): the Ingresses translated as a
// migrating person writes them (a Policy with spec.ingressMTLS per Ingress with client auth, the
// effective verify-client and verify-depth ingress-nginx enforces, the CA Secret as type
// nginx.org/ca, the Ingress pointing at the Policy with nginx.org/policies; see
// helpers/controllers/f5-nginx-ingress/translate.ts), and what F5 NIC answers. It renders the same
// four nginx directives at server level, so nginx refuses as for ingress-nginx (400); what is lost
// is what F5 has no field for: the error page, match-cn, every ssl-client-* header. A Policy it
// cannot use answers 500 on every request of the Ingress. The class of each row follows from its
// answer (derive.ts).
import type { Expectation, Policy, Scenario } from "../catalogue/catalogue.ts";
import { answer, derivedRows, type SuccessorAnswer } from "./derive.ts";
import { answered, CLIENT_HEADERS, TLS_REJECTED } from "./expect.ts";
import type { Citation, Profile } from "./profile.ts";

const V = "nginx/kubernetes-ingress@v5.5.4:";
export const F5_SOURCES = {
  stanza: { ref: `${V}internal/configs/version1/nginx.ingress.tmpl:80-87 (ssl_client_certificate, ssl_crl, ssl_verify_client, ssl_verify_depth at server level; no error_page, no $ssl_client_verify check: nginx's own 400)`, basis: "code" },
  defaults: { ref: `${V}internal/configs/policy.go:490-525 (verifyDepth 1, verifyClient on; ssl_crl from the secret's ca.crl or crlFileName)`, basis: "code" },
  noHeaders: { ref: `${V}internal/configs/version1/nginx.ingress.tmpl:381-390 (the proxy_set_header lines: Host, X-Real-IP, X-Forwarded-*; no ssl-client-* set or cleared) and internal/configs/version1/header_parsing_helper.go:40-42 (nginx.org/proxy-set-headers refuses $)`, basis: "code" },
  noField: { ref: `${V}pkg/apis/configuration/v1/types.go:936-945 (IngressMTLS: clientCertSecret, crlFileName, verifyClient, verifyDepth: no error page, no CN match)`, basis: "code" },
  error500: { ref: `${V}internal/configs/policy.go:459-488,1223-1233 and internal/configs/version1/nginx.ingress.tmpl:110-112 (a missing or invalid Policy, a secret missing, of the wrong type or without a parseable ca.crt, or an Ingress without spec.tls: return 500 in every server of the Ingress, before the redirect)`, basis: "code" },
  defaultServer: { ref: `${V}internal/configs/configurator.go:425-454 and cmd/nginx-ingress/main.go:688-711 (without a default TLS secret the default server has ssl_reject_handshake on)`, basis: "code" },
  redirect: { ref: `${V}internal/configs/version1/nginx.ingress.tmpl:164-185 and internal/configs/config_params.go:266-267 (ssl-redirect on by default: return 301 https://$host:443$request_uri)`, basis: "code" },
  collision: { ref: `${V}internal/k8s/configuration.go:54-60,1658-1673 (one Ingress per host: the oldest wins, a tie goes to the larger UID; the other's rules for the host are not served). Created in the same second, the winner depends on UIDs: the emulation and this row take the Ingress ingress-nginx orders first`, basis: "inferred" },
  crossNamespace: { ref: `${V}internal/k8s/policies/policy_refs.go:11-29 and internal/configs/policy.go:469 (nginx.org/policies may name ns/policy; the CA secret is read in the Policy's namespace)`, basis: "code" },
  crlNotValidated: { ref: `${V}internal/k8s/secrets/validation.go:76-99 (ca.crl is not validated): nginx then cannot load it and the configuration is not applied; the Ingress is left out, its host meets the default server`, basis: "inferred" },
  translation: { ref: "helpers/controllers/f5-nginx-ingress/translate.ts: the Policy carries ingress-nginx's effective verify-client and verify-depth; pass-certificate, the error page and match-cn have no field", basis: "code" },
  noWebhook: { ref: "F5 NIC has no admission webhook for these annotations: the translated Ingress is served", basis: "inferred" },
} satisfies Record<string, Citation>;
const S = F5_SOURCES;

const OK: Expectation = { status: 200, upstream: "reached", upstreamHeaders: { absent: CLIENT_HEADERS } };
const reachedKeeping = (sent: Record<string, string>): Expectation => {
  const absent = CLIENT_HEADERS.filter((h) => !(h in sent));
  return { status: 200, upstream: "reached", upstreamHeaders: { ...(Object.keys(sent).length ? { headers: sent } : {}), ...(absent.length ? { absent } : {}) } };
};
const E500 = answered(500);
const NO_CERT_400: Expectation = { status: 400, bodyIncludes: "No required SSL certificate was sent", upstream: "not-reached" };
const BAD_CERT_400: Expectation = { status: 400, bodyIncludes: "The SSL certificate error", upstream: "not-reached" };

const a = answer;
const policyError = (why: string, ...more: Citation[]) => a(E500, `${why}: the Policy cannot be used, so every request of the Ingress gets 500`, [S.error500, ...more]);
const matchCnLost = a(OK, "no CN match in ingressMTLS: any certificate the CA issued passes", [S.noField]);

const OVERRIDES: Record<string, SuccessorAnswer> = {
  "MTLS-ERRPAGE-001": a(NO_CERT_400, "no error page in ingressMTLS: nginx's 400, no redirect", [S.noField, S.stanza]),
  "MTLS-ERRPAGE-002": a(BAD_CERT_400, "no error page in ingressMTLS: nginx's 400, no redirect", [S.noField, S.stanza]),
  "MTLS-MATCHCN-002": matchCnLost,
  "MTLS-MATCHCN-003": matchCnLost,
  "MTLS-MATCHCN-008": policyError("the secret has no ca.crt"),
  "MTLS-MATCHCN-009": a({ status: 301, responseHeaders: { location: "https://match-cn-anchored.test.localdev.me:443/" }, upstream: "not-reached" }, "plain HTTP is redirected (301) to https, where the client certificate is checked (match-cn is not)", [S.redirect]),
  "MTLS-TRANSPORT-006": a(TLS_REJECTED, "an unknown SNI meets the default server, which refuses the handshake", [S.defaultServer]),
  "MTLS-TRANSPORT-007": a(TLS_REJECTED, "no SNI meets the default server, which refuses the handshake", [S.defaultServer]),
  "MTLS-TRANSPORT-003": a({ status: 301, responseHeaders: { location: "https://test.localdev.me:443/" }, upstream: "not-reached" }, "301 to https on :443, the request URI kept", [S.redirect]),
  "MTLS-TRANSPORT-008": a({ status: 301, responseHeaders: { location: "https://test.localdev.me:443/docs/page/" }, upstream: "not-reached" }, "301 to https on :443, the request URI kept", [S.redirect]),
  "MTLS-TRANSPORT-004": policyError("the Ingress has no spec.tls (TLS must be enabled for IngressMTLS)"),
  "MTLS-ISOLATION-001": a(OK, "one Ingress per host: the open Ingress (first in the controller's order) owns the host, the mTLS one is not served there: no client certificate is asked", [S.collision]),
  "MTLS-ISOLATION-002": a(answered(404), "one Ingress per host: the open Ingress owns it, so the mTLS Ingress's path is not served (404)", [S.collision]),
  "MTLS-ISOLATION-003": a(OK, "one Ingress per host: the open Ingress owns it, the broken one is not served: its path is open (ingress-nginx: 403 for the whole host)", [S.collision]),
  "MTLS-ISOLATION-008": a({ status: 301, responseHeaders: { location: "https://broken.test.localdev.me:443/open/" }, upstream: "not-reached" }, "the open Ingress owns the host: plain HTTP is redirected", [S.collision, S.redirect]),
  "MTLS-ISOLATION-006": a(undefined, "one Ingress per host: the Ingress first in the controller's order owns it (its CA: the first CA's client is refused, 400)", [S.collision, S.stanza]),
  "MTLS-ISOLATION-007": a(answered(404), "one Ingress per host: the other Ingress owns it; the second CA's client passes its CA, but the path is not served (404)", [S.collision]),
  "MTLS-SECRETS-001": policyError("a ca.crt that does not parse"),
  "MTLS-SECRETS-002": a(TLS_REJECTED, "ca.crl is not validated; nginx cannot load one labelled BEGIN CRL, so the Ingress is not applied and its host meets the default server", [S.crlNotValidated, S.defaultServer]),
  "MTLS-SECRETS-003": a(TLS_REJECTED, "ca.crl is not validated; nginx cannot load it, so the Ingress is not applied and its host meets the default server", [S.crlNotValidated, S.defaultServer]),
  "MTLS-SECRETS-005": policyError("the Policy sits in the secret's namespace (nginx.org/policies may name one there), where the run holds no such secret; were it there, F5 would use the other namespace's CA that ingress-nginx refuses (403)", S.crossNamespace),
  "MTLS-ADMISSION-001": a(OK, 'no webhook: the Ingress is served with client authentication (pass-certificate "yes" has no field)', [S.noWebhook, S.translation], "equivalent"),
  "MTLS-ADMISSION-002": a(NO_CERT_400, "no webhook: the Ingress is served; no certificate gets 400 (the error page has no field)", [S.noWebhook, S.noField], "equivalent"),
  "MTLS-ADMISSION-003": matchCnLost,
  "MTLS-ADMISSION-004": matchCnLost,
  "MTLS-ADMISSION-005": policyError('clientCertSecret "ca-secret!" is not a DNS-1123 name (pkg/apis/configuration/validation/policy.go:364-374)'),
  "MTLS-LIFECYCLE-001": policyError("a missing secret"),
  "MTLS-LIFECYCLE-007": policyError("a ca.crt that does not parse: the secret is invalid and its file deleted (internal/k8s/secrets/store.go:49-69)"),
  "MTLS-LIFECYCLE-008": policyError("a deleted secret"),
  "MTLS-LIFECYCLE-010": a(NO_CERT_400, 'no webhook refuses the update: its Policy says verify-client on (pass-certificate "yes" has no field), no certificate gets 400', [S.noWebhook, S.translation]),
  "MTLS-LIFECYCLE-011": a(NO_CERT_400, "the other Ingress's verify-depth -1 invalidates only its own Policy: verify-client on applies here, no certificate gets 400", [S.translation, S.error500]),
};

function answerOf(s: Scenario, p: Policy): SuccessorAnswer {
  const e = s.expect;
  if (e.upstream === "not-reached") return a(undefined, "nginx refuses as for ingress-nginx: the same directives at server level", [S.stanza, S.defaults]);
  if (!p.annotations["auth-tls-secret"]) return a(undefined, "no client authentication declared", [S.noHeaders]);
  const forged = s.request?.headers ?? {};
  return a(reachedKeeping(Object.fromEntries(Object.entries(forged).filter(([h]) => CLIENT_HEADERS.includes(h)))), "accepted; F5 sets no ssl-client-* header and clears none a client sends", [S.stanza, S.noHeaders]);
}

export const f5NginxIngressProfile: Profile = {
  name: "f5-nginx-ingress",
  title: "F5 NGINX Ingress Controller (Policy ingressMTLS through nginx.org/policies, on nginx)",
  rows: [
    {
      versions: ">=5.0.0",
      scenario: derivedRows(answerOf, OVERRIDES),
    },
  ],
};
