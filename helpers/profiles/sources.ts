// The successors' sources, read at their release tags (traefik/traefik@v3.7.9, kubernetes-sigs/gateway-api@v1.5.0), each
// cited once: the migration report's guarantee rows (guarantees.ts) and the scenario rows
// (traefik.ts, gateway-api.ts) cite the same entries.
import type { Citation } from "./profile.ts";

const T = "traefik/traefik@v3.7.9";
const TP = `${T}:pkg/provider/kubernetes/ingress-nginx`;
const TDOC = `${T}:docs/content/reference/routing-configuration/kubernetes/ingress-nginx.md`;
const TMW = `${T}:pkg/middlewares/ingressnginx/authtlspasscertificatetoupstream/auth_tls_pass_certificate_to_upstream.go`;
const G = "kubernetes-sigs/gateway-api@v1.5.0";

const cite = (ref: string, basis: Citation["basis"]): Citation => ({ ref, basis });

/** Every source a row cites, by what it shows. */
export const CITATIONS = {
  traefikClientAuthType: cite(`${TP}/build.go:1037-1057 (clientAuthTypeFromString: absent or unknown -> RequireAndVerifyClientCert, off -> NoClientCert, optional -> VerifyClientCertIfGiven, optional_no_ca -> RequestClientCert)`, "code"),
  traefikExactWords: cite(`${TP}/build.go:1037-1057 switches on the value as written; whether the annotation is trimmed before was not read (ingress-nginx trims it)`, "inferred"),
  traefikHandshake: cite(`${TDOC}:296-297 ("the rejection happens during the TLS handshake rather than returning a 400 Bad Request")`, "doc"),
  goAlerts: cite("Go crypto/tls handshake_server.go processCertsFromClient (Go >= 1.21: certificate_required, unknown_ca, certificate_expired, bad_certificate; go1.21 release notes, golang/go#52113)", "doc"),
  traefikCaOnly: cite(`${TP}/build.go:342-362,755-790 (one tls.Options per Ingress, from the Secret's ca.crt only)`, "code"),
  traefikDepth: cite(`${TDOC}:299 (auth-tls-verify-depth: "Go has no configurable depth limit. It will accept any valid chain regardless of how many intermediates it contains.")`, "doc"),
  traefikErrorPage: cite(`${TDOC}:451 (auth-tls-error-page: unsupported, ignored)`, "doc"),
  traefikMatchCn: cite(`${TDOC}:452 (auth-tls-match-cn: unsupported, ignored)`, "doc"),
  traefikNoCrl: cite(`${T}:pkg/tls/tls.go:34-39, pkg/tls/tlsmanager.go:442-487 (ClientAuth has CAFiles and ClientAuthType only; ca.crl is never read)`, "code"),
  traefikHeaders: cite(`${TMW}:20-26,65-95 (Ssl-Client-Cert, -Verify, -Subject-Dn, -Issuer-Dn set over client values; without a certificate Verify NONE and the others deleted)`, "code"),
  traefikHeaderFix: cite("traefik/traefik commit a669522, first in v3.7.2 (Ssl-Client-* cleared when no client certificate is presented; 3.7.0-3.7.1 let them through)", "code"),
  traefikPassCertOnly: cite(`${TP}/middleware.go:340-367 (the header middleware exists only with auth-tls-pass-certificate-to-upstream "true")`, "code"),
  traefikNoStrip: cite(`${TP}/translator.go:508-512 and middleware.go:340-343 (without auth-tls-pass-certificate-to-upstream "true" no middleware touches Ssl-Client-*: none set, none a client sent removed)`, "code"),
  traefikDnOrder: cite("golang/go@go1.19.8:src/crypto/x509/pkix/pkix.go:40-80,226-260 (Name.String prints ToRDNSequence reversed: Go's fixed attribute order, CN first, where nginx prints the certificate's own RDN order)", "code"),
  traefikNoCaKeyUsage: cite(`${TMW}:83 (cert.Verify with Roots only) and golang/go@go1.19.8:src/crypto/x509/verify.go:808-812 (no KeyUsages given: ServerAuth): a valid clientAuth-only certificate reads FAILED:x509: certificate specifies an incompatible key usage`, "code"),
  traefikNoIntermediates: cite(`${TMW}:76-95 (cert.Verify with Roots only, no Intermediates pool: a valid chain through an intermediate reads FAILED)`, "code"),
  traefikExpiredNoCa: cite(`${TMW}:76-95 with RequestClientCert (build.go:1037-1057): an expired certificate is let through, only the header says FAILED`, "code"),
  traefikPre37: cite("traefik/traefik@v3.6.24:docs/content/reference/routing-configuration/kubernetes/ingress-nginx.md:356-361 (v3.5.0-v3.6.x: every auth-tls annotation unsupported, not parsed)", "doc"),
  traefikOptionNames: cite(`${TP}/translator.go:135-142,204-212 (the TLS option <ns>-<ingress>-<secret> attached to each Ingress's -tls routers)`, "code"),
  traefikAggregator: cite(`${T}:pkg/server/aggregator.go:176-300 (findConflictingRouters: one host, routers with different TLS option names: the default TLS options, which ask for no client certificate, for all of them)`, "code"),
  traefikAggregatorDoc: cite(`${T}:docs/content/reference/routing-configuration/kubernetes/crd/http/ingressroute.md:225-227 ("both mappings are discarded ... associated with the default TLS options")`, "doc"),
  gwFrontend: cite(`${G}:apis/v1/gateway_types.go:289-294,624-676,728-818 (spec.tls.frontend.{default,perPort}.validation: caCertificateRefs and mode, nothing else)`, "code"),
  gwModes: cite(`${G}:apis/v1/gateway_types.go:798-818,1208 (mode AllowValidOnly, the default, or AllowInsecureFallback; the latter sets InsecureFrontendValidationMode=True)`, "code"),
  gwFailure: cite(`${G}:conformance/utils/tls/tls.go:94-125 (a client the validation refuses gets a failed TLS request, not an HTTP status)`, "code"),
  gwDeferred: cite(`${G}:geps/gep-91/index.md ("Deferred": verify depth, SAN matching; the maximum chain depth is implementation specific; no CRL, no header forwarding)`, "doc"),
  gwPerPort: cite(`${G}:geps/gep-91/index.md ("Connection coalescing security issue": validation applies per port, not per host or route)`, "doc"),
  gwHeaderRemove: cite(`${G}:apis/v1/httproute_types.go HTTPHeaderFilter.Remove (RequestHeaderModifier, Core): client-sent ssl-client-* headers pass unless a route removes them`, "doc"),
} as const satisfies Record<string, Citation>;

