// The successors' way of refusing a client certificate (in the TLS handshake, no HTTP answer) and
// their DN order (Go's), judged on real TLS servers on loopback and probed by the run's own probe.
// Servers: Node's https server verifying client certificates (it answers like the echo backend, so
// a request that gets through is "reached"), `openssl s_server` (which, unlike Node, sends an alert
// for a certificate it refuses), an nginx-like server answering 400, and a closed port. Then the
// connections that end without an alert: TLS servers that close or reset after the handshake, a
// TCP server that resets before it, and an nginx out of worker_connections.
// Certificates come from the openssl command line.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, createSecureContext, createServer as createTlsServer, TLSSocket } from "node:tls";
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
/** Every server the tests start, closed in afterAll (net, tls and https servers alike). */
interface Closable {
  listen(port: number, host: string, callback: () => void): unknown;
  once(event: "error", listener: (e: Error) => void): Closable;
  address(): unknown;
  close(callback: (error?: Error) => void): unknown;
}
const servers: Closable[] = [];
const children: ChildProcess[] = [];
/** TLS version -> port of Node's verifying server / of openssl s_server. */
const nodePort: Record<string, number> = {};
const opensslPort: Record<string, number> = {};
let nginx400Port: number;
let closedPort: number;

async function listen(server: Closable): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

/**
 * A TLS server on a TCP server of its own, so that it can end the TCP connection itself: `onSecure`
 * gets the TLS socket once the server's handshake is done, and the TCP socket under it.
 */
