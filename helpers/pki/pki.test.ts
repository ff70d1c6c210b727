// The run's PKI checked by an independent oracle: OpenSSL's own verify and x509 commands.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writePki, CLIENT_P12_PASSWORD } from "./pki-files.ts";
import { buildPki, type Pki } from "./pki.ts";

const HOSTS = ["test.localdev.me", "depth-2.test.localdev.me"];
let pki: Pki;
let dir: string;

const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", env: { ...process.env, OPENSSL_CONF: "/dev/null" } });
/** `openssl verify` exit status and output; `-purpose sslclient` as nginx checks client certs. */
function verify(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync("openssl", ["verify", ...args], { encoding: "utf8" });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}
const path = (name: string) => join(dir, name);

beforeAll(async () => {
  pki = await buildPki({ serverHosts: HOSTS });
  dir = mkdtempSync(join(tmpdir(), "pki-test-"));
  await writePki(pki, { certDir: dir, keyDir: dir });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the guide's certificates", () => {
  it("CA: the guide's subject, self-signed RSA-4096 with SHA-256, a CA", () => {
    const text = openssl("x509", "-in", path("ca.crt"), "-noout", "-text", "-nameopt", "RFC2253");
    expect(text).toContain("Subject: O=MyOrganization,CN=My Certificate Authority");
    expect(text).toContain("Issuer: O=MyOrganization,CN=My Certificate Authority");
    expect(text).toContain("Public-Key: (4096 bit)");
    expect(text).toContain("Signature Algorithm: sha256WithRSAEncryption");
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(verify(["-CAfile", path("ca.crt"), path("ca.crt")]).ok).toBe(true);
  });

  it("client: the guide's subject, RSA-4096, clientAuth, verifies against the CA as an SSL client", () => {
    const text = openssl("x509", "-in", path("client.crt"), "-noout", "-text", "-nameopt", "RFC2253");
    expect(text).toContain("Subject: O=MyOrganization,CN=authorized-client");
    expect(text).toContain("Public-Key: (4096 bit)");
    expect(text).toContain("TLS Web Client Authentication");
    const r = verify(["-purpose", "sslclient", "-CAfile", path("ca.crt"), path("client.crt")]);
    expect(r.out).toContain(": OK");
  });

  it("server: CN test.localdev.me with every host as a SAN (the guide forgets the SAN)", () => {
    const text = openssl("x509", "-in", path("server.crt"), "-noout", "-subject", "-ext", "subjectAltName", "-nameopt", "RFC2253");
    expect(text).toContain("subject=CN=test.localdev.me");
    for (const h of HOSTS) expect(text).toContain(`DNS:${h}`);
    const r = verify(["-purpose", "sslserver", "-verify_hostname", "depth-2.test.localdev.me", "-CAfile", path("ca.crt"), path("server.crt")]);
    expect(r.out).toContain(": OK");
  });
});

