// The curl command of a probe's request, and curl's output read back as an observation.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Expectation } from "../catalogue/catalogue.ts";
import { crossCheckDisagreements, curlCommand, curlObservation, runCurl, shellQuote } from "./curl-command.ts";
import { probe, type Observation } from "./probe.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

const endpoint = { address: "127.0.0.1", port: 8443 };
// Only the file names reach the command line; the credential's content is made for the test.
const credential = { certChainPem: "-----BEGIN CERTIFICATE-----", keyPem: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
const files = { caFile: "ca.crt", certFile: "client.crt", keyFile: "client.key" };

describe("curlCommand", () => {
  it("names the host by --resolve, sends Host as the probe does (no port), trusts the CA, presents the credential's files", () => {
    const c = curlCommand({ endpoint, host: "test.localdev.me", credential, caPem: "x", serverSha256: "ab" }, files);
    expect(c.line).toBe("curl -sS --http1.1 -i --max-time 10 --resolve test.localdev.me:8443:127.0.0.1 --cacert ca.crt --cert client.crt --key client.key -H 'Host: test.localdev.me' https://test.localdev.me:8443/");
    expect(c.line).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    expect(c.notes.join()).toMatch(/pins the server certificate/);
  });

  it("a pinned certificate that does not name the host: curl skips the CA and the name (-k) and pins the public key, which it enforces (exit 90 otherwise)", () => {
    const c = curlCommand({ endpoint, host: "legacy.shop.test", caPem: "x", serverSha256: "ab", serverPublicKeySha256: "q0Z+/k=" }, files);
    expect(c.args).toEqual(expect.arrayContaining(["-k", "--pinnedpubkey", "sha256//q0Z+/k="]));
    expect(c.args).not.toContain("--cacert");
    expect(c.notes.join()).toMatch(/curl its public key/);
  });

  it("on the default port leaves Host to curl", () => {
    const c = curlCommand({ endpoint: { address: "127.0.0.1", port: 443 }, host: "a.localdev.me" }, files);
    expect(c.args).not.toContain("-H");
    expect(c.args.at(-1)).toBe("https://a.localdev.me:443/");
  });

  it("an SNI other than Host: the URL names the SNI (curl's SNI), Host set apart", () => {
    const c = curlCommand({ endpoint, host: "test.localdev.me", servername: "public.test.localdev.me", path: "/x" }, files);
    expect(c.args).toEqual(expect.arrayContaining(["--resolve", "public.test.localdev.me:8443:127.0.0.1", "-H", "Host: test.localdev.me"]));
    expect(c.args.at(-1)).toBe("https://public.test.localdev.me:8443/x");
  });

  it("no SNI: the URL names the address (curl sends no SNI for an IP), -k where any server certificate is accepted", () => {
    const c = curlCommand({ endpoint, host: "test.localdev.me", servername: null, insecure: true, credential }, files);
    expect(c.args).not.toContain("--resolve");
    expect(c.args).toEqual(expect.arrayContaining(["-k", "-H", "Host: test.localdev.me"]));
    expect(c.args).not.toContain("--cacert");
    expect(c.args.at(-1)).toBe("https://127.0.0.1:8443/");
    expect(curlCommand({ endpoint, host: "h", servername: null }, files).notes.join()).toMatch(/against the address/);
  });

  it("plain HTTP: no TLS options, no credential", () => {
    const c = curlCommand({ endpoint: { address: "127.0.0.1", port: 8080 }, scheme: "http", host: "h.localdev.me", credential, path: "/docs/" }, files);
    expect(c.line).toBe("curl -sS --http1.1 -i --max-time 10 --resolve h.localdev.me:8080:127.0.0.1 -H 'Host: h.localdev.me' http://h.localdev.me:8080/docs/");
  });

  it("extra headers, quoted for the shell; an empty value as curl sends one (Name;)", () => {
    const c = curlCommand({ endpoint, host: "h", headers: { "ssl-client-verify": "SUCCESS", "ssl-client-subject-dn": "CN=it's me,O=x y", "x-empty": "" } }, files);
    expect(c.args).toEqual(expect.arrayContaining(["ssl-client-verify: SUCCESS", "ssl-client-subject-dn: CN=it's me,O=x y", "x-empty;"]));
    expect(c.line).toContain(`-H 'ssl-client-subject-dn: CN=it'\\''s me,O=x y'`);
  });

  it("shellQuote leaves safe words bare and single-quotes the rest", () => {
    expect(shellQuote("--cacert")).toBe("--cacert");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("$(rm)")).toBe("'$(rm)'");
  });
});

