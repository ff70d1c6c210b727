// One PKI per test worker for the test files that only read one: buildPki makes two RSA-4096 keys
// (the guide's CA and client) and a dozen certificates, the same for every file that asks for the
// same server names. Test files run one after another in a worker (isolate: false), so the second
// file to ask gets the first one's. Read it, never change it; a test that needs its own (or a fresh
// one, to compare two) calls buildPki.
import { buildPki, type Pki } from "../pki/pki.ts";

const built = new Map<string, Promise<Pki>>();

export function sharedPki(serverHosts: string[]): Promise<Pki> {
  const key = JSON.stringify(serverHosts);
  let pki = built.get(key);
  if (!pki) {
    pki = buildPki({ serverHosts });
    built.set(key, pki);
    // A failure is that file's: the next one tries again.
    pki.catch(() => built.delete(key));
  }
  return pki;
}
