// One conformance run, in phases: plan (everything that can fail early) -> subject (the objects
// under test and their checks, with credentials and expectations) -> for each group: deploy or
// find the target, run the checks -> evidence -> reports and signature. The CLI and the project's
// own tests both call runConformance().
import { createHash, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { catalogue as defaultCatalogue } from "../../fixtures/catalogue.ts";
import { controlCoverage, selectScenarios, validateCatalogue, type Catalogue, type Scenario } from "../catalogue/catalogue.ts";
import type { Check } from "../checks/check.ts";
import type { ProfileChoice } from "../checks/from-catalogue.ts";
import { profileByName, profileRow } from "../profiles/registry.ts";
import { TRAEFIK_VERSION } from "../targets/traefik-controller.ts";
import { checkSigningKey, ENVELOPE_FILE, MANIFEST_FILE, PUBLIC_KEY_FILE, signReportDir } from "../reports/attestation.ts";
import { onCleanup } from "../support/cleanup.ts";
import { DEFAULT_UPDATE_TIMEOUT_MS, STAGE_PROBE_MARGIN_MS, startControlServer } from "./control-server.ts";
import { ConfigError } from "../support/errors.ts";
import { checkWritableDir } from "../support/writable-dir.ts";
import {
  certificateEvidence,
  controlEvidence,
  EVIDENCE_SCHEMA_VERSION,
  findings,
  ingressEvidence,
  scenarioEvidence,
  totals,
  uncheckedIngresses,
  type Evidence,
} from "../reports/evidence.ts";
import { manifestsYaml, redactedManifests, type Manifests } from "../manifests/manifests.ts";
import { loadUserManifests, type UserObjects } from "../manifests/user-manifests.ts";
import { ProgressReporter } from "../reports/progress-reporter.ts";
import { writeReports } from "../reports/write-reports.ts";
import type { RunContext } from "./run-context.ts";
import type { Vitest } from "vitest/node";
import { chooseTarget, type TargetChoice, type TargetOptions } from "../targets/registry.ts";
import type { StartedTarget } from "../targets/target.ts";
import type { MutantName } from "../targets/mutants.ts";
import { parseControllerName, type ControllerName } from "../targets/controllers.ts";
import { BROWSER_SUITE, BROWSER_HOST, browserChecks } from "../browser/browser-checks.ts";
import { catalogueSubject, foundSubject, manifestsSubject, type RunSubject, type SubjectGroup } from "./subject.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PACKAGE = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
export const TOOL = { name: PACKAGE.name, version: PACKAGE.version };

/** Probes in flight at once, per group. */
export const DEFAULT_CONCURRENCY = 24;

export interface RunOptions {
  target: string;
  reportDir: string;
  only?: string;
  /** The command line, as recorded in the evidence. */
  command: string;
  namespace?: string;
  /** The user's own objects (a file or a folder of YAML): checks are generated from them. */
  manifests?: string;
  /** The IngressClass the controller under test serves (default nginx). */
  ingressClass?: string;
  /**
   * What serves the Ingresses (default ingress-nginx): passed to the k3s and cluster targets,
   * recorded by the endpoint target, and in the evidence as `target.controller`.
   */
  controller?: ControllerName;
  /** Options of the k3s, cluster and endpoint targets. */
  targetOptions?: TargetOptions;
  log?: (line: string) => void;
  /**
   * Alters the objects before they are deployed, leaving the expectations as they are: how the
   * project's own tests simulate a broken ingress to prove the suite fails.
   */
  alterManifests?: (manifests: Manifests) => Manifests;
  /** Run against a deliberately broken nginx data plane (the mutation self-test). */
  mutant?: MutantName;
  /**
   * Alters the started target: how the project's own tests simulate a controller that applies
   * changes late or never, which no local data plane does.
   */
  alterTarget?: (target: StartedTarget) => StartedTarget;
  /** The test timeout of a check that changes no stage (default 60 s); the project's tests shorten it. */
  testTimeoutMs?: number;
  /** A target per suite (a cluster per suite for k3s) instead of one shared by all suites. */
  isolate?: boolean;
  /** Where to write the run's private keys and client.p12 (outside the report directory); none by default. */
  keysDir?: string;
  /** Ed25519 private key (PKCS#8 PEM) that signs the report; default: a key made for the run. */
  signingKey?: string;
  /** Probes in flight at once. */
  concurrency?: number;
  /** The successor whose behaviour the catalogue's checks expect: ingress-nginx (default), traefik, gateway-api. */
  profile?: string;
  /** The successor's version row (e.g. v3.7.1); default the profile's first row. */
  profileVersion?: string;
  /** A guarantee lost on the successor fails the run (exit 1) instead of being reported like a finding. */
  strict?: boolean;
  /** Also run the guide's browser step (MTLS-BROWSER-001..004) in headless Chromium; skipped with the reason where it cannot run. */
  browser?: boolean;
  /** --cross-check curl: every probing check is also made with curl; a disagreement fails the check. */
  crossCheck?: "curl";
  /** The curl executable for --cross-check (default: curl on PATH); the project's tests point it at a fake. */
  curlBinary?: string;
}

export interface RunOutcome {
  exitCode: 0 | 1;
  evidence: Evidence;
  evidencePath: string;
  /** junit.xml, or one junit-<suite>.xml per suite with --isolate. */
  junitPath: string;
  timings: Record<string, number>;
}

/** What the run is about to do, everything checkable checked. */
interface RunPlan {
  choice: TargetChoice;
  catalogue: Catalogue;
  /** The catalogue's scenarios, when the catalogue is the subject. */
  scenarios?: Scenario[];
  /** The user's objects (--manifests). */
  user?: UserObjects;
  /** The suite files the checks live in (known before the checks are). */
  suites: string[];
  /** The successor profile the catalogue's checks expect (--profile). */
  successor?: ProfileChoice;
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

/** RunOptions.controller (or the target options'), checked: an unknown name is a ConfigError (exit 2). */
const controllerOf = (options: RunOptions): ControllerName => parseControllerName(options.controller ?? options.targetOptions?.controller);

/** Phase 1: checks everything that can be checked before starting anything; throws ConfigError (exit 2). */
export async function planRun(options: RunOptions): Promise<RunPlan> {
  const catalogue = defaultCatalogue;
  const problems = validateCatalogue(catalogue);
  if (problems.length) throw new ConfigError(`the scenario catalogue is invalid:\n  ${problems.join("\n  ")}`);
  if (options.keysDir && !relative(resolve(options.reportDir), resolve(options.keysDir)).startsWith("..")) {
    throw new ConfigError("--keys-dir must be outside the report directory: reports are evidence and hold no private key");
  }
  if (options.signingKey) await checkSigningKey(options.signingKey);
  if (options.manifests && options.target === "endpoint") throw new ConfigError("--manifests deploys objects; the endpoint target checks a live deployment against --ingress");
  if (options.manifests && options.targetOptions?.audit) throw new ConfigError("--manifests and --audit exclude each other: one deploys the objects, the other finds them deployed");
  if (options.isolate && (options.manifests || options.target === "endpoint" || options.targetOptions?.audit)) throw new ConfigError("--isolate applies to the catalogue's suites");
  if (options.mutant && (options.manifests || options.target !== "nginx")) throw new ConfigError("mutants exist only for the catalogue on the nginx target");
  // Read before the target is chosen (a bad folder is said at once), into the target's namespace.
  const user = options.manifests ? loadUserManifests(options.manifests, options.namespace ?? (options.target === "cluster" ? "mtls-conformance" : "default")) : undefined;
  const choice = await chooseTarget(options.target, { ...options.targetOptions, controller: controllerOf(options) });
  // The controller the run installs serves class nginx; an existing one may serve another, and the
  // run's own Ingresses then name that class.
  if (options.ingressClass && options.ingressClass !== "nginx" && (choice.target.kind === "k3s" || (choice.target.kind === "cluster" && options.targetOptions?.installController))) {
    throw new ConfigError(`--ingress-class ${options.ingressClass}: the controller this run installs serves IngressClass nginx`);
  }
  const found = !!choice.target.discover;
  // What serves the Ingresses decides what the checks expect, unless --profile says otherwise:
  // Traefik's provider gets the traefik profile, at the row of the version the run deploys.
  const traefik = controllerOf(options) === "traefik";
  const profileName = options.profile ?? (traefik ? "traefik" : undefined);
  const successor = profileName || options.profileVersion ? successorChoice(profileName ?? "ingress-nginx", options.profileVersion ?? (traefik && profileName === "traefik" ? TRAEFIK_VERSION : undefined)) : undefined;
  if ((found || user) && successor && successor.profile.name !== "ingress-nginx") {
    const how = options.profile ? `--profile ${successor.profile.name}` : `--controller ${controllerOf(options)} (the ${successor.profile.name} profile)`;
    throw new ConfigError(`${how} applies to the catalogue's scenarios; for your own Ingresses, \`mtls-conformance migration --manifests PATH --to ${successor.profile.name}\` says what each keeps and loses`);
  }
  if ((found || user) && options.browser) throw new ConfigError("--browser runs the guide's browser step on the catalogue's guide Ingress, not on your own Ingresses");
  if (found || user) return { choice, catalogue, user, suites: ["ingresses"] };
  const scenarios = selectScenarios(catalogue.scenarios, options.only);
  if (scenarios.length === 0) throw new ConfigError(`--only ${JSON.stringify(options.only)} matches no scenario (see \`mtls-conformance list\`)`);
  if (options.browser && !scenarios.some((s) => s.policy === "guide")) throw new ConfigError("--browser needs the guide's Ingress deployed: --only must select at least one scenario of the guide policy (e.g. --only 'MTLS-GUIDE-*')");
  return { choice, catalogue, scenarios, suites: [...new Set(scenarios.map((s) => s.suite)), ...(options.browser ? [BROWSER_SUITE] : [])], ...(successor ? { successor } : {}) };
}

function successorChoice(name: string, version?: string): ProfileChoice {
  const profile = profileByName(name);
  return { profile, row: profileRow(profile, version) };
}

/**
 * Phase 2: the objects under test and their checks, credentials made, expectations computed.
 * Where the objects to deploy are known before the checks (--manifests), they come first, so the
 * target can start while the rest is made.
 */
async function buildSubject(plan: RunPlan, options: RunOptions, namespace: string, log: (line: string) => void): Promise<{ manifests?: Manifests; finish(): Promise<RunSubject> }> {
  if (plan.choice.target.discover) {
    const found = await plan.choice.target.discover(log);
    const subject = foundSubject({ found, only: options.only, ingressClass: options.ingressClass });
    return { finish: () => subject };
  }
  if (plan.user) {
    const started = await manifestsSubject({ user: plan.user, only: options.only, ingressClass: options.ingressClass });
    const manifests = options.alterManifests ? options.alterManifests(structuredClone(started.manifests)) : started.manifests;
    return {
      manifests,
      finish: async () => {
        const subject = await started.finish();
        for (const g of subject.groups) if (g.manifests) g.manifests = manifests;
        return subject;
      },
    };
  }
  const subject = await catalogueSubject({ catalogue: plan.catalogue, scenarios: plan.scenarios!, namespace, isolate: !!options.isolate, alterManifests: options.alterManifests, ingressClass: options.ingressClass, successor: plan.successor });
  return { finish: async () => subject };
}

/** Phase 3 (per group): deploys the group's objects, or finds them deployed; never throws. */
async function startTarget(
  plan: RunPlan,
  deploy: { manifests?: Manifests; hosts: string[]; foreignCaPem?: string },
  ctx: { workDir: string; reportDir: string; log: (line: string) => void; mutant?: MutantName; ingressClass?: string; alterTarget?: RunOptions["alterTarget"]; artifacts: Record<string, string> },
): Promise<{ started?: StartedTarget; deployError?: string }> {
  try {
    const mutation = ctx.mutant ? { name: ctx.mutant, foreignCaPem: deploy.foreignCaPem } : undefined;
    if (mutation) ctx.log(`MUTANT ${mutation.name}: a deliberately broken data plane; this run is expected to fail`);
    const launched = await plan.choice.target.start({ manifests: deploy.manifests, hosts: deploy.hosts, workDir: ctx.workDir, reportDir: ctx.reportDir, log: ctx.log, mutation, ingressClass: ctx.ingressClass });
    const started = ctx.alterTarget ? ctx.alterTarget(launched) : launched;
    if (deploy.manifests) ctx.log(`deployed ${deploy.manifests.ingresses.length} Ingress(es) on ${started.kind}: ${started.description}`);
    return { started };
  } catch (error) {
    // The run goes on, so every check is reported as not run and the evidence says why.
    const deployError = (error as Error).message;
    ctx.log(`deploy failed: ${deployError}`);
    for (const f of (error as { diagnostics?: string[] }).diagnostics ?? []) ctx.artifacts[relative(ctx.reportDir, f)] = relative(ctx.reportDir, f);
    return { deployError };
  }
}

/** Phase 4 (per group): the checks, in the vitest worker, against what the target serves. */
async function executeChecks(
  vitest: Vitest,
  context: RunContext,
  group: SubjectGroup,
  target: StartedTarget | undefined,
  subject: RunSubject,
  log: (line: string) => void,
): Promise<void> {
  // The lifecycle suite changes the deployed objects through the target while it runs.
  let currentStage = "missing-secret";
  const control =
    target?.update && group.manifests && subject.atStage && group.checks.some((c) => c.stage)
      ? await startControlServer(async (stage) => {
          if (stage === currentStage) return;
          await target.update!(subject.atStage!(group.manifests!, stage));
          currentStage = stage;
          log(`  lifecycle: objects moved to stage "${stage}"`);
        }, target.updateTimeoutMs)
      : undefined;
  context.controlUrl = control?.url;
  vitest.provide("mtlsRun", context);
  try {
    await vitest.start();
  } finally {
    await vitest.close();
    await control?.close();
  }
}

function contextFor(runId: string, plan: RunPlan, subject: RunSubject, group: SubjectGroup, target: StartedTarget | undefined, deployError: string | undefined, concurrency: number): RunContext {
  const hosts = [...new Set(group.checks.map((c) => c.host).filter(Boolean))];
  const endpoint = (h: string) => {
    try {
      return target?.endpointFor(h);
    } catch {
      return undefined;
    }
  };
  return {
    runId,
    target: { kind: plan.choice.target.kind, description: target?.description ?? "did not come up" },
    checks: group.checks,
    endpoints: Object.fromEntries(hosts.flatMap((h) => (endpoint(h) ? [[h, endpoint(h)!]] : []))),
    httpEndpoints: target?.httpEndpointFor ? Object.fromEntries(hosts.flatMap((h) => (target.httpEndpointFor!(h) ? [[h, target.httpEndpointFor!(h)!]] : []))) : {},
    trust: subject.trust,
    hostTrust: subject.hostTrust,
    acceptAnyEcho: subject.acceptAnyEcho,
    noEcho: subject.noEcho,
    credentials: subject.credentials,
    deployError,
    settleMs: target?.settleMs ?? 0,
    stageTimeoutMs: (target?.updateTimeoutMs ?? DEFAULT_UPDATE_TIMEOUT_MS) + (target?.settleMs ?? 0) + STAGE_PROBE_MARGIN_MS,
    concurrency,
  };
}

/**
 * The files each check's curl command names (the evidence's `curl`): the credential as pki/ and
 * --keys-dir name it (catalogue: <name>.crt or <name>.chain.crt and <name>.key; the user's objects:
 * client-<key>.chain.crt and client-<key>.key), the server CA as ca.crt. With --cross-check they
 * are written under the run's scratch directory, where curl runs.
 */
function curlContext(run: RunState, subject: RunSubject): Pick<RunContext, "crossCheck" | "curlBinary" | "curlDir" | "curlCredentialFiles"> {
  const files = Object.fromEntries(
    Object.entries(subject.credentials).map(([key, c]) => {
      const stem = subject.origin === "catalogue" ? key : `client-${key}`;
      const chained = subject.origin !== "catalogue" || (c.certChainPem.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length > 1;
      return [key, { cert: `${stem}${chained ? ".chain" : ""}.crt`, key: `${stem}.key` }];
    }),
  );
  return { crossCheck: run.options.crossCheck, curlBinary: run.options.curlBinary, curlDir: join(run.workDir, "curl"), curlCredentialFiles: files };
}

/** What a run carries from phase to phase. */
interface RunState {
  options: RunOptions;
  plan: RunPlan;
  log: (line: string) => void;
  runId: string;
  startedAt: Date;
  t0: number;
  timings: Record<string, number>;
  lap(name: string, since: number): void;
  reportDir: string;
  workDir: string;
  namespace: string;
  concurrency: number;
  reporter: ProgressReporter;
  /** Created while the subject is built (vitest is slow to start); taken by the first group. */
  vitestReady?: Promise<Vitest>;
  artifacts: Record<string, string>;
  targets: TargetRecord[];
  /** The target running now, stopped on the way out whatever happens. */
  started?: StartedTarget;
  /** A deployment started while the checks were still being made (--manifests). */
  early?: Promise<{ started?: StartedTarget; deployError?: string }>;
  pkiWritten: Promise<unknown>;
  close(): Promise<void>;
}

export async function runConformance(options: RunOptions): Promise<RunOutcome> {
  const run = await openRun(options);
  try {
    const subject = await prepareSubject(run);
    for (const group of subject.groups) run.targets.push(await runGroup(run, subject, group));
    await run.pkiWritten;
    return await concludeRun(run, subject);
  } finally {
    await run.close();
  }
}

/** Phase 1: the plan, the scratch and report directories, and vitest starting up. */
async function openRun(options: RunOptions): Promise<RunState> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + "\n"));
  const timings: Record<string, number> = { startupMs: Math.round(performance.now()) };
  const startedAt = new Date();
  const runId = `${startedAt.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${randomUUID().slice(0, 8)}`;
  const t0 = performance.now();
  const reportDir = resolve(options.reportDir);
  await checkWritableDir(reportDir, "--report-dir");
  if (options.keysDir) await checkWritableDir(resolve(options.keysDir), "--keys-dir");
  const plan = await planRun(options);
  log(`target: ${plan.choice.target.kind} (${plan.choice.why})`);

  await mkdir(reportDir, { recursive: true });
  const workDir = await mkdtemp(join(tmpdir(), "mtls-conformance-"));
  const removeWorkDir = onCleanup(
    () => rm(workDir, { recursive: true, force: true }),
    () => rmSync(workDir, { recursive: true, force: true }),
  );
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const reporter = new ProgressReporter(log, 0);
  const run: RunState = {
    options,
    plan,
    log,
    runId,
    startedAt,
    t0,
    timings,
    lap: (name, since) => (timings[name] = (timings[name] ?? 0) + Math.round(performance.now() - since)),
    reportDir,
    workDir,
    namespace: options.namespace ?? plan.choice.target.defaultNamespace ?? "default",
    concurrency,
    reporter,
    // Vitest takes a while to load and start: let it do so while the subject is built.
    vitestReady: createSuiteRunner(plan.suites, reporter, concurrency, options.testTimeoutMs),
    artifacts: { pki: "pki/" },
    targets: [],
    pkiWritten: Promise.resolve(),
    close: async () => {
      await run.vitestReady?.then((v) => v.close()).catch(() => undefined);
      const late = await run.early?.catch(() => undefined);
      if (late?.started && late.started !== run.started) await late.started.stop();
      if (run.started) await run.started.stop();
      await run.pkiWritten.catch(() => undefined);
      await removeWorkDir();
    },
  };
  run.vitestReady!.catch(() => undefined);
  return run;
}

