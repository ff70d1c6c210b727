// The profiles by name, and a whole catalogue classified for one of them.
import type { Catalogue, Scenario } from "../catalogue/catalogue.ts";
import { policyByName } from "../catalogue/catalogue.ts";
import { ConfigError } from "../support/errors.ts";
import { gatewayApiProfile } from "./gateway-api.ts";
import { PROFILES, type Profile, type ProfileName, type ProfileRow, type ScenarioClass } from "./profile.ts";
import { guaranteeOf } from "./scenario-guarantee.ts";
import { traefikProfile } from "./traefik.ts";
import { nginxGatewayFabricProfile } from "./nginx-gateway-fabric.ts";
import { observedRows, type ObservedRows } from "../controllers/observed.ts";

/** The baseline: the catalogue's own expectations, which rest on the controller's source. */
const ingressNginxProfile: Profile = {
  name: "ingress-nginx",
  title: "ingress-nginx (the baseline)",
  rows: [
    {
      versions: "v1.13.9-v1.15.1",
      scenario: (s) => ({
        class: "same",
        guarantee: guaranteeOf(s),
        reason: "the catalogue's expectation",
        sources: [{ ref: "the scenario's own basis in the evidence (kubernetes/ingress-nginx at controller-v1.13.9 to v1.15.1, file and line)", basis: "code" }],
      }),
    },
  ],
};

/** The classes observed on a successor's data plane for a profile's version row, where a controller folder keeps them. */
export function observedFor(name: ProfileName, versions: string): ObservedRows | undefined {
  const rows = observedRows(name);
  return rows && rows.versions === versions ? rows : undefined;
}

const BY_NAME: Record<ProfileName, Profile> = { "ingress-nginx": ingressNginxProfile, traefik: traefikProfile, "gateway-api": gatewayApiProfile, "nginx-gateway-fabric": nginxGatewayFabricProfile };

export function profileByName(name: string): Profile {
  if (!(PROFILES as readonly string[]).includes(name)) throw new ConfigError(`unknown profile "${name}": one of ${PROFILES.join(", ")}`);
  return BY_NAME[name as ProfileName];
}

/** The row for a version (`>=3.7.2`, or a concrete `v3.7.9`); the profile's first row by default. */
export function profileRow(profile: Profile, version?: string): ProfileRow {
  if (!version) return profile.rows[0]!;
  const exact = profile.rows.find((r) => r.versions === version);
  if (exact) return exact;
  const v = parseVersion(version);
  const found = v && profile.rows.find((r) => inRange(v, r.versions));
  if (!found) throw new ConfigError(`${profile.name}: no row for version ${version} (rows: ${profile.rows.map((r) => r.versions).join(", ")})`);
  return found;
}

export interface ClassifiedScenario extends ScenarioClass {
  id: string;
  name: string;
  suite: string;
}

export function classifyCatalogue(catalogue: Catalogue, profile: Profile, row: ProfileRow = profile.rows[0]!, scenarios: Scenario[] = catalogue.scenarios): ClassifiedScenario[] {
  return scenarios.map((s) => ({ id: s.id, name: s.name, suite: s.suite, ...row.scenario(s, policyByName(catalogue, s.policy)) }));
}

type Version = [number, number, number];
function parseVersion(v: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}
const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
function inRange(v: Version, range: string): boolean {
  if (range === "any") return true;
  const span = /^v?([\d.]+)-v?([\d.]+)$/.exec(range);
  if (span) return cmp(v, parseVersion(span[1]!)!) >= 0 && cmp(v, parseVersion(span[2]!)!) <= 0;
  const m = /^(>=|<)v?([\d.]+)$/.exec(range);
  if (!m) return false;
  const bound = parseVersion(m[2]!)!;
  return m[1] === ">=" ? cmp(v, bound) >= 0 : cmp(v, bound) < 0;
}
