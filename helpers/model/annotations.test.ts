// auth-tls annotations parsed as the controller parses them: the values of its own unit tests
// (authtls/main_test.go) and Go's strconv semantics, which a JavaScript reading gets wrong.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { V1Ingress } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { ANNOTATION_PREFIX, parseAuthTls, type SecretLookup } from "./annotations.ts";
import type { SecretView } from "./secrets.ts";
import { goAtoi, goParseBool } from "./go-values.ts";

const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
const caPem = (await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: "CN=Test CA", keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } })).toString("pem");
const secrets: Record<string, SecretView> = {
  "default/demo-secret": { namespace: "default", name: "demo-secret", data: { "ca.crt": caPem } },
  "default/garbage": { namespace: "default", name: "garbage", data: { "ca.crt": "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----" } },
  "default/bad-crl": { namespace: "default", name: "bad-crl", data: { "ca.crt": caPem, "ca.crl": "-----BEGIN CRL-----\nAAAA\n-----END CRL-----" } },
  "default/nothing": { namespace: "default", name: "nothing", data: { auth: "x" } },
};
const lookup: SecretLookup = (ns, name) => secrets[`${ns}/${name}`];

function ing(annotations: Record<string, string>, namespace = "default"): V1Ingress {
  return { metadata: { name: "x", namespace, annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [ANNOTATION_PREFIX + k, v])) } };
}
const parse = (a: Record<string, string>, ns?: string) => parseAuthTls(ing({ "auth-tls-secret": "default/demo-secret", ...a }, ns), lookup);

describe("Go value parsing", () => {
  it("strconv.Atoi takes a sign but no spaces", () => {
    expect([goAtoi("2"), goAtoi("+2"), goAtoi("-1"), goAtoi(" 2"), goAtoi("2 "), goAtoi("abc"), goAtoi(""), goAtoi("1.5"), goAtoi("99999999999999999999")]).toEqual([2, 2, -1, undefined, undefined, undefined, undefined, undefined, undefined]);
  });
  it("strconv.ParseBool knows twelve spellings", () => {
    expect(["1", "t", "T", "TRUE", "true", "True"].map(goParseBool)).toEqual(Array(6).fill(true));
    expect(["0", "f", "F", "FALSE", "false", "False"].map(goParseBool)).toEqual(Array(6).fill(false));
    expect(["yes", "on", "tRuE", " true", ""].map(goParseBool)).toEqual(Array(5).fill(undefined));
  });
});

