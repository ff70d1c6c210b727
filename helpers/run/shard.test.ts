// The pure planning of `run --shard I/N`: parsing, the assignment of units to shards, the units
// themselves (Ingresses joined by shared hosts, catalogue suites), and the input digest that lets
// `merge` prove the shards are one run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Ingress } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { loadUserManifests, type UserObjects } from "../manifests/user-manifests.ts";
import { ConfigError } from "../support/errors.ts";
import { writeIngressZoo, type Zoo } from "../testing/ingress-zoo.ts";
import { assignUnits, digestOf, ingressUnits, parseShard, planShard, sliceUserObjects, suiteUnits, userUnits, type ShardSettings } from "./shard.ts";

const SETTINGS: ShardSettings = { origin: "manifests", only: null, profile: null, strict: false, browser: false, crossCheck: null };

const ingress = (ns: string, name: string, hosts: string[], paths = 1): V1Ingress => ({
  metadata: { namespace: ns, name },
  spec: { rules: hosts.map((host) => ({ host, http: { paths: Array.from({ length: paths }, (_, i) => ({ path: `/${i}`, pathType: "Prefix", backend: { service: { name: `${name}-svc`, port: { number: 80 } } } })) } })) },
});

describe("parseShard", () => {
  it("reads I/N, 1-based, and says what is wrong with anything else in one line", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 });
    expect(parseShard("1/1")).toEqual({ index: 1, count: 1 });
    for (const bad of ["0/4", "5/4", "1/0", "2", "a/b", "-1/4", "1.5/4", "", "1/4/2"]) {
      expect(() => parseShard(bad), bad).toThrow(ConfigError);
      expect(() => parseShard(bad), bad).toThrow(/^--shard .*: I\/N with 1 <= I <= N/);
    }
  });
});

describe("assignUnits", () => {
  it("puts the heaviest unit first on the lightest shard, ties to the lowest index", () => {
    // Worked by hand: e(5) -> 1; d(4) -> 2; a(3) -> 3; b(3), c(3) -> 3 loads 5,4,3 -> b to 3 (6); c to 2 (7).
    const units = [
      { id: "a", weight: 3 },
      { id: "b", weight: 3 },
      { id: "c", weight: 3 },
      { id: "d", weight: 4 },
      { id: "e", weight: 5 },
    ];
    expect(assignUnits(units, 3)).toEqual([["e"], ["c", "d"], ["a", "b"]]);
  });

  it("depends on the units alone: any input order gives the same shards, each unit exactly once", () => {
    const units = Array.from({ length: 40 }, (_, i) => ({ id: `u${String(i).padStart(2, "0")}`, weight: 1 + ((i * 7) % 5) }));
    const reference = assignUnits(units, 6);
    for (let round = 0; round < 5; round++) {
      const shuffled = [...units].sort(() => Math.random() - 0.5);
      expect(assignUnits(shuffled, 6)).toEqual(reference);
    }
    expect(reference.flat().sort()).toEqual(units.map((u) => u.id).sort());
    // Greedy to the lightest keeps shards within one unit's weight of each other.
    const loads = reference.map((ids) => ids.reduce((n, id) => n + units.find((u) => u.id === id)!.weight, 0));
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(Math.max(...units.map((u) => u.weight)));
  });

  it("more shards than units leaves the last shards empty", () => {
    expect(assignUnits([{ id: "x", weight: 2 }, { id: "y", weight: 1 }], 4)).toEqual([["x"], ["y"], [], []]);
  });
});

describe("ingressUnits", () => {
  it("joins Ingresses that share a host, transitively; an Ingress without a host stands alone", () => {
    const units = ingressUnits(
      [
        ingress("b", "one", ["h1.test"]),
        ingress("a", "two", ["h1.test", "h2.test"]),
        ingress("c", "three", ["h2.test"]),
        ingress("d", "alone", ["h3.test"], 2),
        ingress("e", "hostless", []),
      ],
      (group) => group.map((i) => i.metadata?.name),
    );
    const byId = Object.fromEntries(units.map((u) => [u.id, u]));
    expect(Object.keys(byId).sort()).toEqual(["a/two", "d/alone", "e/hostless"]);
    expect(byId["a/two"]!.members).toEqual(["a/two", "b/one", "c/three"]);
    // Ingresses + hosts + paths: 3 Ingresses, 2 hosts, 4 paths.
    expect(byId["a/two"]!.weight).toBe(3 + 2 + 4);
    expect(byId["d/alone"]!.weight).toBe(1 + 1 + 2);
  });
});

describe("digestOf", () => {
  it("is the same whatever the key order, and changes with any value", () => {
    expect(digestOf({ a: 1, b: { c: [1, 2], d: "x" } })).toBe(digestOf({ b: { d: "x", c: [1, 2] }, a: 1 }));
    expect(digestOf({ a: 1, b: { c: [1, 2] } })).not.toBe(digestOf({ a: 1, b: { c: [2, 1] } }));
    expect(digestOf({ a: 1, b: undefined })).toBe(digestOf({ a: 1 }));
  });
});

