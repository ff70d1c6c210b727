// What the controller makes of the Secret an auth-tls-secret names (backend_ssl.go:76-192,
// ssl.go:68-244): a CA bundle, a key pair (whose certificate then joins the bundle), a CRL, or
// nothing usable, in which case every host of the Ingress answers 403.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { V1Secret } from "@kubernetes/client-node";
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { rfc2253Of } from "./distinguished-name.ts";

/** The model's view of a Secret: decoded values by key. A live Secret may be only partly known. */
export interface SecretView {
  namespace: string;
  name: string;
  data: Record<string, string>;
  /** Keys known to exist whose values were not read (e.g. ca.key in an audited cluster). */
  opaqueKeys?: string[];
}

export interface TrustedCa {
  sha256: string;
  /** RFC 2253 subject as nginx prints it. */
  subject: string;
}

export type SecretUse =
  | { usable: false; reason: string }
  | {
      usable: true;
      /** The CA bundle the server trusts; absent: a key pair without ca.crt (no client auth). */
      trusted?: TrustedCa[];
      crl?: { expired: boolean; revokedSerials: string[]; sha256: string };
    };

/** Secret data decoded to text (values are PEM). */
export function secretData(secret: V1Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, "base64").toString("utf8");
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = v;
  return out;
}

export function secretView(secret: V1Secret): SecretView {
  return { namespace: secret.metadata?.namespace ?? "default", name: secret.metadata?.name ?? "", data: secretData(secret) };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

function pemBlocks(text: string): Array<{ type: string; der: Uint8Array<ArrayBuffer> }> {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ type: m[1]!, der: new Uint8Array(Buffer.from(m[2]!.replace(/\s+/g, ""), "base64")) }));
}

const sha256 = (der: Uint8Array): string => createHash("sha256").update(der).digest("hex");

/**
 * The same Secret content is read again and again (every Ingress naming a CA Secret, every
 * rendering, every lifecycle stage), and ASN.1 parsing is slow: each reading is kept by its text,
 * failures included. Bounded, since a run's contents are few and a long-lived process may see many.
 */
function memo<A extends string[], R>(read: (...args: A) => R): (...args: A) => R {
  const seen = new Map<string, { value: R } | { error: unknown }>();
  return (...args: A) => {
    const key = args.join("\u0000");
    let hit = seen.get(key);
    if (!hit) {
      try {
        hit = { value: read(...args) };
      } catch (error) {
        hit = { error };
      }
      if (seen.size >= 4096) seen.delete(seen.keys().next().value!);
      seen.set(key, hit);
    }
    if ("error" in hit) throw hit.error;
    return hit.value;
  };
}

/** ssl.CheckCACert: every PEM block must be an X.509 certificate, and there must be one. */
const parseCaBundle = memo((text: string): TrustedCa[] => {
  const blocks = pemBlocks(text);
  if (blocks.length === 0) throw new Error("error decoding CA certificate/s");
  return blocks.map((b) => {
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(b.der);
    } catch {
      throw new Error(`parsing CA certificate: a ${b.type} block of ca.crt is not an X.509 certificate`);
    }
    return { sha256: sha256(b.der), subject: rfc2253Of(cert) };
  });
});

/** ssl.CreateSSLCert: the first block must be a certificate whose key is tls.key. */
const checkKeyPair = memo((certPem: string, keyPem: string): TrustedCa => {
  const [first] = pemBlocks(certPem);
  if (!first) throw new Error("no valid PEM formatted block found");
  if (first.type !== "CERTIFICATE") throw new Error("no certificate PEM data found, make sure certificate content starts with 'BEGIN CERTIFICATE'");
  const cert = new X509Certificate(first.der);
  const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
  const fromCert = cert.publicKey.export({ type: "spki", format: "der" });
  if (!fromKey.equals(fromCert)) throw new Error("certificate and private key does not have a matching public key");
  return { sha256: sha256(first.der), subject: rfc2253Of(new x509.X509Certificate(first.der)) };
});

const certificateOf = memo((certPem: string): TrustedCa => {
  const [first] = pemBlocks(certPem);
  if (!first || first.type !== "CERTIFICATE") throw new Error("no certificate PEM data found");
  return { sha256: sha256(first.der), subject: rfc2253Of(new x509.X509Certificate(first.der)) };
});

/** ssl.ConfigureCRL: the first PEM block must be labelled X509 CRL and parse. */
export function parseCrl(text: string, now: Date): { expired: boolean; revokedSerials: string[]; sha256: string } {
  const { nextUpdate, ...crl } = readCrl(text);
  return { expired: nextUpdate !== undefined && nextUpdate < now.getTime(), ...crl };
}

const readCrl = memo((text: string): { nextUpdate?: number; revokedSerials: string[]; sha256: string } => {
  const [first] = pemBlocks(text);
  if (!first) throw new Error("no valid PEM formatted block found in CRL");
  if (first.type !== "X509 CRL") throw new Error("CRL file contains invalid data, and must be created only with PEM formatted certificates");
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(first.der);
  } catch {
    throw new Error("ca.crl does not parse as a certificate revocation list");
  }
  return {
    ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate.getTime() } : {}),
    revokedSerials: crl.entries.map((e) => e.serialNumber.toLowerCase()),
    sha256: sha256(first.der),
  };
});

export function classifySecret(secret: SecretView | undefined, ref: string, now = new Date()): SecretUse {
  if (!secret) return { usable: false, reason: `secret ${ref} not found` };
  const { data } = secret;
  try {
    const keyUnread = secret.opaqueKeys?.includes("tls.key") ?? false;
    if ("tls.crt" in data && ("tls.key" in data || keyUnread)) {
      // An audited Secret's key is never read: the pair is taken as the controller found it.
      const pair = keyUnread ? certificateOf(data["tls.crt"]!) : checkKeyPair(data["tls.crt"]!, data["tls.key"]!);
      const ca = data["ca.crt"];
      if (!ca) return { usable: true };
      // The CA file is the key pair's file with ca.crt appended: the certificate is trusted too.
      const trusted = [pair, ...parseCaBundle(ca)];
      return { usable: true, trusted, ...(data["ca.crl"] ? { crl: parseCrl(data["ca.crl"], now) } : {}) };
    }
    if (data["ca.crt"]) {
      const trusted = parseCaBundle(data["ca.crt"]);
      return { usable: true, trusted, ...(data["ca.crl"] ? { crl: parseCrl(data["ca.crl"], now) } : {}) };
    }
    return { usable: false, reason: `secret ${ref} contains no keypair or CA certificate` };
  } catch (error) {
    return { usable: false, reason: `secret ${ref}: ${(error as Error).message}` };
  }
}
