// What decides a check's outcome: the data plane's own behaviour on the configuration it was given
// (nginx's or Go's TLS stack verifying a chain, nginx setting a header), or a rule of the controller
// (its admission webhook, how its store takes an update, which Secret content it can use, which
// Ingress governs a shared host, when it redirects). Where the controller is emulated (the nginx
// and local targets), such a rule is applied by the emulator from the same reading of the
// controller's source that the expectation comes from: the check passes by construction and tests
// the emulation, not a controller. Reports say so; only a real controller (k3s, a cluster, a live
// endpoint) observes these rules.
import type { TargetKind } from "../targets/target.ts";
import { GENERATED_SUITE } from "./check.ts";

export type DecidedBy = "data-plane" | "controller-rule";

/** The catalogue scenarios whose outcome a controller rule decides (the rest: the data plane). */
export const CONTROLLER_RULE_SCENARIOS: ReadonlySet<string> = new Set([
  // The admission webhook and the annotation parser (Go's strconv, trimming, RE2).
  ...Array.from({ length: 10 }, (_, i) => `MTLS-ADMISSION-${String(i + 1).padStart(3, "0")}`),
  // Secret content the controller can or cannot use.
  ...Array.from({ length: 5 }, (_, i) => `MTLS-SECRETS-${String(i + 1).padStart(3, "0")}`),
  // Which of two CAs governs a host; a broken Ingress on a shared host.
  "MTLS-ISOLATION-006",
  "MTLS-ISOLATION-007",
  "MTLS-ISOLATION-008",
  // The store keeping the previous CA, a deleted Secret, a refused update.
  "MTLS-LIFECYCLE-007",
  "MTLS-LIFECYCLE-008",
  "MTLS-LIFECYCLE-010",
  // match-cn without a CA; the plain-HTTP answer of the controller's Lua.
  "MTLS-MATCHCN-008",
  "MTLS-MATCHCN-009",
  "MTLS-TRANSPORT-003",
  "MTLS-TRANSPORT-008",
]);

/** Generated checks that a controller rule decides: which Ingress governs a shared host, a host denied for an unusable Secret. */
const CONTROLLER_RULE_GENERATED = /^(governing-policy|host-denied)/;

export function decidedByOf(check: { id: string; name: string; suite: string }): DecidedBy {
  if (check.suite === GENERATED_SUITE) return CONTROLLER_RULE_GENERATED.test(check.name) ? "controller-rule" : "data-plane";
  return CONTROLLER_RULE_SCENARIOS.has(check.id) ? "controller-rule" : "data-plane";
}

/** Targets whose controller is emulated: its rules are applied by the project's own code. */
export const EMULATED_TARGETS: ReadonlySet<TargetKind> = new Set(["nginx", "local"]);

export interface Decision {
  by: DecidedBy;
  /** The rule was applied by the project's emulation of the controller: the check cannot fail on the controller. */
  emulated: boolean;
  /** One sentence for reports. */
  how: string;
}

export function decision(by: DecidedBy, target: TargetKind): Decision {
  const emulated = by === "controller-rule" && EMULATED_TARGETS.has(target);
  if (by === "data-plane") return { by, emulated: false, how: EMULATED_TARGETS.has(target) ? "the data plane's own behaviour on the configuration rendered for it" : "the controller's data plane, as deployed" };
  return emulated
    ? { by, emulated, how: "a controller rule that this target's emulator applies from the same reading of the controller's source as the expectation: this check tests the emulation, not a controller (a k3s, cluster or endpoint run observes the rule)" }
    : { by, emulated, how: "a rule of the controller itself, observed on the deployment" };
}
