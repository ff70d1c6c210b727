// The endpoint target against a "live deployment" this project did not render: nginx configured by
// hand for declarations that are not the catalogue's (their own CA name, depth 3, a match-cn and an
// error page of their own, optional client auth), certificates made with the openssl command line,
// and the echo backend. The correct configuration passes with checks run; every broken one fails.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoServer, type StartedEchoServer } from "../../fixtures/echo-server.ts";
import { freePort } from "../support/net.ts";
import { runConformance, type RunOutcome } from "../run/run.ts";
import { OpensslPki } from "../testing/openssl-pki.ts";
import { findNginx } from "../controllers/ingress-nginx/nginx-target.ts";
import { presentedCertificate } from "./tls-readiness.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

const API = "api.acme.test";
const OPS = "ops.acme.test";
const PARTNERS = "partners.acme.test";
const LOGIN = "https://login.acme.test/mtls";
let dir: string;
let pki: OpensslPki;
let echo: StartedEchoServer;
let port: number;
let nginx: ChildProcess | undefined;

interface Knobs {
  apiVerify?: string;
  apiDepth?: number;
  opsMatchCn?: boolean;
  opsErrorPage?: boolean;
  partnersLeaksCert?: boolean;
}

/** The deployment's nginx, written by hand as an operator would for the declared Ingresses, one knob per mistake. */
function nginxConf(k: Knobs = {}): string {
  const server = (host: string, lines: string[], headers: string[]) => `
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${host};
    ssl_certificate ${pki.path("server")};
    ssl_certificate_key ${pki.path("server", "key")};
    ${lines.join("\n    ")}
    location / {
      ${headers.join("\n      ")}
      proxy_set_header ssl-client-verify $ssl_client_verify;
      proxy_set_header ssl-client-subject-dn $ssl_client_s_dn;
      proxy_set_header ssl-client-issuer-dn $ssl_client_i_dn;
      proxy_pass http://127.0.0.1:${echo.port};
    }
  }`;
  const ca = `ssl_client_certificate ${pki.path("client-ca")};`;
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/t; proxy_temp_path ${dir}/t; fastcgi_temp_path ${dir}/t; uwsgi_temp_path ${dir}/t; scgi_temp_path ${dir}/t;
  ${server(API, [ca, `ssl_verify_client ${k.apiVerify ?? "on"};`, `ssl_verify_depth ${k.apiDepth ?? 3};`], ["proxy_set_header ssl-client-cert $ssl_client_escaped_cert;"])}
  ${server(
    OPS,
    [
      ...(k.opsMatchCn === false ? [] : ['if ($ssl_client_s_dn !~ "CN=ops-[0-9]+$") { return 403 "client certificate unauthorized"; }']),
      ca,
      "ssl_verify_client on;",
      "ssl_verify_depth 1;",
      ...(k.opsErrorPage === false ? [] : [`error_page 495 496 = ${LOGIN};`]),
    ],
    [],
  )}
  ${server(PARTNERS, [ca, "ssl_verify_client optional;", "ssl_verify_depth 1;"], k.partnersLeaksCert ? ["proxy_set_header ssl-client-cert $ssl_client_escaped_cert;"] : [])}
}
`;
}

const INGRESSES = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: api
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/auth-tls-secret: shop/acme-ca
    nginx.ingress.kubernetes.io/auth-tls-verify-depth: "3"
    nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream: "true"
spec:
  ingressClassName: nginx
  tls: [{ hosts: ["${API}"], secretName: api-tls }]
  rules:
    - host: ${API}
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: api, port: { number: 80 } } } }] }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ops
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/auth-tls-secret: shop/acme-ca
    nginx.ingress.kubernetes.io/auth-tls-match-cn: "CN=ops-[0-9]+$"
    nginx.ingress.kubernetes.io/auth-tls-error-page: "${LOGIN}"
spec:
  ingressClassName: nginx
  tls: [{ hosts: ["${OPS}"], secretName: ops-tls }]
  rules:
    - host: ${OPS}
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: ops, port: { number: 80 } } } }] }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: partners
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/auth-tls-secret: shop/acme-ca
    nginx.ingress.kubernetes.io/auth-tls-verify-client: optional
spec:
  ingressClassName: nginx
  tls: [{ hosts: ["${PARTNERS}"], secretName: partners-tls }]
  rules:
    - host: ${PARTNERS}
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: partners, port: { number: 80 } } } }] }
`;

