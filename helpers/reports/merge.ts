// `mtls-conformance merge DIR... --report-dir OUT`: the shards of one run (`run --shard I/N` on
// several machines) joined into one report, judged as a whole. Nothing is taken on trust: each
// shard's signature is verified first, and the shards must be slices of one input that cover it
// exactly (every index once, one N, one inputDigest, their units reproducing it). The shards are
// copied under OUT/shards/<I>-of-<N>/ untouched (their own signatures stay verifiable), the joined
// evidence is written by writeReports and OUT is signed afresh.
import { INVENTORY_SUITE, mergeInventories } from "../inventory/inventory.ts";
import { exitCodeOf, overallVerdict } from "./run-verdict.ts";
import { randomUUID } from "node:crypto";
import { cp, mkdir, readdir, readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { controls as CONTROLS } from "../../fixtures/controls.ts";
import { digestOf, inputDigest, shardLabel, type ShardRecord, type ShardUnit } from "../run/shard.ts";
import { ConfigError } from "../support/errors.ts";
import { checkWritableDir } from "../support/writable-dir.ts";
import type { HarnessFault } from "../targets/target.ts";
import { checkSigningKey, ENVELOPE_FILE, MANIFEST_FILE, PUBLIC_KEY_FILE, signReportDir, verifyReportDir } from "./attestation.ts";
import { HARNESS_FAULT_EXIT } from "../run/harness-faults.ts";
import { controlEvidence, findings, ingressEvidence, suiteFaulted, totals, uncheckedIngresses, type Evidence, type IngressEvidence, type ScenarioEvidence } from "./evidence.ts";
import { writeReports } from "./write-reports.ts";

/** A shard's evidence.json: run.shard names its slice (harnessFaults where the run recorded any). */
type ShardEvidence = Evidence & { run: Evidence["run"] & { shard?: ShardRecord }; harnessFaults?: HarnessFault[] };

/** What the merged evidence says about its shards (`run.merged`). */
export interface MergedRecord {
  count: number;
  unitCount: number;
  inputDigest: string;
  settings: ShardRecord["settings"];
  shards: Array<{
    index: number;
    /** The shard's copy, relative to the merged report. */
    dir: string;
    /** Where it was merged from. */
    source: string;
    runId: string;
    startedAt: string;
    finishedAt: string;
    timingsMs: Record<string, number>;
    units: string[];
    totals: Evidence["totals"];
    /** The shard's signer (sha256 of its Ed25519 public key). */
    signer: string;
  }>;
}

export interface MergeOptions {
  dirs: string[];
  reportDir: string;
  /** The Ed25519 public key every shard must be signed with (default: each shard's own, integrity only). */
  publicKey?: string;
  /** Signs the merged report (default: a key made for the merge). */
  signingKey?: string;
  command: string;
  /** The tool writing the merged report (default: the first shard's). */
  tool?: { name: string; version: string };
  log?: (line: string) => void;
}

export interface MergeOutcome {
  /** As a run's: 0 passed, 1 a failure or nothing checked in the whole, 3 a shard's harness broke. */
  exitCode: 0 | 1 | 3;
  evidence: Evidence & { run: Evidence["run"] & { merged: MergedRecord }; harnessFaults?: HarnessFault[] };
  evidencePath: string;
}

interface LoadedShard {
  dir: string;
  evidence: ShardEvidence;
  record: ShardRecord;
  signer: string;
}

function refuse(message: string): never {
  throw new ConfigError(`merge refused: ${message}`);
}

/** Verifies and reads every shard, and checks they are the slices of one input, each once. */
async function loadShards(dirs: string[], publicKey: string | undefined): Promise<LoadedShard[]> {
  const loaded: LoadedShard[] = [];
  for (const dir of dirs) {
    // The signature first: nothing of a shard is read before it is known to be as it was signed.
    const v = await verifyReportDir(dir, publicKey);
    if (!v.ok) refuse(`shard ${dir}: ${v.problems[0]}`);
    const evidence = JSON.parse(await readFile(join(dir, "evidence.json"), "utf8")) as ShardEvidence;
    const record = evidence.run?.shard;
    if (!record) refuse(`${dir} is not a shard's report (its run had no --shard I/N)`);
    loaded.push({ dir, evidence, record: record!, signer: v.fingerprint! });
  }
  const [first] = loaded;
  for (const s of loaded.slice(1)) {
    if (s.record.count !== first!.record.count) refuse(`mixed shard counts: ${first!.dir} is shard ${shardLabel(first!.record)}, ${s.dir} is shard ${shardLabel(s.record)}`);
  }
  for (const s of loaded.slice(1)) {
    if (s.record.inputDigest !== first!.record.inputDigest) {
      refuse(`${s.dir} (shard ${shardLabel(s.record)}) is a shard of another input than ${first!.dir} (inputDigest ${s.record.inputDigest.slice(0, 12)}… against ${first!.record.inputDigest.slice(0, 12)}…)`);
    }
  }
  const byIndex = new Map<number, LoadedShard>();
  for (const s of loaded) {
    const twice = byIndex.get(s.record.index);
    if (twice) refuse(`shard ${shardLabel(s.record)} given twice: ${twice.dir} and ${s.dir}`);
    byIndex.set(s.record.index, s);
  }
  const count = first!.record.count;
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length) refuse(`shard${missing.length > 1 ? "s" : ""} ${missing.map((i) => `${i}/${count}`).join(", ")} missing: the run is whole only with all ${count}`);
  const kinds = [...new Set(loaded.map((s) => s.evidence.target.kind))];
  if (kinds.length > 1) refuse(`the shards ran on different targets (${kinds.join(", ")}): one run is judged on one kind of target`);
  // Exact cover: no unit twice, and the union reproduces the digest every shard recorded.
  const owner = new Map<string, LoadedShard>();
  for (const s of loaded) {
    for (const u of s.record.units) {
      const other = owner.get(u.id);
      if (other) refuse(`unit ${u.id} is in shard ${shardLabel(other.record)} and in shard ${shardLabel(s.record)}`);
      owner.set(u.id, s);
    }
  }
  const units = loaded.flatMap((s) => s.record.units);
  if (units.length !== first!.record.unitCount || inputDigest(first!.record.settings, units) !== first!.record.inputDigest) {
    refuse(`the shards' ${units.length} unit(s) do not make up the input of ${first!.record.unitCount} their records name`);
  }
  return [...loaded].sort((a, b) => a.record.index - b.record.index);
}

