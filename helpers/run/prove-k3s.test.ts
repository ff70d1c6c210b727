// What a k3s run's evidence must show to prove the path, judged on real evidence: a run of the
// nginx target (not k3s, so not proof), and the same evidence with the target a k3s run records.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { catalogueSources, judgeProof, readBaselines, renderDisputed, type ProofEvidence } from "./prove-k3s.ts";
import { nightlyBudgetMinutes } from "./nightly-budget.ts";
import { completeImageSet } from "../targets/image-preload.ts";
import { runConformance } from "./run.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

let nginxEvidence: ProofEvidence;
beforeAll(async () => {
  const reportDir = tempDir("prove-");
  const outcome = await runConformance({ target: "nginx", reportDir, only: "guide,MTLS-HEADERS-001", command: "test", log: () => undefined });
  nginxEvidence = JSON.parse(readFileSync(outcome.evidencePath, "utf8")) as ProofEvidence;
});

const asK3s = (e: ProofEvidence): ProofEvidence => ({
  ...e,
  target: {
    kind: "k3s",
    versions: { kubernetes: "v1.35.0+k3s1", controller: "v1.15.1" },
    controllerImages: [{ image: "registry.k8s.io/ingress-nginx/controller:v1.15.1", imageID: `registry.k8s.io/ingress-nginx/controller@sha256:${"c".repeat(64)}` }],
    controllerManifest: { sha256: "d".repeat(64) },
    preloadedImages: [{ ref: "registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:" + "e".repeat(64), k3s: "imported" }],
    kubernetesSupport: { inRange: true, kubernetes: "1.35", supported: ["1.35", "1.34"] },
  },
});

describe("judgeProof", () => {
  it("a run of the nginx target proves nothing about the k3s path", () => {
    const v = judgeProof(nginxEvidence, 3);
    expect(v.proven).toBe(false);
    expect(v.gaps).toContain("the run's target was nginx, not k3s");
  });

  it("a k3s run with every scenario passing, the echo reached, versions and digests on record: proven", () => {
    const v = judgeProof(asK3s(nginxEvidence), 3);
    expect(v.gaps).toEqual([]);
    expect(v.proven).toBe(true);
    expect(v.facts).toContain("the in-cluster echo backend answered 2 probe(s)");
    expect(v.facts).toContain("1 image(s) preloaded and confirmed imported by k3s");
  });

  it("a failed scenario, a target that did not come up, a Kubernetes outside the release's range: each named", () => {
    const e = asK3s(nginxEvidence);
    e.scenarios = e.scenarios.map((s, i) => (i === 0 ? { ...s, verdict: "fail", mismatches: ["status: expected 400, observed 200"] } : s));
    e.target.deployError = "timed out waiting for the ingress-nginx controller pod to be Ready";
    e.target.kubernetesSupport = { inRange: false, kubernetes: "1.35", supported: ["1.33", "1.32"] };
    const v = judgeProof(e, 3);
    expect(v.proven).toBe(false);
    expect(v.gaps).toEqual([
      "the target did not come up: timed out waiting for the ingress-nginx controller pod to be Ready",
      "Kubernetes 1.35 is outside the release's supported 1.33, 1.32",
      `${e.scenarios[0]!.id} failed: status: expected 400, observed 200`,
    ]);
  });
});

