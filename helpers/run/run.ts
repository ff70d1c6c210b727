// One conformance run, in phases: plan (everything that can fail early) -> subject (the objects
// under test and their checks, with credentials and expectations) -> for each group: deploy or
// find the target, run the checks -> evidence -> reports and signature. The CLI and the project's
// own tests both call runConformance().
import { createHash, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { catalogue as defaultCatalogue } from "../../fixtures/catalogue.ts";
import { controlCoverage, selectScenarios, validateCatalogue, type Catalogue, type Scenario } from "../catalogue/catalogue.ts";
import type { Check } from "../checks/check.ts";
import type { ProfileChoice } from "../checks/from-catalogue.ts";
import { profileByName, profileRow } from "../profiles/registry.ts";
import { checkSigningKey, ENVELOPE_FILE, MANIFEST_FILE, PUBLIC_KEY_FILE, signReportDir } from "../reports/attestation.ts";
import { onCleanup } from "../support/cleanup.ts";
import { DEFAULT_UPDATE_TIMEOUT_MS, STAGE_PROBE_MARGIN_MS, startControlServer, type ControlServer } from "./control-server.ts";
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
import type { HarnessFault, StartedTarget } from "../targets/target.ts";
import { applyHarnessFaults, faultLines, HARNESS_FAULT_EXIT } from "./harness-faults.ts";
import { exitCodeOf, overallVerdict } from "../reports/run-verdict.ts";
import type { MutantName } from "../controllers/ingress-nginx/mutants.ts";
import { parseControllerName, type ControllerName } from "../targets/controllers.ts";
import { CONTROLLERS } from "../controllers/index.ts";
import { classify as classifyGuarantee, MIGRATION_PROFILES, type HostFacts, type MigrationProfile } from "../profiles/guarantees.ts";
import { GUARANTEES } from "../profiles/profile.ts";
import { BROWSER_SUITE, BROWSER_HOST, browserChecks } from "../browser/browser-checks.ts";
import { policiesOf, type SubjectOrigin } from "./subject.ts";
import { judgeInventory } from "./inventory-step.ts";
import { foundUnits, planShard, shardLabel, sliceFound, sliceUserObjects, suiteUnits, userUnits, type ShardRecord, type ShardSettings, type ShardSpec } from "./shard.ts";
import { GUIDE_COMMAND_RULES } from "../checks/guide-commands.ts";
import { catalogueSubject, foundSubject, manifestsSubject, type Deployment, type RunSubject, type SubjectGroup } from "./subject.ts";

/** Where bin/, helpers/ and suites/ are: the clone, or dist/ of the installed package. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The package's own package.json: in ROOT in a clone, above dist/ when installed. */
const PACKAGE = JSON.parse(readFileSync(existsSync(join(ROOT, "package.json")) ? join(ROOT, "package.json") : join(ROOT, "..", "package.json"), "utf8")) as { name: string; version: string };
/** ".ts" in a clone (Node runs the sources), ".js" in the built package. */
const SOURCE_EXT = extname(fileURLToPath(import.meta.url));
export const TOOL = { name: PACKAGE.name, version: PACKAGE.version };

/** Probes in flight at once, per group. */
export const DEFAULT_CONCURRENCY = 24;

export interface RunOptions {
  target: string;
  reportDir: string;
  only?: string;
  /** A certificate or CRL in force ending within this many days is a finding (default 30). */
  expiryWarningDays?: number;
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
  /**
   * `migration --observe`: a successor (--controller) serves the user's own Ingresses, every check
   * keeps ingress-nginx's expectation, and each observation is classified against it (same,
   * equivalent, lost, stricter) instead of failing: what the move would change, observed.
   */
  compareWithBaseline?: boolean;
  /** A guarantee lost on the successor fails the run (exit 1) instead of being reported like a finding. */
  strict?: boolean;
  /** Also run the guide's browser step (MTLS-BROWSER-001..004) in headless Chromium; skipped with the reason where it cannot run. */
  browser?: boolean;
  /** --cross-check curl: every probing check is also made with curl; a disagreement fails the check. */
  crossCheck?: "curl";
  /** The curl executable for --cross-check (default: curl on PATH); the project's tests point it at a fake. */
  curlBinary?: string;
  /** --shard I/N: only this slice of the input (helpers/run/shard.ts); `mtls-conformance merge` joins the slices. */
  shard?: ShardSpec;
}

export interface RunOutcome {
  /** 0 every check passed (or is a finding), 1 a check failed or nothing was checked, 3 the harness was at fault (HARNESS_FAULT_EXIT). */
  exitCode: 0 | 1 | 3;
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
  /** The controller that serves the Ingresses is the successor the checks expect: what it does is observed, not read. */
  observesSuccessor?: boolean;
  /** compareWithBaseline: the successor whose observations are classified against ingress-nginx's expectations. */
  compare?: { profile: string; versions: string; live?: boolean };
  /** Suites that get a data plane of their own, run beside the rest (SubjectGroup.deployments). */
  ownDeployment?: string[];
  /** --shard: this slice of the input (for a live endpoint or an audit, set once the Ingresses are found). */
  shard?: ShardRecord;
  /** --browser, where this run holds the browser step (a shard may not). */
  browser?: boolean;
}

/** What one group's target was, for the evidence. */
/** A stretch of the run's wall time, in ms since the process started (performance.timeOrigin). */
export interface Span {
  name: string;
  startMs: number;
  endMs: number;
}

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
  // A successor's controller gets its profile, at the row of the version the run deploys.
  if (options.compareWithBaseline) {
    const controller = controllerOf(options);
    if (controller === "ingress-nginx") throw new ConfigError("comparing with ingress-nginx needs a successor to serve the Ingresses (--controller traefik or nginx-gateway-fabric)");
    if (options.profile) throw new ConfigError("--profile and a comparison with ingress-nginx exclude each other: the checks keep ingress-nginx's expectations");
    if (!user) throw new ConfigError("a comparison with ingress-nginx runs your own Ingresses (--manifests)");
    return { choice, catalogue, ...userShard(user, options), suites: ["ingresses"], compare: { profile: CONTROLLERS[controller].profile, versions: CONTROLLERS[controller].version } };
  }
  // A live deployment of a successor (endpoint, cluster --audit): the checks generated from its
  // Ingresses keep ingress-nginx's expectations; each observation is classed against them and held
  // to the class the successor's guarantee rows give for the host (a loss they predict is reported
  // as lost, any other difference fails).
  if (found && !options.profile && controllerOf(options) !== "ingress-nginx") {
    const controller = controllerOf(options);
    const entry = CONTROLLERS[controller];
    if (!(MIGRATION_PROFILES as readonly string[]).includes(entry.profile) || controller === "nginx-gateway-fabric") {
      throw new ConfigError(`--controller ${controller} serves Gateways, not the Ingresses a live check reads; use --target local --controller ${controller} to observe its rendering`);
    }
    return { choice, catalogue, suites: ["ingresses"], compare: { profile: entry.profile, versions: entry.version, live: true } };
  }
  // A successor serving the Ingresses makes the checks expect its profile, at the version this project runs.
  const served = CONTROLLERS[controllerOf(options)];
  const byController = served.profile !== "ingress-nginx" ? served.profile : undefined;
  const profileName = options.profile ?? byController;
  const successor = profileName || options.profileVersion ? successorChoice(profileName ?? "ingress-nginx", options.profileVersion ?? (byController && profileName === byController ? served.version : undefined)) : undefined;
  if ((found || user) && successor && successor.profile.name !== "ingress-nginx") {
    const how = options.profile ? `--profile ${successor.profile.name}` : `--controller ${controllerOf(options)} (the ${successor.profile.name} profile)`;
    throw new ConfigError(`${how} applies to the catalogue's scenarios; for your own Ingresses, \`mtls-conformance migration --manifests PATH --to ${successor.profile.name}\` says what each keeps and loses`);
  }
  if ((found || user) && options.browser) throw new ConfigError("--browser runs the guide's browser step on the catalogue's guide Ingress, not on your own Ingresses");
  if (found || user) return { choice, catalogue, ...(user ? userShard(user, options) : {}), suites: ["ingresses"] };
  let scenarios = selectScenarios(catalogue.scenarios, options.only);
  if (scenarios.length === 0) throw new ConfigError(`--only ${JSON.stringify(options.only)} matches no scenario (see \`mtls-conformance list\`)`);
  if (options.browser && !scenarios.some((s) => s.policy === "guide")) throw new ConfigError("--browser needs the guide's Ingress deployed: --only must select at least one scenario of the guide policy (e.g. --only 'MTLS-GUIDE-*')");
  // --shard: this machine's suites of the selection (checked whole above, so every shard agrees on it).
  const sharded = options.shard ? catalogueShard(catalogue, scenarios, options, successor) : undefined;
  if (sharded) scenarios = scenarios.filter((s) => sharded.shard.units.some((u) => u.id === s.suite));
  const browser = sharded ? sharded.browser : !!options.browser;
  // A suite whose checks are all decided after the probes (the guide's commands) has no test to run.
  const probed = scenarios.filter((s) => !(s.lint && (GUIDE_COMMAND_RULES as readonly string[]).includes(s.lint)));
  const suites = [...new Set(probed.map((s) => s.suite)), ...(browser ? [BROWSER_SUITE] : [])];
  // The lifecycle suite's ten reloads in order are the catalogue's longest chain: where a data
  // plane costs ~0.1 s to start (nginx), it gets one of its own and runs beside the other suites.
  // A cluster is not cheap to start twice, so there everything shares one.
  const ownDeployment = choice.target.kind === "nginx" && !options.isolate && suites.includes("lifecycle") && suites.length > 1 ? ["lifecycle"] : undefined;
  const observesSuccessor = !!successor && successor.profile.name !== "ingress-nginx" && controllerOf(options) === successor.profile.name;
  return { choice, catalogue, scenarios, suites, browser, ...(sharded ? { shard: sharded.shard } : {}), ...(successor ? { successor } : {}), ...(observesSuccessor ? { observesSuccessor } : {}), ...(ownDeployment ? { ownDeployment } : {}) };
}

