// Evidence of a large run made from a small real one, for the tests of the reports at scale: the
// Ingresses of a real --manifests run copied (ids, hosts and check ids renamed) to the number of
// Ingresses and checks asked for, then totals, per-Ingress summaries, controls and findings
// recomputed with the functions the run uses. Every check keeps what a real probe recorded.
import { controlEvidence, findings, ingressEvidence, totals, type Evidence, type ScenarioEvidence } from "./evidence.ts";

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function scaleEvidence(base: Evidence, want: { ingresses: number; checks: number }): Evidence {
  if (!base.ingresses.length) throw new Error("scaleEvidence needs the evidence of a run of Ingresses");
  const names = base.ingresses.map((i) => i.id.split("/").pop()!);
  // Whole names only: svc-001 in "payments/svc-001#expired" and "svc-001.zoo.test", never inside svc-0010.
  const nameRe = new RegExp(`(?<![A-Za-z0-9-])(${names.map(escapeRegExp).join("|")})(?![A-Za-z0-9])`, "g");
  const rename = <T>(value: T, copy: number): T => (copy === 0 ? structuredClone(value) : JSON.parse(JSON.stringify(value).replace(nameRe, `r${copy}-$1`)));

  const byGroup = new Map<string, ScenarioEvidence[]>();
  for (const s of base.scenarios) byGroup.set(s.group, [...(byGroup.get(s.group) ?? []), s]);
  const ingresses: Evidence["ingresses"] = [];
  const scenarios: ScenarioEvidence[] = [];
  for (let n = 0; ingresses.length < want.ingresses; n++) {
    const copy = Math.floor(n / base.ingresses.length);
    const i = base.ingresses[n % base.ingresses.length]!;
    ingresses.push(rename(i, copy));
    scenarios.push(...rename(byGroup.get(i.id) ?? [], copy));
  }
  // Up to the number of checks asked for: one more check of an Ingress, round the Ingresses.
  const perIngress = groupIndex(scenarios);
  const groups = [...perIngress.keys()];
  for (let n = 0; scenarios.length < want.checks; n++) {
    const own = perIngress.get(groups[n % groups.length]!)!;
    const extra = structuredClone(own[n % own.length]!);
    extra.id = `${extra.id}-again-${n}`;
    scenarios.push(extra);
  }
  scenarios.length = Math.min(scenarios.length, want.checks);
  // Credentials are made per CA and per match-cn pattern, so a larger run has more of them too.
  const copies = Math.ceil(want.ingresses / base.ingresses.length);
  const certificates = Array.from({ length: copies }, (_, k) => base.certificates.map((c) => (k ? { ...c, name: `${c.name}-r${k}` } : c))).flat();
  return recompute({ ...structuredClone({ ...base, ingresses: [], scenarios: [], certificates: [] }), ingresses, scenarios, certificates });
}

function groupIndex(scenarios: ScenarioEvidence[]): Map<string, ScenarioEvidence[]> {
  const by = new Map<string, ScenarioEvidence[]>();
  for (const s of scenarios) {
    const list = by.get(s.group);
    if (list) list.push(s);
    else by.set(s.group, [s]);
  }
  return by;
}

/** Totals, per-Ingress summaries, controls and findings from the scenarios, as a run computes them. */
export function recompute(ev: Evidence): Evidence {
  const coverage = ev.controls.map(({ id, title }) => ({ id, title, scenarios: ev.scenarios.filter((s) => s.controls.includes(id)).map((s) => s.id) }));
  return {
    ...ev,
    ingresses: ingressEvidence(ev.ingresses, ev.scenarios),
    controls: controlEvidence(coverage, ev.scenarios),
    findings: findings(ev.scenarios),
    totals: totals(ev.scenarios),
  };
}
