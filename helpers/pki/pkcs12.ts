// Builds password-protected PKCS#12 (PFX) bundles with pkijs + WebCrypto, using
// only algorithms OpenSSL 3 reads with its default provider (no RC2/3DES/SHA-1 PBE).
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

export interface Pkcs12Input {
  /** Leaf certificate, DER. */
  certificate: ArrayBuffer | Uint8Array;
  /** Extra certificates (CA / intermediates), DER. */
  chain?: Array<ArrayBuffer | Uint8Array>;
  /** PKCS#8 DER of the leaf's private key (RSA or EC). */
  privateKey: ArrayBuffer | Uint8Array;
  password: string;
  friendlyName?: string;
}

/**
 * One count for PBKDF2 and the MAC KDF: the MAC is also a password oracle, so a
 * cheaper MAC would be the weakest link for offline guessing. 2048 is OpenSSL's own
 * default for `pkcs12 -export`. The run's client.p12 holds a throwaway test key under a
 * password printed in the README, so a higher count would protect nothing and cost
 * ~100 ms of pure-JS MAC KDF (RFC 7292 App. B inside pkijs) on every run.
 */
export const PKCS12_ITERATIONS = 2048;

const OID_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2";
const OID_CERT_BAG = "1.2.840.113549.1.12.10.1.3";
const OID_X509_CERT = "1.2.840.113549.1.9.22.1";
const OID_FRIENDLY_NAME = "1.2.840.113549.1.9.20";
const OID_LOCAL_KEY_ID = "1.2.840.113549.1.9.21";
const OID_RSA = "1.2.840.113549.1.1.1";
const OID_EC = "1.2.840.10045.2.1";
const EC_CURVES: Readonly<Record<string, string>> = {
  "1.2.840.10045.3.1.7": "P-256",
  "1.3.132.0.34": "P-384",
  "1.3.132.0.35": "P-521",
};

// A local engine instead of pkijs.setEngine(): no process-global side effect.
const engine = new pkijs.CryptoEngine({ name: "webcrypto", crypto: globalThis.crypto });

const PBES2_AES256: Omit<pkijs.CryptoEngineEncryptParams, "password" | "contentToEncrypt" | "contentType"> = {
  // pkijs's type demands `iv`, but the engine always draws a fresh random IV itself.
  contentEncryptionAlgorithm: { name: "AES-CBC", length: 256 } as pkijs.ContentEncryptionAesCbcParams,
  hmacHashAlgorithm: "SHA-256",
  iterationCount: PKCS12_ITERATIONS,
};

function toArrayBuffer(data: ArrayBuffer | Uint8Array): ArrayBuffer {
  if (data instanceof ArrayBuffer) return data;
  // Copy: a Uint8Array may be a window onto a larger (or shared) buffer.
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return copy.buffer;
}

function parseCertificate(der: ArrayBuffer, label: string): pkijs.Certificate {
  try {
    return pkijs.Certificate.fromBER(der);
  } catch (err) {
    throw new Error(`buildPkcs12: ${label} is not a DER X.509 certificate`, { cause: err });
  }
}

function keyAlgorithm(keyInfo: pkijs.PrivateKeyInfo): RsaHashedImportParams | EcKeyImportParams {
  const { algorithmId, algorithmParams } = keyInfo.privateKeyAlgorithm;
  if (algorithmId === OID_RSA) return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  if (algorithmId === OID_EC && algorithmParams instanceof asn1js.ObjectIdentifier) {
    const namedCurve = EC_CURVES[algorithmParams.valueBlock.toString()];
    if (namedCurve) return { name: "ECDSA", namedCurve };
  }
  throw new Error(`buildPkcs12: unsupported private key algorithm ${algorithmId} (expected RSA or EC P-256/384/521)`);
}

// Refuse to bundle a key that does not belong to the certificate: such a PFX parses
// fine but fails later, far from the cause, in a TLS handshake.
async function assertKeyMatchesCertificate(keyDer: ArrayBuffer, keyInfo: pkijs.PrivateKeyInfo, cert: pkijs.Certificate): Promise<void> {
  if (cert.subjectPublicKeyInfo.algorithm.algorithmId !== keyInfo.privateKeyAlgorithm.algorithmId) {
    throw new Error("buildPkcs12: private key and certificate public key have different algorithms");
  }
  const alg = keyAlgorithm(keyInfo);
  const subtle = globalThis.crypto.subtle;
  const spki = cert.subjectPublicKeyInfo.toSchema().toBER(false);
  const [priv, pub] = await Promise.all([
    subtle.importKey("pkcs8", keyDer, alg, true, ["sign"]).then((k) => subtle.exportKey("jwk", k)),
    subtle.importKey("spki", spki, alg, true, ["verify"]).then((k) => subtle.exportKey("jwk", k)),
  ]).catch((err: unknown) => {
    throw new Error(`buildPkcs12: cannot import the private key or the certificate's public key as ${alg.name}`, { cause: err });
  });
  const fields = alg.name === "ECDSA" ? (["crv", "x", "y"] as const) : (["n", "e"] as const);
  if (fields.some((f) => priv[f] !== pub[f])) {
    throw new Error("buildPkcs12: private key does not match the certificate's public key");
  }
}

