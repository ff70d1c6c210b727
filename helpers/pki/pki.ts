// The run's PKI: the guide's CA, server and client certificates plus the variants the
// scenarios need, generated fresh for every run with @peculiar/x509 (no openssl shell-outs).
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Validity } from "@peculiar/asn1-x509";
import { createHash, createPrivateKey, KeyObject, randomBytes, sign as nodeSign, webcrypto, X509Certificate as NodeX509Certificate } from "node:crypto";
import { ConfigError } from "../support/errors.ts";
import { BIT_STRING, children, INTEGER, OCTET_STRING, readTlv, SEQUENCE, tlv } from "./der.ts";
import { takeRsa } from "./key-pool.ts";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export const GUIDE_CA_SUBJECT = "CN=My Certificate Authority, O=MyOrganization";
export const GUIDE_CLIENT_SUBJECT = "CN=authorized-client, O=MyOrganization";
export const GUIDE_HOST = "test.localdev.me";

/**
 * Key types: the guide's own certificates keep the guide's key sizes (its CA and client
 * `-newkey rsa:4096`, its server certificate `-newkey rsa:2048`: fixtures/guide-commands.ts);
 * variants use P-256 so generation stays fast.
 */
export type KeyKind = "rsa-4096" | "rsa-2048" | "p256";

/** Every credential a scenario can present. `none` presents nothing. */
export const CREDENTIAL_NAMES = [
  "none",
  "client",
  "client-other-ca",
  "client-expired",
  "client-not-yet-valid",
  "client-self-signed",
  "client-via-1-intermediate",
  "client-via-2-intermediates",
  "client-via-3-intermediates",
  "client-missing-intermediate",
  "client-server-auth-only",
  "client-revoked",
  "client-match-cn-evil",
  "client-ca-2",
] as const;
export type CredentialName = (typeof CREDENTIAL_NAMES)[number];

export interface IssuedCert {
  /** File-name stem, e.g. `ca`, `client-expired`. */
  name: string;
  /** The certificate as @peculiar/x509 reads it; parsed on first use (most are only ever needed as DER or PEM). */
  readonly cert: x509.X509Certificate;
  /** The certificate, DER. */
  der: Uint8Array;
  keys: CryptoKeyPair;
  certPem: string;
  keyPem: string;
  /** Lower-case hex SHA-256 of the DER certificate. */
  sha256: string;
}

export interface Credential {
  name: Exclude<CredentialName, "none">;
  description: string;
  leaf: IssuedCert;
  /** Intermediates the client sends after its leaf (nearest first). */
  chain: IssuedCert[];
}

/** A CRL issued by the run's CA (PEM labelled `X509 CRL`, the label OpenSSL loads). */
export interface IssuedCrl {
  name: string;
  pem: string;
  sha256: string;
  thisUpdate: Date;
  nextUpdate: Date;
  revokedSerials: string[];
}

export interface Pki {
  ca: IssuedCert;
  server: IssuedCert;
  /** `crl-revoking` lists client-revoked; `crl-expired` passed its nextUpdate yesterday, listing nothing. */
  crls: Record<"crl-revoking" | "crl-expired", IssuedCrl>;
  /** CAs that are not the trust anchor but sign credentials: impostor CA, intermediates. */
  others: IssuedCert[];
  credentials: Record<Exclude<CredentialName, "none">, Credential>;
  serverHosts: string[];
}

export interface PkiOptions {
  /** DNS names the server certificate covers; the first is its CN. */
  serverHosts?: string[];
  /** Clock used for validity windows (tests pin it). */
  now?: Date;
  /**
   * An existing CA (a live deployment's) to issue the client credentials from, instead of a
   * fresh one. Its "other CA" impostor still gets the existing CA's exact subject.
   */
  ca?: { certPem: string; keyPem: string };
}

/** Imports an existing CA's certificate and PKCS#8 key (RSA or ECDSA P-256/P-384). */
/**
 * The private key (any PEM form OpenSSL writes: PKCS#8, SEC1, PKCS#1) as PKCS#8 DER, after checking
 * it is the key of `certPem`. What is wrong is a configuration error naming `what` (the flags or files).
 */
