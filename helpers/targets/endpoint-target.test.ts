// The endpoint target against a "live deployment" this project did not render: nginx with a
// hand-written configuration, CAs and certificates made with the openssl command line, and the
// echo backend. Correctly configured it passes; each mutated configuration fails.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoServer, type StartedEchoServer } from "../../fixtures/echo-server.ts";
import { freePort } from "../support/net.ts";
import { runConformance, type RunOutcome } from "../run/run.ts";
import { findNginx } from "./nginx-target.ts";
import { presentedCertificate } from "./tls-readiness.ts";

const HOST = "shop.example.test";
let dir: string;
let echo: StartedEchoServer;
let port: number;
let nginx: ChildProcess | undefined;

const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });

/** The deployment's nginx, written by hand as an operator would, with one knob per mutation. */
function nginxConf(v: { verify?: string; depth?: number; certHeader?: string; setVerifyHeaders?: boolean }): string {
  const headers = [
    v.certHeader === undefined ? "proxy_set_header ssl-client-cert $ssl_client_escaped_cert;" : v.certHeader,
    ...(v.setVerifyHeaders === false
      ? []
      : ["proxy_set_header ssl-client-verify $ssl_client_verify;", "proxy_set_header ssl-client-subject-dn $ssl_client_s_dn;", "proxy_set_header ssl-client-issuer-dn $ssl_client_i_dn;"]),
  ].join("\n      ");
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/t1; proxy_temp_path ${dir}/t2; fastcgi_temp_path ${dir}/t3; uwsgi_temp_path ${dir}/t4; scgi_temp_path ${dir}/t5;
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${HOST};
    ssl_certificate ${dir}/server.crt;
    ssl_certificate_key ${dir}/server.key;
    ssl_client_certificate ${dir}/client-ca.crt;
    ssl_verify_client ${v.verify ?? "on"};
    ssl_verify_depth ${v.depth ?? 1};
    location / {
      ${headers}
      proxy_pass http://127.0.0.1:${echo.port};
    }
  }
}
`;
}

async function startNginx(conf: string): Promise<void> {
  await stopNginx();
  writeFileSync(join(dir, "nginx.conf"), conf);
  nginx = spawn(findNginx()!, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], { stdio: "ignore" });
  for (let i = 0; i < 200; i++) {
    // A TLS handshake, asynchronous: the echo backend in this process must stay responsive.
    try {
      await presentedCertificate({ address: "127.0.0.1", port }, HOST, 500);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error("hand-written nginx did not start");
}

async function stopNginx(): Promise<void> {
  if (!nginx || nginx.exitCode !== null || nginx.signalCode !== null) return;
  const n = nginx;
  await new Promise<void>((resolve) => {
    n.once("exit", () => resolve());
    n.kill("SIGTERM");
  });
}

function ingressYaml(annotations: Record<string, string>): string {
  const lines = Object.entries(annotations).map(([k, v]) => `    nginx.ingress.kubernetes.io/${k}: "${v}"`);
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: prod
  annotations:
${lines.join("\n")}
spec:
  ingressClassName: nginx
  tls: [{ hosts: ["${HOST}"], secretName: shop-tls }]
  rules:
    - host: ${HOST}
      http:
        paths: [{ path: /, pathType: Prefix, backend: { service: { name: shop, port: { number: 80 } } } }]
`;
}

const DECLARED = { "auth-tls-secret": "prod/shop-ca", "auth-tls-verify-client": "on", "auth-tls-verify-depth": "1", "auth-tls-pass-certificate-to-upstream": "true" };

