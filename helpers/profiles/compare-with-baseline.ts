// What a successor did with a check written for ingress-nginx, read off the observation alone: the
// class (same, equivalent, lost, stricter) of one observation against ingress-nginx's expectation.
// Used where no successor row exists (the checks generated for a user's own Ingresses): the
// observation on the successor's data plane is compared with what ingress-nginx must answer.
//  - ingress-nginx's expectation met: `same`.
//  - ingress-nginx refuses (400, 403, 495/496, or its handshake refusal) and the successor refuses
//    too, another way (a TLS alert, a closed connection, another 4xx of its own): `equivalent`.
//  - ingress-nginx sends to its error page (302) and the successor does not: `lost` (error-page).
//  - ingress-nginx answers a redirect (308 to https) and the successor redirects otherwise: `equivalent`.
//  - ingress-nginx refuses and the successor redirects to https: `equivalent`.
//  - ingress-nginx refuses and the backend is reached: `lost`.
//  - both reach the backend, and only the DN headers' attribute order differs: `equivalent`;
//    other headers differ: `lost` (what the backend is told).
//  - ingress-nginx reaches the backend and the successor refuses: `stricter`.
import type { Expectation } from "../catalogue/catalogue.ts";
import { judge, type JudgeOptions } from "../probe/oracle.ts";
import type { Observation } from "../probe/probe.ts";
import type { MigrationClass } from "./profile.ts";

export interface ComparedClass {
  class: MigrationClass;
  /** One sentence: what the successor did, against what ingress-nginx does. */
  why: string;
  /** Where the observation differs from ingress-nginx's expectation (empty for `same`). */
  differences: string[];
  /** The request got through as with ingress-nginx and only what the backend is told differs: a loss of the headers guarantee, whatever the check was about. */
  headersOnly?: boolean;
}

/** What answered, in a few words. */
export function describeObservation(o: Observation): string {
  if (o.status === undefined) return o.tlsAlert ? `refused in the TLS handshake (alert ${o.tlsAlert.alert ?? o.tlsAlert.number ?? "?"})` : `no HTTP answer (${o.error?.code ?? "no response"})`;
  if (o.echo) return `reached the backend (${o.status})`;
  return `answered ${o.status} itself${o.responseHeaders?.location ? ` to ${o.responseHeaders.location}` : ""}`;
}

export function compareWithBaseline(baseline: Expectation, observation: Observation, presentedLeafSha256?: string, options: JudgeOptions = {}): ComparedClass {
  const verdict = judge(baseline, observation, presentedLeafSha256, options);
  const what = describeObservation(observation);
  if (verdict.pass) return { class: "same", why: `as ingress-nginx: ${what}`, differences: [] };
  const differences = verdict.mismatches;
  const reached = observation.echo !== undefined;
  const status = [baseline.status].flat()[0];
  // No answer at all, or an error status of the successor's own (not the backend's).
  const observedRefusal = !reached && (observation.status === undefined || observation.status >= 400);
  if (baseline.upstream === "reached") {
    if (!reached) return { class: "stricter", why: `ingress-nginx lets this request through; the successor ${what}`, differences };
    // Only the order of the DN attributes? Then the backend is told the same thing.
    if (baseline.upstreamHeaders && baseline.dnCompare !== "rdn-set" && judge({ ...baseline, dnCompare: "rdn-set" }, observation, presentedLeafSha256, options).pass) {
      return { class: "equivalent", why: "reached the backend with the same client-certificate headers, DN attributes in another order", differences };
    }
    return { class: "lost", why: `reached the backend, but it is told otherwise than by ingress-nginx: ${differences.join("; ")}`, differences, headersOnly: true };
  }
  // ingress-nginx does not let it reach the backend.
  if (reached) return { class: "lost", why: `ingress-nginx ${status === 302 ? "sends this to the error page" : "refuses this request"}; on the successor it ${what}`, differences };
  if (status === 302) return { class: "lost", why: `ingress-nginx redirects to the error page; the successor ${what}`, differences };
  if (status === 301 || status === 308) return { class: observation.status !== undefined && observation.status >= 300 && observation.status < 400 ? "equivalent" : "stricter", why: `ingress-nginx redirects to https; the successor ${what}`, differences };
  // A redirect to https where ingress-nginx refuses plain HTTP: client authentication then applies there.
  if (observation.status !== undefined && observation.status >= 300 && observation.status < 400 && /^https:/.test(observation.responseHeaders?.location ?? "")) {
    return { class: "equivalent", why: `ingress-nginx refuses this request; the successor ${what}, where the HTTPS checks apply`, differences };
  }
  if (observedRefusal) return { class: "equivalent", why: `refused as by ingress-nginx, another way: ${what}`, differences };
  return { class: "lost", why: `ingress-nginx refuses this request; the successor ${what}`, differences };
}
