// A row's class follows from the successor's answer compared with ingress-nginx's expectation.
import { describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { derivedClass, derivedRow } from "./derive.ts";

const scenario = (id: string) => catalogue.scenarios.find((s) => s.id === id)!;

describe("derivedClass", () => {
  it("the same expectation is same; another refusal is equivalent; the backend reached where ingress-nginx refuses is lost", () => {
    const noCert = scenario("MTLS-CLIENT-001");
    expect(derivedClass(noCert, noCert.expect)).toBe("same");
    expect(derivedClass(noCert, { status: 496, upstream: "not-reached" })).toBe("equivalent");
    expect(derivedClass(noCert, { transport: "tls-rejected", upstream: "not-reached" })).toBe("equivalent");
    expect(derivedClass(noCert, { status: 200, upstream: "reached" })).toBe("lost");
  });

  it("the error page: a 303 to the same page is equivalent, any other answer lost", () => {
    const page = scenario("MTLS-ERRPAGE-001");
    const location = page.expect.responseHeaders!.location!;
    expect(derivedClass(page, { status: 303, responseHeaders: { location }, upstream: "not-reached" })).toBe("equivalent");
    expect(derivedClass(page, { status: 400, upstream: "not-reached" })).toBe("lost");
  });

  it("ingress-nginx lets it through: refused is stricter; reached and told otherwise is lost only where the scenario is about the headers", () => {
    const valid = scenario("MTLS-CLIENT-002");
    expect(derivedClass(valid, { status: 495, upstream: "not-reached" })).toBe("stricter");
    expect(derivedClass(valid, { status: 200, upstream: "reached" })).toBe("equivalent");
    expect(derivedClass(scenario("MTLS-HEADERS-002"), { status: 200, upstream: "reached" })).toBe("lost");
  });

  it("a class given with the answer replaces a derived difference, never a same; a static check is the same everywhere", () => {
    const admission = scenario("MTLS-ADMISSION-001");
    expect(derivedRow(admission, { expect: { status: 200, upstream: "reached" }, reason: "served", sources: [], klass: "equivalent" }).class).toBe("equivalent");
    expect(derivedRow(admission, { expect: admission.expect, reason: "as ingress-nginx", sources: [], klass: "equivalent" }).class).toBe("same");
  });
});
