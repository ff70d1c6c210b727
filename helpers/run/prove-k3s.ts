// npm run prove:k3s [-- --controller-version v1.15.1,v1.14.5] [--report-dir DIR] [--first-run]
// npm run prove:k3s -- --accept DIR/evidence.json       (records a reviewed run as the baseline)
//
// The k3s path proven end to end, in one command, on a machine whose Docker can pull (the
// project's own CI cannot). The nightly workflow runs exactly this. It:
//   1. lists the images a run of each release needs (`mtls-conformance images`) and pulls onto
//      the host's Docker those it lacks;
//   2. runs the whole catalogue as users do: `mtls-conformance run --target k3s --preload-images
//      --controller-version …` (one report directory per release, and their diff);
//   3. reads each evidence.json and says whether it proves the path: the real controller came up
//      in k3s, every scenario has a verdict and none failed, the echo backend answered in the
//      cluster, and the versions, image digests and preloaded images are on record.
//   4. for each check that failed on the real controller, writes the model's expectation and the
//      controller source lines it rests on beside what was observed (expectations-to-confirm.md,
//      .json in the report directory): a failure is either a wrong expectation or a controller
//      defect, and this is what tells them apart.
// Until a run of a release has been accepted as its baseline (its evidence.json's SHA-256 in
// helpers/run/k3s-baseline.json, written by --accept after review), a release is judged as a first
// run: failing checks are reported to confirm or correct, not failed (--first-run forces that).
// Exit 0 when every release is proven, 1 when not (with what is missing), 2 on bad arguments.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./run.ts";

export interface ProofEvidence {
  target: {
    kind: string;
    deployError?: string;
    versions?: Record<string, string>;
    controllerImages?: Array<{ image: string; imageID: string }>;
    controllerManifest?: { sha256?: string } | null;
    preloadedImages?: Array<{ ref: string; k3s?: string }>;
    kubernetesSupport?: { inRange?: boolean; kubernetes?: string; supported?: string[] };
    /** --controller traefik: no manifest; the HelmChartConfig k3s was given instead. */
    traefik?: { config?: { sha256?: string } };
  };
  scenarios: Array<{ id: string; verdict: string; mismatches: string[]; must?: string; expected?: unknown; basis?: { explanation: string; sources: string[] }; observed?: { upstreamReached?: boolean; status?: number } }>;
  totals: { total: number; fail: number; checked: number };
}

/** A check the real controller failed: the model's answer and its sources beside the observation. */
export interface DisputedExpectation {
  id: string;
  must?: string;
  expected: unknown;
  observed: unknown;
  mismatches: string[];
  /** The controller source lines the expectation rests on (repo@tag:file:line). */
  sources: string[];
  explanation?: string;
}

/** The baseline file: per release, the SHA-256 of the evidence.json a person reviewed and accepted. */
export const BASELINE_FILE = new URL("./k3s-baseline.json", import.meta.url).pathname;
export type Baselines = Record<string, { evidenceSha256: string; acceptedAt: string; runId?: string }>;

export function readBaselines(file = BASELINE_FILE): Baselines {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Baselines) : {};
}

/** Every failed check of a run, as the expectation to confirm or correct; `sources` for checks whose evidence names none (the catalogue's). */
export function disputedExpectations(evidence: ProofEvidence, sources: Record<string, string[]> = {}): DisputedExpectation[] {
  return evidence.scenarios
    .filter((s) => s.verdict === "fail")
    .map((s) => ({ id: s.id, ...(s.must ? { must: s.must } : {}), expected: s.expected, observed: s.observed, mismatches: s.mismatches, sources: s.basis?.sources ?? sources[s.id] ?? [], ...(s.basis?.explanation ? { explanation: s.basis.explanation } : {}) }));
}

/**
 * The controller source lines behind each catalogue scenario's expectation: the policy model's
 * resolution of the scenario's host (its server-level rules) and of its Ingress's annotations,
 * which read the same controller source the catalogue's expectations were written from.
 */
export async function catalogueSources(): Promise<Record<string, string[]>> {
  const [{ catalogue }, { buildPki }, { buildManifests }, { resolveHosts }, { secretView }, { ingressId }] = await Promise.all([
    import("../../fixtures/catalogue.ts"),
    import("../pki/pki.ts"),
    import("../manifests/manifests.ts"),
    import("../model/hosts.ts"),
    import("../model/secrets.ts"),
    import("../model/annotations.ts"),
  ]);
  const pki = await buildPki({ serverHosts: [...new Set(catalogue.policies.map((p) => p.host))] });
  const manifests = buildManifests({ namespace: "default", policies: catalogue.policies, pki });
  const views = manifests.secrets.map(secretView);
  const model = resolveHosts(manifests.ingresses, (ns, name) => views.find((v) => v.namespace === ns && v.name === name), { ingressClass: "nginx" });
  const out: Record<string, string[]> = {};
  for (const s of catalogue.scenarios) {
    const policy = catalogue.policies.find((p) => p.name === s.policy);
    if (!policy) continue;
    const host = model.hosts.find((h) => h.host === policy.host);
    const ingress = model.ingresses.find((i) => i.id === `default/${policy.ingressName}` || ingressId(i.ingress) === `default/${policy.ingressName}`);
    out[s.id] = [...new Set([...(host?.sources ?? []), ...(ingress?.auth?.sources ?? [])])];
  }
  return out;
}

