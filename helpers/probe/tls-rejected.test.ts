// The successors' way of refusing a client certificate (in the TLS handshake, no HTTP answer) and
// their DN order (Go's), judged on real TLS servers on loopback and probed by the run's own probe.
// Servers: Node's https server verifying client certificates (it answers like the echo backend, so
// a request that gets through is "reached"), `openssl s_server` (which, unlike Node, sends an alert
// for a certificate it refuses), an nginx-like server answering 400, and a closed port.
// Certificates come from the openssl command line.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpsServer, type Server } from "node:https";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echoOf } from "../../fixtures/echo-server.ts";
import type { Expectation } from "../catalogue/catalogue.ts";
import { summarize } from "../run/run-context.ts";
import { OpensslPki } from "../testing/openssl-pki.ts";
import { judge } from "./oracle.ts";
import { type Observation, probe } from "./probe.ts";
import { tlsAlertOf } from "./tls-alert.ts";

const HOST = "test.localdev.me";
const VERSIONS = ["TLSv1.2", "TLSv1.3"] as const;
const REFUSED: Expectation = { transport: "tls-rejected", upstream: "not-reached" };
const NGINX_400 =
  "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>No required SSL certificate was sent</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/** Go's pkix.Name.String(): these fields in this order, then other types as <OID>=#<DER hex>. */
const GO_ORDER: Array<[string, string]> = [["serialNumber", "SERIALNUMBER"], ["CN", "CN"], ["OU", "OU"], ["O", "O"], ["postalCode", "POSTALCODE"], ["street", "STREET"], ["L", "L"], ["ST", "ST"], ["C", "C"]];
const goEscape = (v: string): string => v.replace(/[,+"\\<>;]/g, "\\$&").replace(/^[ #]/, "\\$&").replace(/ $/, "\\ ");

/** The subject as Traefik forwards it (Ssl-Client-Subject-Dn), from Node's view of the peer certificate. */
function goSubject(subject: Record<string, string | string[]>): string {
  const parts = GO_ORDER.filter(([node]) => subject[node] !== undefined).map(([node, go]) => [subject[node]!].flat().map((v) => `${go}=${goEscape(v)}`).join("+"));
  // emailAddress is no field of pkix.Name: Go prints its OID and the value re-marshalled (UTF8String, as '@' is not printable).
  const email = subject["emailAddress"];
  if (typeof email === "string") parts.push(`1.2.840.113549.1.9.1=#0c${Buffer.byteLength(email).toString(16).padStart(2, "0")}${Buffer.from(email).toString("hex")}`);
  return parts.join(",");
}

let dir: string;
let pki: OpensslPki;
const servers: Server[] = [];
const children: ChildProcess[] = [];
/** TLS version -> port of Node's verifying server / of openssl s_server. */
const nodePort: Record<string, number> = {};
const opensslPort: Record<string, number> = {};
let nginx400Port: number;
let closedPort: number;

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

async function startOpensslServer(version: string): Promise<number> {
  const flag = version === "TLSv1.2" ? "-tls1_2" : "-tls1_3";
  const child = spawn("openssl", ["s_server", "-accept", "127.0.0.1:0", "-cert", pki.path("server"), "-key", pki.path("server", "key"), "-CAfile", pki.path("ca"), "-Verify", "2", "-verify_return_error", "-www", flag], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.once("exit", (code) => reject(new Error(`openssl s_server exited (${code}): ${out}`)));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const port = /ACCEPT .*:(\d+)/.exec(out)?.[1];
      if (port) resolve(Number(port));
    });
  });
}

