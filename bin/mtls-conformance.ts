#!/usr/bin/env node
// Entry point: starts what is slow before loading the rest (see helpers/pki/key-pool.ts), then the CLI.
import { enableCompileCache } from "node:module";
import { prestartRsa4096 } from "../helpers/pki/key-pool.ts";

// Cached V8 code makes later starts faster; the cache lives under the OS temp directory.
enableCompileCache?.();
const command = process.argv.slice(2).find((a) => !a.startsWith("-"));
if (command === undefined || command === "run") prestartRsa4096(3);
await import("../helpers/run/cli.ts");
