// Credentials made to order, checked with `openssl verify` as the independent oracle: chains of
// the asked depth verify against the CA (and no deeper limit), the impostor and the variants fail
// for their own reason, the revoked client fails against the CA's CRL; and the traits the model
// reads off each credential are what it was made to be.
import "reflect-metadata";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CredentialFactory, credentialKey, type CredentialSpec, type MintedCredential } from "./credentials.ts";
import { generateKeys, issue } from "./pki.ts";

const dir = mkdtempSync(join(tmpdir(), "credentials-"));
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

  it("refuses to issue from a CA whose key the run does not hold", async () => {
    const f = new CredentialFactory();
    const ca = await issue({ name: "x", subject: "CN=X", keys: await generateKeys("p256"), notBefore: new Date(now.getTime() - 1000), notAfter: new Date(now.getTime() + 86400e3), ca: true });
    f.addCa({ id: "x", cert: { name: "x", cert: ca.cert, certPem: ca.certPem, sha256: ca.sha256 }, description: "certificate only" });
    expect(f.canIssue("x")).toBe(false);
    f.request({ kind: "issued", ca: "x", subject: SUBJECT });
    await expect(f.mint()).rejects.toThrow("holds no key for the CA x");
  });
});