function bagAttributes(localKeyId: ArrayBuffer, friendlyName: string | undefined): pkijs.Attribute[] {
  const attrs = [new pkijs.Attribute({ type: OID_LOCAL_KEY_ID, values: [new asn1js.OctetString({ valueHex: localKeyId })] })];
  if (friendlyName !== undefined) {
    attrs.push(new pkijs.Attribute({ type: OID_FRIENDLY_NAME, values: [new asn1js.BmpString({ value: friendlyName })] }));
  }
  return attrs;
}

function certBag(der: ArrayBuffer, attributes?: pkijs.Attribute[]): pkijs.SafeBag {
  // Raw certValue rather than parsedValue, so the input DER is embedded byte-for-byte.
  const bagValue = new pkijs.CertBag({ certId: OID_X509_CERT, certValue: new asn1js.OctetString({ valueHex: der }) });
  return new pkijs.SafeBag({ bagId: OID_CERT_BAG, bagValue, ...(attributes ? { bagAttributes: attributes } : {}) });
}

/**
 * Returns the DER of a PFX holding the leaf certificate and its key (linked by
 * localKeyId, optionally named by friendlyName) plus any chain certificates.
 * Key bag and certificate SafeContents: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC).
 * Integrity: password MAC with HMAC-SHA-256 (RFC 7292 KDF).
 */
export async function buildPkcs12(input: Pkcs12Input): Promise<Uint8Array> {
  if (input.password.length === 0) throw new Error("buildPkcs12: password must not be empty");

  const leafDer = toArrayBuffer(input.certificate);
  const chainDers = (input.chain ?? []).map(toArrayBuffer);
  const keyDer = toArrayBuffer(input.privateKey);

  const leaf = parseCertificate(leafDer, "certificate");
  chainDers.forEach((der, i) => parseCertificate(der, `chain[${i}]`));
  let keyInfo: pkijs.PrivateKeyInfo;
  try {
    keyInfo = pkijs.PrivateKeyInfo.fromBER(keyDer);
  } catch (err) {
    throw new Error("buildPkcs12: privateKey is not PKCS#8 DER", { cause: err });
  }
  await assertKeyMatchesCertificate(keyDer, keyInfo, leaf);

  // PBES2 takes the password as UTF-8 bytes; pkijs's MAC KDF re-encodes it as BMPString, as RFC 7292 requires.
  const password = toArrayBuffer(new TextEncoder().encode(input.password));
  // SHA-1 of the leaf, as OpenSSL does: an identifier tying key to cert, not a security function.
  const localKeyId = await globalThis.crypto.subtle.digest("SHA-1", leafDer);

  const keyBag = new pkijs.PKCS8ShroudedKeyBag({ parsedValue: keyInfo });
  const certContents = new pkijs.SafeContents({
    safeBags: [certBag(leafDer, bagAttributes(localKeyId, input.friendlyName)), ...chainDers.map((der) => certBag(der))],
  });
  const certsEncrypted = new pkijs.EncryptedData();

  // Both PBKDF2 derivations run in WebCrypto's thread pool, so do them concurrently.
  await Promise.all([
    keyBag.makeInternalValues({ ...PBES2_AES256, password }, engine),
    certsEncrypted.encrypt({ ...PBES2_AES256, password, contentToEncrypt: certContents.toSchema().toBER(false) }, engine),
  ]);

  const keyContents = new pkijs.SafeContents({
    safeBags: [
      new pkijs.SafeBag({ bagId: OID_SHROUDED_KEY_BAG, bagValue: keyBag, bagAttributes: bagAttributes(localKeyId, input.friendlyName) }),
    ],
  });

  // Same layout as `openssl pkcs12 -export`: encrypted certs, then plain Data holding the (already shrouded) key.
  const authenticatedSafe = new pkijs.AuthenticatedSafe({
    safeContents: [
      new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.ENCRYPTED_DATA, content: certsEncrypted.toSchema() }),
      new pkijs.ContentInfo({
        contentType: pkijs.ContentInfo.DATA,
        content: new asn1js.OctetString({ valueHex: keyContents.toSchema().toBER(false) }),
      }),
    ],
  });

  // integrityMode 0 = password MAC; pkijs insists on pbkdf2HashAlgorithm but only uses hmacHashAlgorithm.
  const pfx = new pkijs.PFX({ parsedValue: { integrityMode: 0, authenticatedSafe } });
  await pfx.makeInternalValues(
    { password, iterations: PKCS12_ITERATIONS, pbkdf2HashAlgorithm: { name: "SHA-256" }, hmacHashAlgorithm: "SHA-256" },
    engine,
  );
  return new Uint8Array(pfx.toSchema().toBER(false));
}