/** What decides a shard's checks besides its units: shards that differ here are not slices of one run. */
function shardSettings(options: RunOptions, origin: SubjectOrigin, successor?: ProfileChoice): ShardSettings {
  return {
    origin,
    only: options.only ?? null,
    profile: successor && successor.profile.name !== "ingress-nginx" ? `${successor.profile.name}@${successor.row.versions}` : null,
    strict: !!options.strict,
    browser: !!options.browser,
    crossCheck: options.crossCheck ?? null,
  };
}

/** --shard over the catalogue: a unit per suite of the selection; the browser step goes with the suite of the first scenario on the guide's Ingress. */
function catalogueShard(catalogue: Catalogue, scenarios: Scenario[], options: RunOptions, successor?: ProfileChoice): { shard: ShardRecord; browser: boolean } {
  const browserSuite = options.browser ? scenarios.find((s) => s.policy === "guide")?.suite : undefined;
  const units = suiteUnits(scenarios, (list) => ({ scenarios: list, policies: policiesOf(catalogue, list) }), browserSuite ? { [browserSuite]: browserChecks().length } : {});
  const shard = planShard(units, options.shard!, shardSettings(options, "catalogue", successor));
  return { shard, browser: !!browserSuite && shard.units.some((u) => u.id === browserSuite) };
}

