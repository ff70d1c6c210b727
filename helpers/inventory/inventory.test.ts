// The inventory of what is in force, from objects made with the openssl command line: a client CA
// that expires in 10 days, a weak one (RSA 1024, SHA-1), a CRL, and a server certificate that
// leaves out one of its Ingress's hosts. openssl itself is the oracle for every fingerprint.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli } from "../testing/cli.ts";
import { OpensslPki } from "../testing/openssl-pki.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { namesCover, type Inventory } from "./inventory.ts";
import type { Manifests } from "../manifests/manifests.ts";

const tempDir = tempDirs();
let dir: string;
let pki: OpensslPki;
const b64 = (s: string) => Buffer.from(s).toString("base64");
const fingerprint = (file: string) => execFileSync("openssl", ["x509", "-in", file, "-noout", "-fingerprint", "-sha256"], { encoding: "utf8" }).trim().replace(/^.*=/, "").replaceAll(":", "").toLowerCase();
const ossl = (...args: string[]) => execFileSync("openssl", args, { cwd: join(dir, "pki"), stdio: "pipe" });

beforeAll(() => {
  dir = tempDir("inventory-");
  mkdirSync(join(dir, "pki"));
  mkdirSync(join(dir, "objects"));
  pki = new OpensslPki(join(dir, "pki")).ca("server-ca", "/CN=Shop Server CA").leaf("server", "/CN=api.shop.test", "server-ca", { eku: "serverAuth", san: ["api.shop.test"] });
  // The client CA, valid 10 days; a weak one; and a CRL of the server CA (the OpensslPki's own database).
  ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "client-ca.key", "-out", "client-ca.crt", "-subj", "/O=Shop/CN=Shop Client CA", "-days", "10");
  ossl("req", "-x509", "-newkey", "rsa:1024", "-sha1", "-nodes", "-keyout", "weak-ca.key", "-out", "weak-ca.crt", "-subj", "/CN=Legacy Partner CA", "-days", "365");
  const crl = pki.crl("server-ca", "server-ca.crl", 60);
  const read = (f: string) => execFileSync("cat", [join(dir, "pki", f)], { encoding: "utf8" });
  const secret = (name: string, data: Record<string, string>) => `apiVersion: v1\nkind: Secret\nmetadata: { name: ${name}, namespace: shop }\ndata:\n${Object.entries(data).map(([k, v]) => `  ${k}: ${b64(v)}`).join("\n")}\n`;
  const ingress = (name: string, secretName: string, hosts: string[]) =>
    `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: ${name}\n  namespace: shop\n  annotations:\n    nginx.ingress.kubernetes.io/auth-tls-secret: shop/${secretName}\nspec:\n  ingressClassName: nginx\n  tls: [{ hosts: [${hosts.join(", ")}], secretName: shop-tls }]\n  rules:\n${hosts.map((h) => `    - host: ${h}\n      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: ${name}, port: { number: 80 } } } }] }`).join("\n")}\n`;
  writeFileSync(join(dir, "objects", "secrets.yaml"), [secret("client-ca", { "ca.crt": read("client-ca.crt"), "ca.crl": execFileSync("cat", [crl], { encoding: "utf8" }) }), secret("weak-ca", { "ca.crt": read("weak-ca.crt") }), secret("shop-tls", { "tls.crt": read("server.crt"), "tls.key": read("server.key") })].join("---\n"));
  writeFileSync(join(dir, "objects", "ingresses.yaml"), [ingress("api", "client-ca", ["api.shop.test", "admin.shop.test"]), ingress("partners", "weak-ca", ["partners.shop.test"])].join("---\n"));
});

