// The Gateway API translation validates against the Gateway API models, and the validator is
// real: broken objects, in spec.tls.frontend above all, are refused.
import { join } from "node:path";
import { Gateway } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { validateGatewayApiObject } from "./gateway-api.ts";
import { buildMigrationReport } from "./migration-report.ts";

const EXAMPLE = join(import.meta.dirname, "..", "..", "fixtures", "examples", "migration");
const { report, gateway } = await buildMigrationReport(EXAMPLE, { profiles: ["gateway-api"] });
const objects = gateway!.files.flatMap((f) => f.objects);
type Obj = Record<string, any>;
const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && (o.metadata as Obj).name === name) as Obj;

// A Gateway in the v1.5 shape, typed by the model: spec.tls.frontend must be known to its types.
const good = (): ConstructorParameters<typeof Gateway>[0] => ({
  metadata: { name: "g", namespace: "n" },
  spec: {
    gatewayClassName: "c",
    listeners: [{ name: "https", protocol: "HTTPS", port: 443, hostname: "a.example", tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: "tls" }] } }],
    tls: { frontend: { default: { validation: { caCertificateRefs: [{ group: "", kind: "ConfigMap", name: "ca" }], mode: "AllowValidOnly" } } } },
  },
});
const withGateway = (mutate: (g: Obj) => void): Obj => {
  const g = { apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", ...structuredClone(good()) } as Obj;
  mutate(g);
  return g;
};

describe("Gateway API translation", () => {
  it("writes a ConfigMap per CA Secret, a Gateway per mTLS host and an HTTPRoute per Ingress on it", () => {
    expect(gateway!.files.map((f) => f.path).sort()).toEqual([
      "gateway-api/bank-admin-bank-example.yaml",
      "gateway-api/bank-api-bank-example.yaml",
      "gateway-api/bank-client-ca-ca.yaml",
      "gateway-api/bank-client-ca-with-crl-ca.yaml",
      "gateway-api/bank-partners-bank-example.yaml",
      "gateway-api/bank-portal-bank-example.yaml",
      "gateway-api/bank-statements-bank-example.yaml",
      "gateway-api/bank-transfers-bank-example.yaml",
    ]);
    expect(objects.filter((o) => o.kind === "Gateway")).toHaveLength(6);
    // An HTTPRoute per Ingress on an mTLS host, and per Gateway one that redirects port 80 to https.
    expect(objects.filter((o) => o.kind === "HTTPRoute" && (o.spec as Obj).parentRefs[0].sectionName === "https")).toHaveLength(7);
    expect(objects.filter((o) => o.kind === "HTTPRoute" && (o.spec as Obj).parentRefs[0].sectionName === "http")).toHaveLength(6);
    expect(report.ingresses.find((e) => e.name === "api-health")!.gatewayApi).toBe("gateway-api/bank-api-bank-example.yaml");
  });

  it("every emitted object validates with the models, and the YAML reads back to the same objects", () => {
    for (const o of objects) expect(validateGatewayApiObject(o), `${o.kind} ${(o.metadata as Obj).name}`).toBeUndefined();
    for (const f of gateway!.files) {
      const docs = parseAllDocuments(f.yaml);
      expect(docs.map((d) => d.errors.length)).toEqual(f.objects.map(() => 0));
      expect(docs.map((d) => d.toJS())).toEqual(f.objects);
      expect(f.yaml, "no YAML anchors or aliases").not.toMatch(/(^|\s)[&*][a-z]+\d+\b/m);
    }
  });

  it("the CA goes to a ConfigMap with ca.crt (Core), named by spec.tls.frontend.default.validation", () => {
    const cm = find("ConfigMap", "client-ca-ca");
    expect(cm.data["ca.crt"]).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const gw = find("Gateway", "mtls-transfers-bank-example");
    expect(gw.spec.tls.frontend.default.validation).toEqual({ caCertificateRefs: [{ group: "", kind: "ConfigMap", name: "client-ca-ca" }], mode: "AllowValidOnly" });
    expect(gw.spec.listeners).toEqual([
      expect.objectContaining({ name: "https", protocol: "HTTPS", port: 443, hostname: "transfers.bank.example", tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: "transfers-tls" }] } }),
      expect.objectContaining({ name: "http", protocol: "HTTP", port: 80, hostname: "transfers.bank.example" }),
    ]);
    // Plain HTTP never reaches the backend: ingress-nginx redirects it (308), the Gateway too (301, Core).
    expect(find("HTTPRoute", "mtls-transfers-bank-example-http-redirect").spec.rules).toEqual([{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }]);
  });

  it("what core cannot say is a comment: optional, depth, error page, match-cn, CRL, headers", () => {
    const yaml = (host: string) => gateway!.files.find((f) => f.path === `gateway-api/bank-${host}-bank-example.yaml`)!.yaml;
    expect(yaml("partners")).toMatch(/verify-client optional .* has no mode: AllowValidOnly is written/);
    expect(yaml("partners")).toMatch(/mode: AllowValidOnly # ingress-nginx: optional/);
    expect(yaml("transfers")).toMatch(/auth-tls-verify-depth 2: no depth field/);
    expect(yaml("portal")).toMatch(/auth-tls-error-page https:\/\/login.bank.example\/mtls: no field/);
    expect(yaml("admin")).toMatch(/auth-tls-match-cn CN=ops-\[0-9\]\+\$: no CN or SAN matching/);
    expect(yaml("statements")).toMatch(/ca.crl: no CRL field/);
    expect(yaml("api")).toMatch(/ssl-client-\* headers: core forwards nothing/);
  });

  it("a shared host keeps one Gateway with both Ingresses' routes; a named Service port becomes its number", () => {
    expect(objects.filter((o) => o.kind === "HTTPRoute" && (o.spec as Obj).parentRefs[0].name === "mtls-api-bank-example" && (o.spec as Obj).parentRefs[0].sectionName === "https").map((o) => (o.metadata as Obj).name).sort()).toEqual(["api", "api-health"]);
    expect(find("HTTPRoute", "api-health").spec.rules[0].matches).toEqual([{ path: { type: "Exact", value: "/health" } }]);
    expect(find("HTTPRoute", "portal").spec.rules[0].backendRefs).toEqual([{ name: "portal", port: 8000 }]);
    expect(find("HTTPRoute", "statements").spec.rules).toHaveLength(2);
    expect(find("HTTPRoute", "statements").spec.rules[0].filters[0].requestHeaderModifier.remove).toContain("ssl-client-verify");
  });

  it("the validator is real: broken objects fail, spec.tls.frontend included", () => {
    expect(validateGatewayApiObject(withGateway(() => {}))).toBeUndefined();
    const broken: Array<[string, (g: Obj) => void, RegExp]> = [
      ["a frontend mode that does not exist", (g) => (g.spec.tls.frontend.default.validation.mode = "Optional"), /frontend\/default\/validation\/mode must be equal to one of the allowed values/],
      ["no CA reference", (g) => (g.spec.tls.frontend.default.validation.caCertificateRefs = []), /caCertificateRefs must NOT have (less|fewer) than 1 item/],
      ["a frontend without default", (g) => delete g.spec.tls.frontend.default, /frontend must have required property default/],
      ["a CA reference without a name", (g) => delete g.spec.tls.frontend.default.validation.caCertificateRefs[0].name, /caCertificateRefs\/0 must have required property name/],
      ["port 0", (g) => (g.spec.listeners[0].port = 0), /listeners\/0\/port must be >= 1/],
      ["no gatewayClassName", (g) => delete g.spec.gatewayClassName, /spec must have required property gatewayClassName/],
    ];
    for (const [what, mutate, message] of broken) expect(validateGatewayApiObject(withGateway(mutate)), what).toMatch(message);
    const route = structuredClone(find("HTTPRoute", "transfers"));
    route.spec.rules[0].matches[0].path.type = "Glob";
    expect(validateGatewayApiObject(route)).toMatch(/path\/type must be equal to one of the allowed values/);
    expect(validateGatewayApiObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { "ca.crt": 1 } })).toMatch(/ca.crt must be string/);
    expect(validateGatewayApiObject({ apiVersion: "gateway.networking.k8s.io/v1", kind: "TLSRoute" })).toBe("no model for gateway.networking.k8s.io/v1/TLSRoute");
  });
});