const unique = <T>(values: T[]): T[] => [...new Set(values)];

/** One value where the shards agree; a digest of their sorted values where they do not. */
function oneDigest(values: Array<string | null>): string | null {
  const present = unique(values.filter((v): v is string => !!v)).sort();
  if (present.length <= 1) return present[0] ?? null;
  return digestOf(present);
}

function targetOf(shards: LoadedShard[]): Evidence["target"] {
  // A shard with nothing to check started no target: it says nothing about what answered.
  const ran = shards.filter((s) => s.evidence.scenarios.length > 0);
  const from = ran.length ? ran : shards;
  const first = from[0]!.evidence.target;
  const versions: Record<string, string> = {};
  for (const key of unique(from.flatMap((s) => Object.keys(s.evidence.target.versions ?? {})))) {
    versions[key] = unique(from.map((s) => s.evidence.target.versions?.[key]).filter((v): v is string => !!v)).join(" | ");
  }
  const descriptions = unique(from.map((s) => s.evidence.target.description));
  return {
    kind: first.kind,
    description: descriptions.length === 1 ? `${descriptions[0]} (${shards.length} shards)` : `${shards.length} shards: ${descriptions.join("; ")}`,
    selection: unique(from.map((s) => s.evidence.target.selection)).join("; "),
    versions,
    ...(first.controller ? { controller: first.controller } : {}),
    shards: shards.map((s) => ({ shard: shardLabel(s.record), ...s.evidence.target })),
  };
}

