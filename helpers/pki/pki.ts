// The run's PKI: the guide's CA, server and client certificates plus the variants the
// scenarios need, generated fresh for every run with @peculiar/x509 (no openssl shell-outs).
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createPrivateKey, randomBytes, webcrypto, X509Certificate as NodeX509Certificate } from "node:crypto";
import { ConfigError } from "../support/errors.ts";
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
  cert: x509.X509Certificate;
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
  const sha256 = Buffer.from(await cert.getThumbprint("SHA-256")).toString("hex");
  return { name: "ca", cert, keys: { privateKey, publicKey } as CryptoKeyPair, certPem: cert.toString("pem"), keyPem: keyPem.trim(), sha256 };
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

async function toPkcs8Pem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
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

// What a key contributes to every certificate made with it, computed once per key.
const keyParts = new WeakMap<CryptoKey, Promise<{ ski: x509.SubjectKeyIdentifierExtension; pkcs8Pem: string }>>();
function partsOf(keys: CryptoKeyPair): Promise<{ ski: x509.SubjectKeyIdentifierExtension; pkcs8Pem: string }> {
  let parts = keyParts.get(keys.publicKey);
  if (!parts) {
    parts = Promise.all([x509.SubjectKeyIdentifierExtension.create(keys.publicKey), toPkcs8Pem(keys.privateKey)]).then(([ski, pkcs8Pem]) => ({ ski, pkcs8Pem }));
    keyParts.set(keys.publicKey, parts);
  }
  return parts;
}

export async function issue(spec: CertSpec): Promise<IssuedCert> {
  const signerKeys = spec.issuer?.keys ?? spec.keys;
  const { ski, pkcs8Pem } = await partsOf(spec.keys);
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
    ski,
  ];
  if (spec.issuer) {
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(spec.issuer.cert));
  }
  if (spec.eku) extensions.push(new x509.ExtendedKeyUsageExtension(spec.eku, false));
  if (spec.dnsNames?.length) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        spec.dnsNames.map((value) => ({ type: "dns" as const, value })),
        false,
      ),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: spec.subject,
    // The issuer's name exactly as encoded in its certificate, so chains match byte for byte.
    issuer: spec.issuer ? spec.issuer.cert.subjectName : spec.subject,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    signingAlgorithm: signingAlgorithm(signerKeys.privateKey),
    publicKey: spec.keys.publicKey,
    signingKey: signerKeys.privateKey,
    extensions,
  });
  const sha256 = Buffer.from(await cert.getThumbprint("SHA-256")).toString("hex");
  return {
    name: spec.name,
    cert,
    keys: spec.keys,
    certPem: cert.toString("pem"),
    keyPem: pkcs8Pem,
    sha256,
  };
}

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

  const [caKeys, serverKeys, clientKeys, ...p256] = await Promise.all([
    options.ca ? Promise.resolve(undefined) : generateKeys("rsa-4096"),
    generateKeys("rsa-2048"),
    generateKeys("rsa-4096"),
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
  const otherCa = await issue({ name: "other-ca", subject: ca.cert.subject, keys: nextP256(), ...valid, ca: true });
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
      issuer: ca.cert.subject,
      thisUpdate,
      nextUpdate,
      entries: revokedCerts.map((c) => ({ serialNumber: c.cert.serialNumber, revocationDate: thisUpdate, reason: x509.X509CrlReason.keyCompromise })),
      signingAlgorithm: signingAlgorithm(ca.keys.privateKey),
      signingKey: ca.keys.privateKey,
    });
    return {
      name,
      pem: x509.PemConverter.encode(generated.rawData, "X509 CRL"),
      sha256: Buffer.from(await crypto.subtle.digest("SHA-256", generated.rawData)).toString("hex"),
      thisUpdate,
      nextUpdate,
      revokedSerials: revokedCerts.map((c) => c.cert.serialNumber),
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
