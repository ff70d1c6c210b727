// A successor row held to what was observed on the successor: the class comes from judging the
// observation against both the row's expectation and ingress-nginx's.
import { describe, expect, it } from "vitest";
import type { Expectation } from "../catalogue/catalogue.ts";
import type { CheckMigration } from "../checks/check.ts";
import type { Observation } from "../probe/probe.ts";
import { observedClass } from "./observed-class.ts";

const nginx400: Expectation = { status: 400, bodyIncludes: "No required SSL certificate was sent", upstream: "not-reached" };
const refused: Expectation = { transport: "tls-rejected", upstream: "not-reached" };
const row = (klass: CheckMigration["class"], baseline: Expectation): CheckMigration => ({ profile: "traefik", versions: ">=3.7.2", class: klass, guarantee: "client-cert-required", reason: "r", sources: [], baseline });
const alert: Observation = { durationMs: 1, sni: "h", error: { code: "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE", message: "alert" } };
const nginxPage: Observation = { durationMs: 1, sni: "h", status: 400, body: "<html>400 No required SSL certificate was sent</html>" };

describe("observedClass", () => {
  it("the row's expectation met and ingress-nginx's not: the row's class, observed", () => {
    expect(observedClass(row("equivalent", nginx400), alert, true)).toEqual({ class: "equivalent" });
  });
  it("ingress-nginx's expectation met too: nothing differs; a row that says otherwise is a disagreement", () => {
    expect(observedClass(row("same", nginx400), nginxPage, true)).toEqual({ class: "same" });
    const wrong = observedClass(row("equivalent", nginx400), nginxPage, true);
    expect(wrong.class).toBe("same");
    expect(wrong.disagreement).toMatch(/row says "equivalent" \(r\), but what was observed also meets ingress-nginx's expectation/);
  });
  it("neither met: no class is claimed (the check fails on the row's expectation)", () => {
    expect(observedClass(row("equivalent", nginx400), { durationMs: 1, sni: "h", status: 200, body: "{}" }, false)).toEqual({});
    // The baseline is the row's expectation here: refused on both counts.
    expect(observedClass(row("same", refused), nginxPage, false)).toEqual({});
  });
});
