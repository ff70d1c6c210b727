// The rendering of Traefik's provider, against values written by hand from traefik/traefik@v3.7.9:
// its own test (pkg/provider/kubernetes/ingress-nginx/kubernetes_test.go:8432-8580, "Auth TLS
// secret", fixture ingresses/ingress-with-auth-tls-secret.yml) names the router
// "default-ingress-with-auth-tls-secret-rule-0-path-0-tls", its rule
// `Host("auth-tls-secret.localhost") && Path("/")` and its TLS option
// "default-ingress-with-auth-tls-secret-default-ca-secret" (RequireAndVerifyClientCert).
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { buildRule, clientAuthType, normalize, renderTraefikConfig } from "./dynamic-config.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const secret = (name: string, data: Record<string, string>, namespace = "default"): V1Secret => ({ metadata: { name, namespace }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) });
const A = "nginx.ingress.kubernetes.io/";

function ingress(name: string, host: string, annotations: Record<string, string>, options: { tls?: boolean; path?: string; pathType?: string; namespace?: string } = {}): V1Ingress {
  return {
    metadata: { name, namespace: options.namespace ?? "default", annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [A + k, v])) },
    spec: {
      ingressClassName: "nginx",
      ...(options.tls === false ? {} : { tls: [{ hosts: [host], secretName: "whoami-tls" }] }),
      rules: [{ host, http: { paths: [{ path: options.path ?? "/", pathType: options.pathType ?? "Exact", backend: { service: { name: "whoami", port: { number: 80 } } } }] } }],
    },
  };
}

const secrets = [secret("ca-secret", { "ca.crt": CA }), secret("whoami-tls", { "tls.crt": "CERT", "tls.key": "KEY" }), secret("keys-only", { "tls.crt": "C", "tls.key": "K" })];
const render = (ingresses: V1Ingress[]) => renderTraefikConfig({ ingresses, secrets, backendUrl: "http://127.0.0.1:9", generation: 1 });

