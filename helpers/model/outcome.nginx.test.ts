// The policy model against a real data plane it had no part in: nginx configured by hand with the
// lines ingress-nginx's template renders (nginx.tmpl:915-948, 1285-1293), certificates made with
// the openssl command line. For every policy and credential, the model's expectation must be
// what nginx does. This is the observation the model's OpenSSL rules cite.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoServer, type StartedEchoServer } from "../../fixtures/echo-server.ts";
import { judge } from "../probe/oracle.ts";
import { probe } from "../probe/probe.ts";
import { freePort } from "../support/net.ts";
import { findNginx } from "../controllers/ingress-nginx/nginx-target.ts";
import { presentedCertificate } from "../targets/tls-readiness.ts";
import { OpensslPki } from "../testing/openssl-pki.ts";
import type { AuthTlsSettings } from "./annotations.ts";
import { certSha256, certificatesIn, traitsOf } from "./credential-traits.ts";
import type { HostPolicy } from "./hosts.ts";
import { expectedOutcome } from "./outcome.ts";

interface HostSpec {
  host: string;
  settings: AuthTlsSettings;
  crl?: boolean;
}

const ERROR_PAGE = "https://login.example.invalid/mtls";
const on = (extra: Partial<AuthTlsSettings> = {}): AuthTlsSettings => ({ verifyClient: "on", verifyDepth: 1, passCertificateToUpstream: true, ...extra });
const HOSTS: HostSpec[] = [
  { host: "on.test", settings: on() },
  { host: "optional.test", settings: on({ verifyClient: "optional", passCertificateToUpstream: false }) },
  { host: "nca.test", settings: on({ verifyClient: "optional_no_ca" }) },
  { host: "nca-d2.test", settings: on({ verifyClient: "optional_no_ca", verifyDepth: 2 }) },
  { host: "off.test", settings: on({ verifyClient: "off" }) },
  { host: "d2.test", settings: on({ verifyDepth: 2 }) },
  { host: "crl.test", settings: on(), crl: true },
  { host: "nca-crl.test", settings: on({ verifyClient: "optional_no_ca" }), crl: true },
  { host: "error-page.test", settings: on({ errorPage: ERROR_PAGE }) },
  { host: "match-cn.test", settings: on({ matchCn: "CN=alice" }) },
  { host: "optional-match-cn.test", settings: on({ verifyClient: "optional", matchCn: "CN=alice$" }) },
];

// name -> [leaf, ...intermediates sent]
const CREDENTIALS: Record<string, string[]> = {
  alice: ["alice"],
  bob: ["bob"],
  impostor: ["impostor-client"],
  "server-auth-only": ["server-only"],
  expired: ["expired"],
  "not-yet-valid": ["future"],
  "impostor-expired": ["impostor-expired"],
  "self-signed": ["self-signed"],
  revoked: ["revoked"],
  "via-1": ["via-1", "int-1"],
  "via-2": ["via-2", "int-2", "int-1"],
  "via-3": ["via-3", "int-3", "int-2", "int-1"],
  "missing-intermediate": ["via-1"],
  "evil-o": ["evil"],
};

let dir: string;
let pki: OpensslPki;
let echo: StartedEchoServer;
let nginx: ChildProcess;
let port: number;
let ca: x509.X509Certificate;

function serverBlock(h: HostSpec): string {
  const s = h.settings;
  return `
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${h.host};
    ssl_certificate ${pki.path("server")};
    ssl_certificate_key ${pki.path("server", "key")};
    ${s.matchCn ? `if ( $ssl_client_s_dn !~ "${s.matchCn}" ) { return 403 "client certificate unauthorized"; }` : ""}
    ssl_client_certificate ${pki.path("client-ca")};
    ssl_verify_client ${s.verifyClient};
    ssl_verify_depth ${s.verifyDepth};
    ${h.crl ? `ssl_crl ${join(dir, "client-ca.crl")};` : ""}
    ${s.errorPage ? `error_page 495 496 = ${s.errorPage};` : ""}
    location / {
      ${s.passCertificateToUpstream ? "proxy_set_header ssl-client-cert $ssl_client_escaped_cert;" : ""}
      proxy_set_header ssl-client-verify $ssl_client_verify;
      proxy_set_header ssl-client-subject-dn $ssl_client_s_dn;
      proxy_set_header ssl-client-issuer-dn $ssl_client_i_dn;
      proxy_pass http://127.0.0.1:${echo.port};
    }
  }`;
}