/** Phase 2: the subject, with the user's objects deploying meanwhile where they are known first. */
async function prepareSubject(run: RunState): Promise<RunSubject> {
  const tSubject = performance.now();
  const begun = await buildSubject(run.plan, run.options, run.namespace, run.log);
  if (begun.manifests) {
    const hosts = [...new Set(begun.manifests.ingresses.flatMap((i) => (i.spec?.rules ?? []).map((r) => r.host).filter((h): h is string => !!h)))];
    run.early = startTarget(run.plan, { manifests: begun.manifests, hosts }, { ...run, mutant: run.options.mutant, ingressClass: run.options.ingressClass, alterTarget: run.options.alterTarget });
  }
  const subject = await begun.finish();
  if (run.options.browser) addBrowserChecks(subject);
  run.lap("pkiMs", tSubject);
  const checks = subject.groups.flatMap((g) => g.checks);
  run.reporter.total = checks.length;
  const ingressCount = new Set(checks.map((c) => c.ingress).filter(Boolean)).size;
  const successor = run.plan.successor?.profile;
  if (successor && successor.name !== "ingress-nginx") {
    run.log(`checks expect ${successor.title} ${run.plan.successor!.row.versions} (--profile ${successor.name})${run.plan.choice.target.kind === "nginx" ? "; the nginx target is ingress-nginx's data plane, so every row where the successor differs will fail here" : ""}`);
  }
  run.log(`run ${run.runId}: ${checks.length} check(s)${subject.origin === "catalogue" ? "" : ` for ${ingressCount} Ingress(es) from ${subject.source}`}, reports in ${run.options.reportDir}`);
  for (const line of subject.changes) run.log(`  ${line}`);
  // Certificates are evidence; private keys never go into the report directory.
  run.pkiWritten = subject.writeFiles({ certDir: join(run.reportDir, "pki"), keyDir: run.options.keysDir });
  run.pkiWritten.catch(() => undefined);
  return subject;
}

