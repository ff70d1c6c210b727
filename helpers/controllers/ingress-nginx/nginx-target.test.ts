// The nginx target against an independent client: curl, replaying the guide's own commands,
// and the probe compared with curl credential by credential.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { catalogue } from "../../../fixtures/catalogue.ts";
import { buildManifests, type Manifests } from "../../manifests/manifests.ts";
import { writePki } from "../../pki/pki-files.ts";
import { chainPem, CREDENTIAL_NAMES, type Pki } from "../../pki/pki.ts";
import { probe } from "../../probe/probe.ts";
import { NGINX_INSTALL_HINT, NginxTarget } from "./nginx-target.ts";
import type { StartedTarget } from "../../targets/target.ts";
import { sharedPki } from "../../testing/shared-pki.ts";

const execFileAsync = promisify(execFile);
let pki: Pki;
let target: StartedTarget;
let pkiDir: string;
let reportDir: string;
let base: string;
const HOST = "test.localdev.me";

beforeAll(async () => {
  pki = await sharedPki(catalogue.policies.map((p) => p.host));
  base = mkdtempSync(join(tmpdir(), "nginx-target-test-"));
  pkiDir = join(base, "pki");
  reportDir = join(base, "report");
  await writePki(pki, { certDir: pkiDir, keyDir: pkiDir });
  const manifests = buildManifests({ namespace: "default", policies: catalogue.policies, pki });
  target = await new NginxTarget().start({ manifests, workDir: base, reportDir, log: () => undefined });
});

