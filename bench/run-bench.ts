// npm run bench: where a run's wall time goes, measured as users run the CLI (a process of its own,
// start to exit) on this machine, with peak memory, and a history so a regression shows.
//
//   npm run bench                          catalogue (5 runs) and 100 user Ingresses (5 runs)
//   npm run bench -- --only big            1,000 user Ingresses, then the same as 4 shards merged
//   npm run bench -- --only repeat --runs 30   the catalogue 30 times in a row: every run green?
//   npm run bench -- --only catalogue,manifests --runs 9
//
// Each run's evidence.json carries run.spans (ms since the process started): the bench prints their
// medians in order and names the critical path, the chain that decided when the run ended.
// Goals (issue 17, this 2-core machine, medians): the catalogue <= 2.5 s process start to exit;
// 100 user Ingresses <= 5 s; 1,000 (13.5k checks) 0 failures, <= 60 s, <= 1 GB peak RSS, no
// worker_connections warning in nginx's log; 4 shards merged give the same counts and a valid signature.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeIngressZoo, writeTenantZoo } from "../helpers/testing/ingress-zoo.ts";

const ROOT = join(import.meta.dirname, "..");
const CLI = join(ROOT, "bin", "mtls-conformance.ts");
const HISTORY = join(ROOT, "bench", "history.jsonl");
const SECTIONS = ["catalogue", "manifests", "big", "repeat"] as const;
type Section = (typeof SECTIONS)[number];

