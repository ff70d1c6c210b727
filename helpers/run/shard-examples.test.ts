// The sharding examples users copy (fixtures/examples/sharding/): the Kubernetes objects are valid
// for the API, the pods' own shell turns JOB_COMPLETION_INDEX into every `--shard I/N` once, the
// GitHub Actions matrix does the same, and both hand merge exactly the directories the shards wrote.
// The scripts run as written under /bin/sh with a stand-in `npx` that records its arguments.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { Job } from "kubernetes-models/batch/v1";
import { PersistentVolumeClaim, ServiceAccount } from "kubernetes-models/v1";
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { parseShard } from "./shard.ts";

const EXAMPLES = new URL("../../fixtures/examples/sharding", import.meta.url).pathname;
const BIN = new URL("../../bin/mtls-conformance.ts", import.meta.url).pathname;
const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  "batch/v1/Job": Job,
  "v1/ServiceAccount": ServiceAccount,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
};

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown> };
type Container = { name: string; command: string[]; args: string[]; env: Array<{ name: string; value: string }> };

function objects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(join(EXAMPLES, file), "utf8")).map((d) => {
    expect(d.errors, file).toEqual([]);
    return d.toJS() as K8sObject;
  });
}

const containerOf = (job: K8sObject): Container => ((job.spec!.template as { spec: { containers: Container[] } }).spec.containers[0]!);
const envOf = (c: Container) => Object.fromEntries(c.env.map((e) => [e.name, e.value]));