/** --shard over --manifests: this shard's Ingresses, with the Secrets and Services they name. */
function userShard(user: UserObjects, options: RunOptions): { user: UserObjects; shard?: ShardRecord } {
  if (!options.shard) return { user };
  const shard = planShard(userUnits(user), options.shard, shardSettings(options, "manifests"));
  return { user: sliceUserObjects(user, shard), shard };
}

/**
 * A shard with nothing to check (more shards than units, or --only leaves it nothing): its signed
 * report says so and it exits 0, so a CI matrix or an Indexed Job does not fail on it; it is never
 * a verdict, since `mtls-conformance merge` judges the whole run (nothing checked there fails).
 */
async function concludeEmptyShard(run: RunState, subject: RunSubject): Promise<RunOutcome> {
  const { log, reportDir, timings, options, plan } = run;
  const shard = plan.shard!;
  const why = !shard.units.length ? `the input has ${shard.unitCount} unit(s) for ${shard.count} shards` : options.only ? `--only leaves no check in its ${shard.units.length} unit(s)` : `its ${shard.units.length} unit(s) have no check`;
  const note = `shard ${shardLabel(shard)} has nothing to check (${why}); \`mtls-conformance merge\` judges the whole run`;
  subject.changes.push(note);
  // With --manifests the objects began deploying before --only left nothing: stopped before signing, as a run's target is.
  const early = await run.early?.catch(() => undefined);
  run.early = undefined;
  await early?.started?.stop();
  run.targets.push({ suites: [], kind: plan.choice.target.kind, description: early?.started ? `stopped unused: ${early.started.description}` : "not started: this shard has nothing to check", versions: early?.started?.versions ?? {} });
  await run.pkiWritten;
  run.lap("totalMs", run.t0);
  const evidence = assembleEvidence({ ...run, scenarioResults: [], runErrors: run.reporter.runErrors, subject });
  const [junitPath] = await writeReports(evidence, [{ file: "junit.xml", ids: new Set<string>() }], reportDir, run.artifacts);
  const signed = await signReportDir(reportDir, evidence, options.signingKey);
  log(note);
  log(`evidence: ${join(reportDir, "evidence.json")}; signed: ${signed.files} files, Ed25519 key sha256:${signed.fingerprint}`);
  return { exitCode: 0, evidence, evidencePath: join(reportDir, "evidence.json"), junitPath: junitPath!, timings };
}

