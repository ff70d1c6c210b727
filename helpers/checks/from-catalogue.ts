// The fixed catalogue's scenarios as checks: their ids, MUST sentences, controls and expectations
// as written (proven equal to the policy model by fixtures/catalogue-model.test.ts).
import { policyByName, type Catalogue, type Scenario } from "../catalogue/catalogue.ts";
import type { LintResult, LintRule } from "./lint.ts";
import type { Check } from "./check.ts";

export function checksFromCatalogue(catalogue: Catalogue, scenarios: Scenario[], namespace: string, lint: Partial<Record<LintRule, LintResult>>): Check[] {
  return scenarios.map((s): Check => {
    const policy = policyByName(catalogue, s.policy);
    const check: Check = {
      id: s.id,
      name: s.name,
      suite: s.suite,
      group: s.suite,
      ingress: `${namespace}/${policy.ingressName}`,
      must: s.must,
      host: policy.host,
      ...(s.credential === "none" ? {} : { credential: s.credential }),
      ...(s.request ? { request: s.request } : {}),
      expect: s.expect,
      controls: s.controls,
      ...(s.finding ? { finding: s.finding } : {}),
      ...(s.note ? { note: s.note } : {}),
      ...(s.stage ? { stage: s.stage } : {}),
      ...(s.stageKeepsPrevious ? { stageKeepsPrevious: true } : {}),
    };
    if (s.lint) {
      // A guide-lint scenario documents a mistake in the guide's objects: it must be found there.
      const result = lint[s.lint];
      check.static = result
        ? { rule: s.lint, verdict: result.triggered ? "finding" : "fail", detail: result.triggered ? result.detail : `expected the rule to trigger on the guide's objects, observed: ${result.detail}` }
        : { rule: s.lint, verdict: "fail", detail: `lint rule ${s.lint} was not run` };
    }
    return check;
  });
}
