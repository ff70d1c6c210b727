// The thin runner every suite uses: one vitest test per check of the suite, grouped as the
// reports group them (a catalogue suite, or an Ingress). Checks arrive with the run context.
import type { Guarantee, MigrationClass } from "../helpers/profiles/profile.ts";
import { get } from "node:http";
import { describe, inject, test, type TestContext } from "vitest";
import type { Check } from "../helpers/checks/check.ts";
import { decodeClientCertHeader, judge } from "../helpers/probe/oracle.ts";
import { probe } from "../helpers/probe/probe.ts";
import { crossCheckCurl, curlFor } from "../helpers/probe/cross-check.ts";
import { observedClass as classifyObserved } from "../helpers/profiles/observed-class.ts";
import { compareWithBaseline } from "../helpers/profiles/compare-with-baseline.ts";
import { guaranteeOfCheck } from "../helpers/profiles/scenario-guarantee.ts";
import { staticRecord, summarize, type RunContext, type ScenarioRecord } from "../helpers/run/run-context.ts";
import { everyNth } from "../helpers/support/collect-garbage.ts";

/** A failure as the test error (the reports take each check's MUST from the run). */
export function formatFailure(c: Check, mismatches: string[]): string {
  return [`${c.id} ${c.name}${c.must ? `: ${c.must}` : ""}`, ...mismatches.map((m) => `  - ${m}`)].join("\n");
}

/** The test's name: the catalogue's "MTLS-X-NNN name", or a generated check's id (which holds its rule). */
export const testName = (c: Check): string => (c.id.includes("#") ? c.id : `${c.id} ${c.name}`);

// Fetched once per worker (suites share the module: isolate is off). Plain node:http, no timeout:
// the context is ready once the PKI is made and the target deployed, which may take minutes.
let fetched: Promise<RunContext> | undefined;
function fetchContext(url: string): Promise<RunContext> {
  return new Promise((resolve, reject) => {
    get(`${url}/context`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode === 200) resolve(JSON.parse(body) as RunContext);
        else reject(new Error(`the run gave the suites no context: ${body}`));
      });
      res.on("error", reject);
    }).on("error", reject);
  });
}

/** The run context for a suite: a suite with a data plane of its own connects there (RunContext.bySuite). */
export async function runContext(suite: string): Promise<RunContext> {
  const url = inject("mtlsControl");
  if (!url) throw new Error("no run context: start suites through `mtls-conformance run`, not vitest directly");
  fetched ??= fetchContext(url);
  const provided = await fetched;
  return { ...provided, ...provided.bySuite?.[suite] };
}

export async function defineScenarioSuite(suite: string): Promise<void> {
  const run = await runContext(suite);
  // Checks decided after the probes (the guide's commands) are recorded by the run itself.
  const byGroup = new Map<string, Check[]>();
  for (const c of run.checks) if (c.suite === suite && !c.decidedAfterProbes) byGroup.set(c.group, [...(byGroup.get(c.group) ?? []), c]);
  // A suite file with no test is an error to vitest; a shard or --only may leave a suite empty.
  if (byGroup.size === 0) test.skip(`${suite}: no check of this suite in this run`, () => undefined);
  // The lifecycle suite changes its deployed objects step by step: its checks run in order, one
  // at a time. With a data plane of its own it runs beside the other suites; sharing one, alone.
  const inOrder = suite === "lifecycle";
  const besideOthers = !inOrder || !!run.bySuite?.[suite];
  for (const [group, checks] of byGroup) {
    (besideOthers ? describe.concurrent : describe)(group, () => {
      // A check that changes stages waits for the update and the settle window: its timeout covers
      // both, so a change that never shows is reported as expected vs observed.
      for (const c of checks) test(testName(c), { concurrent: !inOrder, ...(c.stage ? { timeout: run.stageTimeoutMs } : {}) }, (ctx) => runCheck(run, c, ctx));
    });
  }
}