export function renderDisputed(version: string, disputed: DisputedExpectation[]): string {
  const lines = [`# ${version}: expectations to confirm or correct`, "", `${disputed.length} check(s) failed on the real controller. For each, the model's expectation, the controller source it rests on, and what the controller did: either the expectation is wrong (correct the model and its source reading) or the controller is (a defect to report).`, ""];
  for (const d of disputed) {
    lines.push(`## ${d.id}`, "", ...(d.must ? [d.must, ""] : []), `- expected: \`${JSON.stringify(d.expected)}\``, `- observed: \`${JSON.stringify(d.observed)}\``, ...d.mismatches.map((m) => `- mismatch: ${m}`), ...(d.explanation ? [`- why expected: ${d.explanation}`] : []), ...(d.sources.length ? d.sources.map((src) => `- source: ${src}`) : ["- source: none on record"]), "");
  }
  return lines.join("\n");
}

/** What a k3s run's evidence proves about the path, and what it does not. */
export function judgeProof(evidence: ProofEvidence, catalogueSize: number, options: { firstRun?: boolean; sources?: Record<string, string[]> } = {}): { proven: boolean; facts: string[]; gaps: string[]; toConfirm: DisputedExpectation[] } {
  const facts: string[] = [];
  const gaps: string[] = [];
  const t = evidence.target;
  if (t.kind !== "k3s") gaps.push(`the run's target was ${t.kind}, not k3s`);
  if (t.deployError) gaps.push(`the target did not come up: ${t.deployError}`);
  const kubernetes = t.versions?.kubernetes;
  const controller = t.versions?.controller ?? "?";
  if (kubernetes) facts.push(`Kubernetes ${kubernetes}, ${controller.startsWith("traefik") ? "" : "ingress-nginx "}${controller}`);
  else gaps.push("no Kubernetes version on record");
  if (t.kubernetesSupport?.inRange === false) gaps.push(`Kubernetes ${t.kubernetesSupport.kubernetes} is outside the release's supported ${t.kubernetesSupport.supported?.join(", ")}`);
  const digests = (t.controllerImages ?? []).filter((i) => /sha256:[0-9a-f]{64}/.test(i.imageID));
  if (digests.length) facts.push(`controller image digests on record: ${digests.map((i) => i.imageID).join(", ")}`);
  else gaps.push("no controller image digest on record");
  if (!t.controllerManifest?.sha256 && !t.traefik?.config?.sha256) gaps.push("no controller manifest SHA-256 on record");
  const imported = (t.preloadedImages ?? []).filter((p) => p.k3s === "imported");
  facts.push(`${imported.length} image(s) preloaded and confirmed imported by k3s`);
  if (evidence.totals.total !== catalogueSize) gaps.push(`${evidence.totals.total} scenario(s) reported, the catalogue has ${catalogueSize}`);
  if (evidence.totals.checked === 0) gaps.push("no probe ran");
  const reached = evidence.scenarios.filter((s) => s.observed?.upstreamReached).length;
  if (reached) facts.push(`the in-cluster echo backend answered ${reached} probe(s)`);
  else gaps.push("no probe reached the in-cluster echo backend");
  const failed = evidence.scenarios.filter((s) => s.verdict === "fail");
  // A first run (no accepted baseline): a failure is an expectation to confirm or correct, not a gap.
  if (!options.firstRun) for (const s of failed) gaps.push(`${s.id} failed: ${s.mismatches.join("; ")}`);
  else if (failed.length) facts.push(`first run: ${failed.length} check(s) failed, each reported with the model's expectation and its sources to confirm or correct`);
  facts.push(`${evidence.scenarios.length - failed.length} of ${evidence.scenarios.length} scenario(s) passed or observed their finding`);
  return { proven: gaps.length === 0, facts, gaps, toConfirm: disputedExpectations(evidence, options.sources) };
}

