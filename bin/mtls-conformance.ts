#!/usr/bin/env node
// Entry point: starts what is slow before loading the rest (see helpers/pki/key-pool.ts), then the CLI.
import { enableCompileCache } from "node:module";
import { prestartRsa, runsCatalogue } from "../helpers/pki/key-pool.ts";

// Cached V8 code makes later starts faster; the cache lives under the OS temp directory.
enableCompileCache?.();
// The catalogue's CA and client are RSA-4096 and its server RSA-2048, as the guide makes them: the
// guide's own openssl commands make them, started now (their keys go to the run's PKI), or, where
// there is no openssl, Node does.
// (With --only the guide's commands may not be selected: then Node makes the keys.)
const argv = process.argv.slice(2);
if (runsCatalogue(argv)) {
  const { startGuideOpenssl } = argv.some((a) => a === "--only" || a.startsWith("--only=")) ? { startGuideOpenssl: () => undefined } : await import("../helpers/checks/guide-commands.ts");
  if (!startGuideOpenssl()) prestartRsa([4096, 4096, 2048]);
}
await import("../helpers/run/cli.ts");
