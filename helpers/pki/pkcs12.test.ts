// Oracle: the system OpenSSL 3 CLI. Every assertion about the PFX is made on what
// `openssl` extracts from it, compared with the inputs computed independently here.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPkcs12, PKCS12_ITERATIONS } from "./pkcs12.ts";

x509.cryptoProvider.set(globalThis.crypto);

const PASSWORD = "pässwörd ✓ 42"; // non-ASCII: PBES2 (UTF-8) and MAC (BMPString) encode it differently
const FRIENDLY_NAME = "conformance-leaf";

let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), "pkcs12-test-"));
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function openssl(args: string[], input?: string): RunResult {
  // OPENSSL_CONF=/dev/null: no config can switch on the legacy provider behind our back.
  const r = spawnSync("openssl", args, { input, encoding: "utf8", env: { ...process.env, OPENSSL_CONF: "/dev/null" } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function opensslOk(args: string[], input?: string): string {
  const r = openssl(args, input);
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function pemBlocks(text: string, label: string): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----\\n`, "g");
  return text.match(re) ?? [];
}

/** SHA-256 fingerprint as OpenSSL prints it, computed by openssl from a PEM cert. */
function opensslFingerprint(pem: string): string {
  const m = /Fingerprint=([0-9A-F:]+)/i.exec(opensslOk(["x509", "-noout", "-fingerprint", "-sha256"], pem));
  if (!m?.[1]) throw new Error("no fingerprint in openssl output");
  return m[1].toUpperCase();
}

/** SHA-256 fingerprint of the DER we handed to buildPkcs12, computed without openssl. */
function inputFingerprint(der: ArrayBuffer): string {
  return createHash("sha256").update(new Uint8Array(der)).digest("hex").toUpperCase().match(/../g)!.join(":");
}

function writeDer(name: string, der: ArrayBuffer): string {
  const file = join(workDir, name);
  writeFileSync(file, new Uint8Array(der));
  return file;
}

interface Material {
  keys: CryptoKeyPair;
  cert: x509.X509Certificate;
  pkcs8: ArrayBuffer;
}

async function makeSelfSigned(alg: RsaHashedKeyGenParams | EcKeyGenParams, cn: string, ca = false): Promise<Material> {
  const keys = (await globalThis.crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const signingAlgorithm = alg.name === "ECDSA" ? { name: "ECDSA", hash: "SHA-256" } : alg;
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: createHash("sha256").update(cn).digest("hex").slice(0, 16),
    name: `CN=${cn}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + 86_400_000),
    signingAlgorithm,
    keys,
    extensions: ca
      ? [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)]
      : [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const pkcs8 = await globalThis.crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { keys, cert, pkcs8 };
}

const RSA_2048: RsaHashedKeyGenParams = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
};
const EC_P256: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };

// Copies `buf` into the middle of a larger buffer: catches code that ignores byteOffset.
function offsetView(buf: ArrayBuffer): Uint8Array {
  const big = new Uint8Array(buf.byteLength + 64).fill(0xee);
  big.set(new Uint8Array(buf), 32);
  return big.subarray(32, 32 + buf.byteLength);
}

const cases = [
  { label: "RSA-2048, ArrayBuffer inputs", alg: RSA_2048, asView: false },
  { label: "ECDSA P-256, offset Uint8Array inputs", alg: EC_P256, asView: true },
] as const;

