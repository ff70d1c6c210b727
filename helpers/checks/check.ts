// A check: one probe (or one static finding) with its expected outcome, ready to run. The fixed
// catalogue's scenarios and the checks generated from an Ingress's declaration both become checks;
// the suites run checks, the reports report checks. Serializable: it crosses into the vitest worker.
import type { Expectation, ProbeOptions } from "../catalogue/catalogue.ts";
import type { Citation, Guarantee, MigrationClass, ProfileName } from "../profiles/profile.ts";

export type CheckVerdict = "pass" | "fail" | "skip" | "finding";

/** A catalogue check run under a successor profile: its class there and why. */
export interface CheckMigration {
  profile: ProfileName;
  versions: string;
  class: MigrationClass;
  guarantee: Guarantee;
  reason: string;
  sources: Citation[];
  /** ingress-nginx's expectation for the same check: an observation on the successor is classified against it. */
  baseline?: Expectation;
  /** Set in the evidence of a run on the successor itself: the class its observation showed. */
  observed?: { class: MigrationClass; basis: "observed" };
  /** Compared with ingress-nginx: where the observation differs from ingress-nginx's expectation. */
  differences?: string[];
}

export interface Check {
  /** Stable id: MTLS-<AREA>-NNN for the catalogue, <namespace>/<ingress>[@host]#<rule> when generated. */
  id: string;
  /** Short kebab-case name (the rule, for generated checks). */
  name: string;
  /** The suite file that runs it: a catalogue suite, or "ingresses". */
  suite: string;
  /** What reports group it under: the catalogue suite, or the Ingress namespace/name. */
  group: string;
  /** The Ingress (namespace/name) the check is about. */
  ingress?: string;
  must: string;
  host: string;
  /** Key of the credential presented (RunContext.credentials); absent: no certificate. */
  credential?: string;
  /** What the credential is, in words, for reports. */
  credentialDescription?: string;
  request?: ProbeOptions;
  expect: Expectation;
  /** Why this is expected: the model's explanation and the sources of its rules. */
  basis?: { explanation: string; sources: string[] };
  controls: string[];
  /** Documented behaviour that weakens mTLS: when `expect` is observed the verdict is `finding`. */
  finding?: { id: string; statement: string };
  note?: string;
  /** Lifecycle stage the deployed objects must be in before the probe. */
  stage?: string;
  /** The stage's change must not take effect (probe only after the target's settle time). */
  stageKeepsPrevious?: boolean;
  /**
   * Its static verdict comes from work that runs beside the probes (the guide's own commands): the
   * run decides it in the main process when that work ends, not in a suite.
   */
  decidedAfterProbes?: boolean;
  /** A static check of the objects: its verdict is known when it is planned. */
  static?: { verdict: Exclude<CheckVerdict, "skip">; detail: string; rule: string };
  /**
   * Run under a successor profile: `expect` is the successor's, a `lost` class observed is the
   * verdict `guarantee-lost`, a `not-expressible` one is skipped.
   */
  migration?: CheckMigration;
  /** Decided when planned: why it cannot run here. */
  skip?: string;
}

export const GENERATED_SUITE = "ingresses";