describe("a first run: failures as expectations to confirm or correct", () => {
  it("without an accepted baseline a failed check is not a gap: it is reported with the model's expectation, its controller sources and the observation", async () => {
    const e = asK3s(nginxEvidence);
    e.scenarios = e.scenarios.map((s) => (s.id === "MTLS-GUIDE-001" ? { ...s, verdict: "fail", observed: { status: 200, upstreamReached: true }, mismatches: ["status: expected 400, observed 200"] } : s));
    const first = judgeProof(e, 3, { firstRun: true, sources: await catalogueSources() });
    expect(first.proven).toBe(true);
    expect(first.gaps).toEqual([]);
    expect(first.facts).toContain("first run: 1 check(s) failed, each reported with the model's expectation and its sources to confirm or correct");
    const [d] = first.toConfirm;
    expect(d).toMatchObject({ id: "MTLS-GUIDE-001", expected: { status: 400, upstream: "not-reached" }, observed: { status: 200 }, mismatches: ["status: expected 400, observed 200"] });
    // The catalogue's basis: the controller source lines the expectation rests on.
    expect(d!.sources.length).toBeGreaterThan(0);
    for (const src of d!.sources) expect(src).toMatch(/ingress-nginx/);
    expect(d!.sources.join("\n")).toMatch(/nginx\.tmpl:\d+/);
    const md = renderDisputed("v1.15.1", first.toConfirm);
    expect(md).toContain("## MTLS-GUIDE-001");
    expect(md).toContain(`- source: ${d!.sources[0]}`);
    // Once a baseline is accepted, the same run is not proven.
    const later = judgeProof(e, 3);
    expect(later.proven).toBe(false);
    expect(later.gaps).toEqual(["MTLS-GUIDE-001 failed: status: expected 400, observed 200"]);
  });

  it("the baseline file, when there is one, names releases with the SHA-256 of an accepted evidence.json", () => {
    const baselines = readBaselines();
    for (const [version, b] of Object.entries(baselines)) {
      expect(version).toMatch(/^v\d+\.\d+\.\d+$/);
      expect(b.evidenceSha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(readBaselines(join(tempDir("no-baseline-"), "k3s-baseline.json"))).toEqual({});
  });
});

describe("the nightly workflow", () => {
  it("proves the k3s path with exactly the maintainer's command; otherwise the catalogue runs only through the action, on this commit's package", () => {
    const root = join(import.meta.dirname, "..", "..");
    const workflow = parse(readFileSync(join(root, ".github", "workflows", "nightly.yml"), "utf8")) as { jobs: Record<string, { steps: Array<{ run?: string; uses?: string; with?: Record<string, string> }> }> };
    const actionSteps = Object.values(workflow.jobs).flatMap((j) => j.steps.filter((s) => s.uses === "./"));
    expect(actionSteps.length).toBeGreaterThan(0);
    for (const s of actionSteps) expect(s.with?.package).toMatch(/^\.\/reports\/package\/mtls-conformance-[\d.]+\.tgz$/);
    const runs = Object.values(workflow.jobs).flatMap((j) => j.steps.map((s) => s.run ?? ""));
    expect(runs.filter((r) => r.includes("prove:k3s"))).toEqual([expect.stringMatching(/^npm run prove:k3s -- /)]);
    expect(runs.filter((r) => /conformance -- run\b/.test(r))).toEqual([]);
    expect(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts["prove:k3s"]).toBe("node helpers/run/prove-k3s.ts");
  });

  it("budgets the job's time from the releases asked, and stores the image cache only from a complete set", () => {
    const root = join(import.meta.dirname, "..", "..");
    const workflow = parse(readFileSync(join(root, ".github", "workflows", "nightly.yml"), "utf8")) as { jobs: Record<string, { needs?: string; "timeout-minutes"?: string | number; steps: Array<{ id?: string; name?: string; run?: string; if?: string }> }> };
    const plan = workflow.jobs.plan!;
    expect(plan.steps.find((s) => s.id === "budget")?.run).toMatch(/^node helpers\/run\/nightly-budget\.ts "\$\{\{ github\.event\.inputs\.controller-versions \|\| 'v1\.15\.1' \}\}" >> "\$GITHUB_OUTPUT"$/);
    expect(workflow.jobs.conformance).toMatchObject({ needs: "plan", "timeout-minutes": "${{ fromJSON(needs.plan.outputs.minutes) }}" });
    const steps = workflow.jobs.conformance!.steps;
    expect(steps.find((s) => s.id === "save")?.run).toContain("node helpers/targets/image-preload.ts save");
    expect(steps.find((s) => s.name === "Store the image cache")?.if).toContain("steps.save.outcome == 'success'");
    // The budget: setup plus each release's run, within GitHub's limit.
    expect(nightlyBudgetMinutes("v1.15.1")).toBe(35);
    expect(nightlyBudgetMinutes("v1.13.9, v1.14.5,v1.15.1")).toBe(75);
    expect(nightlyBudgetMinutes("")).toBe(35);
    expect(nightlyBudgetMinutes(Array.from({ length: 40 }, (_, i) => `v1.${i}.0`).join(","))).toBe(360);
    const printed = execFileSync(process.execPath, [join(root, "helpers", "run", "nightly-budget.ts"), "v1.13.9,v1.15.1"], { encoding: "utf8" });
    expect(printed).toBe("minutes=55\n");
    // The save command's verdict on a set: complete only when nothing is missing or skipped.
    expect(completeImageSet({ missing: [], skipped: [] })).toBe(true);
    expect(completeImageSet({ missing: ["rancher/mirrored-pause:3.6"], skipped: [] })).toBe(false);
    expect(completeImageSet({ missing: [], skipped: [{ ref: "x", reason: "other digest" }] })).toBe(false);
  });

  it("logs in to Docker Hub when the repository has a token, and says the pulls are anonymous when not", () => {
    const root = join(import.meta.dirname, "..", "..");
    const job = (parse(readFileSync(join(root, ".github", "workflows", "nightly.yml"), "utf8")) as { jobs: Record<string, { env?: Record<string, string>; steps: Array<{ name?: string; if?: string; uses?: string; run?: string; with?: Record<string, string> }> }> }).jobs.conformance!;
    expect(job.env?.DOCKERHUB_USERNAME).toBe("${{ secrets.DOCKERHUB_USERNAME }}");
    const login = job.steps.find((s) => s.uses?.startsWith("docker/login-action@"))!;
    expect(login.if).toBe("env.DOCKERHUB_USERNAME != ''");
    expect(login.with).toEqual({ username: "${{ secrets.DOCKERHUB_USERNAME }}", password: "${{ secrets.DOCKERHUB_TOKEN }}" });
    const anonymous = job.steps.find((s) => s.if === "env.DOCKERHUB_USERNAME == ''")!;
    expect(anonymous.run).toContain("::notice::");
    // Before anything is pulled.
    expect(job.steps.indexOf(login)).toBeLessThan(job.steps.findIndex((s) => s.run?.includes("prove:k3s")));
  });
});