/** The merged report's evidence: scenarios in the order of the input's units, everything judged anew. */
function mergedEvidence(shards: LoadedShard[], out: { reportDir: string; command: string; tool?: { name: string; version: string } }, artifacts: Record<string, string>, startedAt: Date): MergeOutcome["evidence"] {
  const [first] = shards;
  const record = first!.record;
  // Scenario and Ingress order: by unit (units sorted by id), each shard's own order within one.
  const unitIds = shards.flatMap((s) => s.record.units).map((u) => u.id).sort();
  const position = new Map(unitIds.map((id, i) => [id, i]));
  const unitOf = new Map<string, number>();
  for (const s of shards) for (const u of s.record.units) for (const m of u.members) unitOf.set(m, position.get(u.id)!);
  const rank = (...keys: Array<string | undefined>) => keys.map((k) => (k === undefined ? undefined : unitOf.get(k))).find((r) => r !== undefined) ?? unitIds.length;
  const ordered: ScenarioEvidence[] = shards
    .flatMap((s) => s.evidence.scenarios)
    .map((s, i) => ({ s, i, r: rank(s.id, s.ingress, s.suite) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.s);
  const ids = new Set<string>();
  // A certificate or CRL two shards both have in force is judged in each (the inventory's checks): once here.
  const scenarios = ordered.filter((s) => {
    if (!ids.has(s.id)) {
      ids.add(s.id);
      return true;
    }
    if (s.suite !== INVENTORY_SUITE) refuse(`check ${s.id} is in more than one shard`);
    return false;
  });
  const plans = shards
    .flatMap((s) => s.evidence.ingresses ?? [])
    .map((p, i) => ({ p, i, r: rank(p.id) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map(({ p }): Omit<IngressEvidence, "totals" | "checked"> => {
      const { totals: _t, checked: _c, ...plan } = p;
      return plan;
    });
  // Controls in the order a run lists them (the project's control list), whichever shard has them.
  const coverage = new Map<string, { id: string; title: string; scenarios: string[] }>(CONTROLS.map((c) => [c.id, { ...c, scenarios: [] }]));
  for (const c of shards.flatMap((s) => s.evidence.controls)) {
    const seen = coverage.get(c.id) ?? { id: c.id, title: c.title, scenarios: [] };
    seen.scenarios = unique([...seen.scenarios, ...c.scenarios]);
    coverage.set(c.id, seen);
  }
  const policies = new Map<string, Evidence["policies"][number]>();
  for (const p of shards.flatMap((s) => s.evidence.policies)) if (!policies.has(p.name)) policies.set(p.name, p);
  const certificates = new Map<string, Evidence["certificates"][number]>();
  for (const c of shards.flatMap((s) => s.evidence.certificates)) if (!certificates.has(c.sha256)) certificates.set(c.sha256, c);
  const faults = shards.flatMap((s) => (s.evidence.harnessFaults ?? []).map((f) => ({ ...f, source: `shard ${shardLabel(s.record)}: ${f.source}` })));
  const profile = first!.evidence.profile;
  const started = shards.map((s) => s.evidence.run.startedAt).sort()[0]!;
  const finished = shards.map((s) => s.evidence.run.finishedAt).sort().at(-1)!;
  const { reportDir: _dir, shard: _shard, ...options } = first!.evidence.run.options;
  const merged: MergedRecord = {
    count: record.count,
    unitCount: record.unitCount,
    inputDigest: record.inputDigest,
    settings: record.settings,
    shards: shards.map((s) => ({
      index: s.record.index,
      dir: `${shardDir(s.record)}/`,
      source: s.dir,
      runId: s.evidence.run.id,
      startedAt: s.evidence.run.startedAt,
      finishedAt: s.evidence.run.finishedAt,
      timingsMs: s.evidence.run.timingsMs,
      units: s.record.units.map((u: ShardUnit) => u.id),
      totals: s.evidence.totals,
      signer: s.signer,
    })),
  };
  const stamp = startedAt.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const run: Evidence["run"] & { merged: MergedRecord } = {
    id: `${stamp}-merge-${randomUUID().slice(0, 8)}`,
    startedAt: started,
    finishedAt: finished,
    command: out.command,
    options: { ...options, reportDir: out.reportDir, merged: `${record.count} shards` },
    // The shards ran side by side: the wall-clock span from the first start to the last end.
    timingsMs: { totalMs: Date.parse(finished) - Date.parse(started) },
    merged,
  };
  return {
    schemaVersion: first!.evidence.schemaVersion,
    tool: { ...(out.tool ?? first!.evidence.tool), node: process.version },
    run,
    target: targetOf(shards),
    subject: {
      origin: first!.evidence.subject.origin,
      source: unique(shards.map((s) => s.evidence.subject.source)).join(", "),
      changes: unique(shards.flatMap((s) => s.evidence.subject.changes)),
    },
    policies: [...policies.values()],
    ingresses: ingressEvidence(plans, scenarios),
    scenarios,
    certificates: [...certificates.values()],
    ...(() => {
      const inventory = mergeInventories(shards.flatMap((s) => (s.evidence.inventory ? [s.evidence.inventory] : [])));
      return inventory ? { inventory } : {};
    })(),
    // Each shard made its own PKI: one digest where they agree, a digest of theirs where not.
    caBundleSha256: oneDigest(shards.map((s) => s.evidence.caBundleSha256))!,
    crlSha256: oneDigest(shards.map((s) => s.evidence.crlSha256)),
    controls: controlEvidence([...coverage.values()], scenarios),
    findings: findings(scenarios),
    ...(profile ? { profile } : {}),
    artifacts,
    runErrors: shards.flatMap((s) => s.evidence.runErrors.map((e) => `shard ${shardLabel(s.record)}: ${e}`)),
    ...(faults.length ? { harnessFaults: faults } : {}),
    totals: totals(scenarios),
  };
}

const shardDir = (r: { index: number; count: number }) => `shards/${r.index}-of-${r.count}`;

export async function mergeShards(options: MergeOptions): Promise<MergeOutcome> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + "\n"));
  const startedAt = new Date();
  const t0 = performance.now();
  if (options.dirs.length === 0) throw new ConfigError("merge needs the report directories of the shards (mtls-conformance merge DIR... --report-dir OUT)");
  const reportDir = resolve(options.reportDir);
  for (const dir of options.dirs) {
    const r = relative(resolve(dir), reportDir);
    if (!r.startsWith("..")) throw new ConfigError(`--report-dir ${options.reportDir}: inside the shard ${dir}, whose signature it would break`);
  }
  await checkWritableDir(reportDir, "--report-dir");
  // The merged report is signed whole: nothing else may be in it.
  const existing = await readdir(reportDir).catch(() => [] as string[]);
  if (existing.length) throw new ConfigError(`--report-dir ${options.reportDir}: not empty (the merged report is signed whole; give a new or empty directory)`);
  if (options.signingKey) await checkSigningKey(options.signingKey);
  const shards = await loadShards(options.dirs, options.publicKey);
  const record = shards[0]!.record;

  await mkdir(reportDir, { recursive: true });
  const artifacts: Record<string, string> = {};
  for (const s of shards) {
    const to = shardDir(s.record);
    await cp(s.dir, join(reportDir, to), { recursive: true, preserveTimestamps: true });
    artifacts[`${to}/`] = `${to}/`;
    // The shard's own files, as the merged report reaches them.
    for (const [name, path] of Object.entries(s.evidence.artifacts ?? {})) artifacts[`${to}/${name}`] = `${to}/${path}`;
  }
  for (const f of ["evidence.json", "report.html", "summary.md", MANIFEST_FILE, ENVELOPE_FILE, PUBLIC_KEY_FILE]) artifacts[f] = f;
  const evidence = mergedEvidence(shards, { reportDir, command: options.command, tool: options.tool }, artifacts, startedAt);
  evidence.run.timingsMs.mergeMs = Math.round(performance.now() - t0);
  // JUnit as the shards wrote it: one file, or one per suite where they ran --isolate.
  const junitGroups = evidence.run.options.isolate
    ? unique(evidence.scenarios.map((s) => s.suite)).map((suite) => ({ file: `junit-${suite}.xml`, ids: new Set(evidence.scenarios.filter((s) => s.suite === suite).map((s) => s.id)) }))
    : [{ file: "junit.xml", ids: new Set(evidence.scenarios.map((s) => s.id)) }];
  const junitPaths = await writeReports(evidence, junitGroups, reportDir, artifacts);
  const signed = await signReportDir(reportDir, evidence, options.signingKey);

  const sum = evidence.totals;
  log(`merged ${shards.length} shard(s) of one input (inputDigest ${record.inputDigest.slice(0, 12)}…, ${record.unitCount} unit(s)), reports in ${options.reportDir}`);
  for (const s of shards) {
    const t = s.evidence.totals;
    log(`  shard ${shardLabel(s.record)}: ${s.record.units.length} unit(s), ${t.total} check(s), ${t.checked} probe(s) ran${t.total === 0 ? " (nothing to check there)" : ""}  ${s.dir}`);
  }
  const lost = sum["guarantee-lost"] ?? 0;
  const nothingChecked = sum.checked === 0;
  const unchecked = uncheckedIngresses(evidence);
  if (nothingChecked) log(`NOTHING WAS CHECKED in any shard: no probe ran (${sum.skip} skipped of ${sum.total}); the merged run proves nothing and fails`);
  else for (const id of unchecked) log(`nothing was checked for Ingress ${id}: every check of it was skipped`);
  log(`${sum.pass} passed, ${sum.fail} failed, ${sum.skip} skipped${sum.finding ? `, ${sum.finding} finding(s)` : ""}${lost ? `, ${lost} guarantee(s) lost` : ""}${sum.error ? `, ${sum.error} error(s)` : ""} of ${sum.total} (${sum.checked} probe(s) ran; target ${evidence.target.kind}, ${shards.length} shards)`);
  // A shard's runErrors already hold a line per harness fault.
  for (const e of evidence.runErrors) log(`error: ${e}`);
  log(`evidence: ${join(reportDir, "evidence.json")} (report.html, summary.md; each shard as signed under ${join(reportDir, "shards")}/)`);
  log(`signed:   ${signed.files} files, Ed25519 key sha256:${signed.fingerprint}` + (signed.generatedKey ? ` (a key made for this merge; public half in ${PUBLIC_KEY_FILE})` : ""));
  for (const p of junitPaths) log(`junit:    ${p}`);

  // A shard whose suite broke leaves the whole without a verdict, as a run's own fault does.
  const broke = suiteFaulted(evidence);
  if (broke) log(`SUITE FAULT in a shard: the harness itself was at fault; no verdict on the whole (exit ${HARNESS_FAULT_EXIT})`);
  // The merged whole is judged as a run is (run-verdict.ts).
  return { exitCode: exitCodeOf(overallVerdict(evidence)), evidence, evidencePath: join(reportDir, "evidence.json") };
}