const { values: args } = parseArgs({ options: { only: { type: "string" }, runs: { type: "string" }, "no-history": { type: "boolean" } } });
const only = new Set((args.only ?? "catalogue,manifests").split(",").map((s) => s.trim()) as Section[]);
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only ${s}: one of ${SECTIONS.join(", ")}`);
const RUNS = Number(args.runs ?? process.env.BENCH_RUNS ?? (only.has("repeat") ? 30 : 5));

interface Stats {
  min: number;
  median: number;
  max: number;
  runs: number;
}
const stats = (xs: number[]): Stats => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]!, runs: s.length };
};
const fmt = (x: Stats, unit = "ms") => `median ${x.median} ${unit} (min ${x.min}, max ${x.max}, ${x.runs} run(s))`;
const scratch: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
};

interface RunResult {
  wallMs: number;
  peakRssKiB?: number;
  exit: number | null;
  evidence: Evidence;
  reportDir: string;
  output: string;
}
interface Evidence {
  totals: Record<string, number>;
  runErrors: string[];
  run: { timingsMs: Record<string, number>; spans?: Span[] };
  scenarios: Array<{ id: string; verdict: string }>;
}
interface Span {
  name: string;
  startMs: number;
  endMs: number;
}

const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/** One CLI run as a user runs it (the repository's Node, no npm in between), timed from outside. */
function cli(argv: string[], reportDir?: string): RunResult & { raw: SpawnSyncReturns<string> } {
  const dir = reportDir ?? tempDir("bench-run-");
  const full = [CLI, ...argv, ...(argv[0] === "merge" ? [] : ["--report-dir", dir])];
  const t = performance.now();
  const raw = TIME ? spawnSync(TIME, ["-f", "%M", process.execPath, ...full], { encoding: "utf8", maxBuffer: 1 << 30 }) : spawnSync(process.execPath, full, { encoding: "utf8", maxBuffer: 1 << 30 });
  const wallMs = Math.round(performance.now() - t);
  const peakRssKiB = TIME ? Number(raw.stderr.trim().split("\n").at(-1)) : undefined;
  const evidencePath = join(argv[0] === "merge" ? argv[argv.indexOf("--report-dir") + 1]! : dir, "evidence.json");
  const evidence = existsSync(evidencePath) ? (JSON.parse(readFileSync(evidencePath, "utf8")) as Evidence) : ({ totals: {}, runErrors: ["no evidence.json"], run: { timingsMs: {} }, scenarios: [] } as Evidence);
  return { wallMs, peakRssKiB, exit: raw.status, evidence, reportDir: dir, output: raw.stdout + raw.stderr, raw };
}

/** Medians of each span over the runs, in the order they start, and the chain that ended the run. */
function spanReport(runs: RunResult[]): string[] {
  const byName = new Map<string, { start: number[]; end: number[] }>();
  for (const r of runs) {
    for (const s of r.evidence.run.spans ?? []) {
      const e = byName.get(s.name) ?? { start: [], end: [] };
      e.start.push(s.startMs);
      e.end.push(s.endMs);
      byName.set(s.name, e);
    }
  }
  const rows = [...byName].map(([name, e]) => ({ name, start: stats(e.start).median, end: stats(e.end).median })).sort((a, b) => a.start - b.start || a.end - b.end);
  if (!rows.length) return ["  (no spans in the evidence)"];
  // The critical path, walked back from the span that ends last: each step is the span ending
  // last before the current one starts (what it waited for).
  const path: typeof rows = [];
  let current = rows.filter((r) => !["suites"].includes(r.name)).reduce((a, b) => (b.end > a.end ? b : a));
  path.unshift(current);
  for (;;) {
    const before = rows.filter((r) => r !== current && r.end <= current.start + 5 && r.name !== "suites").sort((a, b) => b.end - a.end)[0];
    if (!before) break;
    path.unshift(before);
    current = before;
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  const lines = rows.map((r) => `  ${path.includes(r) ? "*" : " "} ${r.name.padEnd(width)} ${String(r.start).padStart(6)} -> ${String(r.end).padStart(6)} ms  (${r.end - r.start} ms)`);
  lines.push(`  critical path (*): ${path.map((r) => `${r.name} ${r.end - r.start}`).join(" -> ")} ms; the process exits ~${stats(runs.map((r) => r.wallMs)).median - Math.max(...rows.map((r) => r.end))} ms after the last span`);
  return lines;
}

const results: Record<string, unknown> = {};
const goals: Array<{ goal: string; met: boolean }> = [];
const requireExit = (r: RunResult, codes: number[], what: string) => {
  if (!codes.includes(r.exit ?? -1)) {
    process.stderr.write(r.output.slice(-4000));
    throw new Error(`${what} exited ${r.exit}`);
  }
};

function timedSeries(label: string, argv: string[], runs: number, goalMs: number): Stats {
  const series: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    const r = cli(argv);
    requireExit(r, [0], `${label} run ${i + 1}`);
    series.push(r);
  }
  const wall = stats(series.map((r) => r.wallMs));
  const rss = series[0]!.peakRssKiB !== undefined ? stats(series.map((r) => Math.round(r.peakRssKiB! / 1024))) : undefined;
  const t = series[0]!.evidence.totals;
  console.log(`${label} (${t.total} checks, ${t.checked} probes; process start to exit): ${fmt(wall)}`);
  if (rss) console.log(`  peak RSS: ${fmt(rss, "MB")}`);
  for (const line of spanReport(series)) console.log(line);
  goals.push({ goal: `${label} <= ${goalMs} ms (median)`, met: wall.median <= goalMs });
  results[label] = { wallMs: wall, peakRssMB: rss ?? null, checks: t.total, probes: t.checked };
  return wall;
}

if (only.has("catalogue")) timedSeries("catalogue", ["run", "--target", "nginx"], RUNS, 2500);

if (only.has("manifests")) {
  const zoo = await writeIngressZoo(tempDir("bench-zoo-"), 100);
  timedSeries("100 user Ingresses", ["run", "--target", "nginx", "--manifests", zoo.dir], RUNS, 5000);
}

if (only.has("repeat")) {
  let green = 0;
  const walls: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = cli(["run", "--target", "nginx"]);
    walls.push(r.wallMs);
    if (r.exit === 0 && (r.evidence.totals.fail ?? 0) === 0 && r.evidence.runErrors.length === 0) green++;
    else console.log(`  run ${i + 1}: exit ${r.exit}, ${r.evidence.totals.fail} failed, errors: ${r.evidence.runErrors.join("; ")}`);
    rmSync(r.reportDir, { recursive: true, force: true });
  }
  console.log(`catalogue ${RUNS} times in a row: ${green}/${RUNS} green; wall ${fmt(stats(walls))}`);
  goals.push({ goal: `${RUNS} consecutive catalogue runs green`, met: green === RUNS });
  results.repeat = { runs: RUNS, green, wallMs: stats(walls) };
}

if (only.has("big")) {
  const zoo = await writeTenantZoo(tempDir("bench-tenants-"), 100);
  const whole = cli(["run", "--target", "nginx", "--manifests", zoo.dir]);
  requireExit(whole, [0, 1, 3], "1,000 Ingresses");
  const t = whole.evidence.totals;
  const errorLog = join(whole.reportDir, "nginx", "error.log");
  const exhausted = existsSync(errorLog) ? readFileSync(errorLog, "utf8").split("\n").filter((l) => /worker_connections are not enough/.test(l)).length : -1;
  const sizes = Object.fromEntries(
    ["evidence.json", "junit.xml", "report.html", "summary.md"].filter((f) => existsSync(join(whole.reportDir, f))).map((f) => [f, statSync(join(whole.reportDir, f)).size]),
  );
  const pages = existsSync(join(whole.reportDir, "report")) ? readdirSync(join(whole.reportDir, "report")).map((f) => statSync(join(whole.reportDir, "report", f)).size) : [];
  console.log(`1,000 user Ingresses (${zoo.ingresses} Ingresses, ${t.total} checks, ${t.checked} probes): ${whole.wallMs} ms, peak RSS ${whole.peakRssKiB ? Math.round(whole.peakRssKiB / 1024) : "?"} MB, exit ${whole.exit}`);
  console.log(`  verdicts: ${JSON.stringify(t)}; run errors: ${whole.evidence.runErrors.length}; worker_connections warnings in nginx's log: ${exhausted}`);
  console.log(`  report sizes: ${Object.entries(sizes).map(([f, b]) => `${f} ${(b / 1048576).toFixed(2)} MiB`).join(", ")}${pages.length ? `; ${pages.length} report page(s), largest ${(Math.max(...pages) / 1048576).toFixed(2)} MiB` : ""}`);
  for (const line of spanReport([whole])) console.log(line);
  goals.push({ goal: "1,000 Ingresses: 0 failures, no run error", met: whole.exit === 0 && (t.fail ?? 0) === 0 && whole.evidence.runErrors.length === 0 });
  goals.push({ goal: "1,000 Ingresses <= 60 s", met: whole.wallMs <= 60_000 });
  goals.push({ goal: "1,000 Ingresses <= 1 GB peak RSS", met: (whole.peakRssKiB ?? Infinity) <= 1024 * 1024 });
  goals.push({ goal: "1,000 Ingresses: no worker_connections warning", met: exhausted === 0 });
  goals.push({ goal: "summary.md under 1 MiB", met: (sizes["summary.md"] ?? Infinity) < 1048576 });

  // The same input as 4 shards, one after another here (on 4 machines in CI), then merged.
  const shards = [1, 2, 3, 4].map((i) => cli(["run", "--target", "nginx", "--manifests", zoo.dir, "--shard", `${i}/4`]));
  for (const [i, s] of shards.entries()) requireExit(s, [0, 1, 3], `shard ${i + 1}/4`);
  const mergedDir = tempDir("bench-merged-");
  const merged = cli(["merge", ...shards.map((s) => s.reportDir), "--report-dir", mergedDir]);
  const verify = spawnSync(process.execPath, [CLI, "verify", mergedDir], { encoding: "utf8" });
  const verdicts = (e: Evidence) => JSON.stringify(Object.fromEntries(e.scenarios.map((s) => [s.id, s.verdict]).sort()));
  const same = verdicts(merged.evidence) === verdicts(whole.evidence);
  console.log(`4 shards: ${shards.map((s) => `${s.wallMs} ms (${s.evidence.totals.total} checks)`).join(", ")}; merge ${merged.wallMs} ms, exit ${merged.exit}; merged totals ${JSON.stringify(merged.evidence.totals)}`);
  console.log(`  same verdict for every check as the single run: ${same}; verify: ${verify.status === 0 ? "signature valid" : `FAILED ${verify.stderr.trim()}`}`);
  goals.push({ goal: "4 shards merged: same verdicts, valid signature", met: same && verify.status === 0 });
  results.big = {
    ingresses: zoo.ingresses,
    checks: t.total,
    wallMs: whole.wallMs,
    peakRssMB: whole.peakRssKiB ? Math.round(whole.peakRssKiB / 1024) : null,
    totals: t,
    workerConnectionWarnings: exhausted,
    sizes,
    shardsMs: shards.map((s) => s.wallMs),
    mergeMs: merged.wallMs,
    mergedSame: same,
  };
}

