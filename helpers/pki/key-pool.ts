// RSA keys take 0.1–1.5 s each to generate (RSA-4096; RSA-2048 about a tenth of that). The CLI
// starts the catalogue's right away, on the libuv thread pool, so they are made while the main
// thread is still loading modules; buildPki() then takes them from here. Only node:crypto is
// imported: this must load fast.
import { webcrypto } from "node:crypto";

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

/** A pre-started key of that size if there is one, else a new generation. Each key is handed out once. */
export function takeRsa(bits: RsaBits): Promise<CryptoKeyPair> {
  return started.get(bits)?.shift() ?? generateRsa(bits);
}

/**
 * Whether a command line runs the catalogue (whose PKI has the guide's RSA keys): `run` without
 * an input of the user's own. Runs of the user's Ingresses use P-256 keys only.
 */
export function runsCatalogue(argv: string[]): boolean {
  const command = argv.find((a) => !a.startsWith("-"));
  if (command !== undefined && command !== "run") return false;
  if (argv.some((a) => ["--help", "-h", "--version", "-V"].includes(a))) return false;
  const target = argv[argv.indexOf("--target") + 1];
  return !argv.some((a) => a === "--manifests" || a.startsWith("--manifests=") || a === "--audit") && !(argv.includes("--target") && target === "endpoint") && !argv.includes("--target=endpoint");
}
