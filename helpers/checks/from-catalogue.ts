// The fixed catalogue's scenarios as checks: their ids, MUST sentences, controls and expectations
// as written (proven equal to the policy model by fixtures/catalogue-model.test.ts).
import { policyByName, type Catalogue, type Scenario } from "../catalogue/catalogue.ts";
import type { LintResult, LintRule } from "./lint.ts";
import type { GuideCommandLintResult, GuideCommandRule } from "./guide-commands.ts";
import type { Profile, ProfileRow } from "../profiles/profile.ts";
import type { Check } from "./check.ts";

/** A successor profile and its version row: the checks expect what that successor does. */
export interface ProfileChoice {
  profile: Profile;
  row: ProfileRow;
}

type LintResults = Partial<Record<LintRule, LintResult> & Record<GuideCommandRule, GuideCommandLintResult>>;

/**
 * `pending`: lint rules whose results come later (the guide's commands run beside the probes):
 * their checks are marked decidedAfterProbes and decided with `decideLint` once the results exist.
 */
export function checksFromCatalogue(catalogue: Catalogue, scenarios: Scenario[], namespace: string, lint: LintResults, successor?: ProfileChoice, pending: ReadonlySet<string> = new Set()): Check[] {
  return scenarios.map((s): Check => {
    const policy = policyByName(catalogue, s.policy);
    const cls = successor && successor.profile.name !== "ingress-nginx" ? successor.row.scenario(s, policy) : undefined;
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
      expect: cls?.expect ?? s.expect,
      controls: s.controls,
      ...(s.finding ? { finding: s.finding } : {}),
      ...(s.note ? { note: s.note } : {}),
      ...(s.stage ? { stage: s.stage } : {}),
      ...(s.stageKeepsPrevious ? { stageKeepsPrevious: true } : {}),
      ...(cls ? { migration: { profile: successor!.profile.name, versions: successor!.row.versions, class: cls.class, guarantee: cls.guarantee, reason: cls.reason, sources: cls.sources, baseline: s.expect } } : {}),
      // Nothing can be deployed for a policy the successor cannot express: nothing to probe.
      ...(cls?.class === "not-expressible" && !s.lint ? { skip: `not expressible on ${successor!.profile.name}: ${cls.reason}` } : {}),
    };
    if (s.lint && pending.has(s.lint) && !lint[s.lint]) check.decidedAfterProbes = true;
    else if (s.lint) decideLint(check, s.lint, lint[s.lint]);
    return check;
  });
}

/** A guide-lint scenario documents a mistake in the guide's objects: it must be found there. */
export function decideLint(check: Check, rule: string, result: LintResult | GuideCommandLintResult | undefined): Check {
  delete check.decidedAfterProbes;
  // The guide's commands could not run here (no openssl, nginx or curl): nothing was decided.
  if (result && "unavailable" in result && result.unavailable) check.skip = result.unavailable;
  else check.static = result
    ? { rule, verdict: result.triggered ? "finding" : "fail", detail: result.triggered ? result.detail : `expected the rule to trigger on the guide's objects, observed: ${result.detail}` }
    : { rule, verdict: "fail", detail: `lint rule ${rule} was not run` };
  return check;
}