/** --browser: MTLS-BROWSER-001..004 join the group that serves the guide's host (planRun made sure one does). */
function addBrowserChecks(subject: RunSubject): void {
  const group = subject.groups.find((g) => g.checks.some((c) => c.host === BROWSER_HOST)) ?? subject.groups[0]!;
  group.checks.push(...browserChecks());
}

/** Phases 3 and 4 for one group: its target up (or found), its checks run, the target stopped. */
async function runGroup(run: RunState, subject: RunSubject, group: SubjectGroup): Promise<TargetRecord> {
  const { reportDir, artifacts, plan } = run;
  if (group.manifests && group.manifestsFile) {
    await writeFile(join(reportDir, group.manifestsFile), manifestsYaml(redactedManifests(group.manifests, sha256)));
    artifacts[group.manifestsFile] = group.manifestsFile;
  }
  if (subject.groups.length > 1) run.log(`-- suite ${group.name}: its own ${plan.choice.target.kind} target (--isolate)`);
  const tDeploy = performance.now();
  const hosts = [...new Set(group.checks.map((c) => c.host).filter(Boolean))];
  const { started: target, deployError } = await (run.early ?? startTarget(plan, { manifests: group.manifests, hosts, foreignCaPem: subject.foreignCaPem }, { ...run, mutant: run.options.mutant, ingressClass: run.options.ingressClass, alterTarget: run.options.alterTarget }));
  run.early = undefined;
  run.started = target;
  run.lap("deployMs", tDeploy);

  const tSuites = performance.now();
  const vitest = await (run.vitestReady ?? createSuiteRunner([...new Set(group.checks.map((c) => c.suite))], run.reporter, run.concurrency, run.options.testTimeoutMs));
  run.vitestReady = undefined;
  const context = { ...contextFor(run.runId, plan, subject, group, target, deployError, run.concurrency), ...curlContext(run, subject) };
  context.reportDir = reportDir;
  await executeChecks(vitest, context, group, target, subject, run.log);
  run.lap("suitesMs", tSuites);
  for (const c of group.checks.filter((x) => x.suite === BROWSER_SUITE)) if (existsSync(join(reportDir, "browser", `${c.name}.png`))) artifacts[`browser/${c.name}.png`] = `browser/${c.name}.png`;

  run.started = undefined;
  if (!target) return { suites: [group.name], kind: plan.choice.target.kind, description: "did not come up", versions: {}, deployError };
  const failed = group.checks.some((c) => run.reporter.results.get(c.id)?.verdict === "fail" || !run.reporter.results.has(c.id));
  if (failed) for (const f of await target.collectDiagnostics()) artifacts[relative(reportDir, f)] = relative(reportDir, f);
  await target.stop();
  if (target.kind === "nginx") for (const f of ["nginx/nginx.conf", "nginx/error.log", "nginx/access.log"]) artifacts[f] = f;
  return { suites: [group.name], kind: target.kind, description: target.description, versions: target.versions, ...target.details };
}