// Everything a report says about a check comes from the check and its record (task.meta.mtls):
// JUnit is written from the evidence, so tests carry no annotations (each would be a round trip).
// Keeps the worker's heap near what it holds across thousands of probes (collect-garbage.ts).
const collectNow = everyNth(1000);

async function runCheck(run: RunContext, c: Check, { task, skip }: TestContext): Promise<void> {
  collectNow();
  task.meta.mtlsCheckId = c.id;
  task.meta.mtlsSuite = c.suite;
  const credential = c.credential ? run.credentials[c.credential] : undefined;

  if (c.static) {
    task.meta.mtls = staticRecord({ ...c, static: c.static });
    if (c.static.verdict === "fail") throw new Error(formatFailure(c, [c.static.detail]));
    return;
  }
  if (c.skip) skip(c.skip);
  if (run.deployError) throw new Error(`not run: the ${run.target.kind} target did not come up: ${run.deployError}`);
  if (c.credential && !credential) throw new Error(`the run made no credential ${c.credential}`);
  const scheme = c.request?.scheme ?? "https";
  if (scheme === "http" && !run.httpEndpoints[c.host]) skip(`the ${run.target.kind} target exposes no plain-HTTP endpoint for ${c.host}`);
  const endpoint = scheme === "http" ? run.httpEndpoints[c.host] : run.endpoints[c.host];
  if (!endpoint) throw new Error(`the target returned no ${scheme} endpoint for ${c.host}`);
  // A stage that could not be applied is the first mismatch; what is served is still observed.
  let stageError: string | undefined;
  if (c.stage) {
    if (!run.controlUrl) skip(`the ${run.target.kind} target cannot change its objects while running (no update operation)`);
    const res = await fetch(`${run.controlUrl}/stage/${c.stage}`, { method: "POST" }).catch((error: Error) => error);
    if (res instanceof Error || !res.ok) stageError = `could not move the objects to stage ${c.stage}: ${res instanceof Error ? res.message : await res.text()}`;
    // A change that must not take effect is checked once a controller that applies changes
    // eventually has had its time (at most 20 s); the nginx target applies them at once.
    else if (c.stageKeepsPrevious) await new Promise((r) => setTimeout(r, Math.min(run.settleMs, 20_000)));
  }
  const trust = run.hostTrust[c.host] ?? run.trust;
  const request = {
    endpoint,
    scheme,
    host: c.host,
    servername: c.request?.servername,
    path: c.request?.path,
    headers: c.request?.headers,
    caPem: trust.caPem,
    serverSha256: c.request?.anyServerCertificate || trust.insecure ? undefined : (trust.serverSha256 ?? run.serverPins?.[c.host]),
    insecure: trust.insecure || c.request?.anyServerCertificate,
    ...(!trust.insecure && !c.request?.anyServerCertificate && run.serverKeyPins?.[c.host] ? { serverPublicKeySha256: run.serverKeyPins[c.host] } : {}),
    acceptAnyEcho: run.acceptAnyEcho,
    credential,
  };
  const once = () => probe(request);
  const options = { noEcho: run.noEcho };
  let observation = await once();
  let verdict = judge(c.expect, observation, credential?.leafSha256, options);
  // After a change, controllers that apply it eventually get until settleMs to show it.
  const deadline = Date.now() + (c.stage && !c.stageKeepsPrevious && !stageError ? run.settleMs : 0);
  while (!verdict.pass && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    observation = await once();
    verdict = judge(c.expect, observation, credential?.leafSha256, options);
  }
  if (stageError) verdict = { ...verdict, pass: false, mismatches: [stageError, ...verdict.mismatches] };
  // On the successor itself, the observation classifies the row: meeting ingress-nginx's
  // expectation too means nothing differs, whatever the row says.
  const observedClass = run.observesSuccessor && c.migration ? classifyObserved(c.migration, observation, verdict.pass, credential?.leafSha256, options) : undefined;
  if (observedClass?.disagreement) verdict = { ...verdict, pass: false, mismatches: [...verdict.mismatches, observedClass.disagreement] };
  // Comparing a successor with ingress-nginx: a difference is the result, not a failure.
  const compared = run.compare ? compareWithBaseline(c.expect, observation, credential?.leafSha256, options) : undefined;
  const comparison = compared && run.compare ? { ...run.compare, class: compared.class, guarantee: compared.headersOnly ? ("headers" as const) : guaranteeOfCheck(c), why: compared.why, differences: compared.differences } : undefined;
  if (comparison && !stageError) verdict = run.compare?.live ? heldToRows(comparison, run.compare.expected?.[c.host]?.[comparison.guarantee]) : { pass: true, mismatches: [] };
  // The same request made by curl: its command line always, its observation with --cross-check
  // (after the stage and the probe's last attempt, so lifecycle checks are compared too).
  const curl = curlFor(run, c, request);
  const crossCheck = run.crossCheck === "curl" ? await crossCheckCurl(run, c, curl, request, observation) : undefined;
  if (crossCheck?.disagreements.length) verdict = { ...verdict, pass: false, mismatches: [...verdict.mismatches, ...crossCheck.disagreements] };
  const certHeader = observation.echo?.headers["ssl-client-cert"];
  const record: ScenarioRecord = {
    id: c.id,
    credentialSha256: credential?.leafSha256,
    expected: c.expect,
    observed: summarize(observation, certHeader === undefined ? undefined : decodeClientCertHeader(certHeader)),
    mismatches: verdict.mismatches,
    durationMs: Math.round(observation.durationMs * 10) / 10,
    finishedAtMs: Date.now(),
    // A finding describes ingress-nginx's behaviour: compared, it stands only where the successor did the same.
    ...(c.finding && verdict.pass && (!comparison || comparison.class === "same") ? { finding: true, findingStatement: c.finding.statement } : {}),
    ...(c.migration?.class === "lost" && verdict.pass ? { guaranteeLost: true, guaranteeStatement: `${c.migration.guarantee} lost on ${c.migration.profile} ${c.migration.versions}: ${c.migration.reason}` } : {}),
    ...(observedClass?.class ? { observedClass: observedClass.class } : {}),
    ...(comparison ? { comparison } : {}),
    ...(comparison?.class === "lost" ? { guaranteeLost: true, guaranteeStatement: `${comparison.guarantee} lost on ${comparison.profile} ${comparison.versions}: ${comparison.why}` } : {}),
    curl: curl.line,
    ...(crossCheck ? { crossCheck } : {}),
  };
  task.meta.mtls = record;
  if (!verdict.pass) throw new Error(formatFailure(c, verdict.mismatches));
}

/**
 * A live successor: the class observed against the class its guarantee row gives for the host. A
 * loss the row predicts is reported as lost (the successor cannot express it); any other loss, or a
 * refusal of what ingress-nginx lets through that the row does not predict, fails with both said.
 */
function heldToRows(comparison: { class: MigrationClass; guarantee: Guarantee; profile: string; why: string; differences: string[] }, predicted: { class: MigrationClass; reason: string } | undefined): { pass: boolean; mismatches: string[] } {
  const observed = comparison.class;
  if (observed === "same" || observed === "equivalent") return { pass: true, mismatches: [] };
  if (observed === "lost" && (predicted?.class === "lost" || predicted?.class === "not-expressible")) return { pass: true, mismatches: [] };
  if (observed === "stricter" && predicted?.class === "stricter") return { pass: true, mismatches: [] };
  const expected = predicted ? `${comparison.profile} is expected to keep ${comparison.guarantee} here as "${predicted.class}" (${predicted.reason})` : `no client authentication is declared for this host, so ${comparison.profile} is expected to answer as ingress-nginx does`;
  return { pass: false, mismatches: [...comparison.differences, `class: expected ${expected}; observed "${observed}": ${comparison.why}`] };
}
