// The Go data plane against curl, on certificates made with the openssl command line, and a
// configuration written here by hand in Traefik's JSON field names (not by the renderer): each
// behaviour asserted is one Traefik v3.7.9's source shows (cited in data-plane/main.go), seen from
// an independent client.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoServer, type StartedEchoServer } from "../../../fixtures/echo-server.ts";
import { freePort } from "../../support/net.ts";
import { OpensslPki } from "../../testing/openssl-pki.ts";
import { tempDirs } from "../../testing/temp-dirs.ts";
import { buildDataPlane } from "./go-build.ts";

const tempDir = tempDirs();
let pki: OpensslPki;
let echo: StartedEchoServer;
let child: ChildProcess;
let output = "";
let configPath = "";
let https = 0;
let http = 0;

function config(generation: number, aClientAuth: boolean): object {
  const ca = pki.read("ca");
  const backend = { loadBalancer: { servers: [{ url: `http://${echo.host}:${echo.port}` }] } };
  return {
    generation,
    http: {
      routers: {
        "a-tls": { entryPoints: ["websecure"], rule: 'Host("a.test") && PathPrefix("/")', service: "echo", tls: { options: "opt-a" }, middlewares: ["a-pass"] },
        "a-web": { entryPoints: ["web"], rule: 'Host("a.test") && PathPrefix("/")', service: "echo", middlewares: ["a-redirect"] },
        // Two routers on one host naming two options (of the same CA): Traefik's conflict rule.
        "s1-tls": { entryPoints: ["websecure"], rule: 'Host("shared.test") && (Path("/one") || PathPrefix("/one/"))', service: "echo", tls: { options: "opt-s1" } },
        "s2-tls": { entryPoints: ["websecure"], rule: 'Host("shared.test") && PathPrefix("/")', service: "echo", tls: { options: "opt-s2" } },
        "broken-tls": { entryPoints: ["websecure"], rule: 'Host("broken.test") && PathPrefix("/")', service: "echo", tls: { options: "opt-broken" } },
      },
      middlewares: {
        "a-pass": { authTLSPassCertificateToUpstream: { clientAuthType: "RequireAndVerifyClientCert" } },
        "a-redirect": { redirectScheme: { scheme: "https", forcePermanentRedirect: true } },
      },
      services: { echo: backend },
    },
    tls: {
      certificates: [{ certFile: pki.read("server"), keyFile: pki.read("server", "key") }],
      options: {
        "opt-a": { minVersion: "VersionTLS12", clientAuth: aClientAuth ? { caFiles: [ca], clientAuthType: "RequireAndVerifyClientCert" } : { caFiles: [], clientAuthType: "" } },
        "opt-s1": { minVersion: "VersionTLS12", clientAuth: { caFiles: [ca], clientAuthType: "RequireAndVerifyClientCert" } },
        "opt-s2": { minVersion: "VersionTLS12", clientAuth: { caFiles: [ca], clientAuthType: "RequireAndVerifyClientCert" } },
        "opt-broken": { minVersion: "VersionTLS12", clientAuth: { caFiles: ["this is no certificate"], clientAuthType: "RequireAndVerifyClientCert" } },
      },
    },
  };
}

const waitFor = async (pattern: RegExp): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while (!pattern.test(output)) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in: ${output}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

interface CurlResult {
  exit: number;
  status?: number;
  body: string;
  stderr: string;
  location?: string;
}

// Asynchronous: the echo backend answers from this process, which must not be blocked meanwhile.
async function curl(url: string, host: string, options: { cert?: string; hostHeader?: string; tls12?: boolean } = {}): Promise<CurlResult> {
  const port = url.startsWith("https") ? https : http;
  const args = ["-sS", "--max-time", "5", "-o", "-", "-D", "-", "--resolve", `${host}:${port}:127.0.0.1`, "--cacert", pki.path("ca")];
  if (options.cert) args.push("--cert", pki.path(options.cert), "--key", pki.path(options.cert, "key"));
  if (options.hostHeader) args.push("-H", `Host: ${options.hostHeader}`);
  if (options.tls12) args.push("--tls-max", "1.2");
  args.push(url.replace("PORT", String(port)));
  const r = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
    execFile("curl", args, { encoding: "utf8" }, (error, stdout, stderr) => resolve({ status: error ? Number((error as { code?: number }).code ?? -1) : 0, stdout, stderr })),
  );
  const status = /^HTTP\/[\d.]+ (\d+)/m.exec(r.stdout)?.[1];
  return { exit: r.status, status: status ? Number(status) : undefined, body: r.stdout.split(/\r?\n\r?\n/).slice(1).join("\n\n"), stderr: r.stderr, location: /^location: (.*)$/im.exec(r.stdout)?.[1]?.trim() };
}

