// A live successor checked against what its Ingresses declare (--target endpoint --controller
// traefik): the checks generated from the Ingresses keep ingress-nginx's expectations, each
// observation is classed against them and held to Traefik's guarantee rows for the host. The
// deployment here is a TLS server written for the test (Node's TLS, not this project's renderings):
// one that requires and verifies client certificates in the handshake, as Traefik does, passes; the
// same server accepting any certificate fails.
import { createServer, type Server } from "node:https";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/net.ts";
import { OpensslPki } from "../testing/openssl-pki.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { runConformance, type RunOutcome } from "./run.ts";

const tempDir = tempDirs();
const HOST = "orders.shop.test";
let dir: string;
let pki: OpensslPki;
let port: number;
let server: Server | undefined;

const INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: orders
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/auth-tls-secret: shop/shop-ca
    nginx.ingress.kubernetes.io/auth-tls-verify-client: "on"
    nginx.ingress.kubernetes.io/auth-tls-verify-depth: "1"
spec:
  ingressClassName: nginx
  tls: [{ hosts: ["${HOST}"], secretName: orders-tls }]
  rules:
    - host: ${HOST}
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: orders, port: { number: 80 } } } }] }
`;

/** The deployment: TLS with a client certificate asked for; verified in the handshake unless `acceptAny`. */
async function serve(acceptAny: boolean): Promise<void> {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = createServer({ key: readFileSync(pki.path("server", "key")), cert: readFileSync(pki.path("server")), ca: readFileSync(pki.path("shop-ca")), requestCert: true, rejectUnauthorized: !acceptAny }, (_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("orders\n");
  });
  await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
}

const check = (): Promise<RunOutcome> =>
  runConformance({
    target: "endpoint",
    controller: "traefik",
    reportDir: tempDir("live-successor-run-"),
    command: "live successor test",
    log: () => undefined,
    targetOptions: { url: `https://127.0.0.1:${port}`, ingress: join(dir, "ingress.yaml"), caCert: pki.path("shop-ca"), caKey: pki.path("shop-ca", "key"), serverCa: pki.path("server-ca") },
  });

beforeAll(async () => {
  dir = tempDir("live-successor-");
  mkdirSync(join(dir, "pki"));
  pki = new OpensslPki(join(dir, "pki")).ca("server-ca", "/CN=Shop Server CA").leaf("server", `/CN=${HOST}`, "server-ca", { eku: "serverAuth", san: [HOST] }).ca("shop-ca", "/O=Shop/CN=Shop Client CA");
  writeFileSync(join(dir, "ingress.yaml"), INGRESS);
  port = await freePort();
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe("--target endpoint --controller traefik: a live successor held to what its Ingress declares", () => {
  it("a server that requires and verifies client certificates in the handshake passes, with checks run; the depth it cannot express is reported lost", async () => {
    await serve(false);
    const o = await check();
    const failed = o.evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => `${s.id}: ${s.mismatches.join("; ")}`);
    expect(failed).toEqual([]);
    expect(o.exitCode).toBe(0);
    const probed = o.evidence.scenarios.filter((s) => s.observed);
    expect(probed.length).toBeGreaterThan(5);
    // No certificate: refused in the handshake, which is Traefik's answer (equivalent to ingress-nginx's 400).
    const refused = probed.filter((s) => s.migration?.observed?.class === "equivalent" && s.observed!.status === undefined);
    expect(refused.length).toBeGreaterThan(0);
    // verify-depth 1 cannot be written for Traefik: a longer chain passes, counted as lost, never as a pass.
    const depth = probed.filter((s) => s.migration?.guarantee === "verify-depth" && s.migration.observed?.class === "lost");
    expect(depth.length).toBeGreaterThan(0);
    for (const s of depth) expect(s.verdict).toBe("guarantee-lost");
  });

  it("the same server accepting any certificate fails: a certificate from another CA reaches the application", async () => {
    await serve(true);
    const o = await check();
    expect(o.exitCode).toBe(1);
    const failed = o.evidence.scenarios.filter((s) => s.verdict === "fail");
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.map((s) => s.migration?.guarantee)).toContain("trust-anchor");
    expect(failed.flatMap((s) => s.mismatches).join("\n")).toMatch(/traefik is expected to keep trust-anchor here as "equivalent"/);
  });
});
