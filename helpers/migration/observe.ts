// `migration --observe`: the user's own Ingresses served by each successor that runs here, every
// generated check keeping ingress-nginx's expectation, each observation classified against it
// (helpers/profiles/compare-with-baseline.ts). The static report's rows then rest on what was
// observed where a check observed them: the observed class replaces the one read in the source
// (the experiment wins), and the report says both.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScenarioEvidence } from "../reports/evidence.ts";
import type { Guarantee, MigrationClass } from "../profiles/profile.ts";
import type { MigrationProfile } from "../profiles/guarantees.ts";
import type { MigrationReport } from "./migration-report.ts";
import type { ControllerName } from "../targets/controllers.ts";

/** The successors whose data plane runs here, and the run that observes them. */
export const OBSERVABLE: Partial<Record<MigrationProfile, { controller: ControllerName; what: string }>> = {
  traefik: { controller: "traefik", what: "Traefik v3.7.9's provider rendered for the project's Go data plane on crypto/tls (--target local --controller traefik)" },
  // Gateway API is a specification: one implementation observed here, the translation beside the report on it.
  "gateway-api": { controller: "nginx-gateway-fabric", what: "the translation written beside this report, rendered as NGINX Gateway Fabric v2.6.7 renders it, on nginx (--target local --controller nginx-gateway-fabric): one implementation of Gateway API" },
  "nginx-gateway-fabric": { controller: "nginx-gateway-fabric", what: "the translation written beside this report, rendered as NGINX Gateway Fabric v2.6.7 renders it, on nginx (--target local --controller nginx-gateway-fabric)" },
  "haproxy-ingress": { controller: "haproxy-ingress", what: "the Ingresses as written, rendered as HAProxy Ingress v0.15.4 renders them, on HAProxy (--target local --controller haproxy-ingress)" },
  "f5-nginx-ingress": { controller: "f5-nginx-ingress", what: "each Ingress with client auth translated into a Policy (spec.ingressMTLS) named by nginx.org/policies, rendered as F5 NGINX Ingress v5.5.4 renders it, on nginx (--target local --controller f5-nginx-ingress)" },
};

export interface ObservedCheck {
  id: string;
  class: MigrationClass;
  why: string;
  /** The observation in one line (status, or the refusal). */
  observed: string;
}

export interface ObservedGuarantee {
  class: MigrationClass;
  checks: ObservedCheck[];
}

/** Worst first: what a guarantee is, when its checks disagree. */
const SEVERITY: MigrationClass[] = ["lost", "stricter", "equivalent", "same", "not-expressible"];
const worst = (classes: MigrationClass[]): MigrationClass => SEVERITY.find((c) => classes.includes(c)) ?? "same";

const summarize = (s: ScenarioEvidence): string => {
  const o = s.observed;
  if (!o) return "not observed";
  if (o.status === undefined) return o.tlsAlert ? `refused in the TLS handshake (${o.tlsAlert.alert ?? o.tlsAlert.number ?? o.error?.code})` : `no HTTP answer (${o.error?.code ?? "?"})`;
  return `${o.status}${o.upstreamReached ? " from the backend" : ""}${o.location ? ` to ${o.location}` : ""}`;
};

/** ingress id -> host -> guarantee -> what its checks observed. */
export function observedGuarantees(scenarios: ScenarioEvidence[]): Map<string, Map<string, Map<Guarantee, ObservedGuarantee>>> {
  const out = new Map<string, Map<string, Map<Guarantee, ObservedGuarantee>>>();
  for (const s of scenarios) {
    const m = s.migration;
    if (!m?.observed || !s.ingress || !s.host) continue;
    const byHost = out.get(s.ingress) ?? new Map<string, Map<Guarantee, ObservedGuarantee>>();
    out.set(s.ingress, byHost);
    const byGuarantee = byHost.get(s.host) ?? new Map<Guarantee, ObservedGuarantee>();
    byHost.set(s.host, byGuarantee);
    const entry = byGuarantee.get(m.guarantee) ?? { class: "same" as MigrationClass, checks: [] };
    entry.checks.push({ id: s.id, class: m.observed.class, why: m.reason, observed: summarize(s) });
    entry.class = worst(entry.checks.map((c) => c.class));
    byGuarantee.set(m.guarantee, entry);
  }
  return out;
}

export interface ObserveRun {
  profile: MigrationProfile;
  /** Where the run's signed reports are (kept with --out). */
  reportDir?: string;
  exitCode: number;
  scenarios: ScenarioEvidence[];
  target: string;
}

/** Runs the user's Ingresses on the successor's local data plane, comparing with ingress-nginx. */
export async function observeSuccessor(profile: MigrationProfile, manifests: string, options: { reportDir?: string; namespace?: string; log?: (line: string) => void }): Promise<ObserveRun> {
  const how = OBSERVABLE[profile];
  if (!how) throw new Error(`${profile} has no data plane here`);
  const { runConformance } = await import("../run/run.ts");
  const scratch = options.reportDir ? undefined : mkdtempSync(join(tmpdir(), "mtls-migration-observe-"));
  try {
    const outcome = await runConformance({
      target: "local",
      controller: how.controller,
      manifests,
      compareWithBaseline: true,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      reportDir: options.reportDir ?? join(scratch!, "report"),
      command: `migration --observe (${profile})`,
      log: options.log ?? (() => undefined),
    });
    return { profile, ...(options.reportDir ? { reportDir: options.reportDir } : {}), exitCode: outcome.exitCode, scenarios: outcome.evidence.scenarios, target: outcome.evidence.target.description };
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The report with one successor's observations merged in: each guarantee of an Ingress/host its
 * checks observed gets `basis: "observed"` and the class observed (the static class kept as
 * `sourceClass`); a guarantee observed lost that the static rows did not list is added.
 */
export function mergeObservations(report: MigrationReport, run: ObserveRun): void {
  const observed = observedGuarantees(run.scenarios);
  for (const e of report.ingresses) {
    const p = e.profiles[run.profile];
    if (!p) continue;
    const seen = observed.get(`${e.namespace}/${e.name}`)?.get(e.host);
    for (const row of p.guarantees) {
      const o = seen?.get(row.guarantee);
      if (!o) {
        row.basis = "source";
        continue;
      }
      row.basis = "observed";
      if (row.class !== o.class) row.sourceClass = row.class;
      row.class = o.class;
      row.observed = o.checks;
    }
    for (const [guarantee, o] of seen ?? []) {
      if (p.guarantees.some((r) => r.guarantee === guarantee) || o.class === "same") continue;
      p.guarantees.push({ guarantee, class: o.class, reason: o.checks.find((c) => c.class === o.class)!.why, sources: [{ ref: `observed: ${OBSERVABLE[run.profile]!.what}`, basis: "observed" }], basis: "observed", observed: o.checks });
    }
    p.lost = p.guarantees.filter((r) => r.class === "lost").length;
  }
  const summary = report.profiles[run.profile];
  if (summary) {
    for (const c of Object.keys(summary.counts) as MigrationClass[]) summary.counts[c] = 0;
    for (const e of report.ingresses) for (const r of e.profiles[run.profile]?.guarantees ?? []) summary.counts[r.class]++;
    summary.lost = summary.counts.lost;
    summary.observed = { target: run.target, checks: run.scenarios.filter((s) => s.migration?.observed).length, ...(run.reportDir ? { reportDir: run.reportDir } : {}) };
  }
}