function policyOf(h: HostSpec, crl: { revokedSerials: string[] }): HostPolicy {
  return {
    host: h.host,
    ingresses: [{ id: "t/x", paths: [{ path: "/", pathType: "Prefix", service: "s", port: 80 }], redirectsHttp: true }],
    clientAuth: {
      governing: "t/x",
      secretRef: "t/ca",
      settings: h.settings,
      trusted: [{ sha256: certSha256(ca), subject: "CN=Acme Client CA,O=Acme" }],
      ...(h.crl ? { crl: { expired: false, revokedSerials: crl.revokedSerials, sha256: "-" } } : {}),
    },
    ...(h.settings.matchCn ? { matchCn: h.settings.matchCn } : {}),
    certificate: { ingress: "t/x", secret: "t/tls" },
    sources: [],
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "model-nginx-"));
  pki = new OpensslPki(join(dir, "pki"));
  pki
    .ca("client-ca", "/O=Acme/CN=Acme Client CA")
    .ca("impostor-ca", "/O=Acme/CN=Acme Client CA")
    .ca("server-ca", "/CN=Server CA")
    .leaf("server", "/CN=server", "server-ca", { eku: "serverAuth", san: HOSTS.map((h) => h.host) })
    .intermediate("int-1", "/O=Acme/CN=Int 1", "client-ca")
    .intermediate("int-2", "/O=Acme/CN=Int 2", "int-1")
    .intermediate("int-3", "/O=Acme/CN=Int 3", "int-2")
    .leaf("alice", "/O=Acme/CN=alice", "client-ca")
    .leaf("bob", "/O=Acme/CN=bob", "client-ca")
    .leaf("impostor-client", "/O=Acme/CN=alice", "impostor-ca")
    .leaf("server-only", "/O=Acme/CN=alice", "client-ca", { eku: "serverAuth" })
    .leaf("expired", "/O=Acme/CN=alice", "client-ca", { start: "20200101000000Z", end: "20200201000000Z" })
    .leaf("future", "/O=Acme/CN=alice", "client-ca", { start: "20990101000000Z", end: "20990201000000Z" })
    .leaf("impostor-expired", "/O=Acme/CN=alice", "impostor-ca", { start: "20200101000000Z", end: "20200201000000Z" })
    .selfSigned("self-signed", "/O=Acme/CN=alice")
    .leaf("revoked", "/O=Acme/CN=alice", "client-ca")
    .leaf("via-1", "/O=Acme/CN=alice", "int-1")
    .leaf("via-2", "/O=Acme/CN=alice", "int-2")
    .leaf("via-3", "/O=Acme/CN=alice", "int-3")
    // The match-cn substring pitfall: CN=mallory, with "CN=alice" inside O.
    .leaf("evil", "/CN=mallory/O=CN=alice", "client-ca")
    .revoke("revoked", "client-ca");
  pki.crl("client-ca", "../client-ca.crl");
  ca = new x509.X509Certificate(pki.read("client-ca"));
  echo = await startEchoServer();
  port = await freePort();
  for (const d of ["t", "logs"]) mkdirSync(join(dir, d), { recursive: true });
  const t = join(dir, "t");
  writeFileSync(
    join(dir, "nginx.conf"),
    `daemon off; pid ${dir}/nginx.pid; error_log ${dir}/logs/error.log; events {}
http { access_log off; client_body_temp_path ${t}; proxy_temp_path ${t}; fastcgi_temp_path ${t}; uwsgi_temp_path ${t}; scgi_temp_path ${t};
${HOSTS.map(serverBlock).join("\n")}
}`,
  );
  nginx = spawn(findNginx()!, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "logs", "error.log")], { stdio: "ignore" });
  for (let i = 0; i < 200; i++) {
    try {
      await presentedCertificate({ address: "127.0.0.1", port }, "on.test", 500);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error("nginx did not start");
});