export function checkKeyPair(certPem: string, keyPem: string, what: string): Buffer {
  let cert: NodeX509Certificate;
  try {
    cert = new NodeX509Certificate(certPem);
  } catch (error) {
    throw new ConfigError(`${what}: the certificate cannot be read (${(error as Error).message})`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    throw new ConfigError(`${what}: the private key cannot be read (${(error as Error).message}); an unencrypted PEM key is needed`);
  }
  if (!cert.checkPrivateKey(key)) throw new ConfigError(`${what}: the key does not belong to the certificate (${cert.subject.replaceAll("\n", ", ")})`);
  return key.export({ type: "pkcs8", format: "der" });
}

export async function importCa(certPem: string, keyPem: string, what = "the CA key and certificate"): Promise<IssuedCert> {
  const der = checkKeyPair(certPem, keyPem, what);
  const cert = new x509.X509Certificate(certPem);
  const alg = cert.publicKey.algorithm as RsaHashedKeyAlgorithm & EcKeyAlgorithm;
  const importParams =
    alg.name === "ECDSA" ? { name: "ECDSA", namedCurve: alg.namedCurve } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const privateKey = await webcrypto.subtle.importKey("pkcs8", der, importParams, true, ["sign"]);
  const publicKey = await cert.publicKey.export(importParams, ["verify"], webcrypto as unknown as Crypto);
  const raw = new Uint8Array(cert.rawData);
  const sha256 = createHash("sha256").update(raw).digest("hex");
  return issuedCert({ name: "ca", der: raw, keys: { privateKey, publicKey } as CryptoKeyPair, certPem: cert.toString("pem"), keyPem: keyPem.trim(), sha256 }, cert);
}

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

const P256: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };

export function generateKeys(kind: KeyKind): Promise<CryptoKeyPair> {
  if (kind === "rsa-4096") return takeRsa(4096);
  if (kind === "rsa-2048") return takeRsa(2048);
  return webcrypto.subtle.generateKey(P256, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

/** The signature algorithm follows the signer's key type. */
function signingAlgorithm(signer: CryptoKey): Algorithm {
  return signer.algorithm.name === "ECDSA"
    ? ({ name: "ECDSA", hash: "SHA-256" } as EcdsaParams)
    : { name: "RSASSA-PKCS1-v1_5" };
}

/** Positive, random 128-bit serial (RFC 5280: unique per issuer, at most 20 octets). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return bytes.toString("hex");
}

export interface CertSpec {
  name: string;
  /** A string ("CN=a, O=b", certificate order) or JSON name. */
  subject: string | x509.JsonName;
  keys: CryptoKeyPair;
  issuer?: IssuedCert; // absent = self-signed
  notBefore: Date;
  notAfter: Date;
  ca?: boolean;
  eku?: string[];
  dnsNames?: string[];
}

// A certificate is assembled from DER parts that @peculiar/x509 encodes, each once: names, the
// validity window, basic constraints, key usages. Only framing is written here: the outer
// SEQUENCEs, the serial INTEGER, the signature BIT STRING, and three extensions that are a
// framed value (the key identifiers, the subjectAltName's list of dNSNames).
// X509CertificateGenerator serialised and then re-parsed every certificate (~4 ms each, for
// thousands), and each @peculiar/x509 extension object re-parses what it serialised.
// issue.test.ts checks the TBSCertificate is byte for byte the one X509CertificateGenerator makes
// from the same spec, and that openssl reads every field and verifies every signature.

// [0] EXPLICIT INTEGER 2: version v3.
const VERSION_V3 = Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02);
// AlgorithmIdentifiers (RFC 5758 3.2: ECDSA without parameters; RFC 4055 5: RSA with NULL).
const ECDSA_SHA256 = Buffer.from("300a06082a8648ce3d040302", "hex");
const RSA_SHA: Record<string, { algorithm: Buffer; hash: string }> = {
  "SHA-256": { algorithm: Buffer.from("300d06092a864886f70d01010b0500", "hex"), hash: "sha256" },
  "SHA-384": { algorithm: Buffer.from("300d06092a864886f70d01010c0500", "hex"), hash: "sha384" },
  "SHA-512": { algorithm: Buffer.from("300d06092a864886f70d01010d0500", "hex"), hash: "sha512" },
};

