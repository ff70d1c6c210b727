// issue() assembles certificates from parts @peculiar/x509 encodes: each TBSCertificate must be, byte
// for byte, the one X509CertificateGenerator.create makes from the same spec (the way the run made
// them before), as openssl asn1parse cuts it out; and openssl must read every field, verify the
// signatures, and agree with the facts the evidence reports without parsing.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTlv, tlv } from "./der.ts";
import { certificateFacts, CLIENT_AUTH, DAY, generateKeys, HOUR, importCa, issue, SERVER_AUTH, type CertSpec, type IssuedCert } from "./pki.ts";

const dir = mkdtempSync(join(tmpdir(), "issue-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", env: { ...process.env, OPENSSL_CONF: "/dev/null" } });
const file = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

/** The TBSCertificate's bytes, where openssl asn1parse says the certificate's first element is. */
function tbsOf(der: Uint8Array, name: string): Buffer {
  const lines = openssl("asn1parse", "-inform", "DER", "-in", file(`${name}.der`, der)).split("\n");
  const m = /^\s*(\d+):d=1\s+hl=(\d+)\s+l=\s*(\d+)\s+cons: SEQUENCE/.exec(lines[1]!);
  expect(m, lines.slice(0, 2).join("\n")).not.toBeNull();
  const [at, hl, l] = [Number(m![1]), Number(m![2]), Number(m![3])];
  return Buffer.from(der).subarray(at, at + hl + l);
}

/** What the run's issue() did before: X509CertificateGenerator.create with the extensions built by the library. */
async function libraryCertificate(spec: CertSpec, serialNumber: string): Promise<x509.X509Certificate> {
  const signer = (spec.issuer?.keys ?? spec.keys).privateKey;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(spec.ca === true, undefined, true),
    new x509.KeyUsagesExtension(
      spec.ca
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
        : spec.keys.publicKey.algorithm.name === "ECDSA"
          ? x509.KeyUsageFlags.digitalSignature
          : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(spec.keys.publicKey),
  ];
  if (spec.issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(spec.issuer.cert));
  if (spec.eku) extensions.push(new x509.ExtendedKeyUsageExtension(spec.eku, false));
  if (spec.dnsNames?.length) extensions.push(new x509.SubjectAlternativeNameExtension(spec.dnsNames.map((value) => ({ type: "dns" as const, value })), false));
  return x509.X509CertificateGenerator.create({
    serialNumber,
    subject: spec.subject,
    issuer: spec.issuer ? spec.issuer.cert.subjectName : spec.subject,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    signingAlgorithm: signer.algorithm.name === "ECDSA" ? ({ name: "ECDSA", hash: "SHA-256" } as EcdsaParams) : { name: "RSASSA-PKCS1-v1_5" },
    publicKey: spec.keys.publicKey,
    signingKey: signer,
    extensions,
  });
}

const now = new Date();
const valid = { notBefore: new Date(now.getTime() - HOUR), notAfter: new Date(now.getTime() + 365 * DAY) };
const made: Array<{ label: string; spec: CertSpec; cert: IssuedCert }> = [];
const byLabel = (label: string) => made.find((m) => m.label === label)!.cert;

