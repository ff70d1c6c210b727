// The profiles by name, and a whole catalogue classified for one of them.
import type { Catalogue, Scenario } from "../catalogue/catalogue.ts";
import { policyByName } from "../catalogue/catalogue.ts";
import semver from "semver";
import { ConfigError } from "../support/errors.ts";
import { gatewayApiProfile } from "./gateway-api.ts";
import { PROFILES, type Profile, type ProfileName, type ProfileRow, type ScenarioClass } from "./profile.ts";
import { guaranteeOf } from "./scenario-guarantee.ts";
import { traefikProfile } from "./traefik.ts";
import { nginxGatewayFabricProfile } from "./nginx-gateway-fabric.ts";
import { haproxyIngressProfile } from "./haproxy-ingress.ts";
import { f5NginxIngressProfile } from "./f5-nginx-ingress.ts";
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

const BY_NAME: Record<ProfileName, Profile> = { "ingress-nginx": ingressNginxProfile, traefik: traefikProfile, "gateway-api": gatewayApiProfile, "nginx-gateway-fabric": nginxGatewayFabricProfile, "haproxy-ingress": haproxyIngressProfile, "f5-nginx-ingress": f5NginxIngressProfile };

export function profileByName(name: string): Profile {
  if (!(PROFILES as readonly string[]).includes(name)) throw new ConfigError(`unknown profile "${name}": one of ${PROFILES.join(", ")}`);
  return BY_NAME[name as ProfileName];
}

/** The row for a version (`>=3.7.2`, or a concrete `v3.7.9`); the profile's first row by default. */
export function profileRow(profile: Profile, version?: string): ProfileRow {
  if (!version) return profile.rows[0]!;
  const exact = profile.rows.find((r) => r.versions === version);
  if (exact) return exact;
  const v = semver.coerce(version.trim())?.version;
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

/** A row's versions as a semver range: "3.7.0-3.7.1" is the span "3.7.0 - 3.7.1" (semver would read it as a prerelease). */
const asRange = (versions: string): string => versions.replace(/^v?(\d+\.\d+\.\d+)-v?(\d+\.\d+\.\d+)$/, "$1 - $2");

function inRange(version: string, range: string): boolean {
  return range === "any" || semver.satisfies(version, asRange(range));
}