const credential = (name?: string) => (name ? { certChainPem: pki.read(name), keyPem: pki.read(name, "key") } : undefined);
const probeAt = (port: number, name?: string): Promise<Observation> => probe({ endpoint: { address: "127.0.0.1", port }, host: HOST, caPem: pki.read("ca"), credential: credential(name) });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tls-rejected-"));
  pki = new OpensslPki(dir)
    .ca("ca", "/O=MyOrganization/CN=My Certificate Authority")
    // Another CA with the same name: only its key tells it apart.
    .ca("other", "/O=MyOrganization/CN=My Certificate Authority")
    .leaf("server", `/CN=${HOST}`, "ca", { eku: "serverAuth", san: [HOST] })
    // The guide's subject order: nginx prints it O=MyOrganization,CN=authorized-client.
    .leaf("client", "/CN=authorized-client/O=MyOrganization", "ca")
    .leaf("impostor", "/CN=authorized-client/O=MyOrganization", "other")
    .leaf("expired", "/CN=authorized-client/O=MyOrganization", "ca", { start: "20200101000000Z", end: "20200201000000Z" })
    .leaf("escaped", "/C=DE/CN=authorized-client \\+ friends/O=Example, Inc./emailAddress=client@example.com", "ca");
  const tls = { key: pki.read("server", "key"), cert: pki.read("server") };
  for (const version of VERSIONS) {
    // The echo backend behind a successor: what it receives, plus the subject in Go's order.
    const verifying = createHttpsServer({ ...tls, ca: pki.read("ca"), requestCert: true, rejectUnauthorized: true, minVersion: version, maxVersion: version }, (req, res) => {
      const echo = echoOf(req);
      echo.headers["ssl-client-subject-dn"] = goSubject((req.socket as TLSSocket).getPeerCertificate().subject as unknown as Record<string, string | string[]>);
      res.writeHead(200, { "content-type": "application/json", "x-echo": "mtls-conformance" }).end(JSON.stringify(echo));
    });
    nodePort[version] = await listen(verifying);
    opensslPort[version] = await startOpensslServer(version);
  }
  // nginx's answer to a request without a certificate: HTTP, not a refused handshake.
  nginx400Port = await listen(createHttpsServer(tls, (_req, res) => res.writeHead(400, { "content-type": "text/html" }).end(NGINX_400)));
  const tcp = createTcpServer();
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
  closedPort = (tcp.address() as { port: number }).port;
  await new Promise((resolve) => tcp.close(resolve));
});