/** How a private key signs: the AlgorithmIdentifier, and a signature over the TBS (DER for ECDSA). */
interface Signer {
  algorithm: Uint8Array;
  sign(tbs: Uint8Array): Promise<Buffer>;
}
const signers = new WeakMap<CryptoKey, Signer>();
function signerOf(privateKey: CryptoKey): Signer {
  let signer = signers.get(privateKey);
  if (!signer) {
    const key = KeyObject.from(privateKey);
    if (privateKey.algorithm.name === "ECDSA") {
      // As X509CertificateGenerator: ECDSA keys sign with SHA-256 whatever their curve. A P-256
      // signature takes well under a millisecond: made at once (the thread pool's round trip
      // costs about as much, measured on two cores).
      signer = { algorithm: ECDSA_SHA256, sign: async (tbs) => nodeSign("sha256", tbs, { key, dsaEncoding: "der" }) };
    } else {
      const hash = ((privateKey.algorithm as RsaHashedKeyAlgorithm).hash?.name ?? "SHA-256").toUpperCase();
      const rsa = RSA_SHA[hash];
      if (privateKey.algorithm.name !== "RSASSA-PKCS1-v1_5" || !rsa) throw new Error(`cannot sign certificates with a ${privateKey.algorithm.name} ${hash} key`);
      // RSA signing takes milliseconds: on the thread pool, so both cores sign.
      signer = {
        algorithm: rsa.algorithm,
        sign: (tbs) => new Promise((resolve, reject) => nodeSign(rsa.hash, tbs, key, (error, signature) => (error ? reject(error) : resolve(signature)))),
      };
    }
    signers.set(privateKey, signer);
  }
  return signer;
}

/** What a key pair contributes to every certificate made with it (or signed by it), computed once per key. */
interface KeyParts {
  spki: Uint8Array;
  /** The SubjectKeyIdentifier extension of certificates for this key, and the AuthorityKeyIdentifier one of those it signs (DER). */
  ski: Uint8Array;
  aki: Uint8Array;
  pkcs8Pem: string;
}
const keyParts = new WeakMap<CryptoKey, KeyParts>();
// subjectKeyIdentifier (2.5.29.14): OCTET STRING; authorityKeyIdentifier (2.5.29.35): SEQUENCE { [0] keyIdentifier }.
const SKI_OID = Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x0e);
const AKI_OID = Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x23);
function partsOf(keys: CryptoKeyPair): KeyParts {
  let parts = keyParts.get(keys.publicKey);
  if (!parts) {
    // node:crypto's exports are WebCrypto's exportKey bytes, without a trip through the thread pool.
    const spki = KeyObject.from(keys.publicKey).export({ type: "spki", format: "der" });
    const pkcs8 = KeyObject.from(keys.privateKey).export({ type: "pkcs8", format: "der" });
    // RFC 5280 4.2.1.2 (1), as @peculiar/x509's PublicKey.getKeyIdentifier: SHA-1 of the
    // subjectPublicKey BIT STRING's bits. The issuer's AuthorityKeyIdentifier names the same identifier.
    const [, bits] = children(spki, readTlv(spki, 0));
    if (bits?.tag !== BIT_STRING) throw new Error("internal: not a SubjectPublicKeyInfo");
    const keyId = createHash("sha1").update(spki.subarray(bits.start + 1, bits.end)).digest();
    parts = {
      spki: new Uint8Array(spki),
      // Not critical (RFC 5280 4.2.1.1, 4.2.1.2): the DEFAULT, so absent.
      ski: tlv(SEQUENCE, SKI_OID, tlv(OCTET_STRING, tlv(OCTET_STRING, keyId))),
      aki: tlv(SEQUENCE, AKI_OID, tlv(OCTET_STRING, tlv(SEQUENCE, tlv(0x80, keyId)))),
      pkcs8Pem: x509.PemConverter.encode(new Uint8Array(pkcs8), "PRIVATE KEY"),
    };
    keyParts.set(keys.publicKey, parts);
  }
  return parts;
}

// subjectAltName (2.5.29.17), not critical (the DEFAULT, so absent), of dNSNames ([2] IA5String).
const SAN_OID = Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x11);
const IA5 = /^[\x00-\x7f]*$/;
function subjectAltNameDer(dnsNames: string[]): Uint8Array {
  // Anything but ASCII goes through the library, which knows what to make of it.
  if (!dnsNames.every((n) => IA5.test(n))) {
    return new Uint8Array(new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: "dns" as const, value })), false).rawData);
  }
  const names = dnsNames.map((n) => tlv(0x82, Buffer.from(n, "ascii")));
  return tlv(SEQUENCE, SAN_OID, tlv(OCTET_STRING, tlv(SEQUENCE, ...names)));
}

