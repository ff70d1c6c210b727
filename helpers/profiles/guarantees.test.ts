// Which guarantees an Ingress relies on and what each successor makes of them, read through the
// policy model: modes, fallbacks, admission rejections, shared hosts, and the basis of every row.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { V1Ingress } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { ANNOTATION_PREFIX } from "../model/annotations.ts";
import { resolveHosts } from "../model/hosts.ts";
import type { SecretView } from "../model/secrets.ts";
import { ingressGuarantees, reliedGuarantees, traefikMode, type HostFacts, type IngressGuarantees } from "./guarantees.ts";
import { CLASSES } from "./profile.ts";

const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
const caPem = (await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: "CN=Test CA", keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } })).toString("pem");
const secrets: SecretView[] = [{ namespace: "t", name: "ca", data: { "ca.crt": caPem } }];

function ingress(name: string, host: string, annotations: Record<string, string>): V1Ingress {
  return {
    metadata: { name, namespace: "t", annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [ANNOTATION_PREFIX + k, v])) },
    spec: { ingressClassName: "nginx", rules: [{ host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: name, port: { number: 80 } } } }] } }] },
  };
}

function analyse(...ingresses: V1Ingress[]): IngressGuarantees[] {
  const model = resolveHosts(ingresses, (ns, n) => secrets.find((s) => s.namespace === ns && s.name === n), { ignoreClass: true });
  return model.ingresses.flatMap((i) => ingressGuarantees(i, model.hosts, model.ingresses, { profiles: ["traefik", "gateway-api"] }));
}
const only = (...ingresses: V1Ingress[]) => analyse(...ingresses)[0]!;
const cls = (e: IngressGuarantees, profile: "traefik" | "gateway-api", g: string) => e.profiles[profile]?.find((r) => r.guarantee === g)?.class;
const mtls = (extra: Record<string, string> = {}) => ({ "auth-tls-secret": "t/ca", ...extra });

const facts = (f: Partial<HostFacts>): HostFacts => ({ mode: "on", depth: 1, passCertificate: false, crl: false, sharedWith: [], governing: "t/a", ...f });

describe("reliedGuarantees", () => {
  it("on: the certificate, its anchor, validity, depth and headers; the rest only when declared", () => {
    expect(reliedGuarantees(facts({}))).toEqual(["client-cert-required", "trust-anchor", "validity", "verify-depth", "headers"]);
    expect(reliedGuarantees(facts({ errorPage: "https://x/y", matchCn: "CN=a", crl: true, sharedWith: ["t/b"] }))).toEqual([
      "client-cert-required",
      "trust-anchor",
      "validity",
      "verify-depth",
      "error-page",
      "match-cn",
      "crl",
      "headers",
      "host-isolation",
    ]);
  });
  it("optional and optional_no_ca rely on the optional mode, not on a certificate being required", () => {
    expect(reliedGuarantees(facts({ mode: "optional" }))).toEqual(["trust-anchor", "validity", "verify-depth", "optional-mode", "headers"]);
    expect(reliedGuarantees(facts({ mode: "optional_no_ca" }))).toEqual(["validity", "verify-depth", "optional-mode", "headers"]);
  });
  it("off: only the headers ingress-nginx still sets over the client's (ssl-client-verify: NONE)", () => {
    expect(reliedGuarantees(facts({ mode: "off", sharedWith: ["t/b"], matchCn: "CN=x" }))).toEqual(["headers"]);
  });
});

