// A row of a successor profile, held to an observation on the successor itself. The row says how
// the successor differs from ingress-nginx (same, equivalent, lost, stricter) and what it must
// answer; the observation is judged against both that and ingress-nginx's own expectation:
//  - it meets ingress-nginx's expectation: nothing differs, the class observed is `same`; a row that
//    says otherwise is wrong (a disagreement, which fails the check);
//  - it meets only the row's expectation: the row's class is observed;
//  - it meets neither: the check fails on the row's expectation, and no class is observed.
import type { CheckMigration } from "../checks/check.ts";
import type { Observation } from "../probe/probe.ts";
import { judge, type JudgeOptions } from "../probe/oracle.ts";
import type { MigrationClass } from "./profile.ts";

export interface ObservedClass {
  class?: MigrationClass;
  /** Why the written row and the observation disagree (the check fails with it). */
  disagreement?: string;
}

export function observedClass(migration: CheckMigration, observation: Observation, rowMet: boolean, presentedLeafSha256?: string, options: JudgeOptions = {}): ObservedClass {
  if (!migration.baseline) return rowMet ? { class: migration.class } : {};
  const baselineMet = judge(migration.baseline, observation, presentedLeafSha256, options).pass;
  if (baselineMet) {
    if (migration.class === "same") return { class: "same" };
    return {
      class: "same",
      disagreement: `class: the ${migration.profile} ${migration.versions} row says "${migration.class}" (${migration.reason}), but what was observed also meets ingress-nginx's expectation: nothing differs here, the row should say "same"`,
    };
  }
  return rowMet ? { class: migration.class } : {};
}