async function main(): Promise<number> {
  let args: { values: { "controller-version"?: string; "report-dir"?: string; "first-run"?: boolean; accept?: string } };
  try {
    args = parseArgs({ options: { "controller-version": { type: "string" }, "report-dir": { type: "string" }, "first-run": { type: "boolean" }, accept: { type: "string" } }, strict: true });
  } catch (error) {
    process.stderr.write(`prove:k3s: ${(error as Error).message}\nusage: npm run prove:k3s [-- --controller-version v1.15.1[,v1.14.5]] [--report-dir DIR] [--first-run] | -- --accept DIR/evidence.json\n`);
    return 2;
  }
  if (args.values.accept) return acceptBaseline(args.values.accept);
  const baselines = readBaselines();
  const { DEFAULT_CONTROLLER_VERSION } = await import("../targets/controller-manifest.ts");
  const versions = (args.values["controller-version"] ?? DEFAULT_CONTROLLER_VERSION).split(",").map((v) => v.trim()).filter(Boolean);
  const reportDir = resolve(args.values["report-dir"] ?? join(ROOT, "reports", "k3s-proof"));
  const bin = join(ROOT, "bin", "mtls-conformance.ts");
  const say = (line: string) => process.stdout.write(`prove:k3s: ${line}\n`);

  // 1. The images, onto the host's Docker (they are preloaded into k3s from there).
  const images = new Set<string>();
  for (const version of versions) {
    const listed = spawnSync(process.execPath, [bin, "images", "--controller-version", version], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (listed.status !== 0) return (say(`could not list the images of ${version}`), listed.status === 2 ? 2 : 1);
    for (const ref of listed.stdout.split("\n").filter(Boolean)) images.add(ref);
  }
  for (const ref of images) {
    if (spawnSync("docker", ["image", "inspect", ref], { stdio: "ignore" }).status === 0) continue;
    say(`docker pull ${ref}`);
    if (spawnSync("docker", ["pull", "--quiet", ref], { stdio: "inherit" }).status !== 0) return (say(`could not pull ${ref}: this proof needs a Docker that can pull`), 1);
  }

  // 2. The run, as users run it.
  const run = ["run", "--target", "k3s", "--preload-images", "--controller-version", versions.join(","), "--report-dir", reportDir];
  say(`mtls-conformance ${run.join(" ")}`);
  const started = Date.now();
  const status = spawnSync(process.execPath, [bin, ...run], { stdio: "inherit" }).status;
  say(`the run ended with exit ${status} after ${Math.round((Date.now() - started) / 1000)} s`);

  // 3. What the evidence proves.
  const { catalogue } = await import("../../fixtures/catalogue.ts");
  const sources = await catalogueSources();
  let proven = true;
  for (const version of versions) {
    const file = join(reportDir, ...(versions.length > 1 ? [version] : []), "evidence.json");
    if (!existsSync(file)) {
      say(`${version}: NOT PROVEN: no evidence at ${file}`);
      proven = false;
      continue;
    }
    const firstRun = !!args.values["first-run"] || !baselines[version];
    const verdict = judgeProof(JSON.parse(readFileSync(file, "utf8")) as ProofEvidence, catalogueSize(catalogue), { firstRun, sources });
    say(`${version}: ${verdict.proven ? "PROVEN" : "NOT PROVEN"}${firstRun ? ` (first run: ${baselines[version] ? "--first-run" : "no accepted baseline in helpers/run/k3s-baseline.json"})` : ""} (${file})`);
    for (const f of verdict.facts) say(`  ${f}`);
    for (const g of verdict.gaps) say(`  missing: ${g}`);
    if (verdict.toConfirm.length) {
      const base = join(dirname(file), "expectations-to-confirm");
      writeFileSync(`${base}.json`, JSON.stringify(verdict.toConfirm, null, 2) + "\n");
      writeFileSync(`${base}.md`, renderDisputed(version, verdict.toConfirm));
      say(`  ${verdict.toConfirm.length} expectation(s) to confirm or correct, each with its sources: ${base}.md`);
    }
    if (firstRun && verdict.proven) say(`  after review: npm run prove:k3s -- --accept ${file}  (records it as ${version}'s baseline; later runs then fail on any failed check)`);
    proven &&= verdict.proven;
  }
  return proven ? 0 : 1;
}

const catalogueSize = (c: { scenarios: unknown[] }) => c.scenarios.length;

/** --accept FILE: the reviewed run becomes its release's baseline (the SHA-256 of its evidence). */
function acceptBaseline(file: string): number {
  if (!existsSync(file)) return (process.stderr.write(`prove:k3s: --accept ${file}: no such file\n`), 2);
  const text = readFileSync(file, "utf8");
  const evidence = JSON.parse(text) as ProofEvidence & { run?: { id?: string }; target: { versions?: Record<string, string> } };
  const version = /v\d+\.\d+\.\d+/.exec(evidence.target.versions?.controller ?? "")?.[0];
  if (evidence.target.kind !== "k3s" || !version) return (process.stderr.write(`prove:k3s: --accept ${file}: not the evidence of a k3s run of an ingress-nginx release\n`), 2);
  const baselines = readBaselines();
  baselines[version] = { evidenceSha256: createHash("sha256").update(text).digest("hex"), acceptedAt: new Date().toISOString(), ...(evidence.run?.id ? { runId: evidence.run.id } : {}) };
  writeFileSync(BASELINE_FILE, JSON.stringify(baselines, null, 2) + "\n");
  process.stdout.write(`prove:k3s: ${version}'s baseline is now ${file} (sha256 ${baselines[version]!.evidenceSha256}); commit ${BASELINE_FILE}\n`);
  return 0;
}

if (import.meta.main) process.exitCode = await main();