describe("curlObservation", () => {
  it("reads status, headers and the echo from `curl -i`", () => {
    const body = JSON.stringify({ method: "GET", path: "/", headers: { "ssl-client-verify": "SUCCESS" } });
    const o = curlObservation(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Echo: mtls-conformance\r\nSet-Cookie: a\r\nSet-Cookie: b\r\n\r\n${body}`, "", 0, "h", 5);
    expect(o.status).toBe(200);
    expect(o.responseHeaders).toMatchObject({ "content-type": "application/json", "set-cookie": "a, b" });
    expect(o.echo?.headers["ssl-client-verify"]).toBe("SUCCESS");
  });

  it("an answer not from the echo backend is not the echo", () => {
    const o = curlObservation("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n<html>No required SSL certificate was sent</html>", "", 0, "h", 5);
    expect(o.status).toBe(400);
    expect(o.echo).toBeUndefined();
  });

  it("a refused handshake: curl's exit code and error text, no status", () => {
    const o = curlObservation("", "curl: (56) OpenSSL SSL_read: error:0A00045C:SSL routines::tlsv13 alert certificate required, errno 0\n", 56, "h", 5);
    expect(o).toMatchObject({ exitCode: 56, error: { code: "CURLE_RECV_ERROR", message: expect.stringMatching(/^OpenSSL SSL_read: .*certificate required/) } });
    expect(o.status).toBeUndefined();
    expect(curlObservation("", "curl: (35) x", 35, null, 1).error?.code).toBe("CURLE_SSL_CONNECT_ERROR");
    expect(curlObservation("", "", 99, null, 1).error?.code).toBe("CURL_EXIT_99");
  });
});

describe("crossCheckDisagreements", () => {
  const echo = (h: Record<string, string>): Observation => ({ status: 200, echo: { method: "GET", path: "/", headers: h }, sni: "h", durationMs: 1 });
  const expectation = { status: 200, upstream: "reached", upstreamHeaders: { headers: { "ssl-client-verify": "SUCCESS" } } } as Expectation;

  it("agreeing observations: none", () => {
    expect(crossCheckDisagreements(expectation, echo({ "ssl-client-verify": "SUCCESS", "user-agent": "undici" }), echo({ "ssl-client-verify": "SUCCESS", "user-agent": "curl" }))).toEqual([]);
    const refused = (code: string): Observation => ({ error: { code, message: "m" }, sni: "h", durationMs: 1 });
    expect(crossCheckDisagreements(expectation, refused("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"), refused("CURLE_RECV_ERROR"))).toEqual([]);
  });

  it("a different status, or a response against none, names both observations", () => {
    const rejected: Observation = { status: 400, body: "x", sni: "h", durationMs: 1 };
    expect(crossCheckDisagreements(expectation, rejected, echo({}))).toEqual(["curl disagrees: probe observed 400 (backend not reached), curl observed 200 from the backend"]);
    expect(crossCheckDisagreements(expectation, rejected, { error: { code: "CURLE_RECV_ERROR", message: "alert" }, sni: "h", durationMs: 1 })[0]).toBe("curl disagrees: probe observed 400 (backend not reached), curl observed no HTTP response (CURLE_RECV_ERROR: alert)");
  });

  it("ssl-client-* headers, and those the expectation names, must match", () => {
    const d = crossCheckDisagreements(expectation, echo({ "ssl-client-verify": "SUCCESS", "ssl-client-s-dn": "CN=a" }), echo({ "ssl-client-verify": "NONE" }));
    expect(d).toEqual([
      'curl disagrees on upstream header ssl-client-s-dn: probe observed "CN=a", curl observed (none)',
      'curl disagrees on upstream header ssl-client-verify: probe observed "SUCCESS", curl observed "NONE"',
    ]);
  });
});

describe("a handshake the server refuses, with curl and with the probe", () => {
  it("no HTTP response from either: curl's exit code and text recorded, no disagreement", async () => {
    const dir = tempDir("curl-refused-");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=refuse.localdev.me", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1"], { stdio: "ignore" });
    // TLS 1.3, a client certificate required: the refusal comes as an alert after the client's handshake.
    const server = createServer({ key: readFileSync(join(dir, "k.pem")), cert: readFileSync(join(dir, "c.pem")), requestCert: true, rejectUnauthorized: true }, (_req, res) => res.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const req = { endpoint: { address: "127.0.0.1", port: (server.address() as AddressInfo).port }, host: "refuse.localdev.me", insecure: true };
      const probed = await probe(req);
      const curled = await runCurl(curlCommand(req), { cwd: dir, sni: "refuse.localdev.me" });
      expect(probed.status).toBeUndefined();
      expect(curled.status).toBeUndefined();
      expect([35, 56]).toContain(curled.exitCode);
      expect(curled.error?.message).toMatch(/alert|certificate/i);
      expect(crossCheckDisagreements({ transport: "tls-rejected" } as Expectation, probed, curled)).toEqual([]);
    } finally {
      server.close();
    }
  });
});