describe("the variants fail or pass verification as the scenarios assume", () => {
  const failing: Array<[string, RegExp]> = [
    ["client-other-ca", /unable to get local issuer certificate|certificate signature failure/],
    ["client-expired", /certificate has expired/],
    ["client-not-yet-valid", /certificate is not yet valid/],
    ["client-self-signed", /self-signed certificate/],
    ["client-missing-intermediate", /unable to get local issuer certificate/],
    ["client-server-auth-only", /unsu(pported|itable) certificate purpose/],
  ];
  for (const [name, reason] of failing) {
    it(`${name} is rejected by openssl verify -purpose sslclient`, () => {
      const r = verify(["-purpose", "sslclient", "-CAfile", path("ca.crt"), path(`${name}.crt`)]);
      expect(r.ok).toBe(false);
      expect(r.out).toMatch(reason);
    });
  }

  it("the other CA carries the real CA's exact name but another key", () => {
    const subject = (f: string) => openssl("x509", "-in", path(f), "-noout", "-subject", "-nameopt", "RFC2253").trim();
    const pubkey = (f: string) => openssl("x509", "-in", path(f), "-noout", "-pubkey");
    expect(subject("other-ca.crt")).toBe(subject("ca.crt"));
    expect(pubkey("other-ca.crt")).not.toBe(pubkey("ca.crt"));
    expect(verify(["-CAfile", path("other-ca.crt"), path("client-other-ca.crt")]).ok).toBe(true);
  });

  it("leaf + 1 intermediate verifies with the chain; openssl's depth limit 1 (intermediates) still passes", () => {
    const r = verify(["-purpose", "sslclient", "-verify_depth", "1", "-CAfile", path("ca.crt"), "-untrusted", path("intermediate-1.crt"), path("client-via-1-intermediate.crt")]);
    expect(r.out).toContain(": OK");
  });

  it("leaf + 2 intermediates verifies at depth 2 and fails at depth 1", () => {
    const untrusted = join(dir, "two-intermediates.pem");
    writeFileSync(untrusted, `${pki.others[1]!.certPem}\n${pki.others[2]!.certPem}\n`);
    const args = (depth: string) => ["-purpose", "sslclient", "-verify_depth", depth, "-CAfile", path("ca.crt"), "-untrusted", untrusted, path("client-via-2-intermediates.crt")];
    expect(verify(args("2")).out).toContain(": OK");
    const atOne = verify(args("1"));
    expect(atOne.ok).toBe(false);
    expect(atOne.out).toMatch(/certificate chain too long/);
  });

  it("chain files hold the leaf then its intermediates, nearest first", () => {
    const chain = openssl("crl2pkcs7", "-nocrl", "-certfile", path("client-via-2-intermediates.chain.crt"));
    const printed = execFileSync("openssl", ["pkcs7", "-print_certs", "-noout"], { input: chain, encoding: "utf8" });
    const order = [...printed.matchAll(/subject=.*CN\s?=\s?([^,\n]+)/g)].map((m) => m[1]!.trim());
    expect(order).toEqual(["client-via-2-intermediates", "Intermediate CA 2", "Intermediate CA 1"]);
  });
});

describe("CRLs and the newer variants", () => {
  const crlFile = (name: "crl-revoking" | "crl-expired") => {
    const f = join(dir, `${name}.pem`);
    writeFileSync(f, pki.crls[name].pem + "\n");
    return f;
  };

  it("crl-revoking is a CRL OpenSSL loads, signed by the CA, listing exactly client-revoked", () => {
    const text = openssl("crl", "-in", crlFile("crl-revoking"), "-noout", "-text");
    expect(text).toMatch(/Serial Number: 0*([0-9A-F]+)/i);
    const listed = [...text.matchAll(/Serial Number: ([0-9A-F]+)/gi)].map((m) => m[1]!.toLowerCase().replace(/^0+/, ""));
    expect(listed).toEqual([pki.credentials["client-revoked"].leaf.cert.serialNumber.toLowerCase().replace(/^0+/, "")]);
    const signature = spawnSync("openssl", ["crl", "-in", crlFile("crl-revoking"), "-noout", "-CAfile", path("ca.crt")], { encoding: "utf8" });
    expect(signature.stderr).toContain("verify OK");
    const revoked = verify(["-crl_check", "-CAfile", path("ca.crt"), "-CRLfile", crlFile("crl-revoking"), path("client-revoked.crt")]);
    expect(revoked.ok).toBe(false);
    expect(revoked.out).toContain("certificate revoked");
    expect(verify(["-crl_check", "-CAfile", path("ca.crt"), "-CRLfile", crlFile("crl-revoking"), path("client.crt")]).ok).toBe(true);
  });

  it("crl-expired has passed its nextUpdate", () => {
    const r = verify(["-crl_check", "-CAfile", path("ca.crt"), "-CRLfile", crlFile("crl-expired"), path("client.crt")]);
    expect(r.ok).toBe(false);
    expect(r.out).toContain("CRL has expired");
  });

  it("leaf + 3 intermediates exceeds depth 2", () => {
    const untrusted = join(dir, "three.pem");
    writeFileSync(untrusted, [1, 2, 3].map((i) => pki.others[i]!.certPem).join("\n") + "\n");
    const args = (depth: string) => ["-purpose", "sslclient", "-verify_depth", depth, "-CAfile", path("ca.crt"), "-untrusted", untrusted, path("client-via-3-intermediates.crt")];
    expect(verify(args("3")).ok).toBe(true);
    expect(verify(args("2")).ok).toBe(false);
  });

  it("the match-cn trick certificate hides CN=authorized-client inside its O attribute", () => {
    const subject = openssl("x509", "-in", path("client-match-cn-evil.crt"), "-noout", "-subject", "-nameopt", "RFC2253").trim();
    expect(subject).toBe("subject=O=CN=authorized-client-evil,CN=intruder");
  });
});

