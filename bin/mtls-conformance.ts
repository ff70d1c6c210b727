#!/usr/bin/env node
// Entry point: starts what is slow before loading the rest (see helpers/pki/key-pool.ts), then the CLI.
import { enableCompileCache } from "node:module";
import { prestartRsa, runsCatalogue } from "../helpers/pki/key-pool.ts";

// Cached V8 code makes later starts faster; the cache lives under the OS temp directory.
enableCompileCache?.();
// The catalogue's CA and client are RSA-4096 and its server RSA-2048, as the guide makes them: Node
// makes them on its thread pool while the rest loads. The guide's own openssl commands, the
// longest chain of a catalogue run, start now too (unless --only may not select them).
const argv = process.argv.slice(2);
if (runsCatalogue(argv)) {
  prestartRsa([4096, 4096, 2048]);
  if (!argv.some((a) => a === "--only" || a.startsWith("--only="))) (await import("../helpers/checks/guide-commands.ts")).startGuideOpenssl();
}
await import("../helpers/run/cli.ts");
