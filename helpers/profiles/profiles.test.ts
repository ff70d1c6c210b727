// Every scenario is classified for every profile and every version row, each row rests on a
// source, and the classes mean what they say (a lost or equivalent row says what is observed).
import { describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import type { Expectation } from "../catalogue/catalogue.ts";
import { judge } from "../probe/oracle.ts";
import { CLASSES, GUARANTEES, PROFILES } from "./profile.ts";
import { classifyCatalogue, profileByName, profileRow } from "./registry.ts";

/** The headers ingress-nginx's backend sees in a scenario, as its expectation describes them. */
function baselineHeaders(base: Expectation): Record<string, string> {
  const h = base.upstreamHeaders;
  return {
    ...h?.headers,
    ...Object.fromEntries(Object.entries(h?.prefixes ?? {}).map(([k, v]) => [k, `${v}x`])),
    ...(h?.clientCertIsPresentedLeaf ? { "ssl-client-cert": "-----BEGIN%20CERTIFICATE-----" } : {}),
  };
}

describe("successor profiles", () => {
  for (const name of PROFILES) {
    const profile = profileByName(name);
    for (const row of profile.rows) {
      it(`${name} ${row.versions}: every scenario has a class, a guarantee, a reason and a source`, () => {
        const rows = classifyCatalogue(catalogue, profile, row);
        expect(rows.map((r) => r.id)).toEqual(catalogue.scenarios.map((s) => s.id));
        for (const r of rows) {
          expect(CLASSES, r.id).toContain(r.class);
          expect(GUARANTEES, r.id).toContain(r.guarantee);
          expect(r.reason.length, r.id).toBeGreaterThan(3);
          expect(r.sources.length, r.id).toBeGreaterThan(0);
          for (const s of r.sources) expect(["code", "doc", "test", "inferred", "observed"], `${r.id} ${s.ref}`).toContain(s.basis);
          // A probed row that is not `same` says what the successor is expected to do; `same` and
          // `not-expressible` say nothing (the baseline holds, or nothing can be deployed).
          const scenario = catalogue.scenarios.find((s) => s.id === r.id)!;
          if (r.class === "same" || r.class === "not-expressible") expect(r.expect, r.id).toBeUndefined();
          else if (!scenario.lint) expect(r.expect, r.id).toBeDefined();
        }
      });
    }
  }

  it("a lost or stricter row expects another observation than the baseline's: what ingress-nginx does would not pass it", () => {
    // A row that expected what ingress-nginx does would be `same`: prove each lost and stricter
    // row describes another observable, by judging a baseline-shaped observation against it.
    for (const name of ["traefik", "gateway-api"]) {
      for (const r of classifyCatalogue(catalogue, profileByName(name))) {
        if (!r.expect || (r.class !== "lost" && r.class !== "stricter")) continue;
        const s = catalogue.scenarios.find((x) => x.id === r.id)!;
        const base = s.expect;
        const observation = {
          status: [base.status].flat()[0],
          body: base.bodyEquals ?? base.bodyIncludes ?? "",
          responseHeaders: { ...base.responseHeaders },
          ...(base.upstream === "reached" ? { echo: { method: "GET", path: "/", headers: baselineHeaders(base) } } : {}),
        };
        expect.soft(judge(r.expect, observation as never, undefined).pass, `${name} ${r.id}: ${r.class}, but the baseline's observation passes it`).toBe(false);
      }
    }
  });

  it("traefik: the version rows", () => {
    const traefik = profileByName("traefik");
    expect(profileRow(traefik, "v3.7.9").versions).toBe(">=3.7.2");
    expect(profileRow(traefik, "v3.7.1").versions).toBe("3.7.0-3.7.1");
    expect(profileRow(traefik, "v3.6.24").versions).toBe("<3.7.0");
    const byId = (v: string) => Object.fromEntries(classifyCatalogue(catalogue, traefik, profileRow(traefik, v)).map((r) => [r.id, r]));
    // Before 3.7 the auth-tls annotations are not read: a request without a certificate gets through.
    expect(byId("v3.6.24")["MTLS-CLIENT-001"]).toMatchObject({ class: "lost", expect: { status: 200, upstream: "reached" } });
    // 3.7.0-3.7.1 pass a forged subject on when no certificate is presented; 3.7.2 removes it.
    expect(byId("v3.7.1")["MTLS-SPOOF-005"]?.class).toBe("lost");
    expect(byId("v3.7.9")["MTLS-SPOOF-005"]?.class).toBe("same");
    expect(() => profileRow(traefik, "banana")).toThrow(/no row/);
  });

  it("an unknown profile is a configuration error", () => {
    expect(() => profileByName("envoy")).toThrow(/unknown profile "envoy": one of ingress-nginx, traefik, gateway-api/);
  });
});
