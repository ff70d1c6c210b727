// The model's view of a concrete credential (a leaf and the chain it sends), derived from the
// certificates themselves: used for credentials the run did not make (a test client a user
// gives) and to check that the ones it made have the traits they were made for.
// A run reads thousands of certificates, many of them (CAs, intermediates) again and again: each
// is read once (OpenSSL's parser, through node:crypto), names are decoded once per distinct name,
// and a signature is verified once per certificate and candidate issuer.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createHash, X509Certificate as NodeX509Certificate } from "node:crypto";
import type { CredentialTraits } from "./outcome.ts";
import { certificateFields, rfc2253OfName } from "./distinguished-name.ts";

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const ANY_EKU = "2.5.29.37.0";

/** A certificate as @peculiar/x509 parsed it, or its DER. */
export type CertificateInput = x509.X509Certificate | Uint8Array | ArrayBuffer;

const derOf = (cert: CertificateInput): Uint8Array => (cert instanceof Uint8Array ? cert : new Uint8Array(cert instanceof ArrayBuffer ? cert : cert.rawData));

export const certSha256 = (cert: CertificateInput): string => createHash("sha256").update(derOf(cert)).digest("hex");

/** What traits need of one certificate, read once. */
interface CertView {
  der: Uint8Array;
  sha256: string;
  subject: string;
  issuer: string;
  serial: string;
  notBefore: number;
  notAfter: number;
  /** Extended key usages (OIDs); undefined: the certificate has no such extension. */
  eku: string[] | undefined;
  native: NodeX509Certificate;
  /** Whether the signature verifies with an issuer's key, by issuer. */
  signedBy: WeakMap<CertView, boolean>;
}

// Keyed by the object handed in (a parsed certificate or its DER buffer, which is never written
// to) and by content, so the same CA or intermediate is read once however it comes.
const viewsByObject = new WeakMap<object, CertView>();
const viewsBySha = new Map<string, CertView>();

/** Serial as @peculiar/x509 prints it: hex of the INTEGER's octets, a sign octet dropped. */
function serialHex(octets: Uint8Array): string {
  const s = octets.length > 1 && octets[0] === 0 && octets[1]! > 0x7f ? octets.subarray(1) : octets;
  return Buffer.from(s).toString("hex");
}

function viewOf(cert: CertificateInput): CertView {
  const cached = viewsByObject.get(cert);
  if (cached) return cached;
  const der = derOf(cert);
  const sha256 = createHash("sha256").update(der).digest("hex");
  let view = viewsBySha.get(sha256);
  if (!view) {
    const fields = certificateFields(der);
    // OpenSSL's reading, as nginx's: what it cannot read, no server accepts either.
    const native = new NodeX509Certificate(der);
    view = {
      der,
      sha256,
      native,
      subject: rfc2253OfName(fields.subject),
      issuer: rfc2253OfName(fields.issuer),
      serial: serialHex(fields.serial),
      notBefore: native.validFromDate.getTime(),
      notAfter: native.validToDate.getTime(),
      eku: native.keyUsage,
      signedBy: new WeakMap(),
    };
    // Bounded: a long-lived process (the tests) reads many; each view holds an OpenSSL X509.
    if (viewsBySha.size >= 20_000) viewsBySha.clear();
    viewsBySha.set(sha256, view);
  }
  viewsByObject.set(cert, view);
  return view;
}

/** Whether `issuer` signed `cert`: its subject is the cert's issuer, and the signature verifies with its key. */
function signedBy(cert: CertView, issuer: CertView): boolean {
  if (cert.issuer !== issuer.subject) return false;
  let verdict = cert.signedBy.get(issuer);
  if (verdict === undefined) {
    // OpenSSL's X509_verify: the signature over the TBSCertificate, with the issuer's public key.
    try {
      verdict = cert.native.verify(issuer.native.publicKey);
    } catch {
      verdict = false;
    }
    cert.signedBy.set(issuer, verdict);
  }
  return verdict;
}

/** CA certificates by subject: a certificate is checked only against those whose name is its issuer. */
const caIndexes = new WeakMap<CertificateInput[], { items: CertificateInput[]; bySubject: Map<string, CertView[]> }>();
function caIndex(cas: CertificateInput[]): Map<string, CertView[]> {
  // Built once per list (a run passes the same one for every credential), again if it changed since.
  const known = caIndexes.get(cas);
  if (known && known.items.length === cas.length && known.items.every((c, i) => c === cas[i])) return known.bySubject;
  const bySubject = new Map<string, CertView[]>();
  for (const ca of cas) {
    const v = viewOf(ca);
    const same = bySubject.get(v.subject);
    if (same) same.push(v);
    else bySubject.set(v.subject, [v]);
  }
  caIndexes.set(cas, { items: [...cas], bySubject });
  return bySubject;
}

/**
 * Traits of `leaf` sent with `chain`, against the CA certificates `cas` the model knows (the
 * trust anchors of the hosts under test). A chain that reaches none of them has an anchor of
 * "unknown:<issuer>", which no host trusts. Certificates are parsed ones or DER.
 */
export async function traitsOf(leafInput: CertificateInput, chain: CertificateInput[], cas: CertificateInput[], now = new Date()): Promise<CredentialTraits> {
  const leaf = viewOf(leafInput);
  const usages = leaf.eku ?? [];
  const base = {
    subject: leaf.subject,
    issuer: leaf.issuer,
    serial: leaf.serial.toLowerCase(),
    validity: leaf.notAfter < now.getTime() ? ("expired" as const) : leaf.notBefore > now.getTime() ? ("not-yet-valid" as const) : ("valid" as const),
    clientAuth: !leaf.eku || usages.includes(CLIENT_AUTH) || usages.includes(ANY_EKU),
  };
  if (signedBy(leaf, leaf)) return { ...base, anchor: "self-signed", intermediates: 0, sendsIntermediates: true };
  const anchors = caIndex(cas);
  let current = leaf;
  let intermediates = 0;
  const pool = chain.map(viewOf);
  for (;;) {
    const anchor = (anchors.get(current.issuer) ?? []).find((ca) => signedBy(current, ca));
    if (anchor) return { ...base, anchor: anchor.sha256, intermediates, sendsIntermediates: true };
    const next = pool.find((c) => signedBy(current, c));
    if (!next) break;
    pool.splice(pool.indexOf(next), 1);
    intermediates++;
    current = next;
  }
  return { ...base, anchor: `unknown:${current.issuer}`, intermediates, sendsIntermediates: true };
}

/** Leaf then chain, from PEM text holding one or more certificates. */
export function certificatesIn(pem: string): x509.X509Certificate[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => new x509.X509Certificate(m[0]));
}
