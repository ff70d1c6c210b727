// The run's verdict, in one place: what every report prints and what the process exits with.
import { suiteFaulted, uncheckedIngresses, type Evidence } from "./evidence.ts";
import { HARNESS_FAULT_EXIT } from "../run/harness-faults.ts";

export type OverallVerdict = "pass" | "fail" | "nothing-checked" | "suite-fault";

/**
 * PASS when nothing failed and every scenario passed, was skipped with a reason, or observed a
 * documented weakness (a finding: reported apart, never a failure), and at least one probe ran:
 * a run that checked nothing is "nothing-checked", never a pass. Before either: a run in which the
 * harness broke (a harness fault, a run error, a check that erred) is "suite-fault", no verdict
 * on the Ingresses at all, since its failures may be the harness's and its passes are incomplete.
 */
export function overallVerdict(evidence: Evidence): OverallVerdict {
  const t = evidence.totals;
  if (suiteFaulted(evidence)) return "suite-fault";
  if (t.checked === 0) return "nothing-checked";
  // A guarantee a successor loses is reported like a finding, unless the run was --strict.
  const lost = evidence.profile?.strict ? 0 : (t["guarantee-lost"] ?? 0);
  return t.fail === 0 && t.pass + t.skip + (evidence.totals.finding ?? 0) + lost === t.total && uncheckedIngresses(evidence).length === 0 ? "pass" : "fail";
}

/** 0 pass, 1 a check failed or nothing was checked, 3 the suite broke (HARNESS_FAULT_EXIT). */
export function exitCodeOf(verdict: OverallVerdict): 0 | 1 | 3 {
  return verdict === "suite-fault" ? HARNESS_FAULT_EXIT : verdict === "pass" ? 0 : 1;
}