function tlsOverTcp(version: string, onSecure: (tls: TLSSocket, tcp: Socket) => void): Promise<number> {
  const secureContext = createSecureContext({ key: pki.read("server", "key"), cert: pki.read("server"), ca: pki.read("ca"), minVersion: version as "TLSv1.3", maxVersion: version as "TLSv1.3" });
  return listen(
    createTcpServer((tcp) => {
      tcp.on("error", () => undefined);
      // It asks for the certificate but accepts any: whatever ends the connection, TLS did not refuse it.
      const tls = new TLSSocket(tcp, { isServer: true, secureContext, requestCert: true, rejectUnauthorized: false });
      tls.on("error", () => undefined);
      tls.once("secure", () => onSecure(tls, tcp));
    }),
  );
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

/** What the evidence says of the TLS exchange is what the probe recorded. */
function expectRecorded(o: Observation): void {
  expect(summarize(o).tls).toEqual(o.tls);
}

function expectRefused(o: Observation): void {
  expect(o.status, JSON.stringify(o)).toBeUndefined();
  expect(judge(REFUSED, o)).toEqual({ pass: true, mismatches: [] });
  // The alert and the TLS exchange go into the evidence as recorded.
  expect(summarize(o).tlsAlert).toEqual(o.tlsAlert);
  expectRecorded(o);
}

/** Before the handshake completed: what an exhausted server does too, so no refusal. */
const beforeHandshake = (code: string) => `transport: expected the TLS handshake refused, observed ${code} before the TLS handshake completed: not a refusal of the certificate (a server out of connections resets the same way)`;

describe.each(VERSIONS)("transport: tls-rejected, %s", (version) => {
  it("no certificate: refused, and the alert OpenSSL sends is recorded (handshake_failure in 1.2, certificate_required in 1.3)", async () => {
    for (const port of [nodePort[version]!, opensslPort[version]!]) {
      const o = await probeAt(port);
      expectRefused(o);
      expect(o.error?.code).toMatch(/^ERR_SSL_/);
      expect(o.tlsAlert).toMatchObject(version === "TLSv1.3" ? { alert: "certificate_required", number: 116, tlsVersion: "TLSv1.3" } : { alert: "handshake_failure", number: 40 });
      // TLS 1.2 refuses within the handshake; under 1.3 the client's side is done before the server checks.
      expect(o.tls).toEqual(version === "TLSv1.3" ? { handshakeCompleted: true, version: "TLSv1.3", responseBytes: 0 } : { handshakeCompleted: false, responseBytes: 0 });
    }
  });

  it.each([
    ["another CA with the same name", "impostor", { alert: "unknown_ca", number: 48 }],
    ["an expired certificate", "expired", { alert: "certificate_expired", number: 45 }],
  ])("%s: openssl s_server refuses with an alert, recorded; Node's server closes without one", async (_label, name, alert) => {
    const o = await probeAt(opensslPort[version]!, name);
    expectRefused(o);
    expect(o.tlsAlert).toEqual({ ...alert, ...(version === "TLSv1.3" ? { tlsVersion: "TLSv1.3" } : {}) });
    expect(o.tls?.handshakeCompleted).toBe(version === "TLSv1.3");
    // Node verifies after its side of the handshake, in JavaScript, and destroys the socket: no alert.
    const quiet = await probeAt(nodePort[version]!, name);
    expect(quiet.status).toBeUndefined();
    expect(quiet.error?.code).toMatch(/^(ECONNRESET|UND_ERR_SOCKET)$/);
    expect(quiet.tlsAlert).toBeUndefined();
    expectRecorded(quiet);
    if (version === "TLSv1.3") {
      // The client's side was done: the end came on the first read, before any response.
      expect(quiet.tls).toEqual({ handshakeCompleted: true, version: "TLSv1.3", responseBytes: 0 });
      expectRefused(quiet);
    } else {
      // Under 1.2 the socket goes before the server's Finished: to the client, a reset mid-handshake,
      // which an exhausted server produces as well. Not counted: refusing under 1.2 takes an alert.
      expect(quiet.tls).toEqual({ handshakeCompleted: false, responseBytes: 0 });
      expect(judge(REFUSED, quiet)).toEqual({ pass: false, mismatches: [beforeHandshake(quiet.error!.code)] });
    }
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

describe("transport: tls-rejected, a connection that ends without an alert", () => {
  it("TLS 1.3, the handshake completed, then the server closes or resets before answering: refused", async () => {
    const closes = await tlsOverTcp("TLSv1.3", (tls) => tls.destroy());
    const resets = await tlsOverTcp("TLSv1.3", (tls, tcp) => tls.once("data", () => tcp.resetAndDestroy()));
    for (const port of [closes, resets]) {
      const o = await probeAt(port, "client");
      expect(o.error?.code, JSON.stringify(o)).toMatch(/^(ECONNRESET|UND_ERR_SOCKET)$/);
      expect(o.tls).toEqual({ handshakeCompleted: true, version: "TLSv1.3", responseBytes: 0 });
      expectRefused(o);
    }
  });

  it("TLS 1.3, the connection ends after part of an HTTP response: not a refusal", async () => {
    const port = await tlsOverTcp("TLSv1.3", (tls) => tls.once("data", () => tls.write("HTTP/1.1 2", () => tls.destroy())));
    const o = await probeAt(port, "client");
    expect(o.status).toBeUndefined();
    expect(o.tls).toEqual({ handshakeCompleted: true, version: "TLSv1.3", responseBytes: 10 });
    expect(judge(REFUSED, o).mismatches).toEqual([`transport: expected the TLS handshake refused, observed ${o.error?.code} after 10 bytes of HTTP response: the server answered, it did not refuse the handshake`]);
  });

  it("TLS 1.2, the handshake completed, then the server resets without an alert: not a refusal", async () => {
    const port = await tlsOverTcp("TLSv1.2", (tls, tcp) => tls.once("data", () => tcp.resetAndDestroy()));
    const o = await probeAt(port, "impostor");
    expect(o.error?.code, JSON.stringify(o)).toBe("ECONNRESET");
    expect(o.tls).toEqual({ handshakeCompleted: true, version: "TLSv1.2", responseBytes: 0 });
    expectRecorded(o);
    expect(judge(REFUSED, o)).toEqual({
      pass: false,
      mismatches: ["transport: expected the TLS handshake refused, observed ECONNRESET after a completed TLSv1.2 handshake, without an alert: not a refusal of the certificate (below TLS 1.3 the server checks it before the handshake completes, and refuses with an alert)"],
    });
  });

  it("a TCP server that resets before any ServerHello (on accept, after the ClientHello) or closes: not a refusal", async () => {
    const onAccept = await listen(createTcpServer((tcp) => tcp.resetAndDestroy()));
    const afterHello = await listen(createTcpServer((tcp) => tcp.once("data", () => tcp.resetAndDestroy())));
    const closes = await listen(createTcpServer((tcp) => tcp.once("data", () => tcp.destroy())));
    for (const port of [onAccept, afterHello, closes]) {
      const o = await probeAt(port, "impostor");
      expect(o.error?.code, JSON.stringify(o)).toBe("ECONNRESET");
      expect(o.tls).toEqual({ handshakeCompleted: false, responseBytes: 0 });
      expect(summarize(o).tls).toEqual({ handshakeCompleted: false, responseBytes: 0 });
      expect(judge(REFUSED, o)).toEqual({ pass: false, mismatches: [beforeHandshake("ECONNRESET")] });
    }
  });
});

describe("transport: tls-rejected, nginx out of worker_connections", () => {
  const NGINX = [process.env.NGINX_BIN, "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"].find((p) => p && existsSync(p));
  let nginx: ChildProcess | undefined;
  let nginxDir: string;
  let port: number;

  /** A TLS connection that completes with the valid credential, or the reason it did not. */
  const connectClient = (): Promise<TLSSocket> =>
    new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: "127.0.0.1", port, servername: HOST, ca: pki.read("ca"), cert: pki.read("client"), key: pki.read("client", "key") });
      socket.once("secureConnect", () => resolve(socket)).once("error", reject);
    });

  beforeAll(async () => {
    expect(NGINX, "nginx is needed (PATH /usr/sbin, or NGINX_BIN)").toBeDefined();
    nginxDir = mkdtempSync(join(tmpdir(), "tls-rejected-nginx-"));
    mkdirSync(join(nginxDir, "t"));
    const tcp = createTcpServer();
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    port = (tcp.address() as { port: number }).port;
    await new Promise((resolve) => tcp.close(resolve));
    const t = join(nginxDir, "t");
    // Three connections for one worker: its listener, its channel to the master, one client.
    writeFileSync(
      join(nginxDir, "nginx.conf"),
      `daemon off; worker_processes 1; pid ${nginxDir}/nginx.pid; error_log ${nginxDir}/error.log;
events { worker_connections 3; }
http { access_log off; client_body_temp_path ${t}; proxy_temp_path ${t}; fastcgi_temp_path ${t}; uwsgi_temp_path ${t}; scgi_temp_path ${t};
  server { listen 127.0.0.1:${port} ssl; server_name ${HOST}; ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate ${pki.path("server")}; ssl_certificate_key ${pki.path("server", "key")};
    ssl_client_certificate ${pki.path("ca")}; ssl_verify_client on;
    location / { return 200 "ok"; } } }
`,
    );
    nginx = spawn(NGINX!, ["-p", nginxDir, "-c", join(nginxDir, "nginx.conf"), "-e", join(nginxDir, "error.log")], { stdio: "ignore" });
    for (let i = 0; ; i++) {
      const up = await connectClient().then((s) => (s.destroy(), true), () => false);
      if (up) break;
      if (i === 200) throw new Error(`nginx did not start: ${readFileSync(join(nginxDir, "error.log"), "utf8")}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx!.once("exit", resolve));
      nginx.kill("SIGTERM");
      await exited;
    }
    if (nginxDir) rmSync(nginxDir, { recursive: true, force: true });
  });

  it("its reset of a new connection is not a refusal, though it would have passed as one before", async () => {
    // The one client connection held mid-request (a connection nginx cannot reuse). The slot of the
    // start-up check may still be closing: a few tries.
    let held: TLSSocket | undefined;
    for (let i = 0; i < 40 && !held; i++) held = await connectClient().catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 25)));
    expect(held, "could not hold nginx's one client connection").toBeDefined();
    held!.write("GET / HTTP/1.1\r\n");
    await new Promise((r) => setTimeout(r, 100));
    try {
      const o = await probeAt(port, "impostor");
      expect(o.error?.code, JSON.stringify(o)).toBe("ECONNRESET");
      expect(o.tls).toEqual({ handshakeCompleted: false, responseBytes: 0 });
      expect(judge(REFUSED, o)).toEqual({ pass: false, mismatches: [beforeHandshake("ECONNRESET")] });
      expect(readFileSync(join(nginxDir, "error.log"), "utf8")).toContain("worker_connections are not enough");
    } finally {
      held!.destroy();
    }
    // With the connection free again, nginx itself refuses the impostor: HTTP 400, not a reset.
    let o: Observation | undefined;
    for (let i = 0; i < 40 && o?.status === undefined; i++) {
      if (i) await new Promise((r) => setTimeout(r, 25));
      o = await probeAt(port, "impostor");
    }
    expect(o?.status, JSON.stringify(o)).toBe(400);
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