const memo = <T>(make: (key: string) => T) => {
  const cache = new Map<string, T>();
  return (key: string): T => {
    let value = cache.get(key);
    if (value === undefined) {
      value = make(key);
      if (cache.size > 10_000) cache.clear();
      cache.set(key, value);
    }
    return value;
  };
};
const nameDer = memo((key) => new Uint8Array(new x509.Name(JSON.parse(key) as string | x509.JsonName).toArrayBuffer()));
const validityDer = memo((key) => {
  const [notBefore, notAfter] = key.split("/").map((t) => new Date(Number(t)));
  return new Uint8Array(AsnConvert.serialize(new Validity({ notBefore: notBefore!, notAfter: notAfter! })));
});
const extensionDer = memo((key) => {
  const [kind, value] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
  if (kind === "bc") return new Uint8Array(new x509.BasicConstraintsExtension(value === "ca", undefined, true).rawData);
  if (kind === "ku") return new Uint8Array(new x509.KeyUsagesExtension(Number(value), true).rawData);
  if (kind === "eku") return new Uint8Array(new x509.ExtendedKeyUsageExtension(value.split(","), false).rawData);
  throw new Error(`internal: extension ${key}`);
});

// The subject Name (DER) of each certificate made here: what a certificate it signs names as issuer.
const subjectNames = new WeakMap<IssuedCert, Uint8Array>();
export function subjectNameOf(cert: IssuedCert): Uint8Array {
  let name = subjectNames.get(cert);
  if (!name) {
    // The issuer's name exactly as encoded in its certificate, so chains match byte for byte.
    name = new Uint8Array(cert.cert.subjectName.toArrayBuffer());
    subjectNames.set(cert, name);
  }
  return name;
}

/** What the evidence says of a certificate, in @peculiar/x509's own terms (X509Certificate's fields). */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** "ECDSA P-256", "RSA 4096". */
  publicKey: string;
}

const nameText = memo((key) => new x509.Name(Buffer.from(key, "latin1")).toString());
const facts = new WeakMap<IssuedCert, () => CertificateFacts>();

/** The facts of a certificate made here, kept from when it was made; others are read off the parsed certificate. */
export function certificateFacts(c: IssuedCert): CertificateFacts {
  const known = facts.get(c);
  if (known) return known();
  const alg = c.cert.publicKey.algorithm as RsaHashedKeyAlgorithm & EcKeyAlgorithm;
  return {
    subject: c.cert.subject,
    issuer: c.cert.issuer,
    serialNumber: c.cert.serialNumber,
    notBefore: c.cert.notBefore,
    notAfter: c.cert.notAfter,
    publicKey: alg.name === "ECDSA" ? `ECDSA ${alg.namedCurve}` : `RSA ${alg.modulusLength}`,
  };
}

/** The subject of a certificate as X509Certificate.subject prints it ("CN=a, O=b"), without parsing the certificate when it was made here. */
export function subjectOf(c: IssuedCert): string {
  const known = facts.get(c);
  return known ? known().subject : c.cert.subject;
}

/** An IssuedCert whose parsed form is made only when something asks for it. */
export function issuedCert(fields: Omit<IssuedCert, "cert">, parsed?: x509.X509Certificate): IssuedCert {
  let cert = parsed;
  return {
    ...fields,
    get cert() {
      cert ??= new x509.X509Certificate(fields.der as Uint8Array<ArrayBuffer>);
      return cert;
    },
  };
}