describe("Traefik's kubernetesIngressNGINX rendering", () => {
  it("the upstream test's Ingress: the same router names, rule and TLS option as Traefik's own test expects", () => {
    const { config, skipped } = render([ingress("ingress-with-auth-tls-secret", "auth-tls-secret.localhost", { "auth-tls-secret": "default/ca-secret" })]);
    expect(skipped).toEqual([]);
    expect(config.http.routers["default-ingress-with-auth-tls-secret-rule-0-path-0-tls"]).toEqual({
      entryPoints: ["websecure"],
      rule: 'Host("auth-tls-secret.localhost") && Path("/")',
      service: "default-ingress-with-auth-tls-secret-whoami-80",
      tls: { options: "default-ingress-with-auth-tls-secret-default-ca-secret" },
    });
    // With a tls: section the non-TLS router only redirects (permanent 308).
    expect(config.http.routers["default-ingress-with-auth-tls-secret-rule-0-path-0"]!.middlewares).toEqual(["default-ingress-with-auth-tls-secret-rule-0-path-0-redirect-scheme"]);
    expect(config.tls.options["default-ingress-with-auth-tls-secret-default-ca-secret"]!.clientAuth).toEqual({ caFiles: [CA], clientAuthType: "RequireAndVerifyClientCert" });
    expect(config.tls.certificates).toEqual([{ certFile: "CERT", keyFile: "KEY" }]);
  });

  it("two Ingresses on one host with the same CA secret still get two option names (what makes Traefik fall back to its defaults)", () => {
    const { config } = render([ingress("app", "shared.test", { "auth-tls-secret": "default/ca-secret" }), ingress("api", "shared.test", { "auth-tls-secret": "default/ca-secret" }, { path: "/api", pathType: "Prefix" })]);
    expect(Object.keys(config.tls.options).sort()).toEqual(["default-api-default-ca-secret", "default-app-default-ca-secret"]);
    expect(config.http.routers["default-api-rule-0-path-0-tls"]!.rule).toBe('Host("shared.test") && (Path("/api") || PathPrefix("/api/"))');
  });

  it("an auth-tls-secret that does not resolve skips the whole Ingress: not namespace/name, another namespace, missing, or without ca.crt", () => {
    const cases: Array<[string, string]> = [
      ["ca-secret", "auth-tls-secret must be in namespace/name format"],
      ["other/ca-secret", "cross-namespace auth-tls-secret not allowed: other/ca-secret"],
      ["default/nope", "fetching secret default/nope: not found"],
      ["default/keys-only", "secret does not contain a CA certificate"],
    ];
    for (const [ref, why] of cases) {
      const { config, skipped } = render([ingress("x", "x.test", { "auth-tls-secret": ref })]);
      expect(Object.keys(config.http.routers)).toEqual([]);
      expect(skipped).toEqual([`default/x: Cannot build client auth TLS option, skipping ingress: ${ref === "default/nope" ? "reading client certificate: " : ""}${why}`]);
    }
  });

  it("pass-certificate is a bool by strings.EqualFold: \"True\" sets the middleware on the TLS router only, \"1\" does not; optional_no_ca gives it the CA", () => {
    const titled = render([ingress("t", "t.test", { "auth-tls-secret": "default/ca-secret", "auth-tls-pass-certificate-to-upstream": "True" })]).config;
    expect(titled.http.routers["default-t-rule-0-path-0-tls"]!.middlewares).toEqual(["default-t-rule-0-path-0-tls-pass-certificate-to-upstream"]);
    expect(titled.http.middlewares["default-t-rule-0-path-0-tls-pass-certificate-to-upstream"]).toEqual({ authTLSPassCertificateToUpstream: { clientAuthType: "RequireAndVerifyClientCert" } });
    const one = render([ingress("o", "o.test", { "auth-tls-secret": "default/ca-secret", "auth-tls-pass-certificate-to-upstream": "1" })]).config;
    expect(one.http.routers["default-o-rule-0-path-0-tls"]!.middlewares).toBeUndefined();
    const noCa = render([ingress("n", "n.test", { "auth-tls-secret": "default/ca-secret", "auth-tls-verify-client": "optional_no_ca", "auth-tls-pass-certificate-to-upstream": "true" })]).config;
    expect(noCa.http.middlewares["default-n-rule-0-path-0-tls-pass-certificate-to-upstream"]).toEqual({ authTLSPassCertificateToUpstream: { clientAuthType: "RequestClientCert", caFiles: [CA] } });
  });

  it("without a tls: section there is no redirect, so plain HTTP reaches the backend", () => {
    const { config } = render([ingress("plain", "plain.test", { "auth-tls-secret": "default/ca-secret" }, { tls: false })]);
    expect(config.http.routers["default-plain-rule-0-path-0"]!.middlewares).toBeUndefined();
  });

  it("clientAuthTypeFromString, Normalize and buildPrefixRule as the provider has them", () => {
    expect(["on", "off", "optional", "optional_no_ca", "ON", " off ", undefined].map(clientAuthType)).toEqual(["RequireAndVerifyClientCert", "NoClientCert", "VerifyClientCertIfGiven", "RequestClientCert", "RequireAndVerifyClientCert", "RequireAndVerifyClientCert", "RequireAndVerifyClientCert"]);
    expect(normalize("default-app-default/ca-secret")).toBe("default-app-default-ca-secret");
    expect(normalize("a--b..c")).toBe("a-b-c");
    expect(buildRule("h", "/", "Prefix")).toBe('Host("h") && PathPrefix("/")');
    expect(buildRule("h", "/abc/", "ImplementationSpecific")).toBe('Host("h") && (Path("/abc") || PathPrefix("/abc/"))');
    expect(buildRule("", "/x", "Exact")).toBe('Path("/x")');
  });
});