async function check(extra: Record<string, unknown> = {}): Promise<RunOutcome> {
  return runConformance({
    target: "endpoint",
    reportDir: mkdtempSync(join(tmpdir(), "endpoint-run-")),
    command: "endpoint test",
    log: () => undefined,
    targetOptions: {
      url: `https://127.0.0.1:${port}`,
      ingress: join(dir, "ingress.yaml"),
      caCert: join(dir, "client-ca.crt"),
      caKey: join(dir, "client-ca.key"),
      serverCa: join(dir, "server-ca.crt"),
      echo: true,
      ...extra,
    },
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "endpoint-"));
  for (const d of ["t1", "t2", "t3", "t4", "t5"]) mkdirSync(join(dir, d));
  // The deployment's own PKI, made with openssl: a server CA and a client CA (EC keys, PKCS#8).
  ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server-ca.key", "-out", "server-ca.crt", "-subj", "/CN=Shop Server CA", "-days", "30");
  ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${HOST}`);
  writeFileSync(join(dir, "san.ext"), `subjectAltName=DNS:${HOST}\nextendedKeyUsage=serverAuth\n`);
  ssl("x509", "-req", "-in", "server.csr", "-CA", "server-ca.crt", "-CAkey", "server-ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "30", "-extfile", "san.ext");
  ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client-ca.key", "-out", "client-ca.crt", "-subj", "/O=Shop/CN=Shop Client CA", "-days", "30");
  writeFileSync(join(dir, "ingress.yaml"), ingressYaml(DECLARED));
  echo = await startEchoServer();
  port = await freePort();
});

afterAll(async () => {
  await stopNginx();
  await echo?.stop();
});

describe("endpoint target", () => {
  it("a correctly configured deployment passes every scenario that applies; the others are skipped with a reason", async () => {
    await startNginx(nginxConf({}));
    const o = await check();
    const failed = o.evidence.scenarios.filter((s) => s.verdict === "fail");
    expect(failed.map((s) => `${s.id}: ${s.mismatches.join("; ")}`)).toEqual([]);
    expect(o.exitCode).toBe(0);
    const passed = o.evidence.scenarios.filter((s) => s.verdict === "pass").map((s) => s.id);
    expect(passed).toEqual(expect.arrayContaining(["MTLS-GUIDE-001", "MTLS-CLIENT-001", "MTLS-CLIENT-003", "MTLS-CLIENT-004", "MTLS-CLIENT-009", "MTLS-CLIENT-010", "MTLS-HEADERS-001", "MTLS-SPOOF-002"]));
    const skipped = o.evidence.scenarios.filter((s) => s.verdict === "skip");
    expect(skipped.length).toBeGreaterThan(10);
    for (const s of skipped) expect(s.skipReason, s.id).toMatch(/.{15,}/);
    expect(skipped.find((s) => s.id === "MTLS-LIFECYCLE-001")?.skipReason).toContain("needs to change the deployment");
    expect(skipped.find((s) => s.id === "MTLS-CLIENT-011")?.skipReason).toContain("the deployed Ingress declares verify-client on, depth 1");
    expect(skipped.find((s) => s.id === "MTLS-HEADERS-003")?.skipReason).toContain("expects the guide CA's name as issuer");
    expect(o.evidence.target.kind).toBe("endpoint");
    expect(String(o.evidence.target.description)).toContain(`a live deployment at https://127.0.0.1:${port}`);
  });

  it("without --echo, the scenarios that need to see the upstream are skipped, the rest still run", async () => {
    const o = await check({ echo: false });
    expect(o.exitCode).toBe(0);
    expect(o.evidence.scenarios.find((s) => s.id === "MTLS-HEADERS-001")?.skipReason).toContain("needs --echo");
    expect(o.evidence.scenarios.find((s) => s.id === "MTLS-CLIENT-001")?.verdict).toBe("pass");
  });

  const mutants: Array<[string, Parameters<typeof nginxConf>[0], string]> = [
    ["verify optional", { verify: "optional" }, "MTLS-CLIENT-001"],
    ["verify off", { verify: "off" }, "MTLS-CLIENT-001"],
    ["depth raised to 2", { depth: 2 }, "MTLS-CLIENT-010"],
    ["certificate header not forwarded", { certHeader: "" }, "MTLS-HEADERS-001"],
    ["certificate header from the wrong variable", { certHeader: "proxy_set_header ssl-client-cert $ssl_client_fingerprint;" }, "MTLS-HEADERS-001"],
    ["verify headers not set (spoofable)", { setVerifyHeaders: false }, "MTLS-SPOOF-002"],
  ];
  for (const [name, conf, killer] of mutants) {
    it(`a deployment with ${name} fails, exit 1, naming ${killer}`, async () => {
      await startNginx(nginxConf(conf));
      const o = await check();
      expect(o.exitCode).toBe(1);
      expect(o.evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id)).toContain(killer);
    });
  }

  it("configuration errors exit 2 before anything starts: no server trust, missing files, not https", async () => {
    await expect(check({ serverCa: undefined })).rejects.toThrow("--server-ca FILE");
    await expect(check({ caKey: "/nonexistent.key" })).rejects.toThrow("--ca-key /nonexistent.key: no such file");
    await expect(check({ url: "http://127.0.0.1:1" })).rejects.toThrow("an https:// URL is needed");
  });
});