export async function issue(spec: CertSpec): Promise<IssuedCert> {
  const signerKeys = spec.issuer?.keys ?? spec.keys;
  const signer = signerOf(signerKeys.privateKey);
  const own = partsOf(spec.keys);
  const issuerParts = spec.issuer ? partsOf(spec.issuer.keys) : undefined;
  const subject = nameDer(JSON.stringify(spec.subject));
  const usage = spec.ca
    ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
    : spec.keys.publicKey.algorithm.name === "ECDSA"
      ? x509.KeyUsageFlags.digitalSignature
      : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment;
  const extensions: Uint8Array[] = [extensionDer(spec.ca ? "bc:ca" : "bc:leaf"), extensionDer(`ku:${usage}`), own.ski];
  if (issuerParts) extensions.push(issuerParts.aki);
  if (spec.eku) extensions.push(extensionDer(`eku:${spec.eku.join(",")}`));
  if (spec.dnsNames?.length) extensions.push(subjectAltNameDer(spec.dnsNames));
  const serial = Buffer.from(randomSerial(), "hex");
  const issuerName = spec.issuer ? subjectNameOf(spec.issuer) : subject;
  const tbs = tlv(
    SEQUENCE,
    VERSION_V3,
    tlv(INTEGER, serial),
    signer.algorithm,
    issuerName,
    validityDer(`${spec.notBefore.getTime()}/${spec.notAfter.getTime()}`),
    subject,
    own.spki,
    tlv(0xa3, tlv(SEQUENCE, ...extensions)),
  );
  const signature = await signer.sign(tbs);
  const certDer = new Uint8Array(tlv(SEQUENCE, tbs, signer.algorithm, tlv(BIT_STRING, Uint8Array.of(0), signature)));
  const issued = issuedCert({
    name: spec.name,
    der: certDer,
    keys: spec.keys,
    certPem: x509.PemConverter.encode(certDer as Uint8Array<ArrayBuffer>, "CERTIFICATE"),
    keyPem: own.pkcs8Pem,
    sha256: createHash("sha256").update(certDer).digest("hex"),
  });
  subjectNames.set(issued, subject);
  const alg = spec.keys.publicKey.algorithm as RsaHashedKeyAlgorithm & EcKeyAlgorithm;
  // Times as the certificate holds them: whole seconds.
  const second = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);
  // Names are printed when the evidence asks (most server certificates' names are seen once).
  facts.set(issued, () => ({
    subject: nameText(Buffer.from(subject).toString("latin1")),
    issuer: nameText(Buffer.from(issuerName).toString("latin1")),
    serialNumber: serial.toString("hex"),
    notBefore: second(spec.notBefore),
    notAfter: second(spec.notAfter),
    publicKey: alg.name === "ECDSA" ? `ECDSA ${alg.namedCurve}` : `RSA ${alg.modulusLength}`,
  }));
  return issued;
}

/**
 * The RSA key pairs of the guide's CA, server and client: made for every PKI, except in the
 * project's own tests (MTLS_TEST_REUSE_RSA_KEYS=1, set by vitest.config.ts), where a worker makes
 * them once and every PKI it builds reuses them, each with certificates of its own: dozens of
 * catalogue runs would otherwise spend a minute of CPU on RSA-4096 primes. A run of the CLI
 * always makes its own.
 */
function guideKeys(): { ca(): Promise<CryptoKeyPair>; server(): Promise<CryptoKeyPair>; client(): Promise<CryptoKeyPair> } {
  const fresh = { ca: () => generateKeys("rsa-4096"), server: () => generateKeys("rsa-2048"), client: () => generateKeys("rsa-4096") };
  if (process.env.MTLS_TEST_REUSE_RSA_KEYS !== "1") return fresh;
  reused ??= { ca: fresh.ca(), server: fresh.server(), client: fresh.client() };
  const kept = reused;
  return { ca: () => kept.ca, server: () => kept.server, client: () => kept.client };
}
let reused: { ca: Promise<CryptoKeyPair>; server: Promise<CryptoKeyPair>; client: Promise<CryptoKeyPair> } | undefined;

export const CLIENT_AUTH = [x509.ExtendedKeyUsage.clientAuth];
export const SERVER_AUTH = [x509.ExtendedKeyUsage.serverAuth];

/**
 * Builds the whole PKI for one run. All keys are generated up front and in parallel: Node's
 * WebCrypto runs RSA key generation on the libuv thread pool, so the RSA keys share both
 * cores instead of queueing behind each other.
 */
