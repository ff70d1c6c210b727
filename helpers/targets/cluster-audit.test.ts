// `run --target cluster --audit` against a fake API server in front of the nginx data plane: the
// API server says what is deployed (Ingresses, the Secrets they name), nginx serves it. The audit
// only reads, never keeps a private key, checks every auth-tls Ingress with what needs no CA key,
// uses the clients given per host, and fails when the data plane does not do what is declared.
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Manifests } from "../manifests/manifests.ts";
import { ANNOTATION_PREFIX } from "../model/annotations.ts";
import { runConformance } from "../run/run.ts";
import { startFakeKubeApi, type StartedFakeApi } from "../testing/fake-kube-api.ts";
import { OpensslPki } from "../testing/openssl-pki.ts";
import { NginxTarget } from "../controllers/ingress-nginx/nginx-target.ts";
import { HaproxyIngressLocalTarget } from "../controllers/haproxy-ingress/local-target.ts";
import { findHaproxy } from "../support/ensure-tools.ts";
import type { StartedTarget } from "./target.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { cli } from "../testing/cli.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

let dir: string;
let pki: OpensslPki;
let ingresses: V1Ingress[];
let secrets: V1Secret[];
const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

const b64 = (s: string) => Buffer.from(s).toString("base64");
function ingress(ns: string, name: string, host: string, annotations: Record<string, string>, extra: { path?: string; classAnnotation?: boolean; className?: string } = {}): V1Ingress {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name,
      namespace: ns,
      creationTimestamp: new Date("2026-11-01T10:00:00Z"),
      annotations: { ...Object.fromEntries(Object.entries(annotations).map(([k, v]) => [ANNOTATION_PREFIX + k, v])), ...(extra.classAnnotation ? { "kubernetes.io/ingress.class": "nginx" } : {}) },
    },
    spec: {
      ...(extra.classAnnotation ? {} : { ingressClassName: extra.className ?? "nginx" }),
      tls: [{ hosts: [host], secretName: "shop-tls" }],
      rules: [{ host, http: { paths: [{ path: extra.path ?? "/", pathType: extra.path ? "Exact" : "Prefix", backend: { service: { name, port: { number: 80 } } } }] } }],
    },
  };
}

/** The data plane: nginx rendering what the cluster holds (maybe altered, as a misbehaving controller would). */
async function dataPlane(alter?: (m: Manifests) => void, held: V1Secret[] = secrets): Promise<StartedTarget> {
  const manifests: Manifests = { namespace: "shop", namespaces: ["shop", "web"], secrets: structuredClone(held), ingresses: structuredClone(ingresses), workloads: [], backends: [], hostCertificates: {} };
  alter?.(manifests);
  const target = await new NginxTarget().start({ manifests, workDir: tempDir("audit-plane-"), reportDir: tempDir("audit-plane-report-"), log: () => undefined });
  running.push(target);
  return target;
}

/** HAProxy Ingress's rendering of what the cluster holds, on HAProxy: a successor deployed there. */
async function haproxyIngressPlane(): Promise<StartedTarget> {
  const manifests: Manifests = { namespace: "shop", namespaces: ["shop", "web"], secrets: structuredClone(secrets), ingresses: structuredClone(ingresses), workloads: [], backends: [], hostCertificates: {} };
  const target = await new HaproxyIngressLocalTarget().start({ manifests, workDir: tempDir("audit-hi-plane-"), reportDir: tempDir("audit-hi-plane-report-"), log: () => undefined });
  running.push(target);
  return target;
}

async function audit(api: StartedFakeApi, plane: StartedTarget, extra: Record<string, unknown> = {}, run: { crossCheck?: "curl" } = {}) {
  const { address, port } = plane.endpointFor("api.shop.test");
  const reportDir = tempDir("audit-run-");
  const outcome = await runConformance({
    target: "cluster",
    reportDir,
    command: "audit test",
    log: () => undefined,
    ...run,
    targetOptions: { audit: true, kubeconfig: api.kubeconfig, ingressAddress: `${address}:${port}`, serverCa: pki.path("server-ca"), clients: join(dir, "clients.yaml"), ...extra },
  });
  return { ...outcome, reportDir };
}

