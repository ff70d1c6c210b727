// One conformance run: catalogue -> PKI -> manifests -> target -> suites (probe + verdict) -> reports.
// The CLI and the project's own tests both call runConformance().
import { createHash, randomUUID } from "node:crypto";
import { appendFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { catalogue as defaultCatalogue } from "../../fixtures/catalogue.ts";
import { controlCoverage, selectScenarios, validateCatalogue, type Catalogue, type Policy, type Scenario } from "../catalogue/catalogue.ts";
import { checkSigningKey, ENVELOPE_FILE, MANIFEST_FILE, PUBLIC_KEY_FILE, signReportDir } from "../reports/attestation.ts";
import { onCleanup } from "../support/cleanup.ts";
import { startControlServer } from "./control-server.ts";
import { lintObjects } from "../checks/lint.ts";
import { guideAsWritten } from "../../fixtures/guide-as-written.ts";
import { manifestsAtStage } from "../../fixtures/lifecycle.ts";
import { ConfigError } from "../support/errors.ts";
import {
  certificateEvidence,
  controlEvidence,
  EVIDENCE_SCHEMA_VERSION,
  findings,
  policyEvidence,
  scenarioEvidence,
  totals,
  type Evidence,
} from "../reports/evidence.ts";
import { buildManifests, manifestsYaml, redactedManifests, type Manifests } from "../manifests/manifests.ts";
import { allCertificates, buildPki, chainPem } from "../pki/pki.ts";
import { writePki } from "../pki/pki-files.ts";
import { ProgressReporter } from "../reports/progress-reporter.ts";
import type { RunContext } from "./run-context.ts";
import type { Vitest } from "vitest/node";
import { chooseTarget, type TargetChoice, type TargetOptions } from "../targets/registry.ts";
import type { StartedTarget } from "../targets/target.ts";
import type { MutantName } from "../targets/mutants.ts";
import { EndpointTarget } from "../targets/endpoint-target.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PACKAGE = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
export const TOOL = { name: PACKAGE.name, version: PACKAGE.version };


export interface RunOptions {
  target: string;
  reportDir: string;
  only?: string;
  /** The command line, as recorded in the evidence. */
  command: string;
  namespace?: string;
  /** Options of the k3s and cluster targets (images, controller version, kubeconfig...). */
  targetOptions?: TargetOptions;
  log?: (line: string) => void;
  /**
   * Alters the objects before they are deployed, leaving the catalogue's expectations as they
   * are: how the project's own tests simulate a broken ingress to prove the suite fails.
   */
  alterManifests?: (manifests: Manifests) => Manifests;
  /** Run against a deliberately broken nginx data plane (the mutation self-test). */
  mutant?: MutantName;
  /** A target per suite (a cluster per suite for k3s) instead of one shared by all suites. */
  isolate?: boolean;
  /** Where to write the run's private keys and client.p12 (outside the report directory); none by default. */
  keysDir?: string;
  /** Ed25519 private key (PKCS#8 PEM) that signs the report; default: a key made for the run. */
  signingKey?: string;
}

export interface RunOutcome {
  exitCode: 0 | 1;
  evidence: Evidence;
  evidencePath: string;
  /** junit.xml, or one junit-<suite>.xml per suite with --isolate. */
  junitPath: string;
  timings: Record<string, number>;
}

/** Scenarios that share one deployed target: all of them, or one suite each with --isolate. */
interface Group {
  name: string;
  scenarios: Scenario[];
  policies: Policy[];
  junitPath: string;
  manifestsFile: string;
}

/** What one group's target was, for the evidence. */
interface TargetRecord extends Record<string, unknown> {
  suites: string[];
  kind: string;
  description: string;
  versions: Record<string, string>;
  deployError?: string;
}

const sha256 = (text: string | Uint8Array): string => createHash("sha256").update(text).digest("hex");

/** Checks everything that can be checked before starting anything; throws ConfigError. */
export async function planRun(options: RunOptions): Promise<{ scenarios: Scenario[]; choice: TargetChoice; catalogue: Catalogue }> {
  const catalogue = defaultCatalogue;
  const problems = validateCatalogue(catalogue);
  if (problems.length) throw new ConfigError(`the scenario catalogue is invalid:\n  ${problems.join("\n  ")}`);
  const scenarios = selectScenarios(catalogue.scenarios, options.only);
  if (scenarios.length === 0) throw new ConfigError(`--only ${JSON.stringify(options.only)} matches no scenario (see \`mtls-conformance list\`)`);
  if (options.keysDir && !relative(resolve(options.reportDir), resolve(options.keysDir)).startsWith("..")) {
    throw new ConfigError("--keys-dir must be outside the report directory: reports are evidence and hold no private key");
  }
  if (options.signingKey) await checkSigningKey(options.signingKey);
  const choice = await chooseTarget(options.target, options.targetOptions);
  return { scenarios, choice, catalogue };
}

export async function runConformance(options: RunOptions): Promise<RunOutcome> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + "\n"));
  const timings: Record<string, number> = { startupMs: Math.round(performance.now()) };
  const t0 = performance.now();
  const lap = (name: string, since: number) => (timings[name] = (timings[name] ?? 0) + Math.round(performance.now() - since));
  const startedAt = new Date();
  const runId = `${startedAt.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${randomUUID().slice(0, 8)}`;

  const { scenarios, choice, catalogue } = await planRun(options);
  log(`target: ${choice.target.kind} (${choice.why})`);
  log(`run ${runId}: ${scenarios.length} scenario(s), reports in ${options.reportDir}`);

  const reportDir = resolve(options.reportDir);
  await mkdir(reportDir, { recursive: true });
  const workDir = await mkdtemp(join(tmpdir(), "mtls-conformance-"));
  const removeWorkDir = onCleanup(
    () => rm(workDir, { recursive: true, force: true }),
    () => rmSync(workDir, { recursive: true, force: true }),
  );

  // The policies the scenarios use, plus every policy sharing a host with one of them: a host's
  // behaviour depends on all the Ingresses on it.
  const policiesOf = (list: Scenario[]) => {
    const used = catalogue.policies.filter((p) => list.some((s) => s.policy === p.name));
    return catalogue.policies.filter((p) => used.some((u) => u.name === p.name || (u.host === p.host && p.sharedHost)));
  };
  const policies = policiesOf(scenarios);
  const groups: Group[] = options.isolate
    ? [...new Set(scenarios.map((s) => s.suite))].map((suite) => {
        const own = scenarios.filter((s) => s.suite === suite);
        return { name: suite, scenarios: own, policies: policiesOf(own), junitPath: join(reportDir, `junit-${suite}.xml`), manifestsFile: `manifests-${suite}.yaml` };
      })
    : [{ name: "all", scenarios, policies, junitPath: join(reportDir, "junit.xml"), manifestsFile: "manifests.yaml" }];

  const reporter = new ProgressReporter(log, scenarios.length);
  // Vitest takes a while to load and start: let it do so while the keys are generated.
  let vitestReady: Promise<Vitest> | undefined = createSuiteRunner(groups[0]!, reporter, choice.target.kind);
  vitestReady.catch(() => undefined);
  const tPki = performance.now();
  // A live endpoint trusts its own CA: the run's client credentials are issued from it.
  const endpointTarget = choice.target instanceof EndpointTarget ? choice.target : undefined;
  const pki = await buildPki({ serverHosts: [...new Set(policies.map((p) => p.host))], ca: endpointTarget?.issuingCa() });
  const applicability = endpointTarget?.applicability(catalogue, pki.ca.cert.subjectName.toString().split(", ").reverse().join(","));
  const serverTrust = endpointTarget?.serverTrust();
  lap("pkiMs", tPki);
  const namespace = options.namespace ?? choice.target.defaultNamespace ?? "default";
  // Certificates are evidence; private keys never go into the report directory.
  const pkiWritten = writePki(pki, { certDir: join(reportDir, "pki"), keyDir: options.keysDir });
  pkiWritten.catch(() => undefined);

  const artifacts: Record<string, string> = { pki: "pki/" };
  const targets: TargetRecord[] = [];
  let started: StartedTarget | undefined;
  try {
    for (const group of groups) {
      const built = buildManifests({ namespace, policies: group.policies, pki });
      const manifests = options.alterManifests ? options.alterManifests(structuredClone(built)) : built;
      // For a live endpoint the deployed objects are not ours: its declared Ingress is recorded instead.
      if (!endpointTarget) await writeFile(join(reportDir, group.manifestsFile), manifestsYaml(redactedManifests(manifests, sha256)));
      if (!endpointTarget) artifacts[group.manifestsFile] = group.manifestsFile;
      if (groups.length > 1) log(`-- suite ${group.name}: its own ${choice.target.kind} target (--isolate)`);

      const tDeploy = performance.now();
      let deployError: string | undefined;
      try {
        const mutation = options.mutant
          ? { name: options.mutant, foreignCaPem: pki.others.find((c) => c.name === "other-ca")!.certPem }
          : undefined;
        if (mutation && choice.target.kind !== "nginx") throw new ConfigError("mutants exist only for the nginx target");
        if (mutation) log(`MUTANT ${mutation.name}: a deliberately broken data plane; this run is expected to fail`);
        started = await choice.target.start({ manifests, workDir, reportDir, log, mutation });
        log(`deployed ${manifests.ingresses.length} Ingress(es) on ${started.kind}: ${started.description}`);
      } catch (error) {
        // The run goes on, so every scenario is reported as not run and the evidence says why.
        deployError = (error as Error).message;
        log(`deploy failed: ${deployError}`);
        for (const f of (error as { diagnostics?: string[] }).diagnostics ?? []) artifacts[relative(reportDir, f)] = relative(reportDir, f);
      }
      lap("deployMs", tDeploy);
      const target = started;

      const context: RunContext = {
        runId,
        target: { kind: choice.target.kind, description: target?.description ?? "did not come up" },
        endpoints: target
          ? Object.fromEntries([...group.policies.map((p) => p.host), ...Object.values(applicability?.hosts ?? {})].map((h) => [h, target.endpointFor(h)]))
          : {},
        httpEndpoints: target?.httpEndpointFor
          ? Object.fromEntries(group.policies.flatMap((p) => {
              const e = target.httpEndpointFor!(p.host);
              return e ? [[p.host, e]] : [];
            }))
          : {},
        caPem: serverTrust ? serverTrust.caPem : pki.ca.certPem,
        serverSha256: serverTrust ? undefined : pki.server.sha256,
        insecureServer: serverTrust?.insecure,
        skips: applicability?.skips ?? {},
        hosts: applicability?.hosts ?? {},
        acceptAnyEcho: endpointTarget?.echo,
        credentials: Object.fromEntries(
          Object.values(pki.credentials).map((c) => [c.name, { certChainPem: chainPem(c), keyPem: c.leaf.keyPem, leafSha256: c.leaf.sha256 }]),
        ),
        scenarioIds: group.scenarios.map((s) => s.id),
        deployError,
        settleMs: target?.settleMs ?? 0,
        lint: group.scenarios.some((s) => s.lint) ? lintObjects(await guideAsWritten(pki)) : {},
      };

      // The lifecycle suite changes the deployed objects through the target while it runs.
      let currentStage = "missing-secret";
      const control =
        target?.update && group.scenarios.some((s) => s.stage)
          ? await startControlServer(async (stage) => {
              if (stage === currentStage) return;
              await target.update!(manifestsAtStage(manifests, pki, stage));
              currentStage = stage;
              log(`  lifecycle: objects moved to stage "${stage}"`);
            })
          : undefined;
      context.controlUrl = control?.url;

      const tSuites = performance.now();
      const vitest = await (vitestReady ?? createSuiteRunner(group, reporter, choice.target.kind));
      vitestReady = undefined;
      vitest.provide("mtlsRun", context);
      try {
        await vitest.start();
      } finally {
        await vitest.close();
        await control?.close();
      }
      lap("suitesMs", tSuites);
      artifacts[relative(reportDir, group.junitPath)] = relative(reportDir, group.junitPath);

      const failed = group.scenarios.some((s) => reporter.results.get(s.id)?.verdict !== "pass");
      if (target) {
        if (failed) for (const f of await target.collectDiagnostics()) artifacts[relative(reportDir, f)] = relative(reportDir, f);
        await target.stop();
        if (target.kind === "nginx") for (const f of ["nginx/nginx.conf", "nginx/error.log", "nginx/access.log"]) artifacts[f] = f;
        targets.push({ suites: [group.name], kind: target.kind, description: target.description, versions: target.versions, ...target.details });
      } else {
        targets.push({ suites: [group.name], kind: choice.target.kind, description: "did not come up", versions: {}, deployError });
      }
      started = undefined;
    }
    await pkiWritten;

    const scenarioResults = scenarioEvidence(scenarios, policies, reporter.results, reporter.runErrors);
    const sum = totals(scenarioResults);
    lap("totalMs", t0);
    const tReports = performance.now();
    const [first] = targets;
    const evidence: Evidence = {
      schemaVersion: EVIDENCE_SCHEMA_VERSION,
      tool: { ...TOOL, node: process.version },
      run: {
        id: runId,
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        command: options.command,
        options: { target: options.target, only: options.only ?? null, reportDir, namespace, isolate: !!options.isolate, ...options.targetOptions },
        timingsMs: timings,
      },
      target: {
        ...first!,
        selection: choice.why,
        ...(targets.length > 1 ? { isolated: targets } : {}),
      },
      policies: policyEvidence(policies, buildManifests({ namespace, policies, pki })),
      scenarios: scenarioResults,
      certificates: allCertificates(pki).map(certificateEvidence),
      caBundleSha256: sha256(pki.ca.certPem + "\n"),
      crlSha256: null,
      controls: controlEvidence(controlCoverage(catalogue, scenarios), scenarioResults),
      findings: findings(scenarioResults),
      artifacts,
      runErrors: reporter.runErrors,
      totals: sum,
    };
    for (const f of ["evidence.json", "report.html", "summary.md", MANIFEST_FILE, ENVELOPE_FILE, PUBLIC_KEY_FILE]) artifacts[f] = f;
    const evidencePath = join(reportDir, "evidence.json");
    await writeFile(evidencePath, JSON.stringify(evidence, null, 2) + "\n");
    const [{ renderReportHtml }, { renderSummaryMarkdown }] = await Promise.all([import("../reports/report-html.ts"), import("../reports/report-summary.ts")]);
    await writeFile(join(reportDir, "report.html"), renderReportHtml(evidence));
    const summary = renderSummaryMarkdown(evidence);
    await writeFile(join(reportDir, "summary.md"), summary);
    if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, summary + "\n").catch(() => undefined);
    // Last: the signature covers every file written before it.
    const signed = await signReportDir(reportDir, evidence, options.signingKey);
    lap("reportsMs", tReports);
    log(
      `${sum.pass} passed, ${sum.fail} failed, ${sum.skip} skipped${sum.finding ? `, ${sum.finding} finding(s)` : ""} of ${sum.total} (target ${choice.target.kind}, ${timings.totalMs} ms)`,
    );
    for (const e of reporter.runErrors) log(`error: ${e}`);
    log(`evidence: ${evidencePath} (report.html, summary.md)`);
    log(
      `signed:   ${signed.files} files, Ed25519 key sha256:${signed.fingerprint}` +
        (signed.generatedKey ? ` (a key made for this run; public half in ${PUBLIC_KEY_FILE})` : ""),
    );
    for (const g of groups) log(`junit:    ${g.junitPath}`);
    // Findings are documented behaviour, reported but not failures: a run with only findings exits 0.
    return { exitCode: sum.fail > 0 || sum.pass + sum.skip + sum.finding < sum.total ? 1 : 0, evidence, evidencePath, junitPath: groups[0]!.junitPath, timings };
  } finally {
    await vitestReady?.then((v) => v.close()).catch(() => undefined);
    if (started) await started.stop();
    await pkiWritten.catch(() => undefined);
    await removeWorkDir();
  }
}

