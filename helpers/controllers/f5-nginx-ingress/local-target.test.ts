// The F5 local target on the whole catalogue: nginx loads what the emulation renders for every
// policy, and curl (an independent client) sees what F5's rendering does: nginx's own 400 without a
// client certificate, the backend without any ssl-client-* header, the 301 to port 443, 500 for a
// CA Secret that is not there, the default server refusing unknown names; then an update reloads.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalogue } from "../../../fixtures/catalogue.ts";
import { buildManifests, type Manifests } from "../../manifests/manifests.ts";
import { writePki } from "../../pki/pki-files.ts";
import type { Pki } from "../../pki/pki.ts";
import type { StartedTarget } from "../../targets/target.ts";
import { sharedPki } from "../../testing/shared-pki.ts";
import { F5LocalTarget } from "./local-target.ts";

const execFileAsync = promisify(execFile);
const HOST = "test.localdev.me";
let pki: Pki;
let manifests: Manifests;
let target: StartedTarget;
let base: string;
let pkiDir: string;
let reportDir: string;

beforeAll(async () => {
  pki = await sharedPki(catalogue.policies.map((p) => p.host));
  base = mkdtempSync(join(tmpdir(), "f5-target-test-"));
  pkiDir = join(base, "pki");
  reportDir = join(base, "report");
  await writePki(pki, { certDir: pkiDir, keyDir: pkiDir });
  manifests = buildManifests({ namespace: "default", policies: catalogue.policies, pki });
  target = await new F5LocalTarget().start({ manifests, workDir: base, reportDir, log: () => undefined });
}, 60_000);

afterAll(async () => {
  await target?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

/** curl with --resolve; asynchronous, since the echo backend answers from this process. */
async function curl(host: string, args: string[] = [], scheme: "https" | "http" = "https"): Promise<{ status: number; body: string; headers: string; exit: number }> {
  const { address, port } = scheme === "https" ? target.endpointFor(host) : target.httpEndpointFor!(host)!;
  try {
    const { stdout } = await execFileAsync("curl", ["-sS", "-D", "-", "--cacert", join(pkiDir, "ca.crt"), "--resolve", `${host}:${port}:${address}`, "-w", "\n%{http_code}", ...args, `${scheme}://${host}:${port}/`], { encoding: "utf8" });
    const cut = stdout.lastIndexOf("\n");
    const [headers, ...body] = stdout.slice(0, cut).split("\r\n\r\n");
    return { status: Number(stdout.slice(cut + 1)), headers: headers!, body: body.join("\r\n\r\n"), exit: 0 };
  } catch (error) {
    return { status: 0, headers: "", body: String((error as { stderr?: string }).stderr ?? ""), exit: (error as { code: number }).code };
  }
}

const clientArgs = () => ["--cert", join(pkiDir, "client.crt"), "--key", join(pkiDir, "client.key")];

describe("F5 NGINX Ingress Controller's rendering of the whole catalogue, on nginx", () => {
  it("every host on the one https and http port", () => {
    const hosts = new Set(catalogue.policies.map((p) => p.host));
    expect(new Set([...hosts].map((h) => target.endpointFor(h).port)).size).toBe(1);
    expect(new Set([...hosts].map((h) => target.httpEndpointFor!(h)!.port)).size).toBe(1);
    expect(target.versions.emulatedController).toBe("nginx/kubernetes-ingress@v5.5.4");
  });

  it("the guide's host: nginx's own 400 without a certificate; 200 with one, and the backend gets no ssl-client-* header", async () => {
    const without = await curl(HOST);
    expect(without.status).toBe(400);
    expect(without.body).toContain("No required SSL certificate was sent");
    const withCert = await curl(HOST, clientArgs());
    expect(withCert.status).toBe(200);
    const echo = JSON.parse(withCert.body) as { headers: Record<string, string> };
    expect(Object.keys(echo.headers).filter((h) => h.startsWith("ssl-client"))).toEqual([]);
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
  });

  it("plain HTTP is redirected to https://host:443 (the literal port F5 renders)", async () => {
    const r = await curl(HOST, [], "http");
    expect(r.status).toBe(301);
    expect(r.headers).toMatch(new RegExp(`\\r\\nLocation: https://${HOST.replaceAll(".", "\\.")}:443/\\r?$`, "mi"));
  });

  it("a name no Ingress claims: the handshake is refused", async () => {
    const r = await curl("unknown.localdev.me");
    expect(r.status).toBe(0);
    expect(r.exit).not.toBe(0);
  });

  it("a host whose CA Secret is missing or unusable answers 500 to a client with a good certificate; its notes say why", async () => {
    const details = target.details as { hosts: Array<{ host: string; errorReturn?: string }> };
    const failing = details.hosts.filter((h) => h.errorReturn && /secret/.test(h.errorReturn));
    expect(failing.length).toBeGreaterThan(0);
    const r = await curl(failing[0]!.host, clientArgs());
    expect(r.status).toBe(500);
  });

  it("diagnostics: nginx.conf, error.log and the translation as f5-objects.yaml", async () => {
    const files = await target.collectDiagnostics();
    const dir = join(reportDir, "f5-nginx-ingress");
    expect(files).toEqual(expect.arrayContaining([join(dir, "nginx.conf"), join(dir, "f5-objects.yaml")]));
    const docs = parseAllDocuments(readFileSync(join(dir, "f5-objects.yaml"), "utf8"), { version: "1.1" });
    expect(docs.every((d) => d.errors.length === 0)).toBe(true);
    expect(docs.map((d) => d.toJS()).filter((o) => o?.kind === "Policy").length).toBeGreaterThan(0);
    expect(existsSync(join(dir, "error.log"))).toBe(true);
  });

  it("an update re-renders and reloads: the guide's host without auth-tls no longer asks for a certificate", async () => {
    const changed: Manifests = structuredClone(manifests);
    const ing = changed.ingresses.find((i) => i.spec?.rules?.[0]?.host === HOST)!;
    for (const k of Object.keys(ing.metadata!.annotations!)) if (k.includes("auth-tls")) delete ing.metadata!.annotations![k];
    await target.update!(changed);
    expect((await curl(HOST)).status).toBe(200);
    await target.update!(manifests);
    expect((await curl(HOST)).status).toBe(400);
  }, 30_000);
});
