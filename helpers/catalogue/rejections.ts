// What nginx answers a client it refuses, in one place: the expectations (catalogue, policy model),
// the renderer and the oracle all read these. nginx/nginx@release-1.22.1:src/http/ngx_http_special_response.c:252-272
// (the 495 and 496 pages, sent with status 400); the match-cn body is
// ingress-nginx's (kubernetes/ingress-nginx@controller-v1.15.1:rootfs/etc/nginx/template/nginx.tmpl:915-921).
export const NO_CERT_BODY = "No required SSL certificate was sent";
export const CERT_ERROR_BODY = "The SSL certificate error";
export const MATCH_CN_BODY = "client certificate unauthorized";
