// RSA-4096 keys take 0.1–1.5 s each to generate. The CLI starts the run's three right away, on
// the libuv thread pool, so they are made while the main thread is still loading modules;
// buildPki() then takes them from here. Only node:crypto is imported: this must load fast.
import { webcrypto } from "node:crypto";

export const RSA_4096: RsaHashedKeyGenParams = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  modulusLength: 4096,
  publicExponent: new Uint8Array([1, 0, 1]),
};

const started: Array<Promise<CryptoKeyPair>> = [];

function generateRsa4096(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(RSA_4096, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

/** Starts `count` key generations now; a failure surfaces when the key is taken. */
export function prestartRsa4096(count: number): void {
  for (let i = 0; i < count; i++) {
    const p = generateRsa4096();
    p.catch(() => undefined);
    started.push(p);
  }
}

/** A pre-started key if there is one, else a new generation. Each key is handed out once. */
export function takeRsa4096(): Promise<CryptoKeyPair> {
  return started.shift() ?? generateRsa4096();
}