describe.each(cases)("buildPkcs12 ($label)", ({ alg, asView }) => {
  let leaf: Material;
  let ca: Material;
  let p12File: string;

  beforeAll(async () => {
    [leaf, ca] = await Promise.all([makeSelfSigned(alg, `leaf-${alg.name}`), makeSelfSigned(EC_P256, `ca-${alg.name}`, true)]);
    const wrap = (b: ArrayBuffer): ArrayBuffer | Uint8Array => (asView ? offsetView(b) : b);
    const p12 = await buildPkcs12({
      certificate: wrap(leaf.cert.rawData),
      chain: [wrap(ca.cert.rawData)],
      privateKey: wrap(leaf.pkcs8),
      password: PASSWORD,
      friendlyName: FRIENDLY_NAME,
    });
    expect(p12).toBeInstanceOf(Uint8Array);
    p12File = join(workDir, `${alg.name}.p12`);
    writeFileSync(p12File, p12);
  }, 30_000);

  it("openssl extracts the leaf and the chain cert byte-for-byte", () => {
    const out = opensslOk(["pkcs12", "-in", p12File, "-passin", `pass:${PASSWORD}`, "-noenc"]);
    const fingerprints = pemBlocks(out, "CERTIFICATE").map(opensslFingerprint);
    expect(fingerprints).toHaveLength(2);
    expect(fingerprints).toContain(inputFingerprint(leaf.cert.rawData));
    expect(fingerprints).toContain(inputFingerprint(ca.cert.rawData));
    expect(out).toContain(`friendlyName: ${FRIENDLY_NAME}`);
  });

  it("the extracted private key belongs to the leaf certificate", () => {
    const out = opensslOk(["pkcs12", "-in", p12File, "-passin", `pass:${PASSWORD}`, "-noenc", "-nocerts"]);
    const keys = pemBlocks(out, "PRIVATE KEY");
    expect(keys).toHaveLength(1);
    const pubFromKey = opensslOk(["pkey", "-pubout"], keys[0]);
    const pubFromCert = opensslOk(["x509", "-inform", "DER", "-in", writeDer(`${alg.name}-leaf.der`, leaf.cert.rawData), "-pubkey", "-noout"]);
    expect(pubFromKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(pubFromKey).toBe(pubFromCert);
  });

  it("localKeyID ties the key to the leaf only: -clcerts is the leaf, -cacerts is the CA", () => {
    const base = ["pkcs12", "-in", p12File, "-passin", `pass:${PASSWORD}`, "-nokeys"];
    const cl = pemBlocks(opensslOk([...base, "-clcerts"]), "CERTIFICATE").map(opensslFingerprint);
    const cas = pemBlocks(opensslOk([...base, "-cacerts"]), "CERTIFICATE").map(opensslFingerprint);
    expect(cl).toEqual([inputFingerprint(leaf.cert.rawData)]);
    expect(cas).toEqual([inputFingerprint(ca.cert.rawData)]);
  });

  it("a wrong password makes openssl fail", () => {
    const r = openssl(["pkcs12", "-in", p12File, "-passin", "pass:not-the-password", "-noenc"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/mac verify (error|failure)/i);
    expect(r.stdout).not.toContain("PRIVATE KEY");
  });

  it("openssl -info reports PBES2/AES-256-CBC for key and certs and an HMAC-SHA256 MAC", () => {
    const r = openssl(["pkcs12", "-in", p12File, "-passin", `pass:${PASSWORD}`, "-noenc", "-info"]);
    expect(r.status).toBe(0);
    const pbes2 = `PBES2, PBKDF2, AES-256-CBC, Iteration ${PKCS12_ITERATIONS}, PRF hmacWithSHA256`;
    expect(r.stderr).toContain(`MAC: sha256, Iteration ${PKCS12_ITERATIONS}`);
    expect(r.stderr).toContain(`PKCS7 Encrypted data: ${pbes2}`);
    expect(r.stderr).toContain(`Shrouded Keybag: ${pbes2}`);
    // OpenSSL falls back to a legacy password encoding for the MAC and warns if that was needed.
    expect(r.stderr).not.toMatch(/warning|broken/i);
  });
});

describe("buildPkcs12 input checks", () => {
  let rsa: Material;
  let ec: Material;
  beforeAll(async () => {
    [rsa, ec] = await Promise.all([makeSelfSigned(RSA_2048, "rsa-check"), makeSelfSigned(EC_P256, "ec-check")]);
  }, 30_000);

  it("rejects a private key that is not the certificate's", async () => {
    const other = await makeSelfSigned(EC_P256, "ec-other");
    await expect(buildPkcs12({ certificate: ec.cert.rawData, privateKey: other.pkcs8, password: PASSWORD })).rejects.toThrow(
      /does not match/,
    );
  });

  it("rejects a key of another algorithm than the certificate's", async () => {
    await expect(buildPkcs12({ certificate: ec.cert.rawData, privateKey: rsa.pkcs8, password: PASSWORD })).rejects.toThrow(
      /different algorithms/,
    );
  });

  it("rejects an empty password and non-DER input", async () => {
    await expect(buildPkcs12({ certificate: rsa.cert.rawData, privateKey: rsa.pkcs8, password: "" })).rejects.toThrow(/password/);
    await expect(
      buildPkcs12({ certificate: rsa.cert.rawData, chain: [new Uint8Array([1, 2, 3])], privateKey: rsa.pkcs8, password: PASSWORD }),
    ).rejects.toThrow(/chain\[0\]/);
    await expect(buildPkcs12({ certificate: rsa.cert.rawData, privateKey: new Uint8Array(16), password: PASSWORD })).rejects.toThrow(
      /PKCS#8/,
    );
  });
});
