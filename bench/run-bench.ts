// npm run bench: wall time of PKI generation, of the full catalogue on the nginx target, and of
// the checks generated for 100 varied user Ingresses (--manifests) on the nginx target (the CLI
// as users run it, excluding npm), with peak memory where /usr/bin/time exists.
// Goals: the whole catalogue under 5 s wall on a 2-core machine (issue 5, set for its 76
// scenarios) and no slower than before the generated checks (issue 9); 100 user Ingresses, every
// check, under 10 s (issue 9). The lifecycle suite is timed alone too: its stages are real nginx
// reloads, run one after another, and each costs at least the 100 ms nginx's master sleeps before
// retiring the old workers (src/os/unix/ngx_process_cycle.c:238-239) plus parsing every server.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { allCertificates, buildPki } from "../helpers/pki/pki.ts";
import { catalogue } from "../fixtures/catalogue.ts";
import { ROOT } from "../helpers/run/run.ts";
import { writeIngressZoo } from "../helpers/testing/ingress-zoo.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GOAL_MS = 5000;
const MANIFESTS_GOAL_MS = 10_000;

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
console.log(`PKI generation (2 x RSA-4096 and 1 x RSA-2048 keys, the rest P-256; ${certificates} certificates, 2 CRLs): ${fmt(stats(pkiTimes))}`);

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
console.log(`goal: whole catalogue under ${GOAL_MS} ms wall on ${cpus().length} cores: ${run.median < GOAL_MS ? "met" : "NOT met"} (median; the goal was set for 76 scenarios)`);

const lifecycleSuites: number[] = [];
let stages = 0;
for (let i = 0; i < RUNS; i++) {
  const dir = mkdtempSync(join(tmpdir(), "bench-lifecycle-"));
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "mtls-conformance.ts"), "run", "--target", "nginx", "--only", "lifecycle", "--report-dir", dir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`lifecycle run ${i + 1} exited ${r.status}: ${r.stdout.slice(-2000)}`);
  lifecycleSuites.push(JSON.parse(readFileSync(join(dir, "evidence.json"), "utf8")).run.timingsMs.suitesMs);
  stages = new Set(catalogue.scenarios.filter((s) => s.suite === "lifecycle" && s.stage).map((s) => s.stage)).size;
}
const lifecycle = stats(lifecycleSuites);
console.log(`  of which the lifecycle suite alone (${stages} stages, each a reload, in order): suites phase ${fmt(lifecycle)}`);

// 100 user Ingresses: every generated check, on the nginx target.
const zoo = await writeIngressZoo(mkdtempSync(join(tmpdir(), "bench-zoo-")), 100);
const zooTimes: number[] = [];
const zooRss: number[] = [];
const zooPhases: Array<Record<string, number>> = [];
let zooChecks = 0;
for (let i = 0; i < RUNS; i++) {
  const dir = mkdtempSync(join(tmpdir(), "bench-manifests-"));
  const args = [join(ROOT, "bin", "mtls-conformance.ts"), "run", "--target", "nginx", "--manifests", zoo.dir, "--report-dir", dir];
  const t = performance.now();
  const r = timeBin ? spawnSync(timeBin, ["-f", "%M", process.execPath, ...args], { encoding: "utf8" }) : spawnSync(process.execPath, args, { encoding: "utf8" });
  zooTimes.push(Math.round(performance.now() - t));
  if (r.status !== 0) {
    console.error(r.stdout.slice(-3000), r.stderr);
    throw new Error(`--manifests run ${i + 1} exited ${r.status}`);
  }
  if (timeBin) zooRss.push(Number(r.stderr.trim().split("\n").at(-1)));
  const evidence = JSON.parse(readFileSync(join(dir, "evidence.json"), "utf8"));
  zooPhases.push(evidence.run.timingsMs);
  zooChecks = evidence.totals.checked;
}
const zooRun = stats(zooTimes);
console.log(`100 user Ingresses, --manifests, nginx target (${zooChecks} probes, process start to exit): ${fmt(zooRun)}`);
for (const phase of ["startupMs", "pkiMs", "deployMs", "suitesMs"]) {
  console.log(`  ${phase.replace("Ms", "").padEnd(8)} ${fmt(stats(zooPhases.map((p) => p[phase] ?? 0)))}`);
}
if (zooRss.length) console.log(`peak RSS of the CLI process: ${fmt(stats(zooRss)).replaceAll("ms", "KiB")}`);
console.log(`goal: 100 user Ingresses, every check, under ${MANIFESTS_GOAL_MS} ms wall: ${zooRun.median < MANIFESTS_GOAL_MS ? "met" : "NOT met"} (median; max ${zooRun.max} ms)`);

mkdirSync(join(ROOT, "reports"), { recursive: true });
writeFileSync(
  join(ROOT, "reports", "bench.json"),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      cores: cpus().length,
      node: process.version,
      pkiMs: stats(pkiTimes),
      runMs: run,
      peakRssKiB: rssKb.length ? stats(rssKb) : null,
      phases,
      lifecycleSuitesMs: lifecycle,
      manifests: { ingresses: 100, probes: zooChecks, runMs: zooRun, peakRssKiB: zooRss.length ? stats(zooRss) : null, phases: zooPhases },
    },
    null,
    2,
  ) + "\n",
);
