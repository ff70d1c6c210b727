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

export function checksFromCatalogue(catalogue: Catalogue, scenarios: Scenario[], namespace: string, lint: Partial<Record<LintRule, LintResult> & Record<GuideCommandRule, GuideCommandLintResult>>, successor?: ProfileChoice): Check[] {
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
      ...(cls ? { migration: { profile: successor!.profile.name, versions: successor!.row.versions, class: cls.class, guarantee: cls.guarantee, reason: cls.reason, sources: cls.sources } } : {}),
      // Nothing can be deployed for a policy the successor cannot express: nothing to probe.
      ...(cls?.class === "not-expressible" && !s.lint ? { skip: `not expressible on ${successor!.profile.name}: ${cls.reason}` } : {}),
    };
    if (s.lint) {
      // A guide-lint scenario documents a mistake in the guide's objects: it must be found there.
      const result: LintResult | GuideCommandLintResult | undefined = lint[s.lint];
      // The guide's commands could not run here (no openssl, nginx or curl): nothing was decided.
      if (result && "unavailable" in result && result.unavailable) check.skip = result.unavailable;
      else check.static = result
        ? { rule: s.lint, verdict: result.triggered ? "finding" : "fail", detail: result.triggered ? result.detail : `expected the rule to trigger on the guide's objects, observed: ${result.detail}` }
        : { rule: s.lint, verdict: "fail", detail: `lint rule ${s.lint} was not run` };
    }
    return check;
  });
}
