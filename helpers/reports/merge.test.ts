// `run --shard I/N` and `merge`, with real runs on the nginx target: a zoo of 24 varied Ingresses
// run whole and in 4 shards, and the catalogue (two suites) run whole and in 3 shards (one of them
// empty). The merged report must say what the whole run says, check by check; it must verify; and
// merge must refuse shards that were changed, are missing, twice, of another N or another input.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConformance, type RunOutcome, type RunOptions } from "../run/run.ts";
import { writeIngressZoo, type Zoo } from "../testing/ingress-zoo.ts";
import { signReportDir } from "./attestation.ts";
import type { Evidence } from "./evidence.ts";
import { mergeShards, type MergeOutcome } from "./merge.ts";

const BIN = new URL("../../bin/mtls-conformance.ts", import.meta.url).pathname;
const CATALOGUE_ONLY = "guide,isolation";

let base: string;
let zoo: Zoo;
const runs: Record<string, RunOutcome & { dir: string }> = {};
let merged: MergeOutcome;
let cataloguMerged: MergeOutcome;

async function run(name: string, options: Partial<RunOptions>): Promise<RunOutcome & { dir: string }> {
  const dir = join(base, name);
  runs[name] = { ...(await runConformance({ target: "nginx", reportDir: dir, command: "test", log: () => undefined, ...options })), dir };
  return runs[name];
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const verdicts = (e: Evidence) => Object.fromEntries(e.scenarios.map((s) => [s.id, s.verdict]));
const zooShards = () => [1, 2, 3, 4].map((i) => runs[`zoo-${i}of4`]!);
const shardRecord = (e: Evidence) => (e.run as Evidence["run"] & { shard?: { index: number; count: number; units: unknown[] } }).shard;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "merge-test-"));
  zoo = await writeIngressZoo(join(base, "zoo"), 24);
  await run("zoo-whole", { manifests: zoo.dir });
  for (const i of [1, 2, 3, 4]) await run(`zoo-${i}of4`, { manifests: zoo.dir, shard: { index: i, count: 4 } });
  merged = await mergeShards({ dirs: zooShards().map((r) => r.dir), reportDir: join(base, "zoo-merged"), command: "test", log: () => undefined });
  await run("cat-whole", { only: CATALOGUE_ONLY });
  for (const i of [1, 2, 3]) await run(`cat-${i}of3`, { only: CATALOGUE_ONLY, shard: { index: i, count: 3 } });
  cataloguMerged = await mergeShards({ dirs: [3, 1, 2].map((i) => runs[`cat-${i}of3`]!.dir), reportDir: join(base, "cat-merged"), command: "test", log: () => undefined });
}, 300_000);

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("a zoo of 24 Ingresses: the whole run against 4 shards merged", () => {
  it("every check has the same verdict, and the totals, controls and findings are the same", () => {
    const whole = runs["zoo-whole"]!.evidence;
    expect(whole.totals.checked).toBeGreaterThan(100);
    expect(verdicts(merged.evidence)).toEqual(verdicts(whole));
    expect(merged.evidence.totals).toEqual(whole.totals);
    expect(merged.evidence.controls.map((c) => [c.id, c.verdict, c.scenarios.length])).toEqual(whole.controls.map((c) => [c.id, c.verdict, c.scenarios.length]));
    const f = (e: Evidence) => e.findings.map((x) => `${x.scenario} ${x.id} ${x.holds}`).sort();
    expect(f(merged.evidence)).toEqual(f(whole));
    const perIngress = (e: Evidence) => Object.fromEntries(e.ingresses.map((i) => [i.id, { totals: i.totals, checked: i.checked }]));
    expect(perIngress(merged.evidence)).toEqual(perIngress(whole));
    expect(merged.exitCode).toBe(runs["zoo-whole"]!.exitCode);
    expect(merged.exitCode).toBe(0);
  });

  it("every Ingress, and every check, is in exactly one shard", () => {
    const ids = zooShards().flatMap((r) => r.evidence.ingresses.map((i) => i.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(runs["zoo-whole"]!.evidence.ingresses.map((i) => i.id).sort());
    // The inventory's checks excepted: a certificate two shards both have in force is judged in each, and once in the merge.
    const checks = zooShards().flatMap((r) => r.evidence.scenarios.filter((s) => s.suite !== "inventory").map((s) => s.id));
    expect(new Set(checks).size).toBe(checks.length);
    const inventory = zooShards().flatMap((r) => r.evidence.scenarios.filter((s) => s.suite === "inventory").map((s) => s.id));
    expect(inventory.length).toBeGreaterThan(0);
    for (const r of zooShards()) expect(r.evidence.totals.checked, r.dir).toBeGreaterThan(0);
  });

  it("Ingresses sharing a host are in one shard", () => {
    const byHost = new Map<string, string[]>();
    for (const i of runs["zoo-whole"]!.evidence.ingresses) for (const h of i.hosts) byHost.set(h, [...(byHost.get(h) ?? []), i.id]);
    const shared = [...byHost].filter(([, ids]) => ids.length > 1);
    expect(shared.map(([h]) => h).sort()).toEqual([...zoo.sharedHosts].sort());
    for (const [host, ids] of shared) {
      const holding = zooShards().filter((r) => r.evidence.ingresses.some((i) => ids.includes(i.id)));
      expect(holding, host).toHaveLength(1);
      expect(holding[0]!.evidence.ingresses.filter((i) => ids.includes(i.id))).toHaveLength(ids.length);
    }
  });

  it("the shards record their slice of one input; the merged evidence names each shard", () => {
    const records = zooShards().map((r) => shardRecord(r.evidence)!);
    expect(records.map((r) => `${r.index}/${r.count}`)).toEqual(["1/4", "2/4", "3/4", "4/4"]);
    expect(new Set(zooShards().map((r) => (r.evidence.run as { shard?: { inputDigest: string } }).shard!.inputDigest)).size).toBe(1);
    expect(zooShards().map((r) => r.evidence.run.options.shard)).toEqual(["1/4", "2/4", "3/4", "4/4"]);
    expect(merged.evidence.run.merged.shards.map((s) => s.dir)).toEqual(["shards/1-of-4/", "shards/2-of-4/", "shards/3-of-4/", "shards/4-of-4/"]);
    expect(shardRecord(merged.evidence)).toBeUndefined();
  });

  it("the merged directory verifies with `verify`, and each shard's copy with its own signature", async () => {
    const out = join(base, "zoo-merged");
    const whole = await cli(["verify", out]);
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stdout).toMatch(/^verified: \d+ files match the signed manifest/);
    for (const i of [1, 4]) {
      const shard = await cli(["verify", join(out, "shards", `${i}-of-4`)]);
      expect(shard.code, shard.stderr).toBe(0);
      expect(readFileSync(join(out, "shards", `${i}-of-4`, "evidence.json"))).toEqual(readFileSync(join(runs[`zoo-${i}of4`]!.dir, "evidence.json")));
    }
    // The merged report is one report: JUnit for all checks, summary and HTML of the whole.
    expect(readFileSync(join(out, "junit.xml"), "utf8").match(/<testcase /g)).toHaveLength(runs["zoo-whole"]!.evidence.totals.total);
    expect(readFileSync(join(out, "summary.md"), "utf8")).toMatch(/^## mTLS conformance: PASS/);
  });
});

describe("the catalogue (two suites) in 3 shards: one holds nothing", () => {
  it("the empty shard exits 0, says so, and its report is a signed record of holding nothing", async () => {
    const empty = [1, 2, 3].map((i) => runs[`cat-${i}of3`]!).filter((r) => r.evidence.totals.total === 0);
    expect(empty).toHaveLength(1);
    expect(empty[0]!.exitCode).toBe(0);
    expect(shardRecord(empty[0]!.evidence)!.units).toEqual([]);
    expect(empty[0]!.evidence.subject.changes.join("\n")).toMatch(/^shard \d\/3 has nothing to check \(the input has 2 unit\(s\) for 3 shards\)/m);
    const v = await cli(["verify", empty[0]!.dir]);
    expect(v.code, v.stderr).toBe(0);
  });

  it("merged (given in any order), every check has the whole run's verdict", () => {
    const whole = runs["cat-whole"]!.evidence;
    expect(new Set(whole.scenarios.map((s) => s.suite))).toEqual(new Set(["guide", "isolation"]));
    expect(verdicts(cataloguMerged.evidence)).toEqual(verdicts(whole));
    expect(cataloguMerged.evidence.totals).toEqual(whole.totals);
    expect(cataloguMerged.evidence.controls.map((c) => [c.id, c.verdict])).toEqual(whole.controls.map((c) => [c.id, c.verdict]));
    expect(cataloguMerged.exitCode).toBe(runs["cat-whole"]!.exitCode);
    // Each suite's checks ran in one shard.
    for (const suite of ["guide", "isolation"]) {
      expect([1, 2, 3].filter((i) => runs[`cat-${i}of3`]!.evidence.scenarios.some((s) => s.suite === suite)), suite).toHaveLength(1);
    }
  });
});

describe("merge refuses what is not one whole run (exit 2, one line naming the shard and the problem)", () => {
  const out = () => join(mkdtempSync(join(base, "out-")), "merged");
  const zooDirs = () => zooShards().map((r) => r.dir);

  it("through the CLI: the four shards merge with exit 0", async () => {
    const dir = out();
    const r = await cli(["merge", ...zooDirs(), "--report-dir", dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^merged 4 shard\(s\) of one input/);
    expect(r.stdout).toContain(`${runs["zoo-whole"]!.evidence.totals.pass} passed, 0 failed`);
  });

  it("a byte changed in a shard", async () => {
    const tampered = join(base, "tampered", "zoo-2of4");
    cpSync(zooShards()[1]!.dir, tampered, { recursive: true });
    const html = join(tampered, "report.html");
    const bytes = readFileSync(html);
    const at = bytes.length >> 1;
    bytes[at] = bytes[at]! ^ 0x01;
    writeFileSync(html, bytes);
    const dir = out();
    const r = await cli(["merge", zooDirs()[0]!, tampered, ...zooDirs().slice(2), "--report-dir", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toEqual([`mtls-conformance: merge refused: shard ${tampered}: report.html: changed (SHA-256 differs from the signed manifest)`]);
    expect(existsSync(dir)).toBe(false);
  });

  it("a missing shard, a shard twice, another N, another input, a report that is no shard, a used --report-dir", async () => {
    const [s1, s2, s3, s4] = zooDirs() as [string, string, string, string];
    const other = runs["cat-1of3"]!.dir;
    // Same N as the zoo's shards, another input: the catalogue's guide suite, shard 4 of 4 (empty).
    const otherInput = (await run("cat-guide-4of4", { only: "guide", shard: { index: 4, count: 4 } })).dir;
    const cases: Array<[string[], RegExp]> = [
      [[s1, s2, s4], /^mtls-conformance: merge refused: shard 3\/4 missing: the run is whole only with all 4$/],
      [[s1, s2, s2, s3, s4], new RegExp(`^mtls-conformance: merge refused: shard 2/4 given twice: ${s2} and ${s2}$`)],
      [[s1, s2, s3, other], new RegExp(`^mtls-conformance: merge refused: mixed shard counts: ${s1} is shard 1/4, ${other} is shard \\d/3$`)],
      [[s1, s2, s3, otherInput], new RegExp(`^mtls-conformance: merge refused: ${otherInput} \\(shard 4/4\\) is a shard of another input than ${s1}`)],
      [[s1, s2, s3, s4, runs["zoo-whole"]!.dir], /^mtls-conformance: merge refused: .*zoo-whole is not a shard's report \(its run had no --shard I\/N\)$/],
    ];
    for (const [dirs, message] of cases) {
      const r = await cli(["merge", ...dirs, "--report-dir", out()]);
      expect(r.code, dirs.join(" ")).toBe(2);
      expect(r.stderr.trimEnd().split("\n"), dirs.join(" ")).toHaveLength(1);
      expect(r.stderr.trimEnd(), dirs.join(" ")).toMatch(message);
    }
    const used = await cli(["merge", s1, s2, s3, s4, "--report-dir", join(base, "zoo-merged")]);
    expect(used.code).toBe(2);
    expect(used.stderr).toMatch(/--report-dir .*zoo-merged: not empty/);
  });
});

describe("the merged exit code judges the whole run", () => {
  it("shards with nothing to check exit 0 each; merged, nothing was checked: exit 1", async () => {
    const parts = [await run("none-1of2", { manifests: zoo.dir, only: "no-such-check", shard: { index: 1, count: 2 } }), await run("none-2of2", { manifests: zoo.dir, only: "no-such-check", shard: { index: 2, count: 2 } })];
    for (const p of parts) {
      expect(p.exitCode).toBe(0);
      expect(p.evidence.totals.total).toBe(0);
    }
    const m = await mergeShards({ dirs: parts.map((p) => p.dir), reportDir: join(base, "none-merged"), command: "test", log: () => undefined });
    expect(m.evidence.totals.checked).toBe(0);
    expect(m.exitCode).toBe(1);
    expect(readFileSync(join(base, "none-merged", "summary.md"), "utf8")).toMatch(/^## mTLS conformance: NOTHING CHECKED/);
  });

  it("a shard whose run recorded an error: exit 3, the error named with its shard", async () => {
    // Shard 3 as a run that hit an error outside any check writes and signs it.
    const broken = join(base, "broken", "zoo-3of4");
    cpSync(zooShards()[2]!.dir, broken, { recursive: true });
    const evidence = JSON.parse(readFileSync(join(broken, "evidence.json"), "utf8")) as Evidence;
    evidence.runErrors = ["the suite file failed to load"];
    writeFileSync(join(broken, "evidence.json"), JSON.stringify(evidence, null, 2) + "\n");
    await signReportDir(broken, evidence);
    const [s1, s2, , s4] = zooShards().map((r) => r.dir);
    const m = await mergeShards({ dirs: [s1!, s2!, broken, s4!], reportDir: join(base, "broken-merged"), command: "test", log: () => undefined });
    expect(m.exitCode).toBe(3);
    expect(m.evidence.runErrors).toEqual(["shard 3/4: the suite file failed to load"]);
  });
});
