// The lint of the user's objects: each rule triggers on the mistake it names and stays quiet on a
// clean Ingress; and subjects derived from match-cn patterns are confirmed against the pattern.
import type { V1Ingress } from "@kubernetes/client-node";
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ANNOTATION_PREFIX } from "../model/annotations.ts";
import { rfc2253OfRdns } from "../model/distinguished-name.ts";
import { resolveHosts } from "../model/hosts.ts";
import { matchesCn } from "../model/outcome.ts";
import type { SecretView } from "../model/secrets.ts";
import { anchoredAtEnd, deriveMatchCnSubjects } from "./match-cn-subjects.ts";
import { lintIngress } from "./user-lint.ts";

const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
const { X509CertificateGenerator } = await import("@peculiar/x509");
const caPem = (await X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: "CN=CA", keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } })).toString("pem");
// A CA key as a team would leave it in the Secret: made for the test, never stored in the repository.
const caKeyPem = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const secrets: SecretView[] = [
  { namespace: "app", name: "ca", data: { "ca.crt": caPem } },
  { namespace: "app", name: "ca-with-key", data: { "ca.crt": caPem, "ca.key": caKeyPem } },
  { namespace: "app", name: "audited", data: { "ca.crt": caPem }, opaqueKeys: ["ca.key"] },
  { namespace: "other", name: "ca", data: { "ca.crt": caPem } },
];
const lookup = (ns: string, name: string) => secrets.find((s) => s.namespace === ns && s.name === name);

function ingress(annotations: Record<string, string>, opts: { tls?: boolean; classAnnotation?: boolean } = {}): V1Ingress {
  return {
    metadata: {
      name: "x",
      namespace: "app",
      annotations: {
        ...Object.fromEntries(Object.entries(annotations).map(([k, v]) => [ANNOTATION_PREFIX + k, v])),
        ...(opts.classAnnotation ? { "kubernetes.io/ingress.class": "nginx" } : {}),
      },
    },
    spec: {
      ...(opts.classAnnotation ? {} : { ingressClassName: "nginx" }),
      ...(opts.tls === false ? {} : { tls: [{ hosts: ["x.example"], secretName: "x-tls" }] }),
      rules: [{ host: "x.example", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "x", port: { number: 80 } } } }] } }],
    },
  };
}

function triggered(annotations: Record<string, string>, opts?: { tls?: boolean; classAnnotation?: boolean }): string[] {
  const { ingresses } = resolveHosts([ingress(annotations, opts)], lookup);
  return lintIngress(ingresses[0]!, lookup).filter((r) => r.triggered).map((r) => r.rule);
}

describe("lint of the user's objects", () => {
  it("a clean Ingress triggers nothing", () => {
    expect(triggered({ "auth-tls-secret": "app/ca", "auth-tls-match-cn": "CN=svc$" })).toEqual([]);
  });

  it("each rule triggers on its mistake", () => {
    expect(triggered({ "auth-tls-secret": "app/ca", "auth-tls-pass-certificate-to-upstream": "yes" })).toEqual(["rejected-by-admission"]);
    expect(triggered({ "auth-tls-secret": "app/ca", "auth-tls-verify-depth": "two" })).toEqual(["silent-fallback"]);
    expect(triggered({ "auth-tls-secret": "app/ca", "auth-tls-match-cn": "CN=svc" })).toEqual(["match-cn-unanchored"]);
    expect(triggered({ "auth-tls-secret": "app/ca" }, { tls: false })).toEqual(["auth-tls-without-tls"]);
    expect(triggered({ "auth-tls-secret": "app/ca" }, { classAnnotation: true })).toEqual(["deprecated-class-annotation"]);
    expect(triggered({ "auth-tls-secret": "other/ca" })).toEqual(["cross-namespace-secret"]);
    expect(triggered({ "auth-tls-secret": "app/ca-with-key" })).toEqual(["ca-key-in-secret"]);
    expect(triggered({ "auth-tls-secret": "app/audited" })).toEqual(["ca-key-in-secret"]);
    expect(triggered({ "auth-tls-secret": "app/ca", "auth-tls-verify-client": "optional_no_ca" })).toEqual(["optional-no-ca"]);
  });
});

describe("subjects derived from match-cn patterns", () => {
  const patterns = ["CN=authorized-client", "CN=authorized-client$", "CN=(alpha|beta)-client$", "CN=svc-[0-9]{3}\\.example\\.com$", "CN=(?i)admin$", "CN=ops,O=Acme$", "CN=[a-z]+,OU=payments"];
  for (const p of patterns) {
    it(`${p}: the matching subject matches and the other one does not, by the pattern itself`, () => {
      const d = deriveMatchCnSubjects(p);
      expect(d.problems).toEqual([]);
      expect(matchesCn(p, rfc2253OfRdns(d.matching!))).toBe(true);
      expect(matchesCn(p, rfc2253OfRdns(d.notMatching!))).toBe(false);
      if (d.trick) expect(matchesCn(p, rfc2253OfRdns(d.trick.rdns))).toBe(d.trick.matches);
    });
  }

  it("the substring trick: CN=mtls-intruder with the matching text in O is matched, anchored at the end or not", () => {
    expect(rfc2253OfRdns(deriveMatchCnSubjects("CN=authorized-client").trick!.rdns)).toBe("CN=mtls-intruder,O=CN=authorized-client");
    expect(deriveMatchCnSubjects("CN=authorized-client$").trick).toMatchObject({ matches: true });
    expect(anchoredAtEnd("CN=authorized-client$")).toBe(true);
    expect(anchoredAtEnd("CN=authorized-client\\$")).toBe(false);
    expect(anchoredAtEnd("CN=authorized-client")).toBe(false);
  });

  it("says why when nothing can be derived", () => {
    expect(deriveMatchCnSubjects("CN=.*").problems).toEqual([]);
    expect(deriveMatchCnSubjects("CN=.*").notMatching).toBeDefined();
    const impossible = deriveMatchCnSubjects("CN=a\\x00b");
    expect(impossible.matching).toBeUndefined();
    expect(impossible.problems.join()).toMatch(/none of \d+ strings generated/);
  });
});