describe("--manifests: a zoo of 24 varied Ingresses in 4 shards", () => {
  let dir: string;
  let zoo: Zoo;
  let user: UserObjects;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "shard-zoo-"));
    zoo = await writeIngressZoo(join(dir, "zoo"), 24);
    user = loadUserManifests(zoo.dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const slices = () => [1, 2, 3, 4].map((index) => planShard(userUnits(user), { index, count: 4 }, SETTINGS)).map((record) => ({ record, user: sliceUserObjects(user, record) }));
  const id = (i: V1Ingress) => `${i.metadata?.namespace}/${i.metadata?.name}`;

  it("every Ingress is in exactly one shard, and the shards agree on the input", () => {
    const all = slices();
    const ids = all.flatMap((s) => s.user.ingresses.map(id));
    expect(ids.sort()).toEqual(user.ingresses.map(id).sort());
    expect(new Set(all.map((s) => s.record.inputDigest)).size).toBe(1);
    for (const s of all) expect(s.user.ingresses.length, `shard ${s.record.index}`).toBeGreaterThan(0);
  });

  it("Ingresses sharing a host are in one shard", () => {
    expect(zoo.sharedHosts.length).toBeGreaterThan(0);
    for (const host of zoo.sharedHosts) {
      const holding = slices().filter((s) => s.user.ingresses.some((i) => i.spec?.rules?.some((r) => r.host === host)));
      expect(holding, host).toHaveLength(1);
      const everyIngressOnHost = user.ingresses.filter((i) => i.spec?.rules?.some((r) => r.host === host)).map(id);
      expect(everyIngressOnHost.length).toBeGreaterThan(1);
      expect(holding[0]!.user.ingresses.map(id)).toEqual(expect.arrayContaining(everyIngressOnHost));
    }
  });

  it("a shard deploys only the Secrets its Ingresses name, and every one of them the folder holds", () => {
    const ref = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace}/${o.metadata?.name}`;
    const namedBy = (i: V1Ingress) => [
      i.metadata?.annotations?.["nginx.ingress.kubernetes.io/auth-tls-secret"],
      ...(i.spec?.tls ?? []).map((t) => `${i.metadata?.namespace}/${t.secretName}`),
    ];
    for (const s of slices()) {
      const named = new Set(s.user.ingresses.flatMap(namedBy));
      expect(s.user.secrets.map(ref).filter((r) => !named.has(r)), `shard ${s.record.index}`).toEqual([]);
      expect(s.user.secrets.map(ref).sort()).toEqual(user.secrets.map(ref).filter((r) => named.has(r)).sort());
    }
  });

  it("the same folder read in another order gives the same shards; a changed annotation or setting changes the digest", () => {
    const reversed: UserObjects = { ...user, ingresses: [...user.ingresses].reverse(), secrets: [...user.secrets].reverse() };
    const a = planShard(userUnits(user), { index: 2, count: 4 }, SETTINGS);
    const b = planShard(userUnits(reversed), { index: 2, count: 4 }, SETTINGS);
    expect(b).toEqual(a);
    const changed: UserObjects = structuredClone(user);
    changed.ingresses[5]!.metadata!.annotations!["nginx.ingress.kubernetes.io/auth-tls-verify-depth"] = "4";
    expect(planShard(userUnits(changed), { index: 2, count: 4 }, SETTINGS).inputDigest).not.toBe(a.inputDigest);
    expect(planShard(userUnits(user), { index: 2, count: 4 }, { ...SETTINGS, only: "payments/*" }).inputDigest).not.toBe(a.inputDigest);
    // A CA Secret's content is part of the input too.
    const rotated: UserObjects = structuredClone(user);
    (rotated.secrets[0]!.stringData as Record<string, string>)["ca.crt"] += "\n";
    expect(planShard(userUnits(rotated), { index: 2, count: 4 }, SETTINGS).inputDigest).not.toBe(a.inputDigest);
  });
});

describe("the catalogue: a unit per suite", () => {
  it("every selected scenario is in the shard of its suite, once", () => {
    const scenarios = catalogue.scenarios;
    const units = suiteUnits(scenarios, (list) => list.map((s) => s.id));
    const records = [1, 2, 3].map((index) => planShard(units, { index, count: 3 }, { ...SETTINGS, origin: "catalogue" }));
    const members = records.flatMap((r) => r.units.flatMap((u) => u.members));
    expect(members.sort()).toEqual(scenarios.map((s) => s.id).sort());
    const lifecycle = records.filter((r) => r.units.some((u) => u.id === "lifecycle"));
    expect(lifecycle).toHaveLength(1);
    expect(lifecycle[0]!.units.find((u) => u.id === "lifecycle")!.members).toEqual(scenarios.filter((s) => s.suite === "lifecycle").map((s) => s.id).sort());
  });
});
