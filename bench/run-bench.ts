// npm run bench: wall time of PKI generation and of the full catalogue on the nginx target
// (the CLI as users run it, excluding npm), with peak memory where /usr/bin/time exists.
// Goals: the whole catalogue under 3 s wall on a 2-core machine with the engine's 21 scenarios
// (issue 2), under 5 s with the whole auth-tls surface (issue 5).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { allCertificates, buildPki } from "../helpers/pki/pki.ts";
import { catalogue } from "../fixtures/catalogue.ts";
import { ROOT } from "../helpers/run/run.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GOAL_MS = 5000;

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]!, runs: s.length };
};
const fmt = (x: { min: number; median: number; max: number }) => `median ${x.median} ms (min ${x.min}, max ${x.max})`;

const pkiTimes: number[] = [];
let certificates = 0;
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  const pki = await buildPki({ serverHosts: [...new Set(catalogue.policies.map((p) => p.host))] });
  pkiTimes.push(Math.round(performance.now() - t));
  certificates = allCertificates(pki).length;
}
console.log(`PKI generation (3 x RSA-4096 keys, the rest P-256; ${certificates} certificates, 2 CRLs): ${fmt(stats(pkiTimes))}`);

const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
const runTimes: number[] = [];
const rssKb: number[] = [];
const phases: Array<Record<string, number>> = [];
for (let i = 0; i < RUNS; i++) {
  const dir = mkdtempSync(join(tmpdir(), "bench-"));
  const args = [join(ROOT, "bin", "mtls-conformance.ts"), "run", "--target", "nginx", "--report-dir", dir];
  const t = performance.now();
  const r = timeBin
    ? spawnSync(timeBin, ["-f", "%M", process.execPath, ...args], { encoding: "utf8" })
    : spawnSync(process.execPath, args, { encoding: "utf8" });
  runTimes.push(Math.round(performance.now() - t));
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    throw new Error(`run ${i + 1} exited ${r.status}`);
  }
  if (timeBin) rssKb.push(Number(r.stderr.trim().split("\n").at(-1)));
  phases.push(JSON.parse(readFileSync(join(dir, "evidence.json"), "utf8")).run.timingsMs);
}
const run = stats(runTimes);
console.log(`full catalogue, nginx target (${catalogue.scenarios.length} scenarios, process start to exit): ${fmt(run)}`);
for (const phase of ["startupMs", "pkiMs", "deployMs", "suitesMs"]) {
  console.log(`  ${phase.replace("Ms", "").padEnd(8)} ${fmt(stats(phases.map((p) => p[phase] ?? 0)))}`);
}
if (rssKb.length) console.log(`peak RSS of the CLI process: ${fmt(stats(rssKb)).replaceAll("ms", "KiB")}`);
console.log(`goal: whole catalogue under ${GOAL_MS} ms wall on ${cpus().length} cores: ${run.median < GOAL_MS ? "met" : "NOT met"} (median)`);

mkdirSync(join(ROOT, "reports"), { recursive: true });
writeFileSync(
  join(ROOT, "reports", "bench.json"),
  JSON.stringify({ date: new Date().toISOString(), cores: cpus().length, node: process.version, pkiMs: stats(pkiTimes), runMs: run, peakRssKiB: rssKb.length ? stats(rssKb) : null, phases }, null, 2) + "\n",
);