beforeAll(async () => {
  const make = async (label: string, spec: CertSpec) => {
    made.push({ label, spec, cert: await issue(spec) });
    return made.at(-1)!.cert;
  };
  const ecCa = await make("ec-ca", { name: "ec-ca", subject: "CN=Test EC CA, O=Test", keys: await generateKeys("p256"), ...valid, ca: true });
  await make("impostor", { name: "impostor", subject: "CN=Test EC CA, O=Test", keys: await generateKeys("p256"), ...valid, ca: true });
  const rsaCa = await make("rsa-ca", { name: "rsa-ca", subject: "CN=Test RSA CA, O=Test, C=DE", keys: await generateKeys("rsa-2048"), ...valid, ca: true });
  const intermediate = await make("intermediate", { name: "intermediate", subject: "CN=Test Intermediate, O=Test", keys: await generateKeys("p256"), issuer: ecCa, ...valid, ca: true });
  await make("leaf-of-intermediate", { name: "leaf", subject: [{ "2.5.4.3": ["client-1"] }, { "2.5.4.10": ["CN=authorized-client-evil"] }, { "2.5.4.11": ["a+b"] }], keys: await generateKeys("p256"), issuer: intermediate, ...valid, eku: CLIENT_AUTH });
  await make("rsa-leaf-of-rsa", { name: "rsa-leaf", subject: "CN=authorized-client, O=MyOrganization", keys: await generateKeys("rsa-2048"), issuer: rsaCa, ...valid, eku: CLIENT_AUTH });
  await make("server", { name: "server", subject: "CN=*.tenants.test", keys: await generateKeys("p256"), issuer: rsaCa, ...valid, eku: SERVER_AUTH, dnsNames: ["*.tenants.test", "app-0.tenant-000.tenants.test", `${"x".repeat(60)}.${"y".repeat(60)}.example`] });
  await make("server-idn", { name: "server-idn", subject: "CN=bücher.example", keys: await generateKeys("p256"), issuer: ecCa, ...valid, eku: SERVER_AUTH, dnsNames: ["bücher.example"] });
  await make("self-signed-leaf", { name: "self", subject: "CN=self-signed-client, O=Test", keys: await generateKeys("p256"), ...valid, eku: CLIENT_AUTH });
  await make("expired", { name: "expired", subject: "CN=expired", keys: await generateKeys("p256"), issuer: ecCa, notBefore: new Date(now.getTime() - 30 * DAY), notAfter: new Date(now.getTime() - DAY), eku: CLIENT_AUTH });
  // Past 2049 validity is a GeneralizedTime (RFC 5280 4.1.2.5).
  await make("far-future", { name: "far", subject: "CN=far", keys: await generateKeys("p256"), issuer: ecCa, notBefore: new Date(Date.UTC(2049, 11, 31, 23, 59, 59, 500)), notAfter: new Date(Date.UTC(2051, 0, 1)), eku: CLIENT_AUTH });
  // A CA the run is given (key and certificate made by openssl), issuing.
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "given.key"), "-out", join(dir, "given.crt"), "-subj", "/O=Given Org/CN=Given CA", "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE");
  const given = await importCa(readFileSync(join(dir, "given.crt"), "utf8"), readFileSync(join(dir, "given.key"), "utf8"));
  made.push({ label: "given-ca", spec: undefined as unknown as CertSpec, cert: given });
  await make("leaf-of-given", { name: "leaf-of-given", subject: "CN=client, O=Given Org", keys: await generateKeys("p256"), issuer: given, ...valid, eku: CLIENT_AUTH });
});

