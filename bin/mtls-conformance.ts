#!/usr/bin/env node
// Entry point: on a Node too old for the tool's libraries it hands the run to the Node the package
// brings (bin/node-runtime.ts); otherwise it starts what is slow before loading the
// rest (see helpers/pki/key-pool.ts), then the CLI. Everything it loads before that decision runs on Node 20.
import { spawn } from "node:child_process";
// A namespace import: Node before 22.1 has no enableCompileCache, and a named import of it would not load there.
import * as nodeModule from "node:module";
import { constants } from "node:os";
import { bundledNode, NEEDED_NODE, nodeBinaryPackage, runsHere } from "./node-runtime.ts";

if (!runsHere(process.versions.node)) {
  const node = bundledNode(import.meta.url);
  if (!node) {
    process.stderr.write(`mtls-conformance: Node ${process.versions.node} is too old (it needs ${NEEDED_NODE.join(".")} or newer) and the Node the package brings for this platform (${nodeBinaryPackage()}) is not installed: install with optional dependencies, or run it with Node 24\n`);
    process.exit(2);
  }
  const child = spawn(node, [process.argv[1]!, ...process.argv.slice(2)], { stdio: "inherit" });
  // Ctrl-C and SIGTERM reach the child too (same process group); this one waits for its exit code.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => undefined);
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1)));
} else {
  // Cached V8 code makes later starts faster; the cache lives under the OS temp directory.
  nodeModule.enableCompileCache?.();
  const { prestartRsa, runsCatalogue } = await import("../helpers/pki/key-pool.ts");
  // The catalogue's CA and client are RSA-4096 and its server RSA-2048, as the guide makes them: Node
  // makes them on its thread pool while the rest loads. The guide's own openssl commands, the
  // longest chain of a catalogue run, start now too (unless --only may not select them).
  const argv = process.argv.slice(2);
  if (runsCatalogue(argv)) {
    prestartRsa([4096, 4096, 2048]);
    if (!argv.some((a) => a === "--only" || a.startsWith("--only="))) (await import("../helpers/checks/guide-commands.ts")).startGuideOpenssl();
  }
  await import("../helpers/run/cli.ts");
}
