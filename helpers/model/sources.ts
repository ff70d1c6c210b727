// Where each rule of the policy model comes from: the controller's source (ingress-nginx
// controller-v1.15.1, identical in v1.13.9 and v1.14.5 for everything auth-tls), nginx's source, or
// an observation on a real data plane made by a test of this project. Every expectation the model
// produces carries the sources of the rules that decided it (evidence `basis`).

const IN = "ingress-nginx v1.15.1";

export const SOURCES = {
  annotationDefaults: `${IN} internal/ingress/annotations/authtls/main.go:32-33,176-213`,
  secretValidation: `${IN} authtls/main.go:51-52 (BasicCharsRegex, spaces removed: parser/validators.go:111-125); a failing value is a ValidationError that rejects the Ingress (annotations/annotations.go:191-195)`,
  secretReference: `${IN} internal/k8s/main.go:36-43 (exactly one "/"), authtls/main.go:151-167 (empty namespace = the Ingress's; cross-namespace denied)`,
  secretContent: `${IN} internal/ingress/controller/store/backend_ssl.go:76-192, internal/net/ssl/ssl.go:68-176,216-244`,
  verifyClientFallback: `${IN} authtls/main.go:176-180 (anything but on|off|optional|optional_no_ca after trimming becomes "on", admitted)`,
  verifyDepthFallback: `${IN} authtls/main.go:182-186 and parser/main.go:130-140 (strconv.Atoi on the raw value; an error or 0 gives 1)`,
  errorPageValidation: `${IN} authtls/main.go:45,188-194 (redirectRegex after removing spaces; invalid rejects the Ingress)`,
  passCertificateParse: `${IN} authtls/main.go:196-202 and parser/main.go:106-116 (strconv.ParseBool; not a bool rejects the Ingress)`,
  matchCnValidation: `${IN} parser/validators.go:129-139 (must start with "CN=", the rest must compile as Go RE2; invalid rejects the Ingress)`,
  locationDenied: `${IN} annotations/annotations.go:200-210, controller/controller.go:762-764, rootfs/etc/nginx/template/nginx.tmpl:929-931 (return 403 on the whole server)`,
  ingressOrder: `${IN} controller/store/store.go:1102-1115 (creationTimestamp ascending; equal timestamps by namespace/name descending)`,
  firstCaWins: `${IN} controller/controller.go:766-775 (the first Ingress whose secret has ca.crt sets the server's client auth; later ones are ignored)`,
  perServer: `${IN} nginx.tmpl:934-948 (ssl_client_certificate, ssl_verify_client, ssl_verify_depth, ssl_crl, error_page 495 496 at server level)`,
  matchCn: `${IN} nginx.tmpl:915-921 (if ($ssl_client_s_dn !~ "<match-cn>") { return 403 "client certificate unauthorized"; }, rendered even without a CA)`,
  upstreamHeaders: `${IN} nginx.tmpl:1285-1293 (ssl-client-cert only with pass-certificate-to-upstream; ssl-client-verify, -subject-dn, -issuer-dn whenever a CA is configured)`,
  noCertificate: "nginx ngx_http_request.c:2093-2103 (verify on, no certificate: 496, sent as 400 \"No required SSL certificate was sent\")",
  badCertificate: "nginx ngx_http_request.c:2076-2089 (verification failed: 495, sent as 400 \"The SSL certificate error\"; optional_no_ca lets the errors of ngx_event_openssl.h:254-259 through)",
  errorPage: "nginx ngx_http_special_response.c:595-656 (error_page 495 496 = <absolute URL> answers 302 with Location)",
  verifyOff: "nginx: ssl_verify_client off never requests a certificate; $ssl_client_verify is NONE",
  emptyHeader: "nginx proxy module: a proxy_set_header whose value is empty is not sent, and replaces the client's header of the same name",
  depthSemantics: "OpenSSL >= 1.1: ssl_verify_depth N allows N intermediate CAs between the leaf and the trust anchor (observed on nginx 1.22.1 + OpenSSL 3.0)",
  verifyOrder:
    "observed on nginx 1.22.1 + OpenSSL 3.0 (helpers/model/outcome.nginx.test.ts): nginx's verify callback continues past errors, so the last error decides; chain errors come first, CRL errors next, validity last",
  httpRedirect: `${IN} rootfs/etc/nginx/lua/lua_ingress.lua:65-89,157-173 (ssl-redirect on by default for hosts with a certificate; 308)`,
  httpNoCheck: "nginx ngx_http_request.c:2061 (client certificates are checked on TLS connections only)",
  sniNoCert: "nginx ngx_http_request.c:852-930 (an SNI naming no server, or none, leaves the handshake to the default server, which requests no client certificate); the Host's server then sees no certificate",
  misdirected: "nginx ngx_http_request.c:2230-2280 (1.22.1; the same in 1.27.1): an SNI naming a configured server other than the Host's, whose server verifies client certificates, is answered 421",
  defaultServer: "ingress-nginx v1.15.1 nginx.tmpl: the catch-all server (server_name _) answers hosts no Ingress claims; its default backend answers 404",
} as const;

export type SourceKey = keyof typeof SOURCES;
