// Tests for the verdict oracle. Independent oracles: the system `openssl` for certificate
// fingerprints, and an encoder written here that percent-encodes PEM the way nginx's
// $ssl_client_escaped_cert does (everything but A-Za-z0-9-._~ as %XX, uppercase hex).
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import type { EchoResponse } from "../../fixtures/echo-server.ts";
import type { Expectation } from "../catalogue/catalogue.ts";
import { decodeClientCertHeader, judge } from "./oracle.ts";
import type { Observation } from "./probe.ts";

x509.cryptoProvider.set(globalThis.crypto);

const P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

/** PEM as nginx's $ssl_client_raw_cert has it: LF line ends, trailing newline. */
async function makeCertPem(cn: string): Promise<string> {
  const keys = (await globalThis.crypto.subtle.generateKey(P256, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "7f" + Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(8))).toString("hex"),
    name: `CN=${cn}, O=MyOrganization`,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: P256,
  });
  return cert.toString("pem").replace(/\r\n/g, "\n").trimEnd() + "\n";
}

/** nginx's escaping of the client certificate: unreserved characters kept, every other byte %XX uppercase. */
function nginxEscape(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const ch = String.fromCharCode(byte);
    out += /^[A-Za-z0-9\-._~]$/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** SHA-256 as `openssl x509 -noout -fingerprint -sha256` prints it, lower-case hex without colons. */
function opensslSha256(pem: string): string {
  const r = spawnSync("openssl", ["x509", "-noout", "-fingerprint", "-sha256"], {
    input: pem,
    encoding: "utf8",
    env: { ...process.env, OPENSSL_CONF: "/dev/null" },
  });
  if (r.error) throw r.error;
  expect(r.status, r.stderr).toBe(0);
  const m = /Fingerprint=([0-9A-Fa-f:]+)/.exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  const hex = m![1]!.replaceAll(":", "").toLowerCase();
  expect(hex).toMatch(/^[0-9a-f]{64}$/);
  return hex;
}

let pemA: string;
let pemB: string;
let shaA: string;
let shaB: string;

beforeAll(async () => {
  [pemA, pemB] = await Promise.all([makeCertPem("authorized-client"), makeCertPem("other-client")]);
  shaA = opensslSha256(pemA);
  shaB = opensslSha256(pemB);
});

describe("the test's own encoder (sanity of the oracle)", () => {
  it("escapes as the reference describes", () => {
    expect(nginxEscape("a-Z_0.9~ +/=\n")).toBe("a-Z_0.9~%20%2B%2F%3D%0A");
    expect(nginxEscape(pemA).startsWith("-----BEGIN%20CERTIFICATE-----%0A")).toBe(true);
    expect(shaA).not.toBe(shaB);
  });
});

describe("decodeClientCertHeader", () => {
  it("decodes nginx's escaped PEM to the certificate openssl fingerprints", () => {
    const header = nginxEscape(pemA);
    expect(header).not.toMatch(/[\n +/=]/);
    const decoded = decodeClientCertHeader(header);
    expect(decoded.problem).toBeUndefined();
    expect(decoded.certificates).toBe(1);
    expect(decoded.sha256).toBe(shaA);
  });

  it("keeps base64's + and / intact (%2B, %2F are not spaces or separators)", async () => {
    // Find a certificate whose base64 has both characters (nearly every one does).
    let pem = pemB;
    for (let i = 0; i < 20 && !(pem.includes("+") && pem.includes("/")); i++) pem = await makeCertPem(`plus-slash-${i}`);
    const header = nginxEscape(pem);
    expect(header).toContain("%2B");
    expect(header).toContain("%2F");
    expect(decodeClientCertHeader(header).sha256).toBe(opensslSha256(pem));
  });

  it("counts two concatenated certificates and fingerprints the first", () => {
    const decoded = decodeClientCertHeader(nginxEscape(pemA + pemB));
    expect(decoded.problem).toBeUndefined();
    expect(decoded.certificates).toBe(2);
    expect(decoded.sha256).toBe(shaA);
  });

  // Values are built lazily: the certificates exist only after beforeAll.
  it.each<[string, () => string]>([
    ["invalid percent-encoding", () => "%ZZ"],
    ["truncated escape", () => "-----BEGIN%20CERTIFICATE-----%0"],
    ["no PEM after decoding", () => "hello%20world"],
    ["empty", () => ""],
    ["BEGIN without END", () => nginxEscape(pemA.replace("-----END CERTIFICATE-----", ""))],
  ])("garbage (%s) gives a problem, not a certificate", (_label, value) => {
    const decoded = decodeClientCertHeader(value());
    expect(decoded.problem).toEqual(expect.any(String));
    expect(decoded.problem!.length).toBeGreaterThan(0);
    expect(decoded.certificates).toBe(0);
    expect(decoded.sha256).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

const NO_CERT_BODY = "No required SSL certificate was sent";

const echo = (headers: Record<string, string> = {}, path = "/"): EchoResponse => ({
  method: "GET",
  path,
  headers: { host: "test.localdev.me", ...headers },
});

const obs = (o: Partial<Observation>): Observation => ({ durationMs: 3, sni: "test.localdev.me", ...o });

const rejected: Expectation = { status: 400, bodyIncludes: NO_CERT_BODY, upstream: "not-reached" };
const reached = (upstreamHeaders?: Expectation["upstreamHeaders"]): Expectation => ({
  status: 200,
  upstream: "reached",
  ...(upstreamHeaders ? { upstreamHeaders } : {}),
});

function expectPass(expect_: Expectation, observed: Observation, leaf?: string): void {
  const v = judge(expect_, observed, leaf);
  expect(v.mismatches).toEqual([]);
  expect(v.pass).toBe(true);
}

/** Fails with exactly one mismatch, which contains every fragment. */
function expectFail(expect_: Expectation, observed: Observation, fragments: string[], leaf?: string): string {
  const v = judge(expect_, observed, leaf);
  expect(v.pass).toBe(false);
  expect(v.mismatches).toHaveLength(1);
  for (const f of fragments) expect(v.mismatches[0]).toContain(f);
  return v.mismatches[0]!;
}

describe("judge: status", () => {
  it("passes on the expected status", () => {
    expectPass({ status: 403, upstream: "not-reached" }, obs({ status: 403, body: "client certificate unauthorized" }));
  });
  it("fails on another status, saying expected and observed", () => {
    expectFail({ status: 403, upstream: "not-reached" }, obs({ status: 200, body: "ok" }), [
      "status",
      "expected 403",
      "observed 200",
    ]);
  });
});

describe("judge: body marker", () => {
  it("passes when the body contains the marker", () => {
    expectPass(rejected, obs({ status: 400, body: `<html><center>${NO_CERT_BODY}</center></html>` }));
  });
  it("fails when the marker is missing, quoting the marker and the body", () => {
    expectFail(rejected, obs({ status: 400, body: "<html>The SSL certificate error</html>" }), [
      "body",
      `expected to contain "${NO_CERT_BODY}"`,
      'observed "<html>The SSL certificate error</html>"',
    ]);
  });
  it("fails when there is no body at all", () => {
    expectFail(rejected, obs({ status: 400 }), ["body", NO_CERT_BODY, 'observed ""']);
  });
  it("reports every difference: status and body together", () => {
    const v = judge(rejected, obs({ status: 200, body: "hello" }));
    expect(v.pass).toBe(false);
    expect(v.mismatches).toHaveLength(2);
    expect(v.mismatches.join("\n")).toContain("expected 400, observed 200");
    expect(v.mismatches.join("\n")).toContain('observed "hello"');
  });
});

describe('judge: upstream "not-reached"', () => {
  it("passes when nginx answered itself", () => {
    expectPass(rejected, obs({ status: 400, body: NO_CERT_BODY }));
  });
  it("fails when the echo backend answered", () => {
    expectFail(rejected, obs({ status: 400, body: NO_CERT_BODY, echo: echo({}, "/secret") }), [
      "upstream",
      "expected the backend not to be reached",
      "observed",
      "GET /secret",
    ]);
  });
});

describe('judge: upstream "reached"', () => {
  it("passes when the echo backend answered", () => {
    expectPass(reached(), obs({ status: 200, body: "{}", echo: echo() }));
  });
  it("fails when the answer did not come from the echo backend", () => {
    expectFail(reached(), obs({ status: 200, body: "<html>default backend</html>" }), [
      "upstream",
      "expected the request to reach the echo backend",
      "observed",
    ]);
  });
  it("fails on the missing echo even when header expectations exist (no header noise)", () => {
    expectFail(reached({ headers: { "ssl-client-verify": "SUCCESS" } }), obs({ status: 200, body: "x" }), ["echo backend"]);
  });
});

describe("judge: exact upstream header values", () => {
  const want = reached({ headers: { "ssl-client-verify": "SUCCESS", "ssl-client-subject-dn": "O=MyOrganization,CN=authorized-client" } });
  it("passes when every header has exactly the value", () => {
    expectPass(
      want,
      obs({
        status: 200,
        echo: echo({ "ssl-client-verify": "SUCCESS", "ssl-client-subject-dn": "O=MyOrganization,CN=authorized-client" }),
      }),
    );
  });
  it("fails on another value, quoting both", () => {
    expectFail(
      want,
      obs({
        status: 200,
        echo: echo({
          "ssl-client-verify": "FAILED:certificate has expired",
          "ssl-client-subject-dn": "O=MyOrganization,CN=authorized-client",
        }),
      }),
      ["upstream header ssl-client-verify", 'expected "SUCCESS"', 'observed "FAILED:certificate has expired"'],
    );
  });
  it("fails on a value that differs only in spacing (exact match)", () => {
    expectFail(
      want,
      obs({
        status: 200,
        echo: echo({ "ssl-client-verify": "SUCCESS", "ssl-client-subject-dn": "O=MyOrganization, CN=authorized-client" }),
      }),
      ["ssl-client-subject-dn", '"O=MyOrganization,CN=authorized-client"', 'observed "O=MyOrganization, CN=authorized-client"'],
    );
  });
  it("fails when the header is missing, observed (none)", () => {
    expectFail(
      want,
      obs({ status: 200, echo: echo({ "ssl-client-subject-dn": "O=MyOrganization,CN=authorized-client" }) }),
      ["upstream header ssl-client-verify", 'expected "SUCCESS"', "observed (none)"],
    );
  });
});

describe("judge: headers that must be absent", () => {
  const want = reached({ absent: ["ssl-client-cert", "x-ssl-client-cert"] });
  it("passes when they are absent", () => {
    expectPass(want, obs({ status: 200, echo: echo({ "ssl-client-verify": "SUCCESS" }) }));
  });
  it("fails when one is present, naming it and quoting its value", () => {
    expectFail(want, obs({ status: 200, echo: echo({ "ssl-client-cert": "spoofed-by-client" }) }), [
      "upstream header ssl-client-cert",
      "expected absent",
      'observed "spoofed-by-client"',
    ]);
  });
});

describe("judge: clientCertIsPresentedLeaf", () => {
  const want = reached({ clientCertIsPresentedLeaf: true });
  it("passes when ssl-client-cert decodes to the presented leaf", () => {
    expectPass(want, obs({ status: 200, echo: echo({ "ssl-client-cert": nginxEscape(pemA) }) }), shaA);
  });
  it("fails on another certificate, giving both fingerprints", () => {
    expectFail(
      want,
      obs({ status: 200, echo: echo({ "ssl-client-cert": nginxEscape(pemB) }) }),
      ["ssl-client-cert", `expected sha256 ${shaA}`, `observed ${shaB}`],
      shaA,
    );
  });
  it("fails on leaf + another certificate (the header must carry the leaf only)", () => {
    expectFail(
      want,
      obs({ status: 200, echo: echo({ "ssl-client-cert": nginxEscape(pemA + pemB) }) }),
      ["ssl-client-cert", "expected exactly 1 certificate", "observed 2"],
      shaA,
    );
  });
  it("fails when the header is missing", () => {
    expectFail(want, obs({ status: 200, echo: echo({ "ssl-client-verify": "SUCCESS" }) }), ["ssl-client-cert", "observed (none)"], shaA);
  });
  it("fails when the header is not a percent-encoded certificate", () => {
    expectFail(want, obs({ status: 200, echo: echo({ "ssl-client-cert": "%ZZ" }) }), ["ssl-client-cert", "percent-encoding"], shaA);
  });
  it("fails when a certificate arrives but no credential was presented", () => {
    expectFail(
      want,
      obs({ status: 200, echo: echo({ "ssl-client-cert": nginxEscape(pemA) }) }),
      ["ssl-client-cert", "expected", "observed " + shaA],
      undefined,
    );
  });
});

describe("judge: no HTTP response", () => {
  const failure = obs({ error: { code: "ECONNRESET", message: "socket hang up" } });
  it.each([
    ["a rejection", rejected],
    ["an acceptance", reached({ headers: { "ssl-client-verify": "SUCCESS" } })],
  ])("fails %s with a message naming the error code", (_label, expectation) => {
    expectFail(expectation, failure, [
      `expected ${expectation.status}`,
      "no HTTP response",
      "ECONNRESET",
      "socket hang up",
    ]);
  });
  it("names a TLS alert code too", () => {
    expectFail(
      rejected,
      obs({ error: { code: "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", message: "tlsv13 alert certificate required" } }),
      ["ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"],
    );
  });
});

describe("judge: header names compare case-insensitively (Traefik sends Ssl-Client-Verify)", () => {
  const seen = obs({ status: 200, responseHeaders: { "x-request-id": "abc" }, echo: echo({ "ssl-client-verify": "SUCCESS", "ssl-client-cert": "x" }) });
  it("passes expectations written in any case, for every kind of header check", () => {
    expectPass({ ...reached({ headers: { "Ssl-Client-Verify": "SUCCESS" }, prefixes: { "SSL-CLIENT-VERIFY": "SUCC" }, absent: ["X-Ssl-Client-Cert"] }), responseHeaders: { "X-Request-Id": "abc" } }, seen);
  });
  it("still fails on the value, and on a header that must be absent, naming it as written", () => {
    expectFail(reached({ headers: { "Ssl-Client-Verify": "NONE" } }), seen, ["upstream header Ssl-Client-Verify", 'expected "NONE"', 'observed "SUCCESS"']);
    expectFail(reached({ absent: ["Ssl-Client-Cert"] }), seen, ["upstream header Ssl-Client-Cert", "expected absent", 'observed "x"']);
    expectFail({ status: 200, upstream: "reached", responseHeaders: { "X-Request-Id": "def" } }, seen, ["response header X-Request-Id", 'expected "def"', 'observed "abc"']);
  });
  it("reads observed names in any case too (someone else's echo backend)", () => {
    expectPass(reached({ headers: { "ssl-client-verify": "SUCCESS" } }), obs({ status: 200, echo: { method: "GET", path: "/", headers: { "Ssl-Client-Verify": "SUCCESS" } } }));
  });
});

describe('judge: transport "tls-rejected"', () => {
  const refused: Expectation = { transport: "tls-rejected", upstream: "not-reached" };
  const tls13 = { handshakeCompleted: true, version: "TLSv1.3", responseBytes: 0 };
  const passes = (o: Observation) => {
    expectPass(refused, o);
    expect(judge(refused, o, undefined, { noEcho: true }).pass).toBe(true);
  };
  it.each(["ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE", "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"])(
    "passes on the alert %s wherever it came, with or without an echo backend",
    (code) => {
      // An alert is the server's word: during the handshake (1.2), after the client's side of it (1.3), or unrecorded.
      for (const tls of [undefined, { handshakeCompleted: false, responseBytes: 0 }, tls13]) passes(obs({ error: { code, message: "refused" }, ...(tls ? { tls } : {}) }));
    },
  );
  it("passes on EPROTO carrying an alert (older Node), fails on EPROTO without one", () => {
    const alert = "C0D7:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1586:SSL alert number 42\n";
    passes(obs({ error: { code: "EPROTO", message: alert }, tls: { handshakeCompleted: false, responseBytes: 0 } }));
    expectFail(refused, obs({ error: { code: "EPROTO", message: "write EPROTO wrong version number" }, tls: { handshakeCompleted: false, responseBytes: 0 } }), [
      "transport: expected the TLS handshake refused, observed EPROTO: write EPROTO wrong version number",
    ]);
  });
  it.each(["ECONNRESET", "UND_ERR_SOCKET"])("passes on %s after a completed TLS 1.3 handshake, before any HTTP response byte", (code) => {
    passes(obs({ error: { code, message: "other side closed" }, tls: tls13 }));
  });
  it.each(["ECONNRESET", "UND_ERR_SOCKET"])("fails on %s before the handshake completed: a server out of connections resets the same way", (code) => {
    expect(judge(refused, obs({ error: { code, message: "Client network socket disconnected before secure TLS connection was established" }, tls: { handshakeCompleted: false, responseBytes: 0 } }))).toEqual({
      pass: false,
      mismatches: [`transport: expected the TLS handshake refused, observed ${code} before the TLS handshake completed: not a refusal of the certificate (a server out of connections resets the same way)`],
    });
  });
  it("fails on a reset after a completed TLS 1.2 handshake without an alert (1.2 refuses within the handshake)", () => {
    expectFail(refused, obs({ error: { code: "ECONNRESET", message: "read ECONNRESET" }, tls: { handshakeCompleted: true, version: "TLSv1.2", responseBytes: 0 } }), [
      "transport: expected the TLS handshake refused, observed ECONNRESET after a completed TLSv1.2 handshake, without an alert: not a refusal of the certificate",
    ]);
  });
  it("fails on a TLS 1.3 connection that ended after HTTP response bytes arrived", () => {
    expectFail(refused, obs({ error: { code: "UND_ERR_SOCKET", message: "other side closed" }, tls: { ...tls13, responseBytes: 10 } }), [
      "observed UND_ERR_SOCKET after 10 bytes of HTTP response: the server answered, it did not refuse the handshake",
    ]);
  });
  it("fails on a reset with no record of the TLS exchange (another client's observation)", () => {
    expectFail(refused, obs({ error: { code: "ECONNRESET", message: "socket hang up" } }), ["observed ECONNRESET and no record of the TLS exchange: not shown to be a refusal"]);
  });
  it.each(["ECONNREFUSED", "UND_ERR_CONNECT_TIMEOUT", "ENOTFOUND", "ERR_SSL_WRONG_VERSION_NUMBER", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"])("fails on %s, naming it", (code) => {
    expectFail(refused, obs({ error: { code, message: "m" } }), ["transport: expected the TLS handshake refused", `observed ${code}: m`]);
  });
  it("fails on any HTTP answer, whatever the other fields would accept", () => {
    expectFail({ ...refused, status: 400 }, obs({ status: 400, body: "<html>bad request</html>" }), ['observed HTTP 400 ("<html>bad request</html>")']);
    expectFail(refused, obs({ status: 403, body: "client certificate unauthorized" }), ["observed HTTP 403 (client certificate unauthorized)"]);
    expectFail(refused, obs({ status: 200, body: "x".repeat(200) }), ["observed HTTP 200"], undefined);
  });
  it("says so when the expectation also wants the backend reached", () => {
    expectFail({ transport: "tls-rejected", upstream: "reached" }, obs({ error: { code: "ECONNRESET", message: "m" }, tls: tls13 }), ['upstream "reached"']);
  });
});

describe('judge: transport "connection-closed"', () => {
  const closed: Expectation = { transport: "connection-closed", upstream: "not-reached" };
  it.each(["ECONNRESET", "UND_ERR_SOCKET"])("passes on %s with no answer, before the handshake (Traefik's brokenTLSRouter) or after it (NGF's 444)", (code) => {
    expect(judge(closed, obs({ error: { code, message: "Client network socket disconnected before secure TLS connection was established" }, tls: { handshakeCompleted: false, responseBytes: 0 } })).pass).toBe(true);
    expect(judge(closed, obs({ error: { code, message: "other side closed" }, tls: { handshakeCompleted: true, version: "TLSv1.3", responseBytes: 0 } })).pass).toBe(true);
  });
  it("fails on an alert, on an answer, on bytes of an answer, and on other errors, naming what came", () => {
    expectFail(closed, obs({ error: { code: "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE", message: "m" } }), ["expected the connection closed without an answer, observed a TLS alert"]);
    expectFail(closed, obs({ status: 404, body: "404 page not found" }), ["observed HTTP 404"]);
    expectFail(closed, obs({ error: { code: "UND_ERR_SOCKET", message: "other side closed" }, tls: { handshakeCompleted: true, version: "TLSv1.3", responseBytes: 12 } }), ["observed 12 bytes of HTTP response"]);
    expectFail(closed, obs({ error: { code: "ECONNREFUSED", message: "connect ECONNREFUSED" } }), ["observed ECONNREFUSED: connect ECONNREFUSED"]);
  });
});

describe('judge: dnCompare "rdn-set"', () => {
  const want = (dn: string, header = "ssl-client-subject-dn"): Expectation => ({ ...reached({ headers: { [header]: dn } }), dnCompare: "rdn-set" });
  const got = (dn: string, header = "ssl-client-subject-dn") => obs({ status: 200, echo: echo({ [header]: dn }) });
  it("ignores order and type-name case, and undoes escapes (OpenSSL's \\XX bytes vs Go's UTF-8)", () => {
    expectPass(want("O=MyOrganization,CN=authorized-client"), got("CN=authorized-client,O=MyOrganization"));
    expectPass(want("CN=My Certificate Authority,O=MyOrganization", "ssl-client-issuer-dn"), got("o=MyOrganization,cn=My Certificate Authority", "ssl-client-issuer-dn"));
    expectPass(want("CN=J\\C3\\BCrgen,serialNumber=42"), got("SERIALNUMBER=42,CN=Jürgen"));
    expectPass(want("O=a\\,b\\+c,CN=d"), got("CN=d,O=a\\,b\\+c"));
  });
  it("keeps values exact and counts repeated attributes", () => {
    expectFail(want("CN=Authorized-Client"), got("CN=authorized-client"), ["compared as a set of attributes", "missing CN=Authorized-Client", "unexpected CN=authorized-client"]);
    expectFail(want("OU=a,OU=a,CN=b"), got("CN=b,OU=a"), ["missing OU=a"]);
    expectFail(want("O=a\\,b,CN=d"), got("CN=d,O=a,b"), ["compared as a set of attributes"]);
  });
  it("fails on an absent header or one that is no DN, showing both", () => {
    expectFail(want("CN=a"), obs({ status: 200, echo: echo() }), ['expected "CN=a", observed (none)', "compared as a set of attributes", "absent"]);
    expectFail(want("CN=a"), got("not a dn"), ['observed "not a dn"', "the observed value is not a distinguished name"]);
  });
  it("applies to the DN headers only: others stay exact", () => {
    expectFail({ ...want("CN=a"), upstreamHeaders: { headers: { "x-dn": "O=b,CN=a" } } }, got("CN=a,O=b", "x-dn"), ['upstream header x-dn: expected "O=b,CN=a", observed "CN=a,O=b"']);
  });
});
