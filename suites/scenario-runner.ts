// The thin runner every suite uses: one vitest test per catalogue scenario of the suite.
import { describe, inject, test } from "vitest";
import { catalogue } from "../fixtures/catalogue.ts";
import { policyByName, type Scenario, type SuiteName } from "../helpers/catalogue/catalogue.ts";
import { decodeClientCertHeader, judge } from "../helpers/probe/oracle.ts";
import { probe } from "../helpers/probe/probe.ts";
import { summarize, type ScenarioRecord } from "../helpers/run/run-context.ts";

export function formatFailure(s: Scenario, mismatches: string[]): string {
  return [`${s.id} ${s.name}: ${s.must}`, ...mismatches.map((m) => `  - ${m}`)].join("\n");
}

export function defineScenarioSuite(suite: SuiteName): void {
  const run = inject("mtlsRun");
  if (!run) throw new Error("no run context: start suites through `mtls-conformance run`, not vitest directly");
  const scenarios = catalogue.scenarios.filter((s) => s.suite === suite && run.scenarioIds.includes(s.id));

  // The lifecycle suite changes shared state (the deployed objects) step by step: in order, one at a time.
  const group = suite === "lifecycle" ? describe : describe.concurrent;
  group(suite, () => {
    for (const s of scenarios) {
      test(`${s.id} ${s.name}`, async ({ task, annotate, skip }) => {
        const policy = policyByName(catalogue, s.policy);
        const host = run.hosts[s.policy] ?? policy.host;
        const credential = s.credential === "none" ? undefined : run.credentials[s.credential];
        await annotate(s.id, "scenario-id");
        await annotate(s.must, "must");
        await annotate(credential ? `sha256:${credential.leafSha256}` : "none", "credential-sha256");
        for (const control of s.controls) await annotate(control, "control");

        if (s.lint) {
          // A static check of the guide's objects: a finding when the rule triggers.
          const result = run.lint[s.lint];
          if (!result) throw new Error(`lint rule ${s.lint} was not run`);
          const mismatches = result.triggered ? [] : [`lint ${s.lint}: expected the rule to trigger on the guide's objects, observed: ${result.detail}`];
          task.meta.mtls = {
            id: s.id,
            expected: s.expect,
            observed: { upstreamReached: false, lint: result },
            mismatches,
            durationMs: 0,
            ...(result.triggered && s.finding ? { finding: true, findingStatement: s.finding.statement } : {}),
          };
          if (s.finding) await annotate(s.finding.statement, "finding");
          if (!result.triggered) throw new Error(formatFailure(s, mismatches));
          await annotate("finding", "verdict");
          return;
        }
        if (run.skips[s.id]) skip(run.skips[s.id]);
        if (run.deployError) throw new Error(`not run: the ${run.target.kind} target did not come up: ${run.deployError}`);
        const scheme = s.request?.scheme ?? "https";
        if (scheme === "http" && !run.httpEndpoints[host]) skip(`the ${run.target.kind} target exposes no plain-HTTP endpoint for ${host}`);
        const endpoint = scheme === "http" ? run.httpEndpoints[host] : run.endpoints[host];
        if (!endpoint) throw new Error(`the target returned no ${scheme} endpoint for ${host}`);
        if (s.finding) await annotate(s.finding.statement, "finding");
        if (s.stage) {
          if (!run.controlUrl) skip(`the ${run.target.kind} target cannot change its objects while running (no update operation)`);
          await annotate(s.stage, "stage");
          const res = await fetch(`${run.controlUrl}/stage/${s.stage}`, { method: "POST" });
          if (!res.ok) throw new Error(`could not move the objects to stage ${s.stage}: ${await res.text()}`);
        }
        const once = () =>
          probe({
            endpoint,
            scheme,
            host,
            servername: s.request?.servername,
            path: s.request?.path,
            headers: s.request?.headers,
            caPem: run.caPem,
            serverSha256: run.serverSha256,
            insecure: run.insecureServer,
            acceptAnyEcho: run.acceptAnyEcho,
            credential,
          });
        let observation = await once();
        let verdict = judge(s.expect, observation, credential?.leafSha256);
        // After a change, controllers that apply it eventually get until settleMs to show it.
        const deadline = Date.now() + (s.stage ? run.settleMs : 0);
        while (!verdict.pass && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500));
          observation = await once();
          verdict = judge(s.expect, observation, credential?.leafSha256);
        }
        const certHeader = observation.echo?.headers["ssl-client-cert"];
        const record: ScenarioRecord = {
          id: s.id,
          credentialSha256: credential?.leafSha256,
          expected: s.expect,
          observed: summarize(observation, certHeader === undefined ? undefined : decodeClientCertHeader(certHeader)),
          mismatches: verdict.mismatches,
          durationMs: Math.round(observation.durationMs * 10) / 10,
          ...(s.finding && verdict.pass ? { finding: true, findingStatement: s.finding.statement } : {}),
        };
        task.meta.mtls = record;
        if (record.finding) await annotate("finding", "verdict");
        if (!verdict.pass) throw new Error(formatFailure(s, verdict.mismatches));
      });
    }
  });
}