afterAll(async () => {
  for (const child of children) child.kill();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

function expectRefused(o: Observation): void {
  expect(o.status, JSON.stringify(o)).toBeUndefined();
  expect(judge(REFUSED, o)).toEqual({ pass: true, mismatches: [] });
  // The alert goes into the evidence as recorded.
  expect(summarize(o).tlsAlert).toEqual(o.tlsAlert);
}

describe.each(VERSIONS)("transport: tls-rejected, %s", (version) => {
  it("no certificate: refused, and the alert OpenSSL sends is recorded (handshake_failure in 1.2, certificate_required in 1.3)", async () => {
    for (const port of [nodePort[version]!, opensslPort[version]!]) {
      const o = await probeAt(port);
      expectRefused(o);
      expect(o.error?.code).toMatch(/^ERR_SSL_/);
      expect(o.tlsAlert).toMatchObject(version === "TLSv1.3" ? { alert: "certificate_required", number: 116, tlsVersion: "TLSv1.3" } : { alert: "handshake_failure", number: 40 });
    }
  });

  it.each([
    ["another CA with the same name", "impostor", { alert: "unknown_ca", number: 48 }],
    ["an expired certificate", "expired", { alert: "certificate_expired", number: 45 }],
  ])("%s: refused; openssl s_server's alert is recorded, Node's server closes without one", async (_label, name, alert) => {
    const o = await probeAt(opensslPort[version]!, name);
    expectRefused(o);
    expect(o.tlsAlert).toEqual({ ...alert, ...(version === "TLSv1.3" ? { tlsVersion: "TLSv1.3" } : {}) });
    // Node verifies after the handshake, in JavaScript, and destroys the socket: no alert at all.
    const quiet = await probeAt(nodePort[version]!, name);
    expectRefused(quiet);
    expect(quiet.error?.code).toMatch(/^(ECONNRESET|UND_ERR_SOCKET)$/);
    expect(quiet.tlsAlert).toBeUndefined();
  });

  it("a valid certificate reaches the backend: tls-rejected fails, naming the HTTP answer", async () => {
    const o = await probeAt(nodePort[version]!, "client");
    expect(judge({ status: 200, upstream: "reached" }, o).pass).toBe(true);
    expect(judge(REFUSED, o)).toEqual({ pass: false, mismatches: ["transport: expected the TLS handshake refused, observed HTTP 200 (from the backend: GET /)"] });
    expect(judge(REFUSED, await probeAt(opensslPort[version]!, "client")).mismatches).toEqual(["transport: expected the TLS handshake refused, observed HTTP 200"]);
  });
});

describe("transport: tls-rejected, what is not a refused handshake", () => {
  it("nginx's HTTP 400 fails, naming the status and the body marker", async () => {
    const o = await probeAt(nginx400Port);
    expect(o.status).toBe(400);
    expect(judge(REFUSED, o).mismatches).toEqual(["transport: expected the TLS handshake refused, observed HTTP 400 (No required SSL certificate was sent)"]);
    // The same answer still passes the baseline's expectation, with or without an echo backend.
    expect(judge({ status: 400, bodyIncludes: "No required SSL certificate was sent", upstream: "not-reached" }, o).pass).toBe(true);
    expect(judge(REFUSED, o, undefined, { noEcho: true }).pass).toBe(false);
  });

  it("a closed port fails, naming ECONNREFUSED", async () => {
    const o = await probeAt(closedPort);
    expect(o.error?.code).toBe("ECONNREFUSED");
    expect(o.tlsAlert).toBeUndefined();
    const v = judge(REFUSED, o);
    expect(v.pass).toBe(false);
    expect(v.mismatches).toEqual([expect.stringMatching(/^transport: expected the TLS handshake refused, observed ECONNREFUSED: /)]);
  });
});

describe("dnCompare: rdn-set, the subject in Go's order", () => {
  const reached = (subject: string, dnCompare?: Expectation["dnCompare"]): Expectation => ({
    status: 200,
    upstream: "reached",
    // Written as Traefik spells it: header names compare case-insensitively.
    upstreamHeaders: { headers: { "Ssl-Client-Subject-Dn": subject } },
    ...(dnCompare ? { dnCompare } : {}),
  });

  it("the same DN in another order: exact fails, rdn-set passes", async () => {
    const nginxPrints = pki.rfc2253("client");
    expect(nginxPrints).toBe("O=MyOrganization,CN=authorized-client");
    const o = await probeAt(nodePort["TLSv1.3"]!, "client");
    expect(o.echo?.headers["ssl-client-subject-dn"]).toBe("CN=authorized-client,O=MyOrganization");
    expect(judge(reached(nginxPrints), o).mismatches).toEqual([
      'upstream header Ssl-Client-Subject-Dn: expected "O=MyOrganization,CN=authorized-client", observed "CN=authorized-client,O=MyOrganization"',
    ]);
    expect(judge(reached(nginxPrints, "rdn-set"), o)).toEqual({ pass: true, mismatches: [] });
  });

  it("rdn-set fails on another value and on a missing or extra attribute, showing both strings", async () => {
    const o = await probeAt(nodePort["TLSv1.3"]!, "client");
    const observed = '"CN=authorized-client,O=MyOrganization" (compared as a set of attributes, order ignored: ';
    expect(judge(reached("O=MyOrganization,CN=admin", "rdn-set"), o).mismatches).toEqual([
      `upstream header Ssl-Client-Subject-Dn: expected "O=MyOrganization,CN=admin", observed ${observed}missing CN=admin; unexpected CN=authorized-client)`,
    ]);
    expect(judge(reached("O=MyOrganization,OU=Engineering,CN=authorized-client", "rdn-set"), o).mismatches).toEqual([
      `upstream header Ssl-Client-Subject-Dn: expected "O=MyOrganization,OU=Engineering,CN=authorized-client", observed ${observed}missing OU=Engineering)`,
    ]);
    expect(judge(reached("CN=authorized-client", "rdn-set"), o).mismatches).toEqual([
      `upstream header Ssl-Client-Subject-Dn: expected "CN=authorized-client", observed ${observed}unexpected O=MyOrganization)`,
    ]);
  });

  it("escaped , and + and Go's OID=#hex for emailAddress compare equal to OpenSSL's RFC 2253", async () => {
    const nginxPrints = pki.rfc2253("escaped");
    expect(nginxPrints).toBe("emailAddress=client@example.com,O=Example\\, Inc.,CN=authorized-client \\+ friends,C=DE");
    const o = await probeAt(nodePort["TLSv1.2"]!, "escaped");
    expect(o.echo?.headers["ssl-client-subject-dn"]).toBe("CN=authorized-client \\+ friends,O=Example\\, Inc.,C=DE,1.2.840.113549.1.9.1=#0c12636c69656e74406578616d706c652e636f6d");
    expect(judge(reached(nginxPrints), o).pass).toBe(false);
    expect(judge(reached(nginxPrints, "rdn-set"), o)).toEqual({ pass: true, mismatches: [] });
    expect(judge(reached(nginxPrints.replace("client@", "admin@"), "rdn-set"), o).mismatches[0]).toContain("missing emailAddress=admin@example.com; unexpected emailAddress=client@example.com");
  });
});

describe("tlsAlertOf: the forms other Node versions report", () => {
  it("reads Node 20's EPROTO (TLS 1.2 against a Go server) by its OpenSSL text", () => {
    const message = "C0D7:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1586:SSL alert number 42\n";
    expect(tlsAlertOf({ code: "EPROTO", message })).toEqual({ alert: "bad_certificate", number: 42 });
  });
  it("falls back to the code's name, and finds nothing in a reset", () => {
    expect(tlsAlertOf({ code: "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", message: "" })).toEqual({ alert: "unknown_ca" });
    expect(tlsAlertOf({ code: "ECONNRESET", message: "socket hang up" })).toBeUndefined();
  });
});
