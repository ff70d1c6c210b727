// npm run prove:k3s [-- --controller-version v1.15.1,v1.14.5] [--report-dir DIR]
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
// Exit 0 when every release is proven, 1 when not (with what is missing), 2 on bad arguments.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
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
  scenarios: Array<{ id: string; verdict: string; mismatches: string[]; observed?: { upstreamReached?: boolean } }>;
  totals: { total: number; fail: number; checked: number };
}

/** What a k3s run's evidence proves about the path, and what it does not. */
export function judgeProof(evidence: ProofEvidence, catalogueSize: number): { proven: boolean; facts: string[]; gaps: string[] } {
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
  for (const s of failed) gaps.push(`${s.id} failed: ${s.mismatches.join("; ")}`);
  facts.push(`${evidence.scenarios.length - failed.length} of ${evidence.scenarios.length} scenario(s) passed or observed their finding`);
  return { proven: gaps.length === 0, facts, gaps };
}

async function main(): Promise<number> {
  let args: { values: { "controller-version"?: string; "report-dir"?: string } };
  try {
    args = parseArgs({ options: { "controller-version": { type: "string" }, "report-dir": { type: "string" } }, strict: true });
  } catch (error) {
    process.stderr.write(`prove:k3s: ${(error as Error).message}\nusage: npm run prove:k3s [-- --controller-version v1.15.1[,v1.14.5]] [--report-dir DIR]\n`);
    return 2;
  }
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
  let proven = true;
  for (const version of versions) {
    const file = join(reportDir, ...(versions.length > 1 ? [version] : []), "evidence.json");
    if (!existsSync(file)) {
      say(`${version}: NOT PROVEN: no evidence at ${file}`);
      proven = false;
      continue;
    }
    const verdict = judgeProof(JSON.parse(readFileSync(file, "utf8")) as ProofEvidence, catalogue.scenarios.length);
    say(`${version}: ${verdict.proven ? "PROVEN" : "NOT PROVEN"} (${file})`);
    for (const f of verdict.facts) say(`  ${f}`);
    for (const g of verdict.gaps) say(`  missing: ${g}`);
    proven &&= verdict.proven;
  }
  return proven ? 0 : 1;
}

if (import.meta.main) process.exitCode = await main();
