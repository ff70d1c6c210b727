// Credentials made to order, checked with `openssl verify` as the independent oracle: chains of
// the asked depth verify against the CA (and no deeper limit), the impostor and the variants fail
// for their own reason, the revoked client fails against the CA's CRL; and the traits the model
// reads off each credential are what it was made to be.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialFactory, credentialKey, type CredentialSpec, type MintedCredential } from "./credentials.ts";
import { generateKeys, issue } from "./pki.ts";

const dir = mkdtempSync(join(tmpdir(), "credentials-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const now = new Date();
let factory: CredentialFactory;
let caPem: string;
let minted: Map<string, MintedCredential>;
const keys: Record<string, string> = {};
const SUBJECT = "CN=client, O=Test";

const specs: Record<string, CredentialSpec> = {
  valid: { kind: "issued", ca: "ca", subject: SUBJECT },
  via3: { kind: "issued", ca: "ca", subject: SUBJECT, intermediates: 3 },
  via4: { kind: "issued", ca: "ca", subject: SUBJECT, intermediates: 4 },
  missing: { kind: "issued", ca: "ca", subject: SUBJECT, intermediates: 1, omitIntermediates: true },
  expired: { kind: "issued", ca: "ca", subject: SUBJECT, validity: "expired" },
  future: { kind: "issued", ca: "ca", subject: SUBJECT, validity: "not-yet-valid" },
  serverAuth: { kind: "issued", ca: "ca", subject: SUBJECT, eku: "serverAuth" },
  impostor: { kind: "impostor", ca: "ca", subject: SUBJECT },
  selfSigned: { kind: "self-signed", subject: SUBJECT },
};

function verify(name: string, extra: string[] = []): { ok: boolean; output: string } {
  const m = minted.get(keys[name]!)!;
  const [leaf, ...chain] = m.chainPem.split(/(?<=-----END CERTIFICATE-----)\n/).filter((x) => x.includes("BEGIN"));
  writeFileSync(join(dir, `${name}.leaf.pem`), leaf!.trim() + "\n");
  writeFileSync(join(dir, `${name}.chain.pem`), chain.join("\n") + "\n");
  const args = ["verify", "-purpose", "sslclient", "-CAfile", join(dir, "ca.pem"), ...(chain.length ? ["-untrusted", join(dir, `${name}.chain.pem`)] : []), ...extra, join(dir, `${name}.leaf.pem`)];
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  return { ok: r.status === 0, output: r.stdout + r.stderr };
}

beforeAll(async () => {
  factory = new CredentialFactory({ now });
  const ca = await issue({ name: "ca", subject: "CN=Test CA, O=Test", keys: await generateKeys("p256"), notBefore: new Date(now.getTime() - 3600e3), notAfter: new Date(now.getTime() + 86400e3), ca: true });
  caPem = ca.certPem;
  writeFileSync(join(dir, "ca.pem"), caPem + "\n");
  factory.addCa({ id: "ca", cert: ca, description: "test CA" });
  for (const [name, spec] of Object.entries(specs)) keys[name] = factory.request(spec);
  const revocation = await factory.revocation("ca", SUBJECT);
  keys.revoked = revocation.key;
  writeFileSync(join(dir, "ca.crl"), revocation.crlPem + "\n");
  minted = await factory.mint();
});

describe("CredentialFactory", () => {
  it("the same spec is the same credential; different specs differ", () => {
    expect(factory.request(specs.valid!)).toBe(keys.valid);
    expect(credentialKey(specs.valid!)).not.toBe(credentialKey(specs.expired!));
    expect(new Set(Object.values(keys)).size).toBe(Object.keys(keys).length);
  });

  it("openssl verify: valid clients and chains of the asked depth verify; the variants fail for their reason", () => {
    expect(verify("valid").ok).toBe(true);
    expect(verify("via3").ok).toBe(true);
    // -verify_depth counts intermediates only (OpenSSL >= 1.1), as ssl_verify_depth does.
    expect(verify("via3", ["-verify_depth", "3"]).ok).toBe(true);
    expect(verify("via4", ["-verify_depth", "3"]).ok).toBe(false);
    expect(verify("via4", ["-verify_depth", "4"]).ok).toBe(true);
    expect(verify("missing").output).toContain("unable to get local issuer certificate");
    expect(verify("expired").output).toContain("certificate has expired");
    expect(verify("future").output).toContain("certificate is not yet valid");
    expect(verify("serverAuth").output).toContain("unsuitable certificate purpose");
    expect(verify("impostor").ok).toBe(false);
    expect(verify("selfSigned").output).toMatch(/self.signed certificate/);
    expect(verify("revoked").ok).toBe(true);
    expect(verify("revoked", ["-crl_check", "-CRLfile", join(dir, "ca.crl")]).output).toContain("certificate revoked");
    expect(verify("valid", ["-crl_check", "-CRLfile", join(dir, "ca.crl")]).ok).toBe(true);
  });

  it("the traits read off each credential are what it was made to be", () => {
    const t = (name: string) => minted.get(keys[name]!)!.traits;
    expect(t("valid")).toMatchObject({ intermediates: 0, validity: "valid", clientAuth: true, subject: "O=Test,CN=client", issuer: "O=Test,CN=Test CA" });
    expect(t("via3").intermediates).toBe(3);
    expect(t("via3").anchor).toBe(t("valid").anchor);
    expect(t("missing").anchor).toMatch(/^unknown:/);
    expect(t("impostor").anchor).toMatch(/^unknown:/);
    expect(t("selfSigned").anchor).toBe("self-signed");
    expect(t("expired").validity).toBe("expired");
    expect(t("future").validity).toBe("not-yet-valid");
    expect(t("serverAuth").clientAuth).toBe(false);
    expect(minted.get(keys.impostor!)!.description).toContain("exact name of CN=Test CA, O=Test");
  });

  it("a given client's traits are what openssl reads off its certificates", async () => {
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, encoding: "utf8", env: { ...process.env, OPENSSL_CONF: "/dev/null" } });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    ssl("req", "-x509", ...ec, "-keyout", "g-ca.key", "-out", "g-ca.crt", "-subj", "/O=Given/CN=Given Root", "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE");
    ssl("req", "-new", ...ec, "-keyout", "g-int.key", "-out", "g-int.csr", "-subj", "/O=Given/CN=Given Intermediate");
    writeFileSync(join(dir, "ca.ext"), "basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n");
    ssl("x509", "-req", "-in", "g-int.csr", "-CA", "g-ca.crt", "-CAkey", "g-ca.key", "-CAcreateserial", "-out", "g-int.crt", "-days", "2", "-extfile", "ca.ext");
    ssl("req", "-new", ...ec, "-keyout", "g-leaf.key", "-out", "g-leaf.csr", "-subj", "/O=Given, Inc./CN=given client");
    writeFileSync(join(dir, "leaf.ext"), "extendedKeyUsage=clientAuth\n");
    ssl("x509", "-req", "-in", "g-leaf.csr", "-CA", "g-int.crt", "-CAkey", "g-int.key", "-CAcreateserial", "-out", "g-leaf.crt", "-days", "2", "-extfile", "leaf.ext");
    writeFileSync(join(dir, "g-chain.crt"), readFileSync(join(dir, "g-leaf.crt"), "utf8") + readFileSync(join(dir, "g-int.crt"), "utf8"));
    const caPem = readFileSync(join(dir, "g-ca.crt"), "utf8");
    const fingerprint = ssl("x509", "-in", "g-ca.crt", "-noout", "-fingerprint", "-sha256").split("=")[1]!.trim().replaceAll(":", "").toLowerCase();

    const f = new CredentialFactory();
    f.addCa({ id: "given-ca", cert: { name: "given-ca", cert: new x509.X509Certificate(caPem), certPem: caPem, sha256: fingerprint }, description: "certificate only" });
    f.addGiven({ id: "host", certFile: join(dir, "g-chain.crt"), keyFile: join(dir, "g-leaf.key"), description: "given" });
    const sent = f.request({ kind: "given", id: "host" });
    const alone = (() => {
      writeFileSync(join(dir, "g-leaf-only.crt"), readFileSync(join(dir, "g-leaf.crt")));
      f.addGiven({ id: "alone", certFile: join(dir, "g-leaf-only.crt"), keyFile: join(dir, "g-leaf.key"), description: "given without its intermediate" });
      return f.request({ kind: "given", id: "alone" });
    })();
    const made = await f.mint();
    const traits = made.get(sent)!.traits;
    const name = (which: "subject" | "issuer") => ssl("x509", "-in", "g-leaf.crt", "-noout", `-${which}`, "-nameopt", "RFC2253").trim().replace(/^(subject|issuer)=/, "");
    expect(traits).toMatchObject({ anchor: fingerprint, intermediates: 1, validity: "valid", clientAuth: true, subject: name("subject"), issuer: name("issuer") });
    expect(traits.serial).toBe(ssl("x509", "-in", "g-leaf.crt", "-noout", "-serial").trim().replace("serial=", "").toLowerCase());
    // openssl agrees the chain reaches the root, and not without the intermediate.
    expect(ssl("verify", "-CAfile", "g-ca.crt", "-untrusted", "g-int.crt", "g-leaf.crt")).toContain(": OK");
    expect(made.get(alone)!.traits).toMatchObject({ anchor: `unknown:${name("issuer")}`, intermediates: 0 });
    expect(spawnSync("openssl", ["verify", "-CAfile", "g-ca.crt", "g-leaf.crt"], { cwd: dir }).status).not.toBe(0);
  });

  it("refuses to issue from a CA whose key the run does not hold", async () => {
    const f = new CredentialFactory();
    const ca = await issue({ name: "x", subject: "CN=X", keys: await generateKeys("p256"), notBefore: new Date(now.getTime() - 1000), notAfter: new Date(now.getTime() + 86400e3), ca: true });
    f.addCa({ id: "x", cert: { name: "x", cert: ca.cert, certPem: ca.certPem, sha256: ca.sha256 }, description: "certificate only" });
    expect(f.canIssue("x")).toBe(false);
    f.request({ kind: "issued", ca: "x", subject: SUBJECT });
    await expect(f.mint()).rejects.toThrow("holds no key for the CA x");
  });
});
