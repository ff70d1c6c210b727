// The model's view of a concrete credential (a leaf and the chain it sends), derived from the
// certificates themselves: used for credentials the run did not make (a test client a user
// gives) and to check that the ones it made have the traits they were made for.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createHash } from "node:crypto";
import type { CredentialTraits } from "./outcome.ts";
import { namesOf, rfc2253Of } from "./distinguished-name.ts";

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const ANY_EKU = "2.5.29.37.0";

export const certSha256 = (cert: x509.X509Certificate): string => createHash("sha256").update(Buffer.from(cert.rawData)).digest("hex");

async function signedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  if (cert.issuer !== issuer.subject) return false;
  try {
    return await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/**
 * Traits of `leaf` sent with `chain`, against the CA certificates `cas` the model knows (the
 * trust anchors of the hosts under test). A chain that reaches none of them has an anchor of
 * "unknown:<issuer>", which no host trusts.
 */
export async function traitsOf(leaf: x509.X509Certificate, chain: x509.X509Certificate[], cas: x509.X509Certificate[], now = new Date()): Promise<CredentialTraits> {
  const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension);
  const usages = eku?.usages.map(String) ?? [];
  const base = {
    ...namesOf(leaf),
    serial: leaf.serialNumber.toLowerCase(),
    validity: leaf.notAfter.getTime() < now.getTime() ? ("expired" as const) : leaf.notBefore.getTime() > now.getTime() ? ("not-yet-valid" as const) : ("valid" as const),
    clientAuth: !eku || usages.includes(CLIENT_AUTH) || usages.includes(ANY_EKU),
  };
  if (await signedBy(leaf, leaf)) return { ...base, anchor: "self-signed", intermediates: 0, sendsIntermediates: true };
  let current = leaf;
  let intermediates = 0;
  const pool = [...chain];
  for (;;) {
    const anchor = await findAsync(cas, (ca) => signedBy(current, ca));
    if (anchor) return { ...base, anchor: certSha256(anchor), intermediates, sendsIntermediates: true };
    const next = await findAsync(pool, (c) => signedBy(current, c));
    if (!next) break;
    pool.splice(pool.indexOf(next), 1);
    intermediates++;
    current = next;
  }
  return { ...base, anchor: `unknown:${rfc2253Of(current, "issuer")}`, intermediates, sendsIntermediates: true };
}

async function findAsync<T>(items: T[], test: (t: T) => Promise<boolean>): Promise<T | undefined> {
  for (const item of items) if (await test(item)) return item;
  return undefined;
}

/** Leaf then chain, from PEM text holding one or more certificates. */
export function certificatesIn(pem: string): x509.X509Certificate[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => new x509.X509Certificate(m[0]));
}
