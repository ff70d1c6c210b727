// junit.xml from the evidence: one <testsuite> per group (a catalogue suite, or an Ingress with its
// declared policy as properties), one <testcase> per check with its id, MUST statement, credential
// fingerprint, controls and the basis of its expectation. Written with junit-report-builder.
import junitModule, { type Builder, type TestCase } from "junit-report-builder";
import type { Evidence, ScenarioEvidence } from "./evidence.ts";

// The package's default export is a builder (CommonJS, so under `default` again when imported from ESM).
const junit = ((junitModule as unknown as { default?: Builder }).default ?? junitModule) as unknown as Builder;

function caseProperties(tc: TestCase, s: ScenarioEvidence): void {
  tc.property("scenario-id", s.id);
  tc.property("must", s.must);
  tc.property("credential-sha256", s.credentialSha256 ? `sha256:${s.credentialSha256}` : "none");
  for (const c of s.controls) tc.property("control", c);
  if (s.host) tc.property("host", s.host);
  if (s.credentialDescription) tc.property("credential", s.credentialDescription);
  if (s.finding) tc.property("finding", s.finding.statement);
  if (s.verdict === "finding" || s.verdict === "guarantee-lost") tc.property("verdict", s.verdict);
  if (s.migration) {
    tc.property("profile", `${s.migration.profile} ${s.migration.versions}`);
    tc.property("class", s.migration.class);
    tc.property("guarantee", s.migration.guarantee);
    tc.property("class-because", s.migration.reason);
    for (const src of s.migration.sources) tc.property("class-source", `[${src.basis}] ${src.ref}`);
  }
  if (s.basis) {
    tc.property("expected-because", s.basis.explanation);
    for (const source of s.basis.sources) tc.property("source", source);
  }
  if (s.skipReason) tc.property("skip-reason", s.skipReason);
}

/** Writes one JUnit file holding the given checks, grouped as the evidence groups them. */
export function renderJunit(evidence: Evidence, scenarios: ScenarioEvidence[] = evidence.scenarios): string {
  const builder = junit.newBuilder().name(`mtls-conformance ${evidence.target.kind}`);
  const groups = [...new Set(scenarios.map((s) => s.group))];
  for (const group of groups) {
    const suite = builder.testSuite().name(group).timestamp(new Date(evidence.run.startedAt));
    const ingress = evidence.ingresses.find((i) => i.id === group);
    if (ingress) {
      suite.property("ingress", ingress.id);
      for (const h of ingress.hosts) suite.property("host", h);
      for (const [k, v] of Object.entries(ingress.declared)) suite.property(`annotation ${k}`, v);
      for (const [h, e] of Object.entries(ingress.effective)) suite.property(`effective ${h}`, e);
    }
    for (const s of scenarios.filter((x) => x.group === group)) {
      const tc = suite.testCase().className(group).name(s.id.includes("#") ? s.id : `${s.id} ${s.name}`).time(Math.round(s.durationMs ?? 0) / 1000);
      caseProperties(tc, s);
      if (s.verdict === "fail") {
        const text = s.mismatches.join("\n") || "failed";
        tc.failure(`${s.id} ${s.name}: ${s.must}\n${text}`, "mismatch");
        tc.stacktrace(text);
      } else if (s.verdict === "skip") {
        tc.skipped();
        tc.standardOutput(`skipped: ${s.skipReason ?? "no reason given"}`);
      }
    }
  }
  return builder.build();
}
