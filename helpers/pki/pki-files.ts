// Writes the run's PKI: certificates (public, world-readable) to one directory; private keys (0600)
// and client.p12 for browsers only where asked, never into a report directory, which is evidence.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { chainPem, type IssuedCert, type Pki } from "./pki.ts";

/** Password of client.p12; a throwaway test credential, printed in the README. */
export const CLIENT_P12_PASSWORD = "changeit";

export interface PkiDirs {
  /** Certificates and chains. */
  certDir: string;
  /** Private keys and client.p12; omitted = keys are not written anywhere. */
  keyDir?: string;
}

export async function writePki(pki: Pki, dirs: PkiDirs): Promise<string[]> {
  const files: string[] = [];
  const put = async (dir: string, name: string, content: string | Uint8Array, mode: number) => {
    await mkdir(dir, { recursive: true });
    const path = join(dir, name);
    await writeFile(path, content, { mode });
    files.push(path);
  };
  const { certDir, keyDir } = dirs;
  const cert = (c: IssuedCert, name = c.name) => put(certDir, `${name}.crt`, c.certPem + "\n", 0o644);
  const key = (c: IssuedCert, name = c.name) => (keyDir ? put(keyDir, `${name}.key`, c.keyPem + "\n", 0o600) : undefined);

  await Promise.all([cert(pki.ca), key(pki.ca), cert(pki.server), key(pki.server), ...pki.others.map((c) => cert(c))]);
  for (const credential of Object.values(pki.credentials)) {
    await cert(credential.leaf, credential.name);
    await key(credential.leaf, credential.name);
    if (credential.chain.length) await put(certDir, `${credential.name}.chain.crt`, chainPem(credential), 0o644);
  }
  if (!keyDir) return files;
  const client = pki.credentials.client;
  const p12 = await clientP12(client.leaf.der, [pki.ca.der], await crypto.subtle.exportKey("pkcs8", client.leaf.keys.privateKey));
  await put(keyDir, "client.p12", p12, 0o600);
  return files;
}

/** client.p12 as `--keys-dir` writes it (the browser check imports the same format). */
export async function clientP12(certificate: ArrayBuffer | Uint8Array, chain: Array<ArrayBuffer | Uint8Array>, privateKeyPkcs8: ArrayBuffer | Uint8Array, friendlyName = "authorized-client"): Promise<Uint8Array> {
  // pkijs loads slowly and is only needed here, when keys are asked for.
  const { buildPkcs12 } = await import("./pkcs12.ts");
  return buildPkcs12({ certificate, chain, privateKey: privateKeyPkcs8, password: CLIENT_P12_PASSWORD, friendlyName });
}

/**
 * The certificates of a run on the user's objects (CAs, intermediates, clients, server
 * certificates) and, where asked, the clients' keys, named after their SHA-256.
 */
export async function writeIssued(certificates: IssuedCert[], credentials: Array<{ key: string; chainPem: string; keyPem: string }>, dirs: PkiDirs): Promise<string[]> {
  const files: string[] = [];
  const put = async (dir: string, name: string, content: string, mode: number) => {
    await mkdir(dir, { recursive: true });
    const path = join(dir, name);
    await writeFile(path, content, { mode });
    files.push(path);
  };
  await Promise.all(certificates.map((c) => put(dirs.certDir, `${c.sha256.slice(0, 16)}.crt`, c.certPem + "\n", 0o644)));
  await Promise.all(credentials.map((c) => put(dirs.certDir, `client-${c.key}.chain.crt`, c.chainPem, 0o644)));
  if (dirs.keyDir) await Promise.all(credentials.map((c) => put(dirs.keyDir!, `client-${c.key}.key`, c.keyPem.trim() + "\n", 0o600)));
  return files;
}