/** Phase 5: evidence, reports, signature, the closing lines, and the exit code. */
async function concludeRun(run: RunState, subject: RunSubject): Promise<RunOutcome> {
  const { reporter, log, reportDir, timings, options, plan } = run;
  const checks = subject.groups.flatMap((g) => g.checks);
  const scenarioResults = scenarioEvidence(checks, reporter.results, reporter.runErrors, plan.scenarios);
  const sum = totals(scenarioResults);
  run.lap("totalMs", run.t0);
  const tReports = performance.now();
  const evidence = assembleEvidence({ ...run, scenarioResults, runErrors: reporter.runErrors, subject });
  const junitGroups = subject.groups.map((g) => ({ file: g.junitFile, ids: new Set(g.checks.map((c: Check) => c.id)) }));
  const junitPaths = await writeReports(evidence, junitGroups, reportDir, run.artifacts);
  const signed = await signReportDir(reportDir, evidence, options.signingKey);
  run.lap("reportsMs", tReports);

  // Never green on nothing: a run in which no probe ran has checked nothing, whatever else it did.
  const nothingChecked = sum.checked === 0;
  const unchecked = uncheckedIngresses(evidence);
  if (nothingChecked) {
    const statics = evidence.scenarios.filter((s) => s.static).length;
    const notRun = sum.total - sum.skip - statics;
    const parts = [`${sum.skip} skipped`, ...(notRun ? [`${notRun} not run`] : []), ...(statics ? [`${statics} static`] : [])];
    log(`NOTHING WAS CHECKED: no probe ran (${parts.join(", ")}); this run proves nothing and fails`);
    const notServed = evidence.ingresses.filter((i) => i.notServed);
    if (notServed.length) log(`  ${notServed.length} Ingress(es) not served by the controller under test, e.g. ${notServed[0]!.id}: ${notServed[0]!.notServed} (--ingress-class names the class it serves)`);
  }
  else for (const id of unchecked) log(`nothing was checked for Ingress ${id}: every check of it was skipped`);
  const lost = sum["guarantee-lost"] ?? 0;
  if (plan.successor && plan.successor.profile.name !== "ingress-nginx") {
    const by = (k: string) => evidence.scenarios.filter((s) => s.migration?.class === k).length;
    log(`${plan.successor.profile.title} ${plan.successor.row.versions}: ${lost} guarantee(s) observed lost, ${by("equivalent")} equivalent, ${by("same")} same, ${by("stricter")} stricter, ${by("not-expressible")} not expressible (skipped); rows rest on source reading, see evidence.json${lost && !options.strict ? " (--strict fails the run on a lost guarantee)" : ""}`);
  }
  log(
    `${sum.pass} passed, ${sum.fail} failed, ${sum.skip} skipped${sum.finding ? `, ${sum.finding} finding(s)` : ""}${lost ? `, ${lost} guarantee(s) lost` : ""} of ${sum.total} (${sum.checked} probe(s) ran; target ${plan.choice.target.kind}, ${timings.totalMs} ms)`,
  );
  for (const e of reporter.runErrors) log(`error: ${e}`);
  log(`evidence: ${join(reportDir, "evidence.json")} (report.html, summary.md)`);
  log(`signed:   ${signed.files} files, Ed25519 key sha256:${signed.fingerprint}` + (signed.generatedKey ? ` (a key made for this run; public half in ${PUBLIC_KEY_FILE})` : ""));
  for (const p of junitPaths) log(`junit:    ${p}`);
  // Findings are documented behaviour, reported but not failures: a run with only findings exits 0.
  // So is a guarantee a successor loses, unless --strict.
  const failed = sum.fail > 0 || sum.pass + sum.skip + sum.finding + (options.strict ? 0 : lost) < sum.total || nothingChecked || unchecked.length > 0;
  return { exitCode: failed ? 1 : 0, evidence, evidencePath: join(reportDir, "evidence.json"), junitPath: junitPaths[0]!, timings };
}