describe("ingressGuarantees through the policy model", () => {
  it("an Ingress without auth-tls relies on nothing and says so", () => {
    const e = only(ingress("plain", "a.example", {}));
    expect(e).toMatchObject({ status: "no-client-auth", baseline: "no client authentication declared", relies: [], profiles: {} });
  });

  it("the done-when classes: Traefik loses depth, match-cn, error page and CRL, keeps the certificate requirement (equivalent)", () => {
    const e = only(ingress("a", "a.example", mtls({ "auth-tls-verify-depth": "2", "auth-tls-match-cn": "CN=ops$", "auth-tls-error-page": "https://login.example/x" })));
    expect(e.relies).toEqual(["client-cert-required", "trust-anchor", "validity", "verify-depth", "error-page", "match-cn", "headers"]);
    expect(["client-cert-required", "verify-depth", "error-page", "match-cn"].map((g) => cls(e, "traefik", g))).toEqual(["equivalent", "lost", "lost", "lost"]);
    expect(["client-cert-required", "verify-depth", "error-page", "match-cn", "headers"].map((g) => cls(e, "gateway-api", g))).toEqual(["equivalent", "lost", "lost", "lost", "lost"]);
    expect(e.profiles.traefik!.find((r) => r.guarantee === "verify-depth")!.reason).toContain("2 intermediate CAs");
  });

  it("a shared host: Traefik's TLS-option conflict drops client auth for the whole host, cited in its code; Gateway API protects the port", () => {
    const [api, health] = analyse(ingress("api", "api.example", mtls()), ingress("health", "api.example", {})).sort((a, b) => a.name.localeCompare(b.name));
    expect(api!.relies).toContain("host-isolation");
    expect(cls(api!, "traefik", "host-isolation")).toBe("lost");
    expect(cls(api!, "traefik", "client-cert-required")).toBe("lost");
    expect(api!.profiles.traefik!.find((r) => r.guarantee === "host-isolation")!.sources).toContainEqual(expect.objectContaining({ basis: "code", ref: expect.stringMatching(/aggregator\.go:176-300 \(findConflictingRouters/) }));
    expect(api!.profiles.traefik!.find((r) => r.guarantee === "host-isolation")!.reason).toMatch(/observed on its data plane here with migration --observe/);
    expect(cls(api!, "gateway-api", "host-isolation")).toBe("equivalent");
    expect(health).toMatchObject({ status: "no-client-auth", relies: [] });
    expect(health!.notes.join(" ")).toContain("t/api's client auth");
  });

  it("optional: equivalent on Traefik, not expressible on Gateway API", () => {
    const e = only(ingress("o", "o.example", mtls({ "auth-tls-verify-client": "optional", "auth-tls-pass-certificate-to-upstream": "true" })));
    expect(cls(e, "traefik", "optional-mode")).toBe("equivalent");
    expect(cls(e, "gateway-api", "optional-mode")).toBe("not-expressible");
    expect(cls(e, "traefik", "headers")).toBe("equivalent");
    expect(cls(e, "gateway-api", "headers")).toBe("lost");
  });

  it("optional_no_ca: expired certificates get through both successors; Traefik's own verdict header is stricter", () => {
    const e = only(ingress("n", "n.example", mtls({ "auth-tls-verify-client": "optional_no_ca", "auth-tls-pass-certificate-to-upstream": "true" })));
    expect([cls(e, "traefik", "optional-mode"), cls(e, "traefik", "validity"), cls(e, "traefik", "headers")]).toEqual(["same", "lost", "stricter"]);
    expect([cls(e, "gateway-api", "optional-mode"), cls(e, "gateway-api", "validity")]).toEqual(["equivalent", "lost"]);
  });

  it("a value ingress-nginx trims but Traefik reads as written: stricter, on an inferred basis", () => {
    const e = only(ingress("s", "s.example", mtls({ "auth-tls-verify-client": " optional" })));
    expect(traefikMode(" optional")).toBe("on");
    const row = e.profiles.traefik!.find((r) => r.guarantee === "optional-mode")!;
    expect(row.class).toBe("stricter");
    expect(row.sources.some((s) => s.basis === "inferred")).toBe(true);
  });

  it("a silent fallback is reported and the rows use what the controller does", () => {
    const e = only(ingress("f", "f.example", mtls({ "auth-tls-verify-depth": "0" })));
    expect(e.notes.join(" ")).toMatch(/falls back silently: auth-tls-verify-depth "0" is 0: the controller uses 1/);
    expect(e.baseline).toContain("depth 1");
  });

  it("an Ingress the admission webhook rejects is reported as not served, with no rows", () => {
    const e = only(ingress("r", "r.example", mtls({ "auth-tls-match-cn": "ops" })));
    expect(e.status).toBe("rejected");
    expect(e.relies).toEqual([]);
    expect(e.baseline).toMatch(/admission rejects this Ingress \(annotation nginx.ingress.kubernetes.io\/auth-tls-match-cn contains invalid value\)/);
  });

  it("every row has a known class, a one-sentence reason and at least one source", () => {
    const all = analyse(
      ingress("a", "a.example", mtls({ "auth-tls-verify-depth": "3", "auth-tls-match-cn": "CN=x", "auth-tls-error-page": "https://l.example/" })),
      ingress("b", "b.example", mtls({ "auth-tls-verify-client": "optional" })),
      ingress("c", "c.example", mtls({ "auth-tls-verify-client": "optional_no_ca" })),
      ingress("d", "d.example", mtls({ "auth-tls-verify-client": "off" })),
      ingress("e", "a.example", {}),
    );
    const rows = all.flatMap((e) => [...(e.profiles.traefik ?? []), ...(e.profiles["gateway-api"] ?? [])]);
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows) {
      expect(CLASSES).toContain(r.class);
      expect(r.reason).toMatch(/^[A-Za-z].*\.$/);
      expect(r.sources.length).toBeGreaterThan(0);
      for (const s of r.sources) expect(["code", "doc", "test", "inferred"]).toContain(s.basis);
    }
  });
});