/** The subject of a shard that holds nothing: no objects, no checks. */
function emptySubject(origin: SubjectOrigin, source: string): RunSubject {
  return { origin, source, changes: [], groups: [], credentials: {}, certificates: [], trust: {}, hostTrust: {}, policies: [], ingresses: [], caBundleSha256: sha256(""), crlSha256: null, writeFiles: async () => [] };
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
    let found = await plan.choice.target.discover(log);
    // --shard: what is deployed is known only now; only this shard's Ingresses are checked.
    if (options.shard) {
      plan.shard = planShard(foundUnits(found), options.shard, shardSettings(options, found.origin));
      found = sliceFound(found, plan.shard);
      if (!found.ingresses.length) return { finish: async () => emptySubject(found.origin, found.source) };
    }
    const subject = foundSubject({ found, only: options.only, ingressClass: options.ingressClass, expiryWarningDays: options.expiryWarningDays });
    return { finish: () => subject };
  }
  if (plan.shard && !plan.shard.units.length) return { finish: async () => emptySubject(plan.user ? "manifests" : "catalogue", plan.user?.source ?? "the catalogue's own Ingresses (fixtures/catalogue.ts)") };
  if (plan.user) {
    const started = await manifestsSubject({ user: plan.user, only: options.only, ingressClass: options.ingressClass, expiryWarningDays: options.expiryWarningDays });
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
  const subject = await catalogueSubject({ catalogue: plan.catalogue, scenarios: plan.scenarios!, namespace, isolate: !!options.isolate, alterManifests: options.alterManifests, ingressClass: options.ingressClass, successor: plan.successor, ownDeployment: plan.ownDeployment, expiryWarningDays: options.expiryWarningDays });
  return { finish: async () => subject };
}

/** Phase 3 (per group): deploys the group's objects, or finds them deployed; never throws. */
async function startTarget(
  plan: RunPlan,
  deploy: { manifests?: Manifests; hosts: string[]; foreignCaPem?: string; instance?: string },
  ctx: { workDir: string; reportDir: string; log: (line: string) => void; mutant?: MutantName; ingressClass?: string; alterTarget?: RunOptions["alterTarget"]; artifacts: Record<string, string> },
): Promise<{ started?: StartedTarget; deployError?: string }> {
  try {
    const mutation = ctx.mutant ? { name: ctx.mutant, foreignCaPem: deploy.foreignCaPem } : undefined;
    if (mutation) ctx.log(`MUTANT ${mutation.name}: a deliberately broken data plane; this run is expected to fail`);
    const launched = await plan.choice.target.start({ manifests: deploy.manifests, hosts: deploy.hosts, workDir: ctx.workDir, reportDir: ctx.reportDir, log: ctx.log, mutation, ingressClass: ctx.ingressClass, ...(deploy.instance ? { instance: deploy.instance } : {}) });
    const started = ctx.alterTarget ? ctx.alterTarget(launched) : launched;
    if (deploy.manifests) ctx.log(`deployed ${deploy.manifests.ingresses.length} Ingress(es) on ${started.kind}${deploy.instance ? ` (its own data plane for the ${deploy.instance} suite, beside the others)` : ""}: ${started.description}`);
    return { started };
  } catch (error) {
    // A target that finds the run's configuration unusable (a ConfigError: a k3s whose chart drops
    // the provider's values, a controller the run must not install over) ends the run with exit 2,
    // as the preflight does; nothing it started is left (the run's close stops it).
    if (error instanceof ConfigError) throw error;
    // Otherwise the run goes on, so every check is reported as not run and the evidence says why.
    const deployError = (error as Error).message;
    ctx.log(`deploy failed: ${deployError}`);
    for (const f of (error as { diagnostics?: string[] }).diagnostics ?? []) ctx.artifacts[relative(ctx.reportDir, f)] = relative(ctx.reportDir, f);
    return { deployError };
  }
}

/**
 * Phase 4 (per group): the checks, in the vitest worker(s), against what the target serves. The
 * first group's vitest started at the beginning of the run and waits for this context.
 */
async function executeChecks(
  run: RunState,
  context: RunContext,
  group: SubjectGroup,
  staged: { target?: StartedTarget; manifests?: Manifests; context: Pick<RunContext, "controlUrl"> },
  subject: RunSubject,
): Promise<void> {
  // The lifecycle suite changes the deployed objects through the target while it runs.
  let currentStage = "missing-secret";
  const { target, manifests } = staged;
  const stages = !!(target?.update && manifests && subject.atStage && group.checks.some((c) => c.stage));
  run.control.setStageHandler(
    stages
      ? async (stage) => {
          if (stage === currentStage) return;
          await target!.update!(subject.atStage!(manifests!, stage));
          currentStage = stage;
          run.log(`  lifecycle: objects moved to stage "${stage}"`);
        }
      : undefined,
    target?.updateTimeoutMs,
  );
  staged.context.controlUrl = stages ? run.control.url : undefined;
  run.control.setContext(context);
  const started = run.vitest ?? startSuiteRunner(run.reporter, run.concurrency, run.control.url, run.options.testTimeoutMs);
  run.vitest = undefined;
  try {
    await started.done;
  } finally {
    await (await started.instance.catch(() => undefined))?.close();
    run.control.setStageHandler(undefined);
  }
}

/**
 * A check as the suites need it to probe and judge: what reports say of it (its MUST, basis,
 * controls, descriptions) stays in the run, which holds every check; at 13,500 checks that is
 * tens of MB the worker need not parse and keep.
 */
function forTheSuites(c: Check): Check {
  const { must: _must, basis: _basis, controls: _controls, note: _note, credentialDescription: _description, ingress: _ingress, ...needed } = c;
  return { ...needed, must: "", controls: [] };
}

