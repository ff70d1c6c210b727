// Subject names as nginx shows them, against `openssl x509 -nameopt RFC2253` on the same
// certificates: order, multi-valued RDNs, escaping, non-ASCII, e-mail and DC attributes.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { certificateFields, jsonName, namesOf, parseSimpleRfc2253, rfc2253Of, rfc2253OfRdns } from "./distinguished-name.ts";

const dir = mkdtempSync(join(tmpdir(), "dn-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

  it("names and serial of a v1 certificate (no version field) and of a v3 one, read from DER, are openssl's", () => {
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, encoding: "utf8" });
    ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "v-ca.key", "-out", "v-ca.crt", "-subj", "/O=Acme/CN=V CA", "-days", "1");
    ssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "v1.key", "-out", "v1.csr", "-subj", "/O=Acme, Inc./CN=v1 client");
    // OpenSSL 3.0/3.1 `x509 -req` without extensions makes a version 1 certificate.
    ssl("x509", "-req", "-in", "v1.csr", "-CA", "v-ca.crt", "-CAkey", "v-ca.key", "-set_serial", "0x00ff01", "-out", "v1.crt", "-days", "1");
    for (const name of ["v1.crt", "v-ca.crt"]) {
      const der = new Uint8Array(execFileSync("openssl", ["x509", "-in", join(dir, name), "-outform", "DER"]));
      const printed = (which: string) => ssl("x509", "-in", name, "-noout", `-${which}`, "-nameopt", "RFC2253").trim().replace(/^\w+=/, "");
      expect(namesOf(der)).toEqual({ subject: printed("subject"), issuer: printed("issuer") });
      const serial = Buffer.from(certificateFields(der).serial).toString("hex").replace(/^00(?=[89a-f])/, "");
      expect(serial.toUpperCase()).toBe(printed("serial"));
    }
    expect(ssl("x509", "-in", "v1.crt", "-noout", "-text")).toContain("Version: 1 (0x0)");
  });

  it("refuses strings that are not simple names", () => {
    for (const text of ["", "nope", "XX=1", "CN=a\\,b", "C=Germany", "CN=a,", "CN=#x", "CN=trailing "]) expect(parseSimpleRfc2253(text), text).toBeUndefined();
  });
});
