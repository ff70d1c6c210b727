// Small builders the profiles' rows share: the successor's expected observations.
import type { Expectation, Scenario } from "../catalogue/catalogue.ts";
import type { Citation, Guarantee, MigrationClass, ScenarioClass } from "./profile.ts";
import { guaranteeOf } from "./scenario-guarantee.ts";

/** Refused in the TLS handshake: no HTTP answer, the backend not reached. */
export const TLS_REJECTED: Expectation = { transport: "tls-rejected", upstream: "not-reached" };

/** Answered by the successor itself with this status (or one of these). */
export const answered = (status: number | number[]): Expectation => ({ status, upstream: "not-reached" });

/** Reached the backend with 200; `headers` exact, `absent` not sent. */
export const reached = (headers?: Record<string, string>, absent?: string[]): Expectation => ({
  status: 200,
  upstream: "reached",
  ...(headers || absent ? { upstreamHeaders: { ...(headers ? { headers } : {}), ...(absent ? { absent } : {}) } } : {}),
});

/** The ssl-client-* headers ingress-nginx sets. */
export const CLIENT_HEADERS = ["ssl-client-verify", "ssl-client-subject-dn", "ssl-client-issuer-dn", "ssl-client-cert"];

/** The baseline's expectation with DN headers compared as attribute sets (Go prints its own order). */
export const inGoDnOrder = (base: Expectation): Expectation => ({ ...base, dnCompare: "rdn-set" });

/** The baseline's expectation carries a DN header, which a Go successor prints in another order. */
export const hasDnHeader = (base: Expectation): boolean =>
  Object.keys(base.upstreamHeaders?.headers ?? {}).some((h) => h === "ssl-client-subject-dn" || h === "ssl-client-issuer-dn");

/** A static check of the objects as written (guide-lint) is the same whichever controller serves them. */
export function staticRow(s: Scenario): ScenarioClass | undefined {
  return s.lint ? row("same", guaranteeOf(s), undefined, "static: a check of the objects as written, not of what serves them", [{ ref: "the objects (and the guide's commands) checked before anything is deployed", basis: "code" }]) : undefined;
}

/** A row: class, guarantee, expectation (absent for same / not-expressible), reason, sources. */
export function row(klass: MigrationClass, guarantee: Guarantee, expect: Expectation | undefined, reason: string, sources: Citation[]): ScenarioClass {
  return { class: klass, guarantee, ...(expect && klass !== "same" && klass !== "not-expressible" ? { expect } : {}), reason, sources };
}
