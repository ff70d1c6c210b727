// The tool as a CI job meets it: the tarball `npm pack` makes, installed into an empty folder with
// the machine's own npm and Node 20 (not the repository's Node 24), runs the catalogue and the
// example Ingresses from there and writes signed reports; then the action's run step, run with the
// environment a GitHub runner sets, writes the job summary and the outputs. action.yml is checked
// against the required fields of GitHub's action metadata syntax.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDirs } from "../helpers/testing/temp-dirs.ts";

const tempDir = tempDirs();
const REPO = join(import.meta.dirname, "..");
const SYSTEM_NODE = "/usr/bin/node";
const SYSTEM_NPM = "/usr/bin/npm";
// The machine's Node first on PATH, as a runner's setup-node would put it (and /usr/sbin for nginx).
const ENV = { ...process.env, PATH: "/usr/bin:/bin:/usr/sbin:/sbin" };
const haveSystemNode = existsSync(SYSTEM_NODE) && existsSync(SYSTEM_NPM) && Number(execFileSync(SYSTEM_NODE, ["-p", "process.versions.node.split('.')[0]"], { encoding: "utf8" })) < 22;

let job: string;
let bin: string;

beforeAll(() => {
  if (!haveSystemNode) return;
  const out = tempDir("package-");
  const tarball = execFileSync(process.execPath, [join(REPO, "scripts", "build-package.ts"), "--out-dir", join(out, "dist"), "--pack", out], { encoding: "utf8", cwd: REPO }).trim().split("\n").pop()!;
  job = tempDir("ci-job-");
  writeFileSync(join(job, "package.json"), JSON.stringify({ name: "ci-job", private: true }));
  // The npm cache npm ci filled holds every dependency: no network needed.
  execFileSync(SYSTEM_NPM, ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: job, env: ENV, stdio: "pipe" });
  bin = join(job, "node_modules", ".bin", "mtls-conformance");
}, 300_000);

const run = (args: string[]) => spawnSync(bin, args, { cwd: job, env: ENV, encoding: "utf8", timeout: 240_000 });