function assembleEvidence(input: Pick<RunState, "runId" | "startedAt" | "options" | "namespace" | "timings" | "plan" | "targets" | "artifacts" | "reportDir"> & {
  subject: RunSubject;
  scenarioResults: ReturnType<typeof scenarioEvidence>;
  runErrors: string[];
}): Evidence {
  const { options, subject, targets, scenarioResults, plan } = input;
  const [first] = targets;
  const coverageOf = plan.scenarios
    ? controlCoverage(plan.catalogue, plan.scenarios)
    : plan.catalogue.controls.map((c) => ({ ...c, scenarios: scenarioResults.filter((s) => s.controls.includes(c.id)).map((s) => s.id) }));
  const { audit: _audit, ...targetOptions } = options.targetOptions ?? {};
  for (const f of ["evidence.json", "report.html", "summary.md", MANIFEST_FILE, ENVELOPE_FILE, PUBLIC_KEY_FILE]) input.artifacts[f] = f;
  return {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    tool: { ...TOOL, node: process.version },
    run: {
      id: input.runId,
      startedAt: input.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      command: options.command,
      options: {
        target: options.target,
        only: options.only ?? null,
        reportDir: input.reportDir,
        namespace: input.namespace,
        isolate: !!options.isolate,
        manifests: options.manifests ?? null,
        audit: !!options.targetOptions?.audit,
        ...(options.crossCheck ? { crossCheck: options.crossCheck } : {}),
        ...targetOptions,
      },
      timingsMs: input.timings,
    },
    target: { ...first!, controller: controllerOf(options), selection: plan.choice.why, ...(targets.length > 1 ? { isolated: targets } : {}) },
    subject: { origin: subject.origin, source: subject.source, changes: subject.changes },
    policies: subject.policies,
    ingresses: ingressEvidence(subject.ingresses, scenarioResults),
    scenarios: scenarioResults,
    certificates: subject.certificates.map(certificateEvidence),
    caBundleSha256: subject.caBundleSha256,
    crlSha256: subject.crlSha256,
    controls: controlEvidence(coverageOf, scenarioResults),
    findings: findings(scenarioResults),
    ...(plan.successor && plan.successor.profile.name !== "ingress-nginx"
      ? {
          profile: {
            name: plan.successor.profile.name,
            title: plan.successor.profile.title,
            versions: plan.successor.row.versions,
            strict: !!options.strict,
            basis: `each scenario's migration.sources say how its expectation is known (code, doc, test, inferred); none was observed on a live ${plan.successor.profile.name} before this run, and this run observed the target named above`,
          },
        }
      : {}),
    artifacts: input.artifacts,
    runErrors: input.runErrors,
    totals: totals(scenarioResults),
  };
}

/** A vitest instance over the given suite files, ready to start. */
async function createSuiteRunner(suites: string[], reporter: ProgressReporter, concurrency: number, testTimeoutMs = 60_000): Promise<Vitest> {
  const { createVitest } = await import("vitest/node");
  return createVitest(
    {
      config: false,
      root: ROOT,
      include: suites.map((s) => `suites/${s}.conformance.ts`),
      watch: false,
      run: true,
      reporters: [reporter],
      testTimeout: testTimeoutMs,
      hookTimeout: 60_000,
      maxConcurrency: concurrency,
      // One thread, no per-file isolation: the suites share no state, and a worker per file
      // costs more (start-up, transforms) than all the probes together (npm run bench).
      pool: "threads",
      isolate: false,
      maxWorkers: 1,
    },
    { logLevel: "error" },
    // The run prints its own lines.
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