let dir: string;
let fakeBin: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "shard-examples-"));
  fakeBin = join(dir, "bin");
  mkdirSync(fakeBin);
  // Records its arguments, one a line, and exits as told: the pods' scripts run as written around it.
  writeFileSync(join(fakeBin, "npx"), '#!/bin/sh\nprintf "%s\\n" "$@" > "$FAKE_ARGS"\nexit "${FAKE_CODE:-0}"\n');
  chmodSync(join(fakeBin, "npx"), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a script as the container would (`/bin/sh -c`), with the stand-in npx first on PATH. */
function runScript(script: string, env: Record<string, string>, code: number): { code: number | null; args: string[] } {
  const argsFile = join(dir, "args.txt");
  rmSync(argsFile, { force: true });
  const r = spawnSync("/bin/sh", ["-c", script], { env: { PATH: `${fakeBin}:/usr/bin:/bin`, FAKE_ARGS: argsFile, FAKE_CODE: String(code), ...env }, encoding: "utf8" });
  return { code: r.status, args: existsSync(argsFile) ? readFileSync(argsFile, "utf8").trimEnd().split("\n") : [] };
}

const flag = (args: string[], name: string) => args[args.indexOf(name) + 1]!;

function cli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, KUBECONFIG: join(dir, "no-kubeconfig") }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("the Kubernetes Indexed Job (audit-indexed-job.yaml, merge-job.yaml)", () => {
  it("every object is valid for the Kubernetes API (kubernetes-models)", () => {
    const all = [...objects("audit-indexed-job.yaml"), ...objects("merge-job.yaml")];
    expect(all.map((o) => o.kind)).toEqual(expect.arrayContaining(["Job", "ServiceAccount", "PersistentVolumeClaim", "ClusterRole"]));
    for (const o of all) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion} ${o.kind}`).toBeDefined();
      expect(() => new Model!(o as never).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
    }
    // The validator is not a formality: a Job the API would refuse is refused here too.
    const job = structuredClone(all.find((o) => o.kind === "Job")!);
    job.spec!.completions = "4";
    expect(() => new Job(job as never).validate()).toThrow(/completions must be integer/);
  });

  it("each completion index runs one shard: JOB_COMPLETION_INDEX 0..N-1 gives --shard 1/N..N/N, each once, to its own report directory", () => {
    const job = objects("audit-indexed-job.yaml").find((o) => o.kind === "Job")!;
    expect(job.spec!.completionMode).toBe("Indexed");
    const n = job.spec!.completions as number;
    expect(job.spec!.parallelism).toBe(n);
    const c = containerOf(job);
    expect(c.command).toEqual(["/bin/sh", "-c"]);
    const reports = join(dir, "reports");
    const seen: string[] = [];
    const dirs: string[] = [];
    for (let index = 0; index < n; index++) {
      const r = runScript(c.args[0]!, { ...envOf(c), REPORTS: reports, JOB_COMPLETION_INDEX: String(index) }, 0);
      expect(r.code).toBe(0);
      expect(r.args.slice(0, 2)).toEqual(["mtls-conformance", "run"]);
      const shard = parseShard(flag(r.args, "--shard"));
      expect(shard).toEqual({ index: index + 1, count: n });
      seen.push(`${shard.index}/${shard.count}`);
      const reportDir = flag(r.args, "--report-dir");
      expect(reportDir.startsWith(`${reports}/`)).toBe(true);
      dirs.push(reportDir);
    }
    expect(new Set(seen).size).toBe(n);
    expect(new Set(dirs).size).toBe(n);
  });

  it("a failing check (1) leaves the index done for merge to judge; 2 and 3 are the pod's exit code; a retried index starts clean", () => {
    const c = containerOf(objects("audit-indexed-job.yaml").find((o) => o.kind === "Job")!);
    const reports = join(dir, "retry");
    const env = { ...envOf(c), REPORTS: reports, JOB_COMPLETION_INDEX: "2" };
    const first = runScript(c.args[0]!, env, 3);
    expect(first.code).toBe(3);
    const stale = join(flag(first.args, "--report-dir"), "stale.txt");
    mkdirSync(join(stale, ".."), { recursive: true });
    writeFileSync(stale, "from the attempt that failed");
    expect(runScript(c.args[0]!, env, 1).code).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(runScript(c.args[0]!, env, 2).code).toBe(2);
    expect(runScript(c.args[0]!, env, 0).code).toBe(0);
    // Exit 2 fails the whole Job at once (nothing will change on a retry).
    const policy = objects("audit-indexed-job.yaml").find((o) => o.kind === "Job")!.spec!.podFailurePolicy as { rules: Array<{ action: string; onExitCodes?: { values: number[] } }> };
    expect(policy.rules.find((r) => r.onExitCodes?.values.includes(2))?.action).toBe("FailJob");
  });

  it("the merge Job is handed exactly the directories the shards wrote", () => {
    const c = containerOf(objects("audit-indexed-job.yaml").find((o) => o.kind === "Job")!);
    const job = objects("audit-indexed-job.yaml").find((o) => o.kind === "Job")!;
    const reports = join(dir, "merge-input");
    const written: string[] = [];
    for (let index = 0; index < (job.spec!.completions as number); index++) {
      const d = flag(runScript(c.args[0]!, { ...envOf(c), REPORTS: reports, JOB_COMPLETION_INDEX: String(index) }, 0).args, "--report-dir");
      mkdirSync(d, { recursive: true });
      written.push(d);
    }
    const merge = containerOf(objects("merge-job.yaml")[0]!);
    const r = runScript(merge.args[0]!, { ...envOf(merge), REPORTS: reports }, 0);
    expect(r.args.slice(0, 2)).toEqual(["mtls-conformance", "merge"]);
    const dirs = r.args.slice(2, r.args.indexOf("--report-dir"));
    expect([...dirs].sort()).toEqual([...written].sort());
    expect(flag(r.args, "--report-dir").startsWith(`${reports}/`)).toBe(true);
  });

  it("the commands the pods run are ones the CLI accepts (exit 2 here only for what this machine lacks)", async () => {
    const c = containerOf(objects("audit-indexed-job.yaml").find((o) => o.kind === "Job")!);
    const run = runScript(c.args[0]!, { ...envOf(c), REPORTS: join(dir, "cli"), JOB_COMPLETION_INDEX: "0" }, 0).args.slice(1);
    const r = await cli(run);
    expect(r.code).toBe(2);
    // What stops it is the missing cluster, not the command line.
    expect(r.stderr).toMatch(/^mtls-conformance: cannot use the kubeconfig/);
    const merge = containerOf(objects("merge-job.yaml")[0]!);
    const m = runScript(merge.args[0]!, { ...envOf(merge), REPORTS: join(dir, "cli") }, 0).args.slice(1);
    const rm = await cli(m);
    expect(rm.code).toBe(2);
    expect(rm.stderr).toMatch(/^mtls-conformance: merge refused: /);
  });
});

describe("the GitHub Actions workflow (github-actions.yaml)", () => {
  const workflow = () =>
    parse(readFileSync(join(EXAMPLES, "github-actions.yaml"), "utf8")) as {
      jobs: Record<string, { needs?: string; if?: string; strategy?: { matrix: { shard: number[] } }; steps: Array<{ name?: string; run?: string; uses?: string; with?: Record<string, string> }> }>;
    };

  it("the matrix runs every --shard I/N once; a failing check does not stop the matrix, a broken shard does", () => {
    const { jobs } = workflow();
    const matrix = jobs.shard!.strategy!.matrix.shard;
    const step = jobs.shard!.steps.find((s) => s.run?.includes("--shard"))!;
    const seen = new Set<string>();
    for (const value of matrix) {
      const script = step.run!.replaceAll("${{ matrix.shard }}", String(value));
      const r = runScript(script, {}, 0);
      const shard = parseShard(flag(r.args, "--shard"));
      expect(shard).toEqual({ index: value, count: matrix.length });
      seen.add(`${shard.index}/${shard.count}`);
    }
    expect(seen.size).toBe(matrix.length);
    const one = step.run!.replaceAll("${{ matrix.shard }}", "1");
    expect(runScript(one, {}, 1).code).toBe(0);
    expect(runScript(one, {}, 3).code).toBe(3);
    expect(runScript(one, {}, 2).code).toBe(2);
  });

  it("the merge job waits for every shard and merges the artifacts they uploaded", () => {
    const { jobs } = workflow();
    expect(jobs.merge!.needs).toBe("shard");
    expect(jobs.merge!.if).toBe("always()");
    const upload = jobs.shard!.steps.find((s) => s.uses?.startsWith("actions/upload-artifact"))!;
    const download = jobs.merge!.steps.find((s) => s.uses?.startsWith("actions/download-artifact"))!;
    const merge = jobs.merge!.steps.find((s) => s.run?.includes("mtls-conformance merge"))!;
    // download-artifact puts each artifact under <path>/<artifact name>/: the merge glob must find them all.
    const names = jobs.shard!.strategy!.matrix.shard.map((v) => upload.with!.name!.replaceAll("${{ matrix.shard }}", String(v)));
    const root = join(dir, "actions");
    for (const name of names) mkdirSync(join(root, download.with!.path!, name), { recursive: true });
    const r = spawnSync("/bin/sh", ["-c", `cd '${root}' && ${merge.run!.replace("npx mtls-conformance merge", "printf '%s\\n'").replace(/--report-dir.*/, "")}`], { encoding: "utf8" });
    expect(r.stdout.trim().split("\n").sort()).toEqual(names.map((n) => `${download.with!.path}/${n}`).sort());
    // The shard step writes the directory it uploads.
    const step = jobs.shard!.steps.find((s) => s.run?.includes("--shard"))!;
    expect(flag(runScript(step.run!.replaceAll("${{ matrix.shard }}", "2"), {}, 0).args, "--report-dir")).toBe(upload.with!.path!.replaceAll("${{ matrix.shard }}", "2"));
  });
});