describe.skipIf(!haveSystemNode)("the npm package, installed with the machine's Node 20", () => {
  it("holds the compiled entry and what a run reads, no TypeScript source and no test", () => {
    const pkg = join(job, "node_modules", "mtls-conformance");
    const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
    expect(manifest.bin).toEqual({ "mtls-conformance": "bin/mtls-conformance.js" });
    expect(manifest.engines.node).toBe(">=20");
    expect(manifest.devDependencies).toBeUndefined();
    const files = readdirSync(pkg, { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith(".test.js") || (f.endsWith(".ts") && f !== join("fixtures", "echo-server.ts")))).toEqual([]);
    for (const asset of ["helpers/controllers/traefik/data-plane/main.go", "helpers/controllers/haproxy-ingress/observed.json", "fixtures/examples/shop/shop.yaml", "suites/run-suites.js"]) expect(existsSync(join(pkg, asset)), asset).toBe(true);
    // Node 20 starts the entry point, which hands the run to the Node 24 the package brings.
    expect(execFileSync(SYSTEM_NODE, ["--version"], { encoding: "utf8" })).toMatch(/^v20\./);
    expect(existsSync(join(job, "node_modules", `node-${process.platform}-${process.arch}`, "bin", "node"))).toBe(true);
  });

  it("runs the catalogue on the nginx target from the empty folder: exit 0, signed reports, nothing read from the repository", () => {
    const r = run(["run", "--target", "nginx"]);
    expect(r.status, r.stderr + r.stdout.slice(-2000)).toBe(0);
    const reports = join(job, "reports");
    const [dir] = readdirSync(reports);
    const evidencePath = join(reports, dir!, "evidence.json");
    const evidence = readFileSync(evidencePath, "utf8");
    expect(JSON.parse(evidence).totals).toMatchObject({ fail: 0, checked: 105 });
    expect(evidence).not.toContain(REPO);
    const verify = run(["verify", join(reports, dir!)]);
    expect(verify.status, verify.stderr).toBe(0);
  });

  it("runs --manifests on the example it ships: exit 0", () => {
    const r = run(["run", "--target", "nginx", "--manifests", "node_modules/mtls-conformance/fixtures/examples/shop", "--report-dir", "reports/shop"]);
    expect(r.status, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(JSON.parse(readFileSync(join(job, "reports", "shop", "evidence.json"), "utf8")).subject.origin).toBe("manifests");
  });
});

describe.skipIf(!haveSystemNode)("the GitHub Action's run step, with a runner's environment", () => {
  it("writes the job summary and the outputs from the run; a failing run's exit code is an output, the step itself succeeds", () => {
    const summary = join(tempDir("runner-"), "summary.md");
    const output = join(tempDir("runner-"), "output");
    writeFileSync(summary, "");
    writeFileSync(output, "");
    const step = (inputs: Record<string, string>) =>
      spawnSync("bash", [join(REPO, "action", "run.sh")], { cwd: job, encoding: "utf8", timeout: 240_000, env: { ...ENV, GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: output, MTLS_CONFORMANCE_BIN: bin, ...inputs } });
    const ok = step({ INPUT_TARGET: "nginx", INPUT_ONLY: "MTLS-CLIENT-00[1-3]", INPUT_REPORT_DIR: "action-report" });
    expect(ok.status, ok.stderr).toBe(0);
    const outputs = Object.fromEntries(readFileSync(output, "utf8").trim().split("\n").map((l) => l.split("=", 2) as [string, string]));
    expect(outputs).toEqual({ "exit-code": "0", "report-dir": "action-report", verdict: "pass", passed: "3", failed: "0", findings: "0", "guarantees-lost": "0", checked: "3" });
    // The job summary is the run's summary.md, once.
    expect(readFileSync(summary, "utf8")).toBe(`${readFileSync(join(job, "action-report", "summary.md"), "utf8")}\n`);

    // --only matching nothing that runs: the run exits 1, which the step records and does not raise.
    writeFileSync(output, "");
    const none = step({ INPUT_TARGET: "nginx", INPUT_ONLY: "MTLS-GUIDELINT-001", INPUT_REPORT_DIR: "action-report-2" });
    expect(none.status).toBe(0);
    expect(readFileSync(output, "utf8")).toMatch(/^exit-code=1$/m);
    expect(readFileSync(output, "utf8")).toMatch(/^verdict=nothing-checked$/m);
  });
});

// GitHub's action metadata syntax (docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax):
// name, description and runs are required; a composite action's runs.steps each run a command with
// a shell, or use an action; an input needs a description; a composite action's output a value.
const ACTION_METADATA = {
  type: "object",
  required: ["name", "description", "runs"],
  properties: {
    name: { type: "string", minLength: 1 },
    description: { type: "string", minLength: 1 },
    inputs: { type: "object", additionalProperties: { type: "object", required: ["description"], properties: { description: { type: "string" }, required: { type: "boolean" }, default: { type: "string" } } } },
    outputs: { type: "object", additionalProperties: { type: "object", required: ["description", "value"] } },
    runs: {
      type: "object",
      required: ["using", "steps"],
      properties: {
        using: { const: "composite" },
        steps: { type: "array", minItems: 1, items: { type: "object", oneOf: [{ required: ["run", "shell"] }, { required: ["uses"] }] } },
      },
    },
  },
};

describe("the GitHub Action's install step", () => {
  it.skipIf(!existsSync("/usr/sbin/nginx"))("finds the nginx target's tools present and installs nothing", () => {
    const r = spawnSync("bash", [join(REPO, "action", "install-tools.sh")], { encoding: "utf8", env: { ...ENV, INPUT_TARGET: "nginx", INPUT_CONTROLLER: "ingress-nginx" } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("mtls-conformance: the tools for --target nginx are there");
  });
});

describe("action.yml", () => {
  const action = parseYaml(readFileSync(join(REPO, "action.yml"), "utf8")) as { inputs: Record<string, unknown>; outputs: Record<string, { value: string }>; runs: { steps: Array<{ run?: string; id?: string }> } };

  it("has what GitHub's action metadata syntax requires of a composite action", () => {
    const validate = new Ajv({ allErrors: true }).compile(ACTION_METADATA);
    expect(validate(action), JSON.stringify(validate.errors)).toBe(true);
  });

  it("takes the inputs a run takes, and every output it declares is one the run step writes", () => {
    expect(Object.keys(action.inputs)).toEqual(expect.arrayContaining(["target", "manifests", "controller", "kubeconfig", "only", "strict"]));
    const script = readFileSync(join(REPO, "action", "run.sh"), "utf8") + readFileSync(join(REPO, "action", "outputs.mjs"), "utf8");
    for (const [name, o] of Object.entries(action.outputs)) {
      expect(o.value).toBe(`\${{ steps.run.outputs.${name} }}`);
      expect(script, name).toMatch(new RegExp(`["\\s{]${name.replace("-", "\\-")}[=:"]|"${name}"`));
    }
    for (const step of action.runs.steps.filter((s) => s.run?.includes("GITHUB_ACTION_PATH"))) {
      const file = /action\/[\w-]+\.sh/.exec(step.run!)![0];
      expect(existsSync(join(REPO, file)), file).toBe(true);
    }
  });
});
