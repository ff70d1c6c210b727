// `run --shard I/N`: one deterministic slice of a run, for runs that outgrow one machine (a CI
// matrix, a Kubernetes Indexed Job). The input is cut into units that never interact: Ingresses
// joined by the hosts they share (a host's behaviour depends on all its Ingresses, and the
// cross-Ingress checks live there), or, for the catalogue, its suites. Units are assigned to shards
// by weight alone, so every machine computes the same assignment from the same input, and
// `mtls-conformance merge` (helpers/reports/merge.ts) can prove the shards cover it exactly.
import { createHash } from "node:crypto";
import type { V1Ingress } from "@kubernetes/client-node";
import { stringify } from "yaml";
import type { Scenario } from "../catalogue/catalogue.ts";
import type { UserObjects } from "../manifests/user-manifests.ts";
import type { SecretView } from "../model/secrets.ts";
import { ConfigError } from "../support/errors.ts";
import type { DeclaredObjects } from "../targets/target.ts";

export interface ShardSpec {
  /** 1-based. */
  index: number;
  count: number;
}

/** A piece of the input that goes to one shard whole. */
export interface ShardUnit {
  /** The catalogue suite, or the first (sorted) Ingress of a group of Ingresses sharing hosts. */
  id: string;
  /** Catalogue: its scenarios (plus the browser step where it goes); Ingresses: Ingresses + hosts + paths. */
  weight: number;
  /** SHA-256 of the unit's content (scenarios and policies, or Ingresses with the Secrets and Services they name). */
  sha256: string;
  /** Scenario ids (catalogue) or Ingress ids, sorted. */
  members: string[];
}

/** What else decides what the checks are and expect: shards that differ here are not one run. */
export interface ShardSettings {
  origin: "catalogue" | "manifests" | "endpoint" | "audit";
  only: string | null;
  /** `name@versions` of the successor profile the catalogue's checks expect, null for ingress-nginx. */
  profile: string | null;
  strict: boolean;
  browser: boolean;
  crossCheck: string | null;
}

/** `run.shard` in a shard's evidence.json. */
export interface ShardRecord {
  index: number;
  count: number;
  /** This shard's units (none: an empty shard). */
  units: ShardUnit[];
  /** Units in the whole input. */
  unitCount: number;
  /** Identifies the whole input (every unit and the settings), before slicing: equal in every shard of one run. */
  inputDigest: string;
  settings: ShardSettings;
}

const SHARD = /^\s*(\d+)\s*\/\s*(\d+)\s*$/;
/** More shards than this is a typo, not a plan. */
export const MAX_SHARDS = 10_000;

/** `--shard I/N`: I from 1 to N. */
export function parseShard(text: string): ShardSpec {
  const m = SHARD.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > MAX_SHARDS || index < 1 || index > count) {
    throw new ConfigError(`--shard ${text}: I/N with 1 <= I <= N <= ${MAX_SHARDS}, e.g. 2/4 (in an Indexed Job: $((JOB_COMPLETION_INDEX+1))/N)`);
  }
  return { index, count };
}

export const shardLabel = (s: ShardSpec): string => `${s.index}/${s.count}`;

/**
 * SHA-256 of a value in one canonical form: JSON's data model (Dates as ISO strings, undefined
 * dropped), printed as YAML with every map's keys sorted, so key order never changes it.
 */
export function digestOf(value: unknown): string {
  const plain = JSON.parse(JSON.stringify(value ?? null)) as unknown;
  return createHash("sha256").update(stringify(plain, { sortMapEntries: true })).digest("hex");
}

/** The digest every shard of one run records; merge recomputes it from the union of the shards' units. */
export function inputDigest(settings: ShardSettings, units: Array<Pick<ShardUnit, "id" | "sha256">>): string {
  return digestOf({ settings, units: [...units].map((u) => ({ id: u.id, sha256: u.sha256 })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) });
}