afterAll(async () => {
  await target?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

/**
 * The guide's curl, pointed at the target with --resolve instead of DNS. Asynchronous: the echo
 * backend lives in this process and must keep answering while curl waits.
 */
async function curl(args: string[], host = HOST): Promise<{ status: number; body: string }> {
  const { address, port } = target.endpointFor(host);
  const { stdout: out } = await execFileAsync(
    "curl",
    ["-sS", "--cacert", join(pkiDir, "ca.crt"), "--resolve", `${host}:${port}:${address}`, "-w", "\n%{http_code}", ...args, `https://${host}:${port}/`],
    { encoding: "utf8" },
  );
  const cut = out.lastIndexOf("\n");
  return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
}

describe("the guide's steps 7 and 8, replayed with curl", () => {
  it("step 7: without a client certificate, 400 No required SSL certificate was sent", async () => {
    const r = await curl([]);
    expect(r.status).toBe(400);
    expect(r.body).toContain("No required SSL certificate was sent");
  });

  it("step 8: with the client certificate, 200 and the backend sees the guide's subject", async () => {
    const r = await curl(["--cert", join(pkiDir, "client.crt"), "--key", join(pkiDir, "client.key")]);
    expect(r.status).toBe(200);
    const echo = JSON.parse(r.body);
    expect(echo.headers["ssl-client-verify"]).toBe("SUCCESS");
    // The independent oracle for the DN string: OpenSSL's RFC 2253 rendering of the same certificate.
    const subject = execFileSync("openssl", ["x509", "-in", join(pkiDir, "client.crt"), "-noout", "-subject", "-nameopt", "RFC2253"], { encoding: "utf8" });
    expect(`subject=${echo.headers["ssl-client-subject-dn"]}\n`).toBe(subject);
  });

  it("the browser bundle client.p12 works as curl's credential too", async () => {
    const r = await curl(["--cert-type", "P12", "--cert", `${join(pkiDir, "client.p12")}:changeit`]);
    expect(r.status).toBe(200);
  });

  it("a name no Ingress claims gets the fake certificate and 404, never the run's server certificate", () => {
    const { port } = target.endpointFor(HOST);
    const r = spawnSync("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "unknown.localdev.me"], { input: "", encoding: "utf8" });
    expect(r.stdout).toContain("Kubernetes Ingress Controller Fake Certificate");
  });
});

describe("the probe agrees with curl on every credential", () => {
  for (const name of CREDENTIAL_NAMES) {
    it(`${name}`, async () => {
      const credential = name === "none" ? undefined : pki.credentials[name];
      const args = credential
        ? ["--cert", join(pkiDir, credential.chain.length ? `${name}.chain.crt` : `${name}.crt`), "--key", join(pkiDir, `${name}.key`)]
        : [];
      const byCurl = await curl(args);
      const byProbe = await probe({
        endpoint: target.endpointFor(HOST),
        host: HOST,
        caPem: pki.ca.certPem,
        serverSha256: pki.server.sha256,
        credential: credential ? { certChainPem: chainPem(credential), keyPem: credential.leaf.keyPem } : undefined,
      });
      expect(byProbe.error).toBeUndefined();
      expect(byProbe.status).toBe(byCurl.status);
      expect(byProbe.serverCertSha256).toBe(pki.server.sha256);
      if (byCurl.status === 200) expect(byProbe.echo?.headers["ssl-client-subject-dn"]).toBe(JSON.parse(byCurl.body).headers["ssl-client-subject-dn"]);
    });
  }
});

describe("the probe sends exactly the SNI it is asked to, whatever the Host header says", () => {
  /** The access log lines nginx writes while `act` runs (its log format records $ssl_server_name). */
  async function loggedDuring(act: () => Promise<unknown>): Promise<string[]> {
    const file = join(reportDir, "nginx", "access.log");
    await target.collectDiagnostics();
    const before = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0;
    await act();
    await target.collectDiagnostics();
    return readFileSync(file, "utf8").split("\n").filter(Boolean).slice(before);
  }

  it("SNI of another host than Host: nginx logs that SNI, and answers 421", async () => {
    let status: number | undefined;
    let sni: string | null | undefined;
    const lines = await loggedDuring(async () => {
      const o = await probe({ endpoint: target.endpointFor(HOST), host: HOST, servername: "public.test.localdev.me", caPem: pki.ca.certPem });
      ({ status, sni } = o);
    });
    expect(sni).toBe("public.test.localdev.me");
    expect(status).toBe(421);
    // 421 is answered while the headers are read: the request line is not logged, the SNI and status are.
    expect(lines).toEqual([expect.stringMatching(/sni="public\.test\.localdev\.me" .* 421 /)]);
  });

  it("no SNI at all: nginx logs none; the default server's certificate answers", async () => {
    let observed: Awaited<ReturnType<typeof probe>> | undefined;
    const lines = await loggedDuring(async () => {
      observed = await probe({ endpoint: target.endpointFor(HOST), host: HOST, servername: null, path: "/sni-none", insecure: true });
    });
    expect(observed!.sni).toBeNull();
    expect(observed!.serverCertSha256).not.toBe(pki.server.sha256);
    expect(observed!.status).toBe(400);
    expect(lines).toEqual([expect.stringMatching(/"test\.localdev\.me" sni="-" "GET \/sni-none HTTP\/1\.1" 400 /)]);
  });

  it("by default the SNI is the Host", async () => {
    let sni: string | null | undefined;
    const lines = await loggedDuring(async () => ({ sni } = await probe({ endpoint: target.endpointFor(HOST), host: HOST, path: "/sni-same", caPem: pki.ca.certPem })));
    expect(sni).toBe(HOST);
    expect(lines).toEqual([expect.stringMatching(/sni="test\.localdev\.me" "GET \/sni-same /)]);
  });
});

describe("the probe records TLS failures as observations", () => {
  it("a pinned server fingerprint that does not match is an error, not a crash", async () => {
    const o = await probe({ endpoint: target.endpointFor(HOST), host: HOST, caPem: pki.ca.certPem, serverSha256: "00".repeat(32) });
    expect(o.status).toBeUndefined();
    expect(o.error?.message).toContain("expected the run's");
  });

  it("an untrusted server certificate is an error", async () => {
    const o = await probe({ endpoint: target.endpointFor(HOST), host: HOST, caPem: pki.others[0]!.certPem });
    expect(o.status).toBeUndefined();
    expect(o.error?.code).toMatch(/CERT|SIGNATURE|ISSUER/);
  });

  it("nothing listening is an error", async () => {
    const o = await probe({ endpoint: { address: "127.0.0.1", port: 1 }, host: HOST, caPem: pki.ca.certPem, timeoutMs: 2000 });
    expect(o.error?.code).toBe("ECONNREFUSED");
  });
});

describe("lifecycle", () => {
  it("saves the rendered config and logs for diagnostics", async () => {
    const files = await target.collectDiagnostics();
    expect(files.map((f) => f.replace(reportDir, ""))).toEqual(expect.arrayContaining(["/nginx/nginx.conf", "/nginx/access.log"]));
    expect(readFileSync(join(reportDir, "nginx", "nginx.conf"), "utf8")).toContain("ssl_verify_client on;");
  });

  it("stop() closes the port and removes its files; a second stop() is harmless", async () => {
    const manifests = buildManifests({ namespace: "default", policies: catalogue.policies.slice(0, 1), pki });
    const base = mkdtempSync(join(tmpdir(), "nginx-stop-"));
    onTestFinished(() => rmSync(base, { recursive: true, force: true }));
    const t = await new NginxTarget().start({ manifests, workDir: base, reportDir: join(base, "r"), log: () => undefined });
    const { port } = t.endpointFor(HOST);
    const prefix = String((t.details as { listen: string }).listen);
    expect(prefix).toContain(String(port));
    await t.stop();
    await t.stop();
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port });
      s.once("connect", () => (s.destroy(), resolve(false)));
      s.once("error", () => resolve(true));
    });
    expect(refused).toBe(true);
    expect(execFileSync("ls", [base], { encoding: "utf8" })).not.toMatch(/nginx-/);
    expect(existsSync(join(base, "r", "nginx", "error.log"))).toBe(true);
  });

  it("a missing nginx is reported with how to install it", async () => {
    const availability = await new NginxTarget({ bin: "/nonexistent/nginx" }).check();
    expect(availability.available).toBe(false);
    const missing = new NginxTarget({ bin: undefined });
    const saved = process.env.NGINX_BIN;
    process.env.NGINX_BIN = "/nonexistent/nginx";
    try {
      const a = await missing.check();
      expect(a.available).toBe(false);
      expect(a.reason).toBe(NGINX_INSTALL_HINT);
      expect(a.reason).toContain("apt-get install -y nginx-light");
    } finally {
      if (saved === undefined) delete process.env.NGINX_BIN;
      else process.env.NGINX_BIN = saved;
    }
  });
});

describe("update (the lifecycle suite's state changes)", () => {
  it("applies changed objects with a reload; a configuration nginx refuses leaves the old one serving and says why", async () => {
    const policies = catalogue.policies.slice(0, 1);
    const manifests = buildManifests({ namespace: "default", policies, pki });
    const base = mkdtempSync(join(tmpdir(), "nginx-update-"));
    onTestFinished(() => rmSync(base, { recursive: true, force: true }));
    const lines: string[] = [];
    const t = await new NginxTarget().start({ manifests, workDir: base, reportDir: join(base, "r"), log: (l) => lines.push(l) });
    try {
      const ask = () => probe({ endpoint: t.endpointFor(HOST), host: HOST, caPem: pki.ca.certPem, serverSha256: pki.server.sha256 });
      expect((await ask()).status).toBe(400);
      const off = structuredClone(manifests);
      off.ingresses[0]!.metadata!.annotations!["nginx.ingress.kubernetes.io/auth-tls-verify-client"] = "off";
      await t.update!(off);
      const afterOff = await ask();
      expect(afterOff.status).toBe(200);
      expect(afterOff.echo?.headers["ssl-client-verify"]).toBe("NONE");

      // A negative depth is admitted, the reload fails: the last good configuration keeps serving.
      const invalid = structuredClone(manifests);
      invalid.ingresses[0]!.metadata!.annotations!["nginx.ingress.kubernetes.io/auth-tls-verify-depth"] = "-1";
      await t.update!(invalid);
      expect(lines.join("\n")).toMatch(/the reload fails \(.*ssl_verify_depth.*\); the previous configuration keeps serving/);
      expect((await ask()).status).toBe(200);
      expect((t.details.refusedReloads as string[]).length).toBe(1);
      // nginx logged the refusal as an [emerg]: expected behaviour, not a fault of the harness.
      await t.collectDiagnostics();
      expect(readFileSync(join(base, "r", "nginx", "error.log"), "utf8")).toMatch(/\[emerg\] .*ssl_verify_depth/);
      expect(await t.health!()).toEqual([]);

      // Fixed: everything held applies again (verify on).
      await t.update!(manifests);
      expect((await ask()).status).toBe(400);
      // An Ingress update the webhook would refuse: the previous version (verify on) stays.
      const rejected = structuredClone(manifests);
      rejected.ingresses[0]!.metadata!.annotations!["nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream"] = "yes";
      rejected.ingresses[0]!.metadata!.annotations!["nginx.ingress.kubernetes.io/auth-tls-verify-client"] = "off";
      await t.update!(rejected);
      expect(lines.join("\n")).toMatch(/the admission webhook rejects the update of Ingress default\/test-localhost .*the previous version stays/);
      expect((await ask()).status).toBe(400);
    } finally {
      await t.stop();
    }
  });
});


/** A temporary directory removed when the test ends, after the targets it holds are stopped. */
function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Stops the target when the test ends, before its directory is removed. */
const toStop: StartedTarget[] = [];
function track(t: StartedTarget): StartedTarget {
  toStop.push(t);
  return t;
}
afterEach(async () => {
  for (const t of toStop.splice(0)) await t.stop();
});

/** Client sockets of this machine connected to 127.0.0.1:port (/proc/net/tcp, state 01). */
function establishedTo(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[2] === `0100007F:${hex}` && f[3] === "01").length;
}

describe.skipIf(process.platform !== "linux")("the reload check's own connections", () => {
  it("update() leaves no connection open to the port-80 listener", async () => {
    const manifests = buildManifests({ namespace: "default", policies: catalogue.policies.slice(0, 1), pki });
    const base = scratch("nginx-reload-sockets-");
    const t = track(await new NginxTarget().start({ manifests, workDir: base, reportDir: join(base, "r"), log: () => undefined }));
    const { port } = t.httpEndpointFor!(HOST)!;
    for (let i = 0; i < 3; i++) await t.update!(manifests);
    expect(establishedTo(port)).toBe(0);
  });
});

/** An Ingress without tls: or auth-tls, served on port 80 as is. */
function plainManifests(host: string): Manifests {
  const ingress = {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "plain", namespace: "default" },
    spec: { ingressClassName: "nginx", rules: [{ host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "plain", port: { number: 80 } } } }] } }] },
  };
  return { namespace: "default", namespaces: ["default"], secrets: [], ingresses: [ingress], workloads: [], backends: [], hostCertificates: {} };
}

