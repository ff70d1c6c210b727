#!/usr/bin/env node
// Entry point: starts what is slow before loading the rest (see helpers/pki/key-pool.ts), then the CLI.
import { enableCompileCache } from "node:module";
import { prestartRsa, runsCatalogue } from "../helpers/pki/key-pool.ts";

// Cached V8 code makes later starts faster; the cache lives under the OS temp directory.
enableCompileCache?.();
// The catalogue's CA and client are RSA-4096 and its server RSA-2048, as the guide makes them.
if (runsCatalogue(process.argv.slice(2))) prestartRsa([4096, 4096, 2048]);
await import("../helpers/run/cli.ts");