/** A vitest instance over the suites that hold the group's scenarios, ready to start. */
async function createSuiteRunner(group: Group, reporter: ProgressReporter, targetKind: string): Promise<Vitest> {
  const { createVitest } = await import("vitest/node");
  const suites = [...new Set(group.scenarios.map((s) => s.suite))];
  return createVitest(
    {
      config: false,
      root: ROOT,
      include: suites.map((s) => `suites/${s}.conformance.ts`),
      watch: false,
      run: true,
      reporters: [reporter, ["junit", { outputFile: group.junitPath, suiteName: `mtls-conformance ${targetKind}` }]],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      // One thread, no per-file isolation: the suites share no state, and a worker per file
      // costs more (start-up, transforms) than all the probes together (npm run bench).
      pool: "threads",
      isolate: false,
      maxWorkers: 1,
    },
    { logLevel: "error" },
    // The run prints its own lines; vitest's (e.g. "JUNIT report written to") would only repeat them.
    { stdout: quietStream(process.stdout), stderr: process.stderr },
  );
}

/** Forwards everything but vitest's report-file notices. */
function quietStream(target: NodeJS.WriteStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const text = chunk.toString();
      if (!/^\s*JUNIT report written to/.test(text)) target.write(text);
      callback();
    },
  });
}