beforeAll(() => {
  dir = tempDir("audit-");
  pki = new OpensslPki(join(dir, "pki"));
  pki
    .ca("server-ca", "/CN=Shop Server CA")
    .leaf("server", "/CN=shop.test", "server-ca", { eku: "serverAuth", san: ["api.shop.test", "partners.shop.test", "legacy.shop.test", "blog.test"] })
    .ca("client-ca", "/O=Shop/CN=Shop Client CA")
    .leaf("api-client", "/O=Shop/CN=billing", "client-ca");
  writeFileSync(join(dir, "clients.yaml"), `api.shop.test: { cert: pki/api-client.crt, key: pki/api-client.key }\n`);
  secrets = [
    // As the guide makes it: the CA's key stored beside its certificate.
    { apiVersion: "v1", kind: "Secret", metadata: { name: "client-ca", namespace: "shop" }, type: "Opaque", data: { "ca.crt": b64(pki.read("client-ca")), "ca.key": b64(pki.read("client-ca", "key")) } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "shop-tls", namespace: "shop" }, type: "kubernetes.io/tls", data: { "tls.crt": b64(pki.read("server")), "tls.key": b64(pki.read("server", "key")) } },
  ];
  ingresses = [
    ingress("shop", "api", "api.shop.test", { "auth-tls-secret": "shop/client-ca", "auth-tls-verify-depth": "2", "auth-tls-pass-certificate-to-upstream": "true" }),
    ingress("shop", "partners", "partners.shop.test", { "auth-tls-secret": "shop/client-ca", "auth-tls-verify-client": "optional_no_ca" }),
    ingress("shop", "status", "partners.shop.test", {}, { path: "/status" }),
    ingress("shop", "legacy", "legacy.shop.test", { "auth-tls-secret": "shop/client-ca" }, { classAnnotation: true }),
    ingress("web", "blog", "blog.test", {}),
  ];
});

describe("cluster --audit against a fake API server in front of the nginx data plane", () => {
  it("reads only, checks every auth-tls Ingress, uses the given client, lints what it can see, keeps no key", async () => {
    const api = await startFakeKubeApi({ ingresses, secrets }, dir);
    running.push(api);
    const o = await audit(api, await dataPlane());
    const failed = o.evidence.scenarios.filter((s) => s.verdict === "fail");
    expect(failed.map((s) => `${s.id}: ${s.mismatches.join("; ")}`)).toEqual([]);
    expect(o.exitCode).toBe(0);
    // Nothing was written to the cluster; Secrets were read one by one, by name.
    expect(api.calls.every((c) => c.method === "GET")).toBe(true);
    expect(api.calls.filter((c) => c.path.includes("/secrets")).map((c) => c.path)).toEqual(["/api/v1/namespaces/shop/secrets/client-ca"]);
    expect(o.evidence.subject.origin).toBe("audit");
    expect(o.evidence.ingresses.map((i) => i.id).sort()).toEqual(["shop/api", "shop/legacy", "shop/partners", "shop/status"]);
    const s = (id: string) => o.evidence.scenarios.find((x) => x.id === id)!;
    expect(s("shop/api#valid-client")).toMatchObject({ verdict: "pass" });
    expect(s("shop/api#valid-client").observed?.upstreamHeaders?.["ssl-client-subject-dn"]).toBe(pki.rfc2253("api-client"));
    expect(s("shop/partners#valid-client").verdict).toBe("skip");
    expect(s("shop/partners#valid-client").skipReason).toContain("no key");
    for (const id of ["shop/api#no-client-cert", "shop/api#impostor-ca", "shop/api#self-signed", "shop/api#expired", "shop/partners#impostor-ca", "shop/legacy#no-client-cert"]) expect(s(id).verdict, id).toBe("pass");
    expect(s("shop/partners#impostor-ca").observed?.upstreamHeaders?.["ssl-client-verify"]).toMatch(/^FAILED:/);
    expect(s("shop/status#governing-policy").verdict).toBe("finding");
    expect(s("shop/api#lint-ca-key-in-secret").verdict).toBe("finding");
    expect(s("shop/legacy#lint-deprecated-class-annotation").verdict).toBe("finding");
    // The CA key the API server returned is nowhere in the report.
    for (const f of readdirSync(o.reportDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())) {
      expect(readFileSync(join(f.parentPath, f.name), "latin1"), f.name).not.toMatch(/PRIVATE KEY|LS0tLS1CRUdJTiBQUklWQVRF/);
    }
  });

  it("a data plane that does not do what the cluster declares fails the audit", async () => {
    const api = await startFakeKubeApi({ ingresses, secrets }, dir);
    running.push(api);
    const plane = await dataPlane((m) => {
      m.ingresses.find((i) => i.metadata?.name === "api")!.metadata!.annotations![ANNOTATION_PREFIX + "auth-tls-verify-client"] = "off";
    });
    const o = await audit(api, plane);
    expect(o.exitCode).toBe(1);
    expect(o.evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id)).toContain("shop/api#no-client-cert");
  });

  it("--namespace limits the audit; an audit needs server trust and changes nothing (no --install-controller)", async () => {
    const api = await startFakeKubeApi({ ingresses, secrets }, dir);
    running.push(api);
    const o = await audit(api, await dataPlane(), { auditNamespace: "web" });
    // web has no auth-tls Ingress: nothing to check, and the run says so.
    expect(o.evidence.ingresses).toEqual([]);
    expect(o.exitCode).toBe(1);
    await expect(audit(api, await dataPlane(), { serverCa: undefined })).rejects.toThrow("--audit needs --server-ca FILE");
    await expect(audit(api, await dataPlane(), { installController: true })).rejects.toThrow("--audit changes nothing in the cluster");
  });

  it.skipIf(!findHaproxy())("--controller haproxy-ingress: the cluster's HAProxy Ingress held to what its Ingresses declare: 496 is its refusal, the FAILED header and ssl-client-* are lost as its rows say, exit 0", async () => {
    const api = await startFakeKubeApi({ ingresses, secrets }, dir);
    running.push(api);
    // --echo: the backend answers with the headers it got, so what HAProxy Ingress tells it is judged too.
    const o = await audit(api, await haproxyIngressPlane(), { controller: "haproxy-ingress", echo: true });
    const failed = o.evidence.scenarios.filter((s) => s.verdict === "fail");
    expect(failed.map((s) => `${s.id}: ${s.mismatches.join("; ")}`)).toEqual([]);
    expect(o.exitCode).toBe(0);
    expect(o.evidence.target.description).toContain("haproxy-ingress controller");
    const s = (id: string) => o.evidence.scenarios.find((x) => x.id === id)!;
    expect(s("shop/api#no-client-cert")).toMatchObject({ verdict: "pass", observed: { status: 496 }, migration: { class: "equivalent", guarantee: "client-cert-required" } });
    expect(s("shop/api#impostor-ca")).toMatchObject({ verdict: "pass", observed: { status: 495 } });
    // optional_no_ca validates nothing on HAProxy Ingress, and no header says FAILED: lost, as its row says.
    expect(s("shop/partners#impostor-ca")).toMatchObject({ verdict: "guarantee-lost", migration: { class: "lost" } });
    // The backend gets X-SSL-Client-* instead of ssl-client-*: lost, as the headers row says.
    expect(s("shop/api#valid-client")).toMatchObject({ verdict: "guarantee-lost", migration: { guarantee: "headers", class: "lost" } });
    await expect(audit(api, await haproxyIngressPlane(), { controller: "haproxy-ingress", ingressAddress: undefined })).rejects.toThrow("--audit --controller haproxy-ingress: say where it answers");
  });
});