beforeAll(async () => {
  const dir = tempDir("traefik-data-plane-");
  pki = new OpensslPki(join(dir, "pki"))
    .ca("ca", "/O=Test/CN=Test CA")
    .ca("other", "/O=Other/CN=Other CA")
    .leaf("server", "/CN=a.test", "ca", { eku: "serverAuth", san: ["a.test", "shared.test", "broken.test"] })
    .leaf("client", "/O=Test/CN=client", "ca")
    .leaf("stranger", "/O=Other/CN=stranger", "other");
  echo = await startEchoServer("127.0.0.1");
  const built = await buildDataPlane();
  configPath = join(dir, "dynamic.json");
  writeFileSync(configPath, JSON.stringify(config(1, true)));
  https = await freePort();
  http = await freePort();
  child = spawn(built.binary, ["-config", configPath, "-https", `127.0.0.1:${https}`, "-http", `127.0.0.1:${http}`], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  await waitFor(/^loaded generation 1$/m);
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  await echo?.stop();
});

describe("the Traefik data plane, seen by curl", () => {
  it("RequireAndVerifyClientCert: no certificate, or one of another CA, is refused in the handshake with an alert; the CA's client reaches the backend with the Ssl-Client-* headers", async () => {
    // Under TLS 1.2 the server refuses within the handshake, so curl always reports the alert; under
    // TLS 1.3 the refusal comes after curl's side of the handshake, and what curl reports (the alert,
    // a reset, "not connected") depends on timing: no HTTP answer either way.
    for (const cert of [undefined, "stranger"]) {
      const tls12 = await curl("https://a.test:PORT/", "a.test", { cert, tls12: true });
      expect(tls12.status, cert).toBeUndefined();
      expect(tls12.exit, cert).not.toBe(0);
      expect(tls12.stderr, cert).toMatch(/alert/i);
      const tls13 = await curl("https://a.test:PORT/", "a.test", { cert });
      expect(tls13.status, cert).toBeUndefined();
      expect(tls13.exit, cert).not.toBe(0);
    }

    const client = await curl("https://a.test:PORT/path", "a.test", { cert: "client" });
    expect(client.status).toBe(200);
    const seen = JSON.parse(client.body) as { headers: Record<string, string>; path: string };
    expect(seen.path).toBe("/path");
    expect(seen.headers["ssl-client-verify"]).toBe("SUCCESS");
    // Go's pkix.Name.String(): CN first, then O.
    expect(seen.headers["ssl-client-subject-dn"]).toBe("CN=client,O=Test");
    expect(decodeURIComponent(seen.headers["ssl-client-cert"]!).trim()).toBe(pki.read("client").trim());
  });

  it("two routers on one host with different TLS options: the host falls back to the default options, so no certificate is asked and anyone gets through", async () => {
    const none = await curl("https://shared.test:PORT/one", "shared.test");
    expect(none.status).toBe(200);
    expect(output).toMatch(/Host "shared.test" is served by multiple routers with different TLS options/);
  });

  it("snicheck: a request whose Host has other TLS options than its SNI's gets 421", async () => {
    const misdirected = await curl("https://shared.test:PORT/", "shared.test", { hostHeader: "a.test" });
    expect(misdirected.status).toBe(421);
  });

  it("TLS options that do not build: the host's connections are closed at once, with no alert and no answer", async () => {
    const broken = await curl("https://broken.test:PORT/", "broken.test", { cert: "client" });
    expect(broken.status).toBeUndefined();
    expect(broken.exit).toBe(35);
    expect(broken.stderr).not.toMatch(/alert/i);
  });

  it("the web entry point: RedirectScheme with ForcePermanentRedirect answers 308 to https with the request URI as sent; no router: 404", async () => {
    const r = await curl("http://a.test:PORT/docs/page/?q=1", "a.test");
    expect(r.status).toBe(308);
    expect(r.location).toBe("https://a.test/docs/page/?q=1");
    expect((await curl("http://nobody.test:PORT/", "nobody.test")).status).toBe(404);
  });

  it("SIGHUP loads a new configuration and says which generation serves", async () => {
    writeFileSync(configPath, JSON.stringify(config(2, false)));
    child.kill("SIGHUP");
    await waitFor(/^loaded generation 2$/m);
    const none = await curl("https://a.test:PORT/", "a.test");
    expect(none.status).toBe(200);
    expect((JSON.parse(none.body) as { headers: Record<string, string> }).headers["ssl-client-verify"]).toBe("NONE");
  });
});