function contextFor(runId: string, plan: RunPlan, subject: RunSubject, group: SubjectGroup, target: StartedTarget | undefined, deployError: string | undefined, concurrency: number, suites?: string[]): RunContext {
  const hosts = [...new Set(group.checks.filter((c) => !suites || suites.includes(c.suite)).map((c) => c.host).filter(Boolean))];
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
    checks: group.checks.map(forTheSuites),
    endpoints: Object.fromEntries(hosts.flatMap((h) => (endpoint(h) ? [[h, endpoint(h)!]] : []))),
    httpEndpoints: target?.httpEndpointFor ? Object.fromEntries(hosts.flatMap((h) => (target.httpEndpointFor!(h) ? [[h, target.httpEndpointFor!(h)!]] : []))) : {},
    trust: subject.trust,
    hostTrust: subject.hostTrust,
    ...(subject.serverPins ? { serverPins: subject.serverPins } : {}),
    ...(subject.serverKeyPins ? { serverKeyPins: subject.serverKeyPins } : {}),
    acceptAnyEcho: subject.acceptAnyEcho,
    noEcho: subject.noEcho,
    credentials: subject.credentials,
    deployError,
    settleMs: target?.settleMs ?? 0,
    stageTimeoutMs: (target?.updateTimeoutMs ?? DEFAULT_UPDATE_TIMEOUT_MS) + (target?.settleMs ?? 0) + STAGE_PROBE_MARGIN_MS,
    concurrency,
    ...(plan.observesSuccessor ? { observesSuccessor: true } : {}),
    ...(plan.compare ? { compare: plan.compare.live ? { ...plan.compare, expected: expectedClasses(plan.compare.profile as MigrationProfile, subject.hostFacts ?? {}) } : plan.compare } : {}),
  };
}

/** Per host and guarantee: the class the successor's rows give for what ingress-nginx enforces there. */
function expectedClasses(profile: MigrationProfile, facts: Record<string, HostFacts>): NonNullable<RunContext["compare"]>["expected"] {
  return Object.fromEntries(
    Object.entries(facts).map(([host, f]) => [host, Object.fromEntries(GUARANTEES.map((g) => { const r = classifyGuarantee(profile, g, f); return [g, { class: r.class, reason: r.reason }]; }))]),
  );
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
  /** Where the wall time went (ms since the process started): the evidence's run.spans, read by npm run bench. */
  spans: Span[];
  span(name: string, since: number): void;
  reportDir: string;
  workDir: string;
  namespace: string;
  concurrency: number;
  reporter: ProgressReporter;
  /** Started while the subject is built (vitest is slow to start: its workers wait for the context); taken by the first group. */
  vitest?: StartedSuiteRunner;
  /** Where the suites get their context and ask for lifecycle stages. */
  control: ControlServer;
  /** Faults of the harness the targets reported (HarnessFault): they make the run exit 3. */
  faults: HarnessFault[];
  artifacts: Record<string, string>;
  targets: TargetRecord[];
  /** The targets running now, stopped on the way out whatever happens. */
  started: StartedTarget[];
  /** When the early deployment started. */
  earlyAt?: number;
  /** A deployment started while the checks were still being made (--manifests). */
  early?: Promise<{ started?: StartedTarget; deployError?: string }>;
  pkiWritten: Promise<unknown>;
  close(): Promise<void>;
}

