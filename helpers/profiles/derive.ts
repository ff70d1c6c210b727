// A successor row from what the successor answers: the class follows from comparing its expected
// observation with ingress-nginx's, so a profile states only what the successor does (and why,
// with sources), never a class by hand that could contradict its own expectation.
//  - the same expectation: `same`;
//  - ingress-nginx refuses, the successor refuses another way: `equivalent`; it reaches the
//    backend: `lost`; ingress-nginx sends to its error page (302) and the successor does not
//    redirect there: `lost`;
//  - ingress-nginx reaches the backend, the successor refuses: `stricter`; both reach it and the
//    scenario is about what the backend is told (headers): `lost`, otherwise `equivalent`.
import { isDeepStrictEqual } from "node:util";
import type { Expectation, Policy, Scenario } from "../catalogue/catalogue.ts";
import type { Citation, MigrationClass, ScenarioClass } from "./profile.ts";
import { guaranteeOf } from "./scenario-guarantee.ts";
import { row, staticRow } from "./expect.ts";

export interface SuccessorAnswer {
  /** What the successor answers; absent: ingress-nginx's expectation holds unchanged. */
  expect?: Expectation;
  reason: string;
  sources: Citation[];
  /** The policy cannot be written for the successor: nothing to deploy, nothing to probe. */
  notExpressible?: boolean;
  /**
   * The class where comparing the answers misleads, with the reason saying why: ingress-nginx's
   * webhook refuses an Ingress (404, nothing served) that the successor serves with client auth.
   */
  klass?: MigrationClass;
}

/** An answer: what the successor does (absent: as ingress-nginx), why, from which sources; a class only where comparing misleads. */
export const answer = (expect: Expectation | undefined, reason: string, sources: Citation[], klass?: MigrationClass): SuccessorAnswer => ({ expect, reason, sources, ...(klass ? { klass } : {}) });

export function derivedClass(s: Scenario, expect: Expectation): MigrationClass {
  const base = s.expect;
  if (isDeepStrictEqual(expect, base)) return "same";
  const baseReached = base.upstream === "reached";
  const reached = expect.upstream === "reached";
  if (baseReached) return !reached ? "stricter" : guaranteeOf(s) === "headers" ? "lost" : "equivalent";
  if (reached) return "lost";
  if ([base.status].flat()[0] === 302) {
    const to = base.responseHeaders?.location;
    return [expect.status].flat().some((c) => c === 302 || c === 303) && expect.responseHeaders?.location === to ? "equivalent" : "lost";
  }
  return "equivalent";
}

/** A profile row's scenario function from what the successor answers: a scenario's own answer in `overrides`, else the general `answer` (static checks are the same everywhere). */
export const derivedRows =
  (answer: (s: Scenario, p: Policy) => SuccessorAnswer, overrides: Readonly<Record<string, SuccessorAnswer>> = {}) =>
  (s: Scenario, p: Policy): ScenarioClass =>
    staticRow(s) ?? derivedRow(s, overrides[s.id] ?? answer(s, p));

/** The row of a scenario from the successor's answer. */
export function derivedRow(s: Scenario, answer: SuccessorAnswer): ScenarioClass {
  const g = guaranteeOf(s);
  if (answer.notExpressible) return row("not-expressible", g, undefined, answer.reason, answer.sources);
  if (!answer.expect) return row("same", g, undefined, answer.reason, answer.sources);
  const derived = derivedClass(s, answer.expect);
  return row(answer.klass && derived !== "same" ? answer.klass : derived, g, answer.expect, answer.reason, answer.sources);
}
