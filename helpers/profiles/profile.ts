// Successor profiles: what a controller that replaces ingress-nginx does with the same Ingress.
// One catalogue, one overlay per profile: for every scenario a class and the successor's expected
// observation, each resting on cited sources (read at the
// successors' release tags). The same classes answer, per Ingress and guarantee, the static
// migration report.
import type { Expectation, Policy, Scenario } from "../catalogue/catalogue.ts";

/** What an Ingress's mTLS promises, in the words a migration is judged in. */
export const GUARANTEES = [
  "client-cert-required",
  "trust-anchor",
  "validity",
  "verify-depth",
  "optional-mode",
  "error-page",
  "match-cn",
  "crl",
  "headers",
  "host-isolation",
] as const;
export type Guarantee = (typeof GUARANTEES)[number];

/**
 * `same`: the baseline expectation holds unchanged. `equivalent`: the same security outcome,
 * observed differently (a handshake refusal for a 400). `lost`: the successor is weaker; the
 * expectation describes the weaker behaviour. `not-expressible`: the policy cannot be written for
 * the successor. `stricter`: the successor refuses what the baseline accepts.
 */
export const CLASSES = ["same", "equivalent", "lost", "not-expressible", "stricter"] as const;
export type MigrationClass = (typeof CLASSES)[number];

export const PROFILES = ["ingress-nginx", "traefik", "gateway-api", "nginx-gateway-fabric", "haproxy-ingress", "f5-nginx-ingress"] as const;
export type ProfileName = (typeof PROFILES)[number];

/**
 * How a fact is known: `code` read in the successor's source, `doc` its documentation, `test`
 * reproduced locally with a stand-in, `inferred` follows from code no test ran, `observed` on a
 * live controller. Reports say which rows rest on what.
 */
export type Basis = "code" | "doc" | "test" | "inferred" | "observed";

export interface Citation {
  /** repo@tag:path:lines, a document section, or an observation's report. */
  ref: string;
  basis: Basis;
}

export interface ScenarioClass {
  class: MigrationClass;
  guarantee: Guarantee;
  /**
   * The successor's expected observation. Absent for `same` (the baseline's expectation holds)
   * and `not-expressible` (there is nothing to deploy, so nothing to probe).
   */
  expect?: Expectation;
  reason: string;
  sources: Citation[];
}

/** One successor version range and what it does with every scenario. */
export interface ProfileRow {
  /** e.g. ">=3.7.2", "3.7.0-3.7.1", "<3.7.0"; "any" where versions do not matter. */
  versions: string;
  scenario(scenario: Scenario, policy: Policy): ScenarioClass;
}

export interface Profile {
  name: ProfileName;
  title: string;
  /** The first row is the default: the successor as the suite deploys it. */
  rows: ProfileRow[];
}