function get(address: string, port: number, host: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: address, port, path: "/", headers: { host }, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

describe("health(): the data plane's own account of the harness", () => {
  it("a data plane run short of worker_connections (workerConnections, tests only) is reported with when it happened", async () => {
    const host = "plain.test.localdev.me";
    const base = scratch("nginx-short-");
    const t = track(await new NginxTarget({ workerConnections: 16 }).start({ manifests: plainManifests(host), workDir: base, reportDir: join(base, "r"), log: () => undefined }));
    const { address, port } = t.httpEndpointFor!(host)!;
    expect(await get(address, port, host)).toBe(200);
    expect(await t.health!()).toEqual([]);

    const startMs = Date.now();
    // 16 connections per worker, two of them its listening sockets, two per proxied request.
    const answers = await Promise.all(Array.from({ length: 96 }, () => get(address, port, host)));
    const endMs = Date.now();
    // nginx closed connections it had accepted: the clients saw them fail.
    expect(answers.filter((a) => a !== 200).length).toBeGreaterThan(0);
    await t.collectDiagnostics();
    const logged = readFileSync(join(base, "r", "nginx", "error.log"), "utf8").split("\n").filter((l) => l.includes("16 worker_connections are not enough"));
    expect(logged.length).toBeGreaterThan(0);

    const faults = await t.health!();
    expect(faults.length).toBe(logged.length);
    for (const f of faults) {
      expect(f).toMatchObject({ source: "nginx error.log", message: expect.stringMatching(/^\[(warn|alert)\] \d+#\d+: 16 worker_connections are not enough/) });
      expect(Date.parse(f.at!)).toBeGreaterThanOrEqual(Math.floor(startMs / 1000) * 1000);
      expect(Date.parse(f.at!)).toBeLessThanOrEqual(endMs);
    }
  });

  it("after stop(), health() reads the log saved in the report (an instance's own directory)", async () => {
    const base = scratch("nginx-stopped-health-");
    const t = track(await new NginxTarget({ workerConnections: 8 }).start({ manifests: plainManifests("plain.test.localdev.me"), workDir: base, reportDir: join(base, "r"), log: () => undefined, instance: "lifecycle" }));
    const { address, port } = t.httpEndpointFor!("plain.test.localdev.me")!;
    await Promise.all(Array.from({ length: 48 }, () => get(address, port, "plain.test.localdev.me")));
    const before = await t.health!();
    expect(before.length).toBeGreaterThan(0);
    await t.stop();
    expect(existsSync(join(base, "r", "nginx-lifecycle", "error.log"))).toBe(true);
    expect(existsSync(join(base, "r", "nginx"))).toBe(false);
    // The saved log holds what was reported, and whatever the shutdown added.
    expect((await t.health!()).slice(0, before.length)).toEqual(before);
  });
});