// The auditor's case (issue 22): a client CA that expires in 10 days and a server certificate that
// leaves out one of the hosts. openssl is the oracle for every fingerprint and date.
describe("cluster --audit: what is in force", () => {
  const ossl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8" }).trim();
  const fingerprint = (file: string) => ossl("x509", "-in", file, "-noout", "-fingerprint", "-sha256").replace(/^.*=/, "").replaceAll(":", "").toLowerCase();
  const date = (file: string, which: "startdate" | "enddate") => new Date(ossl("x509", "-in", file, "-noout", `-${which}`).replace(/^.*=/, "")).toISOString();

  it("records the CA's SHA-256 and validity, names its expiry in one finding, reports the uncovered host once with the certificate's names, and still runs that host's client-auth checks against the pinned certificate", async () => {
    const d = tempDir("audit-inventory-");
    const p = new OpensslPki(join(d, "pki"))
      .ca("server-ca", "/CN=Shop Server CA", { days: 365 })
      .leaf("server", "/CN=shop.test", "server-ca", { eku: "serverAuth", san: ["api.shop.test", "partners.shop.test"], start: "20261101000000Z", end: "20281101000000Z" })
      .ca("client-ca", "/O=Shop/CN=Shop Client CA", { days: 10 })
      .leaf("api-client", "/O=Shop/CN=billing", "client-ca");
    writeFileSync(join(d, "clients.yaml"), `api.shop.test: { cert: pki/api-client.crt, key: pki/api-client.key }\n`);
    const held: V1Secret[] = [
      { apiVersion: "v1", kind: "Secret", metadata: { name: "client-ca", namespace: "shop" }, type: "Opaque", data: { "ca.crt": b64(p.read("client-ca")) } },
      { apiVersion: "v1", kind: "Secret", metadata: { name: "shop-tls", namespace: "shop" }, type: "kubernetes.io/tls", data: { "tls.crt": b64(p.read("server")), "tls.key": b64(p.read("server", "key")) } },
    ];
    const api = await startFakeKubeApi({ ingresses, secrets: held }, d);
    running.push(api);
    const plane = await dataPlane(undefined, held);
    // curl's second opinion too: it cannot pin a certificate, so it pins the public key there.
    const o = await audit(api, plane, { serverCa: p.path("server-ca"), clients: join(d, "clients.yaml") }, { crossCheck: "curl" });
    const { reportDir } = o;
    const { address, port } = plane.endpointFor("api.shop.test");
    const inv = o.evidence.inventory!;
    // The CA in force, as openssl reads it.
    const ca = inv.trustAnchors.find((a) => a.subject.includes("Shop Client CA"))!;
    expect(ca).toMatchObject({ sha256: fingerprint(p.path("client-ca")), notBefore: date(p.path("client-ca"), "startdate"), notAfter: date(p.path("client-ca"), "enddate"), secrets: ["shop/client-ca"] });
    // Its expiry, in one finding, which is also a check of its own.
    const caFindings = inv.findings.filter((f) => f.subject.includes("Shop Client CA"));
    expect(caFindings).toEqual([expect.objectContaining({ rule: "expiring", blocking: true })]);
    expect(caFindings[0]!.detail).toMatch(/in (9|10) day\(s\)/);
    const s = (id: string) => o.evidence.scenarios.find((x) => x.id === id)!;
    expect(s(`inventory/trust-anchor/${ca.sha256.slice(0, 16)}#validity`)).toMatchObject({ verdict: "finding", suite: "inventory" });
    // What each host presented, read in a handshake: the certificate openssl made, with its names.
    const legacy = inv.serverCertificates.find((c) => c.host === "legacy.shop.test")!;
    expect(legacy).toMatchObject({ source: "presented", sha256: fingerprint(p.path("server")), sans: ["api.shop.test", "partners.shop.test"], coversHost: false, chainComplete: true });
    // The uncovered host, once, with the certificate's names; the only failure of the audit.
    const failed = o.evidence.scenarios.filter((x) => x.verdict === "fail");
    expect(failed.map((x) => `${x.id}: ${x.mismatches.join("; ")}`)).toEqual(["inventory/host/legacy.shop.test#server-name: its names: api.shop.test, partners.shop.test"]);
    expect(inv.findings.filter((f) => f.rule === "name-mismatch").map((f) => f.check)).toEqual(["inventory/host/legacy.shop.test#server-name"]);
    expect(JSON.stringify(o.evidence.scenarios)).not.toContain("ERR_TLS_CERT_ALTNAME_INVALID");
    // The host's client-authentication checks ran, against the pinned certificate, and say so.
    const noCert = s("shop/legacy#no-client-cert");
    expect(noCert).toMatchObject({ verdict: "pass", observed: { status: 400, serverCertSha256: fingerprint(p.path("server")) } });
    expect(noCert.note).toContain("pinned");
    expect(noCert.note).toContain("judges client authentication only");
    expect(noCert.curl).toContain(`-k --pinnedpubkey sha256//${legacy.publicKeySha256}`);
    expect(noCert.crossCheck?.disagreements).toEqual([]);
    for (const id of ["shop/legacy#impostor-ca", "shop/legacy#self-signed"]) expect(s(id).verdict, id).toBe("pass");
    expect(s("shop/api#valid-client").verdict).toBe("pass");
    expect(o.exitCode).toBe(1);
    // JUnit: the production checks as a suite of their own; report.html: the section.
    expect(readFileSync(join(reportDir, "junit.xml"), "utf8")).toMatch(/<testsuite name="inventory"/);
    expect(readFileSync(join(reportDir, "report.html"), "utf8")).toContain("does not name the host");
    // `inventory` reads the same, alone: no client credential, only GETs, the same CA and presented certificate.
    const before = api.calls.length;
    const r = await cli(["inventory", "--target", "cluster", "--audit", "--kubeconfig", api.kubeconfig, "--ingress-address", `${address}:${port}`, "--server-ca", p.path("server-ca"), "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const alone = JSON.parse(r.stdout) as typeof inv;
    expect(alone.trustAnchors.map((a) => a.sha256)).toEqual([ca.sha256]);
    expect(alone.serverCertificates.find((c) => c.host === "legacy.shop.test")).toMatchObject({ source: "presented", sha256: legacy.sha256, coversHost: false });
    expect(alone.checks.filter((c) => c.verdict === "fail").map((c) => c.id)).toEqual(["inventory/host/legacy.shop.test#server-name"]);
    expect(api.calls.slice(before).every((c) => c.method === "GET")).toBe(true);
  });
});