describe("mtls-conformance inventory", () => {
  it("lists every trust anchor with openssl's SHA-256 and validity, the CRL, each host's server certificate; names the expiry once and the uncovered host once with the certificate's names; exit 1", async () => {
    const r = await cli(["inventory", "--manifests", join(dir, "objects"), "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.controls).toEqual(["PCI-DSS-4.0:4.2.1.1", "NIST-800-53:IA-5(2)"]);
    const client = inv.trustAnchors.find((a) => a.subject.includes("Shop Client CA"))!;
    expect(client.sha256).toBe(fingerprint(pki.path("client-ca")));
    expect(client).toMatchObject({ key: "rsa 2048", secrets: ["shop/client-ca"], ingresses: ["shop/api"], hosts: ["api.shop.test", "admin.shop.test"] });
    expect(new Date(client.notAfter).getTime() - Date.now()).toBeLessThan(11 * 86_400_000);
    expect(inv.trustAnchors.find((a) => a.subject.includes("Legacy Partner CA"))!.sha256).toBe(fingerprint(pki.path("weak-ca")));
    expect(inv.crls).toEqual([expect.objectContaining({ secret: "shop/client-ca", entries: 0 })]);
    expect(inv.serverCertificates.map((s) => [s.host, s.sha256, s.coversHost])).toEqual([
      ["admin.shop.test", fingerprint(pki.path("server")), false],
      ["api.shop.test", fingerprint(pki.path("server")), true],
      ["partners.shop.test", fingerprint(pki.path("server")), false],
    ]);
    const by = (rule: string) => inv.findings.filter((f) => f.rule === rule);
    // The client CA (10 days) and the server certificate (openssl ca -days 30), each named once.
    const expiring = by("expiring");
    expect(expiring.map((f) => f.subject.split(" (")[0])).toEqual(["The trust anchor O=Shop, CN=Shop Client CA", "The server certificate CN=api.shop.test"]);
    expect(expiring[0]).toMatchObject({ blocking: true });
    expect(expiring[0]!.detail).toMatch(/in (9|10) day\(s\)/);
    expect(expiring[1]!.subject).toContain("of admin.shop.test, api.shop.test, partners.shop.test");
    const mismatch = by("name-mismatch").find((f) => f.subject.includes("admin.shop.test"))!;
    expect(mismatch.detail).toBe("its names: api.shop.test");
    expect(by("name-mismatch").filter((f) => f.subject.includes("admin.shop.test"))).toHaveLength(1);
    expect(by("weak-key").map((f) => f.detail)).toEqual(["rsa 1024; SHA-1 with RSASSA-PKCS1-v1_5"]);
    // Each production check is a check of its own, with its MUST and verdict.
    const check = (id: string) => inv.checks.find((c) => c.id === id)!;
    expect(check(`inventory/trust-anchor/${client.sha256.slice(0, 16)}#validity`)).toMatchObject({ verdict: "finding", rule: "expiring" });
    expect(check("inventory/host/admin.shop.test#server-name")).toMatchObject({ verdict: "fail", rule: "name-mismatch", must: "The server certificate of admin.shop.test MUST name admin.shop.test in its subjectAltName." });
    expect(check("inventory/host/api.shop.test#server-name").verdict).toBe("pass");
    expect(check("inventory/crl/shop/client-ca#crl-freshness").verdict).toBe("pass");
    // The server CA is not among the objects: the chain is not judged, and says why.
    expect(check("inventory/host/api.shop.test#chain")).toMatchObject({ verdict: "skip" });
    expect(check("inventory/host/api.shop.test#chain").detail).toContain("no trust anchor known");
  });

  it("with a warning window shorter than every certificate's remaining days, nothing blocks: exit 0; the text form names the same", async () => {
    const r = await cli(["inventory", "--manifests", join(dir, "objects"), "--expiry-warning-days", "5"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`sha256 ${fingerprint(pki.path("client-ca"))}`);
    expect(r.stdout).toMatch(/FAIL name-mismatch: its names: api\.shop\.test/);
    expect((await cli(["inventory", "--expiry-warning-days", "soon"])).stderr).toContain("--expiry-warning-days soon: a whole number of days");
  });

  it("with no input, the catalogue's own objects: its deliberately stale CRL fails (exit 1), its server certificate reaches the catalogue's CA", async () => {
    const r = await cli(["inventory", "--json"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("the catalogue's own objects");
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.trustAnchors.length).toBeGreaterThanOrEqual(2);
    expect(inv.checks.find((c) => c.id === "inventory/crl/default/ca-crl-expired-secret#crl-freshness")).toMatchObject({ verdict: "fail", rule: "crl-stale", blocking: true });
    const guide = inv.serverCertificates.find((s) => s.host === "test.localdev.me")!;
    expect(guide).toMatchObject({ source: "declared", coversHost: true, chainComplete: true });
  });

  it("names cover a host as RFC 6125 says: exact, or a wildcard for one leftmost label", () => {
    expect(namesCover(["api.shop.test"], "API.shop.test")).toBe(true);
    expect(namesCover(["*.shop.test"], "api.shop.test")).toBe(true);
    expect(namesCover(["*.shop.test"], "a.b.shop.test")).toBe(false);
    expect(namesCover(["*.shop.test"], "shop.test")).toBe(false);
    expect(namesCover([], "api.shop.test")).toBe(false);
  });
});

describe("the inventory in a run's reports", () => {
  it("--manifests: evidence.json, JUnit and report.html name the user's own trust anchor (not the run's stand-in CA), with openssl's SHA-256", async () => {
    const { runConformance } = await import("../run/run.ts");
    const { loadUserManifests } = await import("../manifests/user-manifests.ts");
    const reportDir = tempDir("inventory-run-");
    const example = join(import.meta.dirname, "..", "..", "fixtures", "examples", "shop");
    const outcome = await runConformance({ target: "nginx", manifests: example, reportDir, command: "test", log: () => undefined });
    expect(outcome.exitCode).toBe(0);
    // The oracle: openssl's fingerprint of the ca.crt the example's Secret holds.
    const { secretView } = await import("../model/secrets.ts");
    const caSecret = loadUserManifests(example).secrets.map(secretView).find((x) => x.data["ca.crt"])!;
    const caFile = join(tempDir("inventory-ca-"), "ca.crt");
    writeFileSync(caFile, caSecret.data["ca.crt"]!);
    const sha = fingerprint(caFile);
    const inv = outcome.evidence.inventory!;
    expect(inv.trustAnchors.map((a) => a.sha256)).toEqual([sha]);
    expect(inv.controls).toContain("PCI-DSS-4.0:4.2.1.1");
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(join(reportDir, "junit.xml"), "utf8")).toContain(`<property name="trust-anchor" value="O=Acme, CN=Acme Client CA; sha256 ${sha};`);
    const html = readFileSync(join(reportDir, "report.html"), "utf8");
    expect(html).toContain('<section id="inventory"');
    expect(html).toContain(sha);
  });
});

// A live deployment (nginx, as ingress-nginx renders it) whose hosts present chains made with the
// openssl command line: one leaves out its intermediate. `inventory --target endpoint` reads them in
// handshakes without a client certificate; `openssl verify` is the oracle for which chain is complete.
describe("inventory of a live endpoint", () => {
  it("lists each host's presented chain with openssl's fingerprints, and fails the chain that leaves out its intermediate, as openssl verify does", async () => {
    const { NginxTarget } = await import("../controllers/ingress-nginx/nginx-target.ts");
    const { stringify } = await import("yaml");
    const d = tempDir("inventory-live-");
    const p = new OpensslPki(join(d, "pki"))
      .ca("server-root", "/CN=Shop Server Root", { days: 365 })
      .intermediate("server-int", "/CN=Shop Server Issuing CA", "server-root")
      .leaf("a", "/CN=a.chain.test", "server-int", { eku: "serverAuth", san: ["a.chain.test"] })
      .leaf("b", "/CN=b.chain.test", "server-int", { eku: "serverAuth", san: ["b.chain.test"] })
      .ca("client-ca", "/CN=Shop Client CA", { days: 365 });
    // The oracle: without the intermediate openssl cannot reach the root; with it, it can.
    const verify = (...args: string[]) => {
      try {
        execFileSync("openssl", ["verify", "-CAfile", p.path("server-root"), ...args], { stdio: "pipe" });
        return true;
      } catch {
        return false;
      }
    };
    expect(verify(p.path("a"))).toBe(false);
    expect(verify("-untrusted", p.path("server-int"), p.path("a"))).toBe(true);
    const tls = (name: string, crt: string) => ({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "shop" }, type: "kubernetes.io/tls", data: { "tls.crt": b64(crt), "tls.key": b64(p.read(name.replace("-tls", ""), "key")) } });
    const ing = (host: string, secretName: string) => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: host.split(".")[0], namespace: "shop", annotations: { "nginx.ingress.kubernetes.io/auth-tls-secret": "shop/client-ca" } },
      spec: { ingressClassName: "nginx", tls: [{ hosts: [host], secretName }], rules: [{ host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "app", port: { number: 80 } } } }] } }] },
    });
    const ingresses = [ing("a.chain.test", "a-tls"), ing("b.chain.test", "b-tls")];
    const secrets = [tls("a-tls", p.read("a")), tls("b-tls", p.chain("b", "server-int")), { apiVersion: "v1", kind: "Secret", metadata: { name: "client-ca", namespace: "shop" }, data: { "ca.crt": b64(p.read("client-ca")) } }];
    const plane = await new NginxTarget().start({ manifests: { namespace: "shop", namespaces: ["shop"], secrets, ingresses, workloads: [], backends: [], hostCertificates: {} } as Manifests, workDir: tempDir("inventory-live-plane-"), reportDir: tempDir("inventory-live-report-"), log: () => undefined });
    try {
      writeFileSync(join(d, "ingresses.yaml"), ingresses.map((i) => stringify(i)).join("---\n"));
      const { address, port } = plane.endpointFor("a.chain.test");
      const args = ["inventory", "--target", "endpoint", "--url", `https://${address}:${port}`, "--ingress", join(d, "ingresses.yaml"), "--ca-cert", p.path("client-ca"), "--server-ca", p.path("server-root"), "--json"];
      const r = await cli(args);
      // Nothing expires within 30 days but the leaves (openssl ca -days 30): exit 1 for them, as an hourly job should.
      expect(r.code, r.stderr).toBe(1);
      const inv = JSON.parse(r.stdout) as Inventory;
      const host = (h: string) => inv.serverCertificates.find((s) => s.host === h)!;
      expect(host("a.chain.test")).toMatchObject({ source: "presented", sha256: fingerprint(p.path("a")), chain: [], chainComplete: false });
      expect(host("a.chain.test").chainDetail).toContain("an intermediate is missing");
      expect(host("b.chain.test")).toMatchObject({ source: "presented", sha256: fingerprint(p.path("b")), chain: [expect.objectContaining({ sha256: fingerprint(p.path("server-int")) })], chainComplete: true });
      const check = (id: string) => inv.checks.find((c) => c.id === id)!;
      expect(check("inventory/host/a.chain.test#chain")).toMatchObject({ verdict: "fail", rule: "broken-chain" });
      expect(check("inventory/host/b.chain.test#chain").verdict).toBe("pass");
      expect(inv.trustAnchors.map((a) => a.sha256)).toEqual([fingerprint(p.path("client-ca"))]);
      // A window shorter than the leaves' 30 days: nothing blocks (a broken chain is a failed check, not an expiry).
      expect((await cli([...args, "--expiry-warning-days", "5"])).code).toBe(0);
    } finally {
      await plane.stop();
    }
  });
});