export async function buildPki(options: PkiOptions = {}): Promise<Pki> {
  const now = options.now ?? new Date();
  const serverHosts = options.serverHosts?.length ? options.serverHosts : [GUIDE_HOST];
  const valid = { notBefore: new Date(now.getTime() - HOUR), notAfter: new Date(now.getTime() + 365 * DAY) };

  const rsa = guideKeys();
  const [caKeys, serverKeys, clientKeys, ...p256] = await Promise.all([
    options.ca ? Promise.resolve(undefined) : rsa.ca(),
    rsa.server(),
    rsa.client(),
    ...Array.from({ length: 17 }, () => generateKeys("p256")),
  ]);
  const nextP256 = (): CryptoKeyPair => {
    const keys = p256.shift();
    if (!keys) throw new Error("internal: ran out of pre-generated P-256 keys");
    return keys;
  };

  const ca = options.ca
    ? await importCa(options.ca.certPem, options.ca.keyPem)
    : await issue({ name: "ca", subject: GUIDE_CA_SUBJECT, keys: caKeys!, ...valid, ca: true });
  // Same name as the real CA, different key: only the signature tells them apart.
  const otherCa = await issue({ name: "other-ca", subject: subjectOf(ca), keys: nextP256(), ...valid, ca: true });
  const intermediate1 = await issue({
    name: "intermediate-1",
    subject: "CN=Intermediate CA 1, O=MyOrganization",
    keys: nextP256(),
    issuer: ca,
    ...valid,
    ca: true,
  });
  const intermediate2 = await issue({
    name: "intermediate-2",
    subject: "CN=Intermediate CA 2, O=MyOrganization",
    keys: nextP256(),
    issuer: intermediate1,
    ...valid,
    ca: true,
  });

  // A second CA, for rotation: the same organisation, a new name and key.
  const ca2 = await issue({ name: "ca-2", subject: "CN=My Certificate Authority 2, O=MyOrganization", keys: nextP256(), ...valid, ca: true });
  const intermediate3 = await issue({
    name: "intermediate-3",
    subject: "CN=Intermediate CA 3, O=MyOrganization",
    keys: nextP256(),
    issuer: intermediate2,
    ...valid,
    ca: true,
  });

  const leaf = (name: string, subject: string, keys: CryptoKeyPair, issuer: IssuedCert | undefined, extra: Partial<CertSpec> = {}) =>
    issue({ name, subject, keys, issuer, ...valid, eku: CLIENT_AUTH, ...extra });

  const [server, client, otherCaClient, expired, notYetValid, selfSigned, via1, via2, missingIntermediate, serverAuthOnly, via3, revoked, matchCnEvil] =
    await Promise.all([
      issue({ name: "server", subject: `CN=${serverHosts[0]}`, keys: serverKeys, issuer: ca, ...valid, eku: SERVER_AUTH, dnsNames: serverHosts }),
      leaf("client", GUIDE_CLIENT_SUBJECT, clientKeys, ca),
      leaf("client-other-ca", GUIDE_CLIENT_SUBJECT, nextP256(), otherCa),
      leaf("client-expired", "CN=expired-client, O=MyOrganization", nextP256(), ca, {
        notBefore: new Date(now.getTime() - 30 * DAY),
        notAfter: new Date(now.getTime() - DAY),
      }),
      leaf("client-not-yet-valid", "CN=future-client, O=MyOrganization", nextP256(), ca, {
        notBefore: new Date(now.getTime() + DAY),
        notAfter: new Date(now.getTime() + 30 * DAY),
      }),
      leaf("client-self-signed", "CN=self-signed-client, O=MyOrganization", nextP256(), undefined),
      leaf("client-via-1-intermediate", "CN=client-via-1-intermediate, O=MyOrganization", nextP256(), intermediate1),
      leaf("client-via-2-intermediates", "CN=client-via-2-intermediates, O=MyOrganization", nextP256(), intermediate2),
      leaf("client-missing-intermediate", "CN=client-missing-intermediate, O=MyOrganization", nextP256(), intermediate1),
      leaf("client-server-auth-only", "CN=server-auth-only-client, O=MyOrganization", nextP256(), ca, { eku: SERVER_AUTH }),
      leaf("client-via-3-intermediates", "CN=client-via-3-intermediates, O=MyOrganization", nextP256(), intermediate3),
      leaf("client-revoked", "CN=revoked-client, O=MyOrganization", nextP256(), ca),
      // The match-cn pitfall: another CN, with "CN=authorized-client" hidden in the O attribute.
      leaf("client-match-cn-evil", "CN=intruder, O=CN=authorized-client-evil", nextP256(), ca),
    ]);
  const clientCa2 = await leaf("client-ca-2", "CN=authorized-client, O=MyOrganization", nextP256(), ca2);

  const crl = async (name: IssuedCrl["name"], thisUpdate: Date, nextUpdate: Date, revokedCerts: IssuedCert[]): Promise<IssuedCrl> => {
    const generated = await x509.X509CrlGenerator.create({
      issuer: subjectOf(ca),
      thisUpdate,
      nextUpdate,
      entries: revokedCerts.map((c) => ({ serialNumber: certificateFacts(c).serialNumber, revocationDate: thisUpdate, reason: x509.X509CrlReason.keyCompromise })),
      signingAlgorithm: signingAlgorithm(ca.keys.privateKey),
      signingKey: ca.keys.privateKey,
    });
    return {
      name,
      pem: x509.PemConverter.encode(generated.rawData, "X509 CRL"),
      sha256: Buffer.from(await crypto.subtle.digest("SHA-256", generated.rawData)).toString("hex"),
      thisUpdate,
      nextUpdate,
      revokedSerials: revokedCerts.map((c) => certificateFacts(c).serialNumber),
    };
  };
  const crls = {
    "crl-revoking": await crl("crl-revoking", new Date(now.getTime() - HOUR), new Date(now.getTime() + 7 * DAY), [revoked]),
    "crl-expired": await crl("crl-expired", new Date(now.getTime() - 30 * DAY), new Date(now.getTime() - DAY), []),
  };

  const credential = (
    name: Credential["name"],
    description: string,
    leafCert: IssuedCert,
    chain: IssuedCert[] = [],
  ): Credential => ({ name, description, leaf: leafCert, chain });

  return {
    ca,
    server,
    others: [otherCa, intermediate1, intermediate2, intermediate3, ca2],
    crls,
    serverHosts,
    credentials: {
      client: credential("client", "the guide's client certificate, signed by the guide's CA", client),
      "client-other-ca": credential(
        "client-other-ca",
        "same subject, signed by a different CA that carries the guide CA's exact name",
        otherCaClient,
      ),
      "client-expired": credential("client-expired", "signed by the guide's CA, expired yesterday", expired),
      "client-not-yet-valid": credential("client-not-yet-valid", "signed by the guide's CA, valid from tomorrow", notYetValid),
      "client-self-signed": credential("client-self-signed", "self-signed, no CA involved", selfSigned),
      "client-via-1-intermediate": credential(
        "client-via-1-intermediate",
        "leaf + 1 intermediate CA, both sent",
        via1,
        [intermediate1],
      ),
      "client-via-2-intermediates": credential(
        "client-via-2-intermediates",
        "leaf + 2 intermediate CAs, all sent",
        via2,
        [intermediate2, intermediate1],
      ),
      "client-missing-intermediate": credential(
        "client-missing-intermediate",
        "leaf signed by an intermediate CA, sent without it",
        missingIntermediate,
      ),
      "client-via-3-intermediates": credential(
        "client-via-3-intermediates",
        "leaf + 3 intermediate CAs, all sent",
        via3,
        [intermediate3, intermediate2, intermediate1],
      ),
      "client-revoked": credential("client-revoked", "signed by the guide's CA, listed in crl-revoking", revoked),
      "client-match-cn-evil": credential(
        "client-match-cn-evil",
        "signed by the guide's CA, CN=intruder with O=CN=authorized-client-evil (the match-cn substring pitfall)",
        matchCnEvil,
      ),
      "client-ca-2": credential("client-ca-2", "the guide's client subject, signed by the second CA (after rotation)", clientCa2),
      "client-server-auth-only": credential(
        "client-server-auth-only",
        "signed by the guide's CA, extended key usage serverAuth only",
        serverAuthOnly,
      ),
    },
  };
}

/** Every certificate of the run, each once (leaves, CAs, intermediates). */
export function allCertificates(pki: Pki): IssuedCert[] {
  const seen = new Map<string, IssuedCert>();
  for (const c of [pki.ca, pki.server, ...pki.others, ...Object.values(pki.credentials).map((cr) => cr.leaf)]) {
    seen.set(c.sha256, c);
  }
  return [...seen.values()];
}

/** Leaf then intermediates, as a client sends them (PEM has no trailing newline: join with "\n"). */
export function chainPem(credential: Credential): string {
  return [credential.leaf, ...credential.chain].map((c) => c.certPem).join("\n") + "\n";
}