describe("files and fingerprints", () => {
  it("without a key directory no private key is written, only certificates", async () => {
    const certDir = mkdtempSync(join(tmpdir(), "pki-certs-"));
    try {
      const files = await writePki(pki, { certDir });
      expect(files.length).toBeGreaterThan(10);
      for (const f of files) {
        expect(f.endsWith(".crt")).toBe(true);
        expect(readFileSync(f, "utf8")).not.toMatch(/PRIVATE KEY/);
      }
    } finally {
      rmSync(certDir, { recursive: true, force: true });
    }
  });

  it("SHA-256 fingerprints equal openssl's", () => {
    for (const c of [pki.ca, pki.server, pki.credentials.client.leaf, pki.credentials["client-expired"].leaf]) {
      const out = openssl("x509", "-in", path(`${c.name}.crt`), "-noout", "-fingerprint", "-sha256");
      expect(out.split("=")[1]!.trim().replaceAll(":", "").toLowerCase()).toBe(c.sha256);
    }
  });

  it("private keys are mode 0600, certificates are readable, and each key matches its certificate", () => {
    for (const name of ["ca", "server", "client", "client-expired", "client-via-2-intermediates"]) {
      expect(statSync(path(`${name}.key`)).mode & 0o777).toBe(0o600);
      expect(statSync(path(`${name}.crt`)).mode & 0o077).not.toBe(0);
      const fromKey = openssl("pkey", "-in", path(`${name}.key`), "-pubout");
      const fromCert = openssl("x509", "-in", path(`${name}.crt`), "-noout", "-pubkey");
      expect(fromKey).toBe(fromCert);
    }
  });

  it("variants use P-256 keys (fast), the guide's keep the guide's sizes (server rsa:2048 as its step 6)", () => {
    expect(openssl("x509", "-in", path("client-expired.crt"), "-noout", "-text")).toContain("ASN1 OID: prime256v1");
    expect(openssl("x509", "-in", path("server.crt"), "-noout", "-text")).toContain("Public-Key: (2048 bit)");
  });

  it("client.p12 holds the guide's client and its key, readable by openssl with the documented password", () => {
    expect(statSync(path("client.p12")).mode & 0o777).toBe(0o600);
    const out = openssl("pkcs12", "-in", path("client.p12"), "-passin", `pass:${CLIENT_P12_PASSWORD}`, "-nokeys", "-clcerts");
    const fp = execFileSync("openssl", ["x509", "-noout", "-fingerprint", "-sha256"], { input: out, encoding: "utf8" });
    expect(fp.split("=")[1]!.trim().replaceAll(":", "").toLowerCase()).toBe(pki.credentials.client.leaf.sha256);
  });

  it("serial numbers are unique and positive", () => {
    const serials = [pki.ca, pki.server, ...pki.others, ...Object.values(pki.credentials).map((c) => c.leaf)].map((c) => c.cert.serialNumber);
    expect(new Set(serials).size).toBe(serials.length);
    for (const s of serials) expect(Number.parseInt(s.slice(0, 2), 16)).toBeLessThan(0x80);
  });
});