console.log("\ngoals:");
for (const g of goals) console.log(`  ${g.met ? "met    " : "NOT met"}  ${g.goal}`);

// History: one line per bench run, compared with the last one from a machine of the same kind.
const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown" };
const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
const entry = { date: new Date().toISOString(), commit, node: process.version, machine, sections: [...only], results };
const history = existsSync(HISTORY) ? readFileSync(HISTORY, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as typeof entry) : [];
const median = (x: unknown) => (x as { wallMs?: Stats | number } | undefined)?.wallMs;
for (const [label, now] of Object.entries(results)) {
  const prev = history.filter((h) => h.machine.cpu === machine.cpu && h.machine.cores === machine.cores && h.results[label]).at(-1);
  const a = median(prev?.results[label]);
  const b = median(now);
  const before = typeof a === "number" ? a : a?.median;
  const after = typeof b === "number" ? b : b?.median;
  if (before && after) {
    const change = Math.round(((after - before) / before) * 100);
    console.log(`history: ${label} ${after} ms vs ${before} ms at ${prev!.commit} (${prev!.date.slice(0, 10)}): ${change > 0 ? "+" : ""}${change}%${change > 10 ? "  <-- slower: explain or fix" : ""}`);
  }
}
if (!args["no-history"]) appendFileSync(HISTORY, JSON.stringify(entry) + "\n");
for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
