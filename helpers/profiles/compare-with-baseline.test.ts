// One observation against ingress-nginx's expectation: the class, for each way a successor can differ.
import { describe, expect, it } from "vitest";
import type { Expectation } from "../catalogue/catalogue.ts";
import type { Observation } from "../probe/probe.ts";
import { compareWithBaseline } from "./compare-with-baseline.ts";

const o = (x: Partial<Observation>): Observation => ({ durationMs: 1, sni: "h", ...x });
const echo = (headers: Record<string, string>) => ({ method: "GET", path: "/", headers, body: "" });
const rejected400: Expectation = { status: 400, bodyIncludes: "No required SSL certificate was sent", upstream: "not-reached" };
const reachedWith = (headers: Record<string, string>): Expectation => ({ status: 200, upstream: "reached", upstreamHeaders: { headers } });
const alert = o({ error: { code: "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE", message: "alert" }, tlsAlert: { alert: "bad_certificate", number: 42 } });

describe("compareWithBaseline", () => {
  it("same when ingress-nginx's expectation holds", () => {
    expect(compareWithBaseline(rejected400, o({ status: 400, body: "400 No required SSL certificate was sent" })).class).toBe("same");
  });
  it("equivalent: refused another way (an alert, an answer of its own), or redirected to https; DNs in another order", () => {
    expect(compareWithBaseline(rejected400, alert)).toMatchObject({ class: "equivalent", why: expect.stringMatching(/refused in the TLS handshake \(alert bad_certificate\)/) });
    expect(compareWithBaseline(rejected400, o({ status: 404, body: "404 page not found" })).class).toBe("equivalent");
    expect(compareWithBaseline({ status: 403, upstream: "not-reached" }, o({ status: 308, responseHeaders: { location: "https://h/" } })).class).toBe("equivalent");
    const dn = compareWithBaseline(reachedWith({ "ssl-client-subject-dn": "O=Org,CN=c" }), o({ status: 200, echo: echo({ "ssl-client-subject-dn": "CN=c,O=Org" }) }));
    expect(dn.class).toBe("equivalent");
  });
  it("lost: the backend reached where ingress-nginx refuses; no error page; the backend told something else (headers)", () => {
    expect(compareWithBaseline(rejected400, o({ status: 200, echo: echo({}) })).class).toBe("lost");
    expect(compareWithBaseline({ status: 302, responseHeaders: { location: "https://login/" }, upstream: "not-reached" }, alert).class).toBe("lost");
    const headers = compareWithBaseline(reachedWith({ "ssl-client-verify": "SUCCESS" }), o({ status: 200, echo: echo({}) }));
    expect(headers).toMatchObject({ class: "lost", headersOnly: true });
    expect(headers.differences.join()).toMatch(/ssl-client-verify/);
  });
  it("stricter: refused where ingress-nginx lets the request through", () => {
    expect(compareWithBaseline(reachedWith({ "ssl-client-verify": "SUCCESS" }), alert).class).toBe("stricter");
  });
});