/**
 * Unit ids per shard (index 0 is shard 1). Heaviest unit first (ties by id) to the lightest shard
 * (ties to the lowest index): the input alone decides, and the shards come out close in weight.
 */
export function assignUnits(units: Array<Pick<ShardUnit, "id" | "weight">>, count: number): string[][] {
  const loads = Array.from({ length: count }, () => 0);
  const out: string[][] = Array.from({ length: count }, () => []);
  const order = [...units].sort((a, b) => b.weight - a.weight || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const u of order) {
    let lightest = 0;
    for (let i = 1; i < count; i++) if (loads[i]! < loads[lightest]!) lightest = i;
    loads[lightest]! += u.weight;
    out[lightest]!.push(u.id);
  }
  return out.map((ids) => ids.sort());
}

/** This shard's record: its units, and the digest of them all. */
export function planShard(units: ShardUnit[], spec: ShardSpec, settings: ShardSettings): ShardRecord {
  const ids = new Set<string>();
  for (const u of units) {
    if (ids.has(u.id)) throw new Error(`shard unit ${u.id} twice`);
    ids.add(u.id);
  }
  const mine = new Set(assignUnits(units, spec.count)[spec.index - 1]);
  return {
    index: spec.index,
    count: spec.count,
    units: units.filter((u) => mine.has(u.id)).sort((a, b) => (a.id < b.id ? -1 : 1)),
    unitCount: units.length,
    inputDigest: inputDigest(settings, units),
    settings,
  };
}

/** The catalogue: one unit per suite (the lifecycle suite, which runs in order, is one like any other). */
export function suiteUnits(scenarios: Scenario[], contentOf: (suiteScenarios: Scenario[]) => unknown, extraWeight: Record<string, number> = {}): ShardUnit[] {
  const bySuite = new Map<string, Scenario[]>();
  for (const s of scenarios) bySuite.set(s.suite, [...(bySuite.get(s.suite) ?? []), s]);
  return [...bySuite].map(([suite, list]) => ({
    id: suite,
    weight: list.length + (extraWeight[suite] ?? 0),
    sha256: digestOf(contentOf(list)),
    members: list.map((s) => s.id).sort(),
  }));
}

const idOf = (ing: V1Ingress): string => `${ing.metadata?.namespace ?? "default"}/${ing.metadata?.name ?? ""}`;
const ruleHosts = (ing: V1Ingress): string[] => [...new Set((ing.spec?.rules ?? []).map((r) => r.host).filter((h): h is string => !!h))];

/** namespace/name of the Secrets an Ingress names: its auth-tls-secret and its tls: entries. */
export function secretsNamed(ing: V1Ingress): string[] {
  const ns = ing.metadata?.namespace ?? "default";
  const out = new Set<string>();
  const raw = ing.metadata?.annotations?.["nginx.ingress.kubernetes.io/auth-tls-secret"]?.trim();
  if (raw) {
    const [a, b] = raw.split("/");
    out.add(b === undefined ? `${ns}/${a}` : `${a || ns}/${b}`);
  }
  for (const t of ing.spec?.tls ?? []) if (t.secretName) out.add(`${ns}/${t.secretName}`);
  return [...out].sort();
}

/** namespace/name of the Services an Ingress sends to. */
export function servicesNamed(ing: V1Ingress): string[] {
  const ns = ing.metadata?.namespace ?? "default";
  const names = [ing.spec?.defaultBackend?.service?.name, ...(ing.spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend.service?.name))];
  return [...new Set(names.filter((n): n is string => !!n).map((n) => `${ns}/${n}`))].sort();
}

/**
 * Ingresses joined into units by the hosts they share (transitively: A and B share one host, B
 * and C another, all three go together). `contentOf` gives what identifies a group's input.
 */