describe("issue() makes the certificates X509CertificateGenerator made", () => {
  it("every TBSCertificate is byte for byte the library's for the same spec and serial", async () => {
    for (const { label, spec, cert } of made) {
      if (!spec) continue;
      const reference = await libraryCertificate(spec, cert.cert.serialNumber);
      expect(tbsOf(cert.der, label).toString("hex"), label).toBe(tbsOf(new Uint8Array(reference.rawData), `${label}-reference`).toString("hex"));
    }
  });

  it("openssl verifies each signature with its issuer's key", () => {
    const pem = (c: IssuedCert) => file(`${c.name}.pem`, c.certPem + "\n");
    const check = (leaf: IssuedCert, ca: IssuedCert, untrusted?: IssuedCert) => {
      const r = spawnSync("openssl", ["verify", "-partial_chain", "-CAfile", pem(ca), ...(untrusted ? ["-untrusted", pem(untrusted)] : []), pem(leaf)], { encoding: "utf8" });
      return `${r.stdout}${r.stderr}`;
    };
    expect(check(byLabel("intermediate"), byLabel("ec-ca"))).toContain(": OK");
    expect(check(byLabel("leaf-of-intermediate"), byLabel("ec-ca"), byLabel("intermediate"))).toContain(": OK");
    expect(check(byLabel("rsa-leaf-of-rsa"), byLabel("rsa-ca"))).toContain(": OK");
    expect(check(byLabel("server"), byLabel("rsa-ca"))).toContain(": OK");
    expect(check(byLabel("leaf-of-given"), byLabel("given-ca"))).toContain(": OK");
    expect(check(byLabel("self-signed-leaf"), byLabel("self-signed-leaf"))).toContain(": OK");
    // The key decides: a CA with the same name and another key does not verify what the real one signed.
    expect(check(byLabel("intermediate"), byLabel("impostor"))).not.toContain(": OK");
  });

  it("openssl reads the fields: version 3, names, SAN, key usages, signature algorithm", () => {
    const text = (label: string) => openssl("x509", "-in", file(`${label}.txt.pem`, byLabel(label).certPem), "-noout", "-text", "-nameopt", "RFC2253");
    const server = text("server");
    expect(server).toContain("Version: 3 (0x2)");
    expect(server).toContain("Signature Algorithm: sha256WithRSAEncryption");
    expect(server).toContain("DNS:*.tenants.test, DNS:app-0.tenant-000.tenants.test, DNS:" + `${"x".repeat(60)}.${"y".repeat(60)}.example`);
    expect(server).toContain("TLS Web Server Authentication");
    expect(server).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(server).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    expect(server).toMatch(/X509v3 Subject Alternative Name: \n/);
    const leaf = text("leaf-of-intermediate");
    expect(leaf).toContain("Signature Algorithm: ecdsa-with-SHA256");
    expect(leaf).toContain("Subject: OU=a\\+b,O=CN=authorized-client-evil,CN=client-1");
    expect(leaf).toContain("Issuer: O=Test,CN=Test Intermediate");
    const rsaLeaf = text("rsa-leaf-of-rsa");
    expect(rsaLeaf).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(text("ec-ca")).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const ski = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(text("intermediate"))![1];
    expect(/Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(leaf)![1]).toBe(ski);
    expect(openssl("x509", "-in", file("far.pem", byLabel("far-future").certPem), "-noout", "-enddate").trim()).toBe("notAfter=Jan  1 00:00:00 2051 GMT");
  });

  it("the facts the evidence reports are what the parsed certificate and openssl say", () => {
    for (const { label, cert } of made) {
      const facts = certificateFacts(cert);
      const parsed = new x509.X509Certificate(cert.certPem);
      expect(facts.subject, label).toBe(parsed.subject);
      expect(facts.issuer, label).toBe(parsed.issuer);
      expect(facts.serialNumber, label).toBe(parsed.serialNumber);
      const pem = file(`${label}.facts.pem`, cert.certPem);
      const out = openssl("x509", "-in", pem, "-noout", "-serial", "-startdate", "-enddate");
      expect(out, label).toContain(`serial=${facts.serialNumber.toUpperCase()}`);
      const date = (name: string) => new Date(new RegExp(`${name}=(.*)`).exec(out)![1]!).getTime();
      expect(facts.notBefore.getTime(), label).toBe(date("notBefore"));
      expect(facts.notAfter.getTime(), label).toBe(date("notAfter"));
      const key = openssl("x509", "-in", pem, "-noout", "-text");
      expect(key, label).toContain(facts.publicKey === "ECDSA P-256" ? "ASN1 OID: prime256v1" : `Public-Key: (${facts.publicKey.split(" ")[1]} bit)`);
    }
  });

  it("the lazily parsed certificate, the DER, the PEM and the SHA-256 are the same certificate", () => {
    for (const { label, cert } of made) {
      expect(Buffer.from(cert.cert.rawData).equals(Buffer.from(cert.der)), label).toBe(true);
      const fp = openssl("x509", "-in", file(`${label}.fp.pem`, cert.certPem), "-noout", "-fingerprint", "-sha256");
      expect(fp.split("=")[1]!.trim().replaceAll(":", "").toLowerCase(), label).toBe(cert.sha256);
    }
  });
});

describe("DER framing", () => {
  it("lengths in short and long form read back as openssl asn1parse reads them", () => {
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536]) {
      const element = tlv(0x04, Buffer.alloc(n, 0x61));
      const t = readTlv(element, 0);
      expect(t.end - t.start).toBe(n);
      expect(t.end).toBe(element.length);
      const parsed = openssl("asn1parse", "-inform", "DER", "-in", file("len.der", element)).split("\n")[0]!;
      expect(parsed).toMatch(new RegExp(`0:d=0\\s+hl=${t.start}\\s+l=\\s*${n} prim: OCTET STRING`));
    }
  });

  it("refuses truncated input", () => {
    expect(() => readTlv(Uint8Array.of(0x30, 0x05, 0x01), 0)).toThrow(/truncated/);
    expect(() => readTlv(Uint8Array.of(0x30, 0x82, 0x01), 0)).toThrow(/bad length|truncated/);
  });
});
