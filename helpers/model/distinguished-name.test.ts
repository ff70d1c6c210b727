// Subject names as nginx shows them, against `openssl x509 -nameopt RFC2253` on the same
// certificates: order, multi-valued RDNs, escaping, non-ASCII, e-mail and DC attributes.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonName, parseSimpleRfc2253, rfc2253Of, rfc2253OfRdns } from "./distinguished-name.ts";

const dir = mkdtempSync(join(tmpdir(), "dn-"));

function openssl(subject: string, multivalue = false): { pem: string; expected: string } {
  const key = join(dir, "k.pem");
  const crt = join(dir, "c.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-subj", subject, "-days", "1", "-utf8", ...(multivalue ? ["-multivalue-rdn"] : [])], { stdio: "ignore" });
  const expected = execFileSync("openssl", ["x509", "-in", crt, "-noout", "-subject", "-nameopt", "RFC2253"]).toString().trim().replace(/^subject=/, "");
  return { pem: execFileSync("cat", [crt]).toString(), expected };
}

describe("RFC 2253 names as nginx prints them", () => {
  const subjects = [
    "/O=MyOrganization/CN=authorized-client",
    "/CN=authorized-client/O=MyOrganization",
    "/C=DE/ST=Berlin/L=Berlin/O=Acme, Inc./OU=Platform/CN=svc\\+1",
    "/CN=intruder/O=CN=authorized-client-evil",
    "/CN= leading space/O=trailing space ",
    "/CN=#hash/O=a;b<c>d\"e\\f",
    "/CN=Jürgen Müller/O=Ünïcödé",
    "/DC=com/DC=example/CN=svc/emailAddress=ops@example.com",
  ];
  for (const subject of subjects) {
    it(`${subject} reads as openssl prints it`, () => {
      const { pem, expected } = openssl(subject);
      expect(rfc2253Of(new x509.X509Certificate(pem))).toBe(expected);
    });
  }

  it("a multi-valued RDN is joined with +", () => {
    const { pem, expected } = openssl("/O=Acme/CN=a+UID=42", true);
    expect(expected).toContain("+");
    expect(rfc2253Of(new x509.X509Certificate(pem))).toBe(expected);
  });

  it("a simple name string round-trips through a certificate made from it", async () => {
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    for (const text of ["CN=svc-42.example,O=Acme,C=DE", "CN=a", "OU=payments,DC=example,DC=com", "CN=CN=x,O=y"]) {
      const rdns = parseSimpleRfc2253(text);
      expect(rdns, text).toBeDefined();
      expect(rfc2253OfRdns(rdns!)).toBe(text);
      const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: jsonName(rdns!), keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } });
      writeFileSync(join(dir, "gen.pem"), cert.toString("pem"));
      const viaOpenssl = execFileSync("openssl", ["x509", "-in", join(dir, "gen.pem"), "-noout", "-subject", "-nameopt", "RFC2253"]).toString().trim().replace(/^subject=/, "");
      expect(viaOpenssl).toBe(text);
      expect(rfc2253Of(cert)).toBe(text);
    }
  });

  it("refuses strings that are not simple names", () => {
    for (const text of ["", "nope", "XX=1", "CN=a\\,b", "C=Germany", "CN=a,", "CN=#x", "CN=trailing "]) expect(parseSimpleRfc2253(text), text).toBeUndefined();
  });
});