export async function runConformance(options: RunOptions): Promise<RunOutcome> {
  const run = await openRun(options);
  try {
    const subject = await prepareSubject(run);
    if (run.plan.shard && subject.groups.every((g) => g.checks.length === 0)) return await concludeEmptyShard(run, subject);
    for (const group of subject.groups) run.targets.push(...(await runGroup(run, subject, group)));
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
  const tPlanned = performance.now();
  log(`target: ${plan.choice.target.kind} (${plan.choice.why})`);

  await mkdir(reportDir, { recursive: true });
  const workDir = await mkdtemp(join(tmpdir(), "mtls-conformance-"));
  const removeWorkDir = onCleanup(
    () => rm(workDir, { recursive: true, force: true }),
    () => rmSync(workDir, { recursive: true, force: true }),
  );
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const reporter = new ProgressReporter(log, 0);
  const control = await startControlServer();
  const run: RunState = {
    options,
    plan,
    log,
    runId,
    startedAt,
    t0,
    timings,
    lap: (name, since) => {
      timings[name] = (timings[name] ?? 0) + Math.round(performance.now() - since);
      // Deploys have a span each (runGroup); the total is the whole.
      if (name !== "totalMs" && name !== "deployMs") run.span(name.replace(/Ms$/, ""), since);
    },
    spans: [{ name: "startup", startMs: 0, endMs: Math.round(t0) }, { name: "plan", startMs: Math.round(t0), endMs: Math.round(tPlanned) }],
    span: (name, since) => void run.spans.push({ name, startMs: Math.round(since), endMs: Math.round(performance.now()) }),
    reportDir,
    workDir,
    namespace: options.namespace ?? plan.choice.target.defaultNamespace ?? "default",
    concurrency,
    reporter,
    // Vitest takes a while to load and start: let it do so while the subject is built; the suites
    // wait for their context on the control server.
    vitest: startSuiteRunner(reporter, concurrency, control.url, options.testTimeoutMs, (since) => run.span("vitest ready", since)),
    control,
    artifacts: { pki: "pki/" },
    targets: [],
    started: [],
    faults: [],
    pkiWritten: Promise.resolve(),
    close: async () => {
      // Workers still waiting for a context are told there is none, so vitest can end.
      run.control.failContext("the run ended before its checks were ready");
      await run.vitest?.instance.then((v) => v.close()).catch(() => undefined);
      await run.vitest?.done.catch(() => undefined);
      await run.control.close();
      const late = await run.early?.catch(() => undefined);
      if (late?.started && !run.started.includes(late.started)) await late.started.stop();
      await Promise.all(run.started.map((t) => t.stop()));
      await run.pkiWritten.catch(() => undefined);
      await removeWorkDir();
    },
  };
  run.vitest!.done.catch(() => undefined);
  return run;
}

/** Phase 2: the subject, with the user's objects deploying meanwhile where they are known first. */
async function prepareSubject(run: RunState): Promise<RunSubject> {
  const tSubject = performance.now();
  const begun = await buildSubject(run.plan, run.options, run.namespace, run.log);
  if (begun.manifests) {
    const hosts = [...new Set(begun.manifests.ingresses.flatMap((i) => (i.spec?.rules ?? []).map((r) => r.host).filter((h): h is string => !!h)))];
    run.earlyAt = performance.now();
    run.early = startTarget(run.plan, { manifests: begun.manifests, hosts }, { ...run, mutant: run.options.mutant, ingressClass: run.options.ingressClass, alterTarget: run.options.alterTarget });
  }
  const subject = await begun.finish();
  if (run.plan.browser) addBrowserChecks(subject);
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

/** Phases 3 and 4 for one group: its target(s) up (or found), its checks run, the target(s) stopped. */
async function runGroup(run: RunState, subject: RunSubject, group: SubjectGroup): Promise<TargetRecord[]> {
  const { reportDir, artifacts, plan } = run;
  if (group.manifests && group.manifestsFile) {
    await writeFile(join(reportDir, group.manifestsFile), manifestsYaml(redactedManifests(group.manifests, sha256)));
    artifacts[group.manifestsFile] = group.manifestsFile;
  }
  if (subject.groups.length > 1) run.log(`-- suite ${group.name}: its own ${plan.choice.target.kind} target (--isolate)`);
  const tDeploy = performance.now();
  // One deployment serves every suite, unless some have one of their own (group.deployments):
  // those start side by side and their suites run beside each other.
  const suitesOf = (d?: Deployment) => d?.suites;
  const deployments: Array<Deployment | undefined> = group.deployments ?? [undefined];
  const hostsOf = (d?: Deployment) => [...new Set(group.checks.filter((c) => !d || d.suites.includes(c.suite)).map((c) => c.host).filter(Boolean))];
  const ctx = { ...run, mutant: run.options.mutant, ingressClass: run.options.ingressClass, alterTarget: run.options.alterTarget };
  const startedAll = await Promise.all(
    deployments.map(async (d, i) => {
      const t = performance.now();
      const started = await (i === 0 && run.early ? run.early : startTarget(plan, { manifests: d?.manifests ?? group.manifests, hosts: hostsOf(d), foreignCaPem: subject.foreignCaPem, instance: d?.name || undefined }, ctx));
      run.span(`deploy${d?.name ? ` ${d.name}` : ""}`, i === 0 && run.early ? run.earlyAt ?? t : t);
      return started;
    }),
  );
  run.early = undefined;
  run.started = startedAll.flatMap((x) => (x.started ? [x.started] : []));
  run.lap("deployMs", tDeploy);
  // What is in force, judged before the probes: a host's presented certificate may change how they verify it.
  if (subject.inventoryInput && group === subject.groups[0]) {
    const tInventory = performance.now();
    const checks = await judgeInventory({ subject, group, started: startedAll[0]?.started, only: run.options.only, log: run.log });
    run.reporter.total += checks.length;
    for (const c of checks) run.reporter.recordDecided(c);
    run.lap("inventoryMs", tInventory);
  }

  const tSuites = performance.now();
  const [main, ...others] = startedAll;
  const context: RunContext = { ...contextFor(run.runId, plan, subject, group, main!.started, main!.deployError, run.concurrency, suitesOf(deployments[0])), ...curlContext(run, subject) };
  context.reportDir = reportDir;
  context.bySuite = {};
  for (const [i, other] of others.entries()) {
    const d = deployments[i + 1]!;
    const own = contextFor(run.runId, plan, subject, group, other.started, other.deployError, run.concurrency, d.suites);
    const deployment = { target: own.target, endpoints: own.endpoints, httpEndpoints: own.httpEndpoints, deployError: own.deployError, settleMs: own.settleMs, stageTimeoutMs: own.stageTimeoutMs };
    for (const suite of d.suites) context.bySuite[suite] = deployment;
  }
  // The objects that change by stage are those of the deployment serving the staged checks.
  const stagedAt = deployments.findIndex((d) => !d || group.checks.some((c) => c.stage && d.suites.includes(c.suite)));
  const stagedDeployment = deployments[Math.max(stagedAt, 0)];
  const stagedContext = stagedDeployment?.name ? context.bySuite[stagedDeployment.suites[0]!]! : context;
  await executeChecks(run, context, group, { target: startedAll[Math.max(stagedAt, 0)]!.started, manifests: stagedDeployment?.manifests ?? group.manifests, context: stagedContext }, subject);
  run.lap("suitesMs", tSuites);
  for (const [name, m] of run.reporter.suiteSpans) run.spans.push({ name: `suite ${name}`, startMs: Math.round(m.startMs), endMs: Math.round(m.endMs) });
  run.reporter.suiteSpans.clear();
  await decideAfterProbes(run, subject, group);
  for (const c of group.checks.filter((x) => x.suite === BROWSER_SUITE)) if (existsSync(join(reportDir, "browser", `${c.name}.png`))) artifacts[`browser/${c.name}.png`] = `browser/${c.name}.png`;

  const records: TargetRecord[] = [];
  for (const [i, { started: target, deployError }] of startedAll.entries()) {
    const suites = deployments[i]?.suites ?? [group.name];
    if (!target) {
      records.push({ suites, kind: plan.choice.target.kind, description: "did not come up", versions: {}, deployError });
      continue;
    }
    // The data plane's own account of faults of the harness, read before it stops.
    const faults = (await target.health?.().catch((error: Error): HarnessFault[] => [{ source: `${target.kind} target`, message: `its health could not be read: ${error.message}` }])) ?? [];
    for (const f of faults) run.faults.push(deployments[i]?.name ? { ...f, source: `${f.source} (${deployments[i]!.name})` } : f);
    const failed = faults.length > 0 || group.checks.some((c) => (!deployments[i] || deployments[i]!.suites.includes(c.suite)) && (run.reporter.results.get(c.id)?.verdict === "fail" || !run.reporter.results.has(c.id)));
    if (failed) for (const f of await target.collectDiagnostics()) artifacts[relative(reportDir, f)] = relative(reportDir, f);
    await target.stop();
    if (target.kind === "nginx") {
      const dir = deployments[i]?.name ? `nginx-${deployments[i]!.name}` : "nginx";
      for (const f of ["nginx.conf", "error.log", "access.log"]) if (existsSync(join(reportDir, dir, f))) artifacts[`${dir}/${f}`] = `${dir}/${f}`;
    }
    records.push({ suites, kind: target.kind, description: target.description, versions: target.versions, ...target.details });
  }
  run.started = [];
  return records;
}

/** The group's checks whose verdicts came from work beside the probes (the guide's commands). */
async function decideAfterProbes(run: RunState, subject: RunSubject, group: SubjectGroup): Promise<void> {
  if (!group.checks.some((c) => c.decidedAfterProbes) || !subject.decideLater) return;
  const t = performance.now();
  const ids = new Set(group.checks.map((c) => c.id));
  for (const c of await subject.decideLater()) if (ids.has(c.id)) run.reporter.recordDecided(c);
  run.lap("decidedAfterProbesMs", t);
}

/** Phase 5: evidence, reports, signature, the closing lines, and the exit code. */
async function concludeRun(run: RunState, subject: RunSubject): Promise<RunOutcome> {
  const { reporter, log, reportDir, timings, options, plan } = run;
  const checks = subject.groups.flatMap((g) => g.checks);
  // A fault of the harness is never a verdict on the Ingresses (harness-faults.ts).
  const affected = applyHarnessFaults(reporter.results, run.faults);
  reporter.runErrors.push(...faultLines(run.faults));
  if (run.faults.length) log(`SUITE FAULT: the harness itself was at fault; ${affected} failed check(s) are errors, not verdicts on the Ingresses (exit ${HARNESS_FAULT_EXIT})`);
  const scenarioResults = scenarioEvidence(checks, reporter.results, reporter.runErrors, plan.scenarios, plan.choice.target.kind);
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
    const observed = evidence.scenarios.filter((s) => s.migration?.observed).length;
    const basisLine = plan.observesSuccessor ? `${observed} row(s) observed on ${plan.choice.target.kind === "local" ? "its data plane here" : "the deployment"} (each also judged against ingress-nginx's expectation), the rest static or not run` : "rows rest on source reading";
    log(`${plan.successor.profile.title} ${plan.successor.row.versions}: ${lost} guarantee(s) observed lost, ${by("equivalent")} equivalent, ${by("same")} same, ${by("stricter")} stricter, ${by("not-expressible")} not expressible (skipped); ${basisLine}, see evidence.json${lost && !options.strict ? " (--strict fails the run on a lost guarantee)" : ""}`);
  }
  log(
    `${sum.pass} passed, ${sum.fail} failed, ${sum.skip} skipped${sum.finding ? `, ${sum.finding} finding(s)` : ""}${lost ? `, ${lost} guarantee(s) lost` : ""} of ${sum.total} (${sum.checked} probe(s) ran; target ${plan.choice.target.kind}, ${timings.totalMs} ms)`,
  );
  for (const e of reporter.runErrors) log(`error: ${e}`);
  log(`evidence: ${join(reportDir, "evidence.json")} (report.html, summary.md)`);
  log(`signed:   ${signed.files} files, Ed25519 key sha256:${signed.fingerprint}` + (signed.generatedKey ? ` (a key made for this run; public half in ${PUBLIC_KEY_FILE})` : ""));
  for (const p of junitPaths) log(`junit:    ${p}`);
  // The verdict every report prints decides the exit code (findings and, unless --strict, lost
  // guarantees are not failures; a broken suite is no verdict: HARNESS_FAULT_EXIT).
  return { exitCode: exitCodeOf(overallVerdict(evidence)), evidence, evidencePath: join(reportDir, "evidence.json"), junitPath: junitPaths[0]!, timings };
}

function assembleEvidence(input: Pick<RunState, "runId" | "startedAt" | "options" | "namespace" | "timings" | "spans" | "plan" | "targets" | "artifacts" | "reportDir" | "faults"> & {
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
        ...(options.shard ? { shard: shardLabel(options.shard) } : {}),
        ...targetOptions,
      },
      timingsMs: input.timings,
      spans: input.spans,
      // --shard: which slice this is, and what identifies the whole input (mtls-conformance merge checks it).
      ...(plan.shard ? { shard: plan.shard } : {}),
    },
    target: { ...first!, controller: controllerOf(options), selection: plan.choice.why, ...(targets.length > 1 ? { [options.isolate ? "isolated" : "deployments"]: targets } : {}) },
    subject: { origin: subject.origin, source: subject.source, changes: subject.changes },
    policies: subject.policies,
    ingresses: ingressEvidence(subject.ingresses, scenarioResults),
    scenarios: scenarioResults,
    certificates: subject.certificates.map(certificateEvidence),
    ...(subject.inventory ? { inventory: subject.inventory } : {}),
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
            basis: plan.observesSuccessor
              ? `each scenario's migration.sources say how its row is known (code, doc, test, inferred); this run served the Ingresses with ${plan.successor.profile.name} (the target above) and each probed scenario's migration.observed says the class its observation showed, judged against both the row's and ingress-nginx's expectation`
              : `each scenario's migration.sources say how its expectation is known (code, doc, test, inferred); this run observed the target named above, which is not ${plan.successor.profile.name}`,
          },
        }
      : {}),
    artifacts: input.artifacts,
    runErrors: input.runErrors,
    ...(input.faults.length ? { harnessFaults: input.faults } : {}),
    totals: totals(scenarioResults),
  };
}