export function ingressUnits(ingresses: V1Ingress[], contentOf: (group: V1Ingress[]) => unknown): ShardUnit[] {
  const parent = ingresses.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i]!)));
  const byHost = new Map<string, number>();
  ingresses.forEach((ing, i) => {
    for (const h of ruleHosts(ing)) {
      const seen = byHost.get(h);
      if (seen === undefined) byHost.set(h, i);
      else parent[root(i)] = root(seen);
    }
  });
  const groups = new Map<number, V1Ingress[]>();
  ingresses.forEach((ing, i) => groups.set(root(i), [...(groups.get(root(i)) ?? []), ing]));
  return [...groups.values()].map((group) => {
    const sorted = [...group].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));
    const hosts = new Set(sorted.flatMap(ruleHosts));
    const paths = sorted.reduce((n, ing) => n + (ing.spec?.rules ?? []).reduce((m, r) => m + (r.http?.paths?.length ?? 0), 0), 0);
    return { id: idOf(sorted[0]!), weight: sorted.length + hosts.size + paths, sha256: digestOf(contentOf(sorted)), members: sorted.map(idOf) };
  });
}

const refOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? "default"}/${o.metadata?.name ?? ""}`;

/** `--manifests`: the units of the user's objects (an Ingress group with the Secrets and Services it names, as written). */
export function userUnits(user: UserObjects): ShardUnit[] {
  return ingressUnits(user.ingresses, (group) => {
    const secrets = new Set(group.flatMap(secretsNamed));
    const services = new Set(group.flatMap(servicesNamed));
    return {
      ingresses: group,
      secrets: user.secrets.filter((s) => secrets.has(refOf(s))).sort((a, b) => (refOf(a) < refOf(b) ? -1 : 1)),
      services: user.services.filter((s) => services.has(refOf(s))).sort((a, b) => (refOf(a) < refOf(b) ? -1 : 1)),
    };
  });
}

/** `--manifests` sliced: this shard's Ingresses and only the Secrets and Services they name. */
export function sliceUserObjects(user: UserObjects, record: ShardRecord): UserObjects {
  const mine = new Set(record.units.flatMap((u) => u.members));
  const ingresses = user.ingresses.filter((i) => mine.has(idOf(i)));
  const secrets = new Set(ingresses.flatMap(secretsNamed));
  const services = new Set(ingresses.flatMap(servicesNamed));
  return { ...user, ingresses, secrets: user.secrets.filter((s) => secrets.has(refOf(s))), services: user.services.filter((s) => services.has(refOf(s))) };
}

/** What identifies a deployed Ingress (what its API server set on its own, other than its creation time, does not). */
const declaredIngress = (ing: V1Ingress) => ({
  namespace: ing.metadata?.namespace ?? "default",
  name: ing.metadata?.name,
  annotations: ing.metadata?.annotations ?? {},
  // The controller orders the Ingresses of a shared host by it.
  creationTimestamp: ing.metadata?.creationTimestamp ?? null,
  spec: ing.spec ?? {},
});

const secretRef = (s: SecretView) => `${s.namespace}/${s.name}`;

/** A live endpoint or an audit: units of the Ingresses found, with the public parts of the Secrets they name. */
export function foundUnits(found: DeclaredObjects): ShardUnit[] {
  return ingressUnits(found.ingresses, (group) => {
    const named = new Set(group.flatMap(secretsNamed));
    return { ingresses: group.map(declaredIngress), secrets: found.secrets.filter((s) => named.has(secretRef(s))).sort((a, b) => (secretRef(a) < secretRef(b) ? -1 : 1)) };
  });
}

/** A live endpoint or an audit, sliced: only this shard's Ingresses are checked. */
export function sliceFound(found: DeclaredObjects, record: ShardRecord): DeclaredObjects {
  const mine = new Set(record.units.flatMap((u) => u.members));
  const ingresses = found.ingresses.filter((i) => mine.has(idOf(i)));
  const named = new Set(ingresses.flatMap(secretsNamed));
  return { ...found, ingresses, secrets: found.secrets.filter((s) => named.has(secretRef(s))) };
}