describe("parseAuthTls", () => {
  it("defaults: on, depth 1, no pass, no error page, no match-cn (main_test.go TestAnnotations)", () => {
    expect(parse({})?.settings).toEqual({ verifyClient: "on", verifyDepth: 1, passCertificateToUpstream: false });
  });

  it("the values of the controller's own test are taken as written", () => {
    const p = parse({ "auth-tls-verify-client": "off", "auth-tls-verify-depth": "2", "auth-tls-error-page": "ok.com/error", "auth-tls-pass-certificate-to-upstream": "true", "auth-tls-match-cn": "CN=(hello-app|ok|goodbye)" });
    expect(p?.settings).toEqual({ verifyClient: "off", verifyDepth: 2, errorPage: "ok.com/error", passCertificateToUpstream: true, matchCn: "CN=(hello-app|ok|goodbye)" });
    for (const page of ["@401", "@four_oh_one", "https://login.example.com/x", "/mtls-error"]) expect(parse({ "auth-tls-error-page": page })?.settings.errorPage).toBe(page);
  });

  it("verify-client and verify-depth fall back silently; the Ingress is admitted", () => {
    for (const v of ["w00t", "ON", "maybe", "Off"]) {
      const p = parse({ "auth-tls-verify-client": v });
      expect(p?.rejected).toBeUndefined();
      expect(p?.settings.verifyClient, v).toBe("on");
      expect(p?.fallbacks.join()).toContain("uses \"on\"");
    }
    // Spaces are removed before validating and trimmed before use: " off " is off.
    expect(parse({ "auth-tls-verify-client": " off " })?.settings.verifyClient).toBe("off");
    expect(parse({ "auth-tls-verify-client": "optional_no_ca" })?.settings.verifyClient).toBe("optional_no_ca");
    const depths: Array<[string, number]> = [["abcd", 1], ["0", 1], ["", 1], [" 2", 1], ["+2", 2], ["3", 3], ["-1", -1]];
    for (const [raw, want] of depths) expect(parse({ "auth-tls-verify-depth": raw })?.settings.verifyDepth, raw).toBe(want);
  });

  it("pass-certificate-to-upstream follows strconv.ParseBool; anything else rejects the whole Ingress", () => {
    for (const v of ["True", "1", "t", "TRUE"]) expect(parse({ "auth-tls-pass-certificate-to-upstream": v })?.settings.passCertificateToUpstream, v).toBe(true);
    expect(parse({ "auth-tls-pass-certificate-to-upstream": "False" })?.settings.passCertificateToUpstream).toBe(false);
    expect(parse({ "auth-tls-pass-certificate-to-upstream": "" })?.rejected).toBeUndefined();
    const p = parse({ "auth-tls-pass-certificate-to-upstream": "nahh" });
    expect(p?.rejected?.message).toBe("annotation nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream contains invalid value");
  });

  it("match-cn needs CN= and an RE2 regex; error-page needs the redirect pattern; the secret basic characters", () => {
    expect(parse({ "auth-tls-match-cn": "<script>nope</script>" })?.rejected?.annotation).toBe("auth-tls-match-cn");
    expect(parse({ "auth-tls-match-cn": "O=Acme" })?.rejected?.annotation).toBe("auth-tls-match-cn");
    // A lookahead compiles in JavaScript but not in Go's RE2.
    expect(parse({ "auth-tls-match-cn": "CN=(?=admin)admin" })?.rejected?.annotation).toBe("auth-tls-match-cn");
    expect(parse({ "auth-tls-match-cn": "CN=(?i)admin$" })?.rejected).toBeUndefined();
    expect(parse({ "auth-tls-error-page": "https://x.example/a?b=c" })?.rejected?.annotation).toBe("auth-tls-error-page");
    expect(parseAuthTls(ing({ "auth-tls-secret": "default/demo secret!" }), lookup)?.rejected?.annotation).toBe("auth-tls-secret");
  });

  it("secret references: format, namespace and content deny the host instead of rejecting", () => {
    expect(parseAuthTls(ing({ "auth-tls-secret": "demo-secret" }), lookup)?.denied?.reason).toContain("invalid format");
    expect(parseAuthTls(ing({ "auth-tls-secret": "/demo-secret" }), lookup)?.denied).toBeUndefined();
    expect(parseAuthTls(ing({ "auth-tls-secret": "nondefault/demo-secret" }), lookup)?.denied?.reason).toBe("cross namespace secrets are not supported");
    expect(parseAuthTls(ing({ "auth-tls-secret": "default/missing" }), lookup)?.denied?.reason).toContain("not found");
    expect(parseAuthTls(ing({ "auth-tls-secret": "default/garbage" }), lookup)?.denied).toBeDefined();
    expect(parseAuthTls(ing({ "auth-tls-secret": "default/bad-crl" }), lookup)?.denied?.reason).toContain("CRL");
    expect(parseAuthTls(ing({ "auth-tls-secret": "default/nothing" }), lookup)?.denied?.reason).toContain("no keypair or CA certificate");
    // An unusable secret stops parsing before the other values are validated.
    expect(parseAuthTls(ing({ "auth-tls-secret": "default/missing", "auth-tls-pass-certificate-to-upstream": "nahh" }), lookup)?.rejected).toBeUndefined();
  });

  it("no auth-tls-secret, or an empty one, is no auth-tls at all", () => {
    expect(parseAuthTls(ing({ "auth-tls-verify-client": "on" }), lookup)).toBeUndefined();
    expect(parseAuthTls(ing({ "auth-tls-secret": "" }), lookup)).toBeUndefined();
  });
});