/** A vitest run over the given suite files, started: its suites wait for their context on the control server. */
interface StartedSuiteRunner {
  instance: Promise<Vitest>;
  /** Settles when every suite has run. */
  done: Promise<void>;
}

function startSuiteRunner(reporter: ProgressReporter, concurrency: number, controlUrl: string, testTimeoutMs?: number, ready?: (since: number) => void): StartedSuiteRunner {
  const t = performance.now();
  const instance = createSuiteRunner(reporter, concurrency, testTimeoutMs).then((v) => {
    v.provide("mtlsControl", controlUrl);
    ready?.(t);
    return v;
  });
  const done = instance.then((v) => v.start()).then(() => undefined);
  instance.catch(() => undefined);
  return { instance, done };
}

/**
 * A vitest instance ready to start: it runs suites/run-suites.ts, which loads the suite of
 * every check in the context, so every suite shares one worker and one collection.
 */
async function createSuiteRunner(reporter: ProgressReporter, concurrency: number, testTimeoutMs = 60_000): Promise<Vitest> {
  const { createVitest } = await import("vitest/node");
  return createVitest(
    {
      config: false,
      root: ROOT,
      include: [`suites/run-suites${SOURCE_EXT}`],
      // Installed, the package itself is under node_modules, which vitest leaves out by default.
      exclude: [],
      watch: false,
      run: true,
      reporters: [reporter],
      testTimeout: testTimeoutMs,
      hookTimeout: 60_000,
      maxConcurrency: concurrency,
      // One thread, one file: the suites share no state, and a worker costs more (start-up,
      // transforms) than many probes (npm run bench).
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