afterAll(async () => {
  // nginx (master in the foreground) gone before its prefix, which holds the openssl PKI's keys, is removed.
  if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
    const exited = new Promise((r) => nginx.once("exit", r));
    nginx.kill("SIGTERM");
    await exited;
  }
  await echo?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function mismatchesFor(h: HostSpec, name: string | undefined, headers?: Record<string, string>): Promise<string[]> {
  const files = name ? CREDENTIALS[name]! : [];
  const certs = files.map((f) => new x509.X509Certificate(pki.read(f)));
  const revokedSerial = new x509.X509Certificate(pki.read("revoked")).serialNumber.toLowerCase();
  const traits = certs.length ? await traitsOf(certs[0]!, certs.slice(1), [ca]) : undefined;
  const outcome = expectedOutcome(policyOf(h, { revokedSerials: [revokedSerial] }), traits, { scheme: "https", path: "/", headers });
  if ("undetermined" in outcome) return [`${h.host} ${name}: undetermined: ${outcome.undetermined}`];
  const observation = await probe({
    endpoint: { address: "127.0.0.1", port },
    host: h.host,
    caPem: pki.read("server-ca"),
    headers,
    credential: certs.length ? { certChainPem: pki.chain(files[0]!, ...files.slice(1)), keyPem: pki.read(files[0]!, "key") } : undefined,
  });
  const leafSha = certs.length ? certSha256(certs[0]!) : undefined;
  return judge(outcome.expect, observation, leafSha).mismatches.map((m) => `${h.host} ${name ?? "no certificate"} (${outcome.explanation}): ${m}`);
}

describe("the policy model against nginx configured by hand", () => {
  it("traits of openssl-made credentials: names as openssl prints them, chains and anchors", async () => {
    const cas = [ca];
    const via2 = await traitsOf(new x509.X509Certificate(pki.read("via-2")), certificatesIn(pki.chain("int-2", "int-1")), cas);
    expect(via2).toMatchObject({ anchor: certSha256(ca), intermediates: 2, subject: pki.rfc2253("via-2"), issuer: pki.rfc2253("via-2", "issuer") });
    expect((await traitsOf(new x509.X509Certificate(pki.read("impostor-client")), [], cas)).anchor).toMatch(/^unknown:/);
    expect((await traitsOf(new x509.X509Certificate(pki.read("self-signed")), [], cas)).anchor).toBe("self-signed");
    expect((await traitsOf(new x509.X509Certificate(pki.read("expired")), [], cas)).validity).toBe("expired");
    expect((await traitsOf(new x509.X509Certificate(pki.read("server-only")), [], cas)).clientAuth).toBe(false);
    expect((await traitsOf(new x509.X509Certificate(pki.read("evil")), [], cas)).subject).toBe(pki.rfc2253("evil"));
  });

  for (const h of HOSTS) {
    it(`${h.host}: every credential gets the answer the model predicts`, async () => {
      const all = await Promise.all([undefined, ...Object.keys(CREDENTIALS)].map((name) => mismatchesFor(h, name)));
      expect(all.flat()).toEqual([]);
    });
  }

  it("client-sent ssl-client-* headers: replaced where rendered, passed through where not", async () => {
    const forged = { "ssl-client-verify": "SUCCESS", "ssl-client-subject-dn": "CN=admin", "ssl-client-issuer-dn": "CN=root", "ssl-client-cert": "forged" };
    const all = await Promise.all(
      HOSTS.flatMap((h) => [mismatchesFor(h, "alice", forged), mismatchesFor(h, undefined, forged), mismatchesFor(h, "self-signed", forged)]),
    );
    expect(all.flat()).toEqual([]);
  });
});
