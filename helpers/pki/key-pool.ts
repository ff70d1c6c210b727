// RSA keys take 0.1–1.5 s each to generate (RSA-4096; RSA-2048 about a tenth of that). The CLI
// starts the catalogue's right away, on the libuv thread pool, so they are made while the main
// thread is still loading modules; buildPki() then takes them from here. Only node:crypto is
// imported: this must load fast.
import { createPrivateKey, createPublicKey, webcrypto } from "node:crypto";

export type RsaBits = 2048 | 4096;

export const rsaParams = (bits: RsaBits): RsaHashedKeyGenParams => ({
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  modulusLength: bits,
  publicExponent: new Uint8Array([1, 0, 1]),
});

const started = new Map<RsaBits, Array<Promise<CryptoKeyPair>>>();

function generateRsa(bits: RsaBits): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(rsaParams(bits), true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

/** Starts one key generation per entry now; a failure surfaces when the key is taken. */
export function prestartRsa(sizes: RsaBits[]): void {
  for (const bits of sizes) {
    const p = generateRsa(bits);
    p.catch(() => undefined);
    started.set(bits, [...(started.get(bits) ?? []), p]);
  }
}

/** Offers a key being made elsewhere (the guide's own openssl commands); if it fails, whoever takes it gets a new one. */
export function offerRsa(bits: RsaBits, key: Promise<CryptoKeyPair>): void {
  key.catch(() => undefined);
  started.set(bits, [...(started.get(bits) ?? []), key.catch(() => generateRsa(bits))]);
}

/** A pre-started or offered key of that size if there is one, else a new generation. Each key is handed out once. */
export function takeRsa(bits: RsaBits): Promise<CryptoKeyPair> {
  return started.get(bits)?.shift() ?? generateRsa(bits);
}

/** An RSA key pair from a PEM private key (what `openssl req -newkey rsa:N -nodes` writes), for signing with SHA-256. */
export async function importRsaKeyPair(keyPem: string): Promise<CryptoKeyPair> {
  const key = createPrivateKey(keyPem);
  const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const [privateKey, publicKey] = await Promise.all([
    webcrypto.subtle.importKey("pkcs8", key.export({ type: "pkcs8", format: "der" }), alg, true, ["sign"]),
    webcrypto.subtle.importKey("spki", createPublicKey(key).export({ type: "spki", format: "der" }), alg, true, ["verify"]),
  ]);
  return { privateKey, publicKey } as CryptoKeyPair;
}

/**
 * Whether a command line runs the catalogue (whose PKI has the guide's RSA keys): `run` without
 * an input of the user's own. Runs of the user's Ingresses use P-256 keys only.
 */
export function runsCatalogue(argv: string[]): boolean {
  const command = argv.find((a) => !a.startsWith("-"));
  if (command !== undefined && command !== "run") return false;
  const target = argv[argv.indexOf("--target") + 1];
  return !argv.some((a) => a === "--manifests" || a.startsWith("--manifests=") || a === "--audit") && !(argv.includes("--target") && target === "endpoint") && !argv.includes("--target=endpoint");
}