async function startNginx(conf: string): Promise<void> {
  await stopNginx();
  writeFileSync(join(dir, "nginx.conf"), conf);
  nginx = spawn(findNginx()!, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], { stdio: "ignore" });
  for (let i = 0; i < 200; i++) {
    // A TLS handshake, asynchronous: the echo backend in this process must stay responsive.
    try {
      await presentedCertificate({ address: "127.0.0.1", port }, API, 500);
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

async function check(extra: Record<string, unknown> = {}, only?: string): Promise<RunOutcome> {
  return runConformance({
    target: "endpoint",
    reportDir: tempDir("endpoint-run-"),
    command: "endpoint test",
    log: () => undefined,
    only,
    targetOptions: {
      url: `https://127.0.0.1:${port}`,
      ingress: join(dir, "ingresses.yaml"),
      caCert: pki.path("client-ca"),
      caKey: pki.path("client-ca", "key"),
      serverCa: pki.path("server-ca"),
      echo: true,
      ...extra,
    },
  });
}

const verdicts = (o: RunOutcome, verdict: string) => o.evidence.scenarios.filter((s) => s.verdict === verdict).map((s) => s.id);

beforeAll(async () => {
  dir = tempDir("endpoint-");
  mkdirSync(join(dir, "t"));
  pki = new OpensslPki(join(dir, "pki"));
  pki
    .ca("server-ca", "/CN=Acme Server CA")
    .leaf("server", "/CN=acme.test", "server-ca", { eku: "serverAuth", san: [API, OPS, PARTNERS] })
    .ca("client-ca", "/O=Acme Corp/CN=Acme Client CA")
    // CN last in the certificate, so first in RFC 2253: "O=Acme Corp,CN=ops-42" ends with what match-cn wants.
    .leaf("auditor", "/CN=ops-42/O=Acme Corp", "client-ca");
  writeFileSync(join(dir, "ingresses.yaml"), INGRESSES);
  echo = await startEchoServer();
  port = await freePort();
});

afterAll(async () => {
  await stopNginx();
  await echo?.stop();
});

describe("endpoint target: checks generated from declarations that are not the catalogue's", () => {
  it("the correct deployment passes: every generated check of every declared Ingress ran", async () => {
    await startNginx(nginxConf());
    const o = await check();
    expect(verdicts(o, "fail").map((id) => `${id}: ${o.evidence.scenarios.find((s) => s.id === id)!.mismatches.join("; ")}`)).toEqual([]);
    expect(o.exitCode).toBe(0);
    expect(o.evidence.totals.checked).toBeGreaterThan(30);
    const ran = o.evidence.scenarios.filter((s) => s.observed).map((s) => s.id);
    // Each declaration's own settings were checked, not the guide's.
    expect(ran).toEqual(
      expect.arrayContaining([
        "shop/api#depth-limit-at-limit",
        "shop/api#depth-limit-over-limit",
        "shop/ops#match-cn-not-matching",
        "shop/ops#no-client-cert",
        "shop/partners#no-client-cert",
        "shop/partners#valid-client",
      ]),
    );
    const s = (id: string) => o.evidence.scenarios.find((x) => x.id === id)!;
    expect(s("shop/api#depth-limit-at-limit").expected.status).toBe(200);
    expect(s("shop/api#depth-limit-over-limit").expected.status).toBe(400);
    expect(s("shop/ops#no-client-cert").expected).toMatchObject({ status: 302, responseHeaders: { location: LOGIN } });
    expect(s("shop/ops#match-cn-not-matching").observed?.status).toBe(403);
    expect(s("shop/partners#no-client-cert").observed?.upstreamHeaders?.["ssl-client-verify"]).toBe("NONE");
    // The impostor carries the deployment CA's own name.
    expect(s("shop/api#impostor-ca").credentialDescription).toContain("Acme Client CA");
    // Every expectation says where it comes from.
    for (const x of o.evidence.scenarios.filter((y) => y.observed)) expect(x.basis?.sources.length, x.id).toBeGreaterThan(0);
    // Reports group the checks by Ingress.
    expect(o.evidence.ingresses.map((i) => i.id).sort()).toEqual(["shop/api", "shop/ops", "shop/partners"]);
    expect(o.evidence.ingresses.find((i) => i.id === "shop/ops")!.checked).toBeGreaterThan(5);
    // Only the declared objects were linted: the guide's lint has nothing to say here.
    expect(o.evidence.scenarios.some((x) => x.id.startsWith("MTLS-GUIDELINT"))).toBe(false);
    expect(o.evidence.scenarios.find((x) => x.id === "shop/partners#lint-optional-no-ca")).toBeUndefined();
  });

  const broken: Array<[string, Knobs, string]> = [
    ["verify off on api", { apiVerify: "off" }, "shop/api#no-client-cert"],
    ["depth 2 where 3 is declared", { apiDepth: 2 }, "shop/api#depth-limit-at-limit"],
    ["match-cn dropped on ops", { opsMatchCn: false }, "shop/ops#match-cn-not-matching"],
    ["error page dropped on ops", { opsErrorPage: false }, "shop/ops#no-client-cert"],
    ["the certificate leaked to partners' backend (pass-certificate false)", { partnersLeaksCert: true }, "shop/partners#valid-client"],
  ];
  for (const [name, knobs, killer] of broken) {
    it(`a deployment with ${name} fails, exit 1, naming ${killer}`, async () => {
      await startNginx(nginxConf(knobs));
      const o = await check();
      expect(o.exitCode).toBe(1);
      expect(verdicts(o, "fail")).toContain(killer);
    });
  }

  it("with a given client instead of the CA key: the client is accepted, checks needing the key are skipped with the reason", async () => {
    await startNginx(nginxConf());
    const o = await check({ caKey: undefined, clientCert: pki.path("auditor"), clientKey: pki.path("auditor", "key") });
    expect(verdicts(o, "fail")).toEqual([]);
    expect(o.exitCode).toBe(0);
    const s = (id: string) => o.evidence.scenarios.find((x) => x.id === id)!;
    expect(s("shop/ops#valid-client").verdict).toBe("pass");
    expect(s("shop/ops#valid-client").observed?.upstreamHeaders?.["ssl-client-subject-dn"]).toBe(pki.rfc2253("auditor"));
    expect(s("shop/api#depth-limit").verdict).toBe("skip");
    expect(s("shop/api#depth-limit").skipReason).toContain("no key");
    // Negative checks are minted from the run's own CAs: they still run.
    expect(s("shop/api#impostor-ca").verdict).toBe("pass");
    expect(s("shop/api#expired").verdict).toBe("pass");
  });

  it("without --echo, nothing of the upstream is seen: positive checks judge by the absence of nginx's rejections", async () => {
    await startNginx(nginxConf());
    const o = await check({ echo: false });
    expect(verdicts(o, "fail")).toEqual([]);
    expect(o.exitCode).toBe(0);
    await startNginx(nginxConf({ apiVerify: "optional" }));
    const bad = await check({ echo: false });
    expect(verdicts(bad, "fail")).toContain("shop/api#no-client-cert");
  });

  it("a run under which nothing is probed exits 1 and says so", async () => {
    await startNginx(nginxConf());
    const lines: string[] = [];
    const o = await runConformance({
      target: "endpoint",
      reportDir: tempDir("endpoint-run-"),
      command: "t",
      log: (l) => lines.push(l),
      // Only checks that need the CA key, which is not given: every one of them is skipped.
      only: "*#missing-intermediate",
      targetOptions: { url: `https://127.0.0.1:${port}`, ingress: join(dir, "ingresses.yaml"), caCert: pki.path("client-ca"), serverCa: pki.path("server-ca") },
    });
    expect(o.evidence.totals).toMatchObject({ pass: 0, fail: 0, checked: 0 });
    expect(o.evidence.totals.skip).toBeGreaterThan(0);
    expect(o.exitCode).toBe(1);
    expect(lines.join("\n")).toMatch(/NOTHING WAS CHECKED/);
  });

  it("configuration errors exit 2 before anything starts: no server trust, missing files, not https, a key without its certificate", async () => {
    await expect(check({ serverCa: undefined })).rejects.toThrow("--server-ca FILE");
    await expect(check({ caKey: "/nonexistent.key" })).rejects.toThrow("--ca-key /nonexistent.key: no such file");
    await expect(check({ url: "http://127.0.0.1:1" })).rejects.toThrow("an https:// URL is needed");
    await expect(check({ clientKey: pki.path("auditor", "key") })).rejects.toThrow("--client-cert and --client-key go together");
  });
});
