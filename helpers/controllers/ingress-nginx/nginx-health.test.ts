// faultsInErrorLog on what a real nginx writes: each test runs the system nginx into the state
// that makes it log (out of connections, out of file descriptors, a refused reload, an unreachable
// upstream) and reads the error.log it wrote. No log line here is written by hand.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_AUTH, DAY, generateKeys, issue, SERVER_AUTH } from "../../pki/pki.ts";
import { freePort } from "../../support/net.ts";
import { faultsInErrorLog } from "./nginx-health.ts";
import { findNginx } from "./nginx-target.ts";

let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "nginx-health-test-"));
});
afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Running {
  port: number;
  log: () => string;
  /** Rewrites the configuration and sends SIGHUP; resolves once the log says how it went. */
  reload: (main: string, http: string) => Promise<void>;
}

/** Runs nginx (one worker) until `act` is done; returns its error.log and the wall-clock bounds of the run. */
async function withNginx(
  setup: { main?: string; events?: string; http?: string; tz?: string },
  act: (n: Running) => Promise<void>,
): Promise<{ log: string; startMs: number; endMs: number }> {
  const bin = findNginx();
  expect(bin, "nginx binary (set NGINX_BIN or install nginx-light)").toBeDefined();
  const prefix = mkdtempSync(join(base, "run-"));
  mkdirSync(join(prefix, "logs"));
  mkdirSync(join(prefix, "tmp"));
  const port = await freePort();
  const errorLog = join(prefix, "logs", "error.log");
  const conf = join(prefix, "nginx.conf");
  const write = (main: string, http: string) =>
    writeFileSync(
      conf,
      `daemon off;\nworker_processes 1;\n${main}\npid ${prefix}/nginx.pid;\nerror_log ${errorLog} info;\nevents { ${setup.events ?? "worker_connections 64;"} }\n` +
        `http { access_log off; client_body_temp_path ${prefix}/tmp; proxy_temp_path ${prefix}/tmp; fastcgi_temp_path ${prefix}/tmp; uwsgi_temp_path ${prefix}/tmp; scgi_temp_path ${prefix}/tmp;\n` +
        `  ${http}\n  server { listen 127.0.0.1:${port}; location / { return 200 "ok"; } location /up { proxy_pass http://127.0.0.1:1; } } }\n`,
    );
  write(setup.main ?? "", setup.http ?? "");
  const startMs = Date.now();
  const child = spawn(bin!, ["-p", prefix, "-c", conf, "-e", errorLog], { stdio: "ignore", env: { ...process.env, ...(setup.tz ? { TZ: setup.tz } : {}) } });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const log = () => readFileSync(errorLog, "utf8");
  try {
    for (let i = 0; ; i++) {
      if (await new Promise<boolean>((resolve) => connect(port, "127.0.0.1").once("connect", function (this: Socket) { this.destroy(); resolve(true); }).once("error", () => resolve(false)))) break;
      if (i > 200) throw new Error(`nginx did not listen: ${log()}`);
      await sleep(10);
    }
    await act({
      port,
      log,
      reload: async (main, http) => {
        const before = log().length;
        write(main, http);
        child.kill("SIGHUP");
        // Up to 10 s: on a loaded machine nginx may take seconds to act on the signal, and a second
        // SIGHUP sent before it has would be folded into the first (one reload, one log line).
        for (let i = 0; i < 1000 && !/\[emerg\]|start worker process/.test(log().slice(before)); i++) await sleep(10);
      },
    });
  } finally {
    child.kill("SIGQUIT");
    await exited;
  }
  return { log: log(), startMs, endMs: Date.now() };
}

/** Opens `n` connections one after another and keeps them; with `partial`, each sends half a request. */
async function hold(port: number, n: number, partial: boolean): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = connect(port, "127.0.0.1", () => partial && s.write("GET / HTTP/1.1\r\n"));
    s.on("error", () => undefined);
    sockets.push(s);
    await sleep(10);
  }
  await sleep(300);
  return sockets;
}

x509.cryptoProvider.set(globalThis.crypto);

const linesWith = (log: string, text: string) => log.split("\n").filter((l) => l.includes(text));

describe("faultsInErrorLog on real nginx logs", () => {
  it("out of worker_connections: the [warn] of reused connections and the [alert] of refused ones are faults, at the moment they happened (nginx in another time zone)", async () => {
    const saved = process.env.TZ;
    // Kolkata is UTC+5:30: a local time read as UTC would be 5.5 hours off.
    process.env.TZ = "Asia/Kolkata";
    try {
      expect(new Date().getTimezoneOffset()).toBe(-330);
      const { log, startMs, endMs } = await withNginx({ events: "worker_connections 8;", tz: "Asia/Kolkata" }, async ({ port }) => {
        // Idle new connections are reusable: nginx closes them to make room.
        const idle = await hold(port, 12, false);
        // Connections with a request under way are not: nginx cannot accept more.
        const busy = await hold(port, 12, true);
        for (const s of [...idle, ...busy]) s.destroy();
      });
      const warned = linesWith(log, "worker_connections are not enough, reusing connections");
      const alerted = linesWith(log, "worker_connections are not enough").filter((l) => !warned.includes(l));
      expect(warned.length).toBeGreaterThan(0);
      expect(warned.every((l) => l.includes(" [warn] "))).toBe(true);
      expect(alerted.length).toBeGreaterThan(0);
      expect(alerted.every((l) => l.includes(" [alert] "))).toBe(true);
      expect(linesWith(log, "[notice]").length).toBeGreaterThan(0);

      const faults = faultsInErrorLog(log);
      const raw = linesWith(log, "worker_connections are not enough");
      expect(faults).toHaveLength(raw.length);
      faults.forEach((f, i) => {
        expect(f.source).toBe("nginx error.log");
        expect(f.message.startsWith("[")).toBe(true);
        expect(raw[i]!.endsWith(` ${f.message}`)).toBe(true);
        // nginx logs whole seconds.
        const at = Date.parse(f.at!);
        expect(at).toBeGreaterThanOrEqual(Math.floor(startMs / 1000) * 1000);
        expect(at).toBeLessThanOrEqual(endMs);
      });
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it("out of file descriptors: accept4()'s [crit] is a fault", async () => {
    const { log } = await withNginx({ main: "worker_rlimit_nofile 12;" }, async ({ port }) => {
      for (const s of await hold(port, 20, true)) s.destroy();
    });
    const crit = linesWith(log, "[crit]");
    expect(crit.length).toBeGreaterThan(0);
    expect(crit.every((l) => l.includes("accept4() failed (24: Too many open files)"))).toBe(true);
    // With its accepts disabled for lack of descriptors, nginx may also log an [alert] (accept4
    // on a listening socket closed by the shutdown): a fault too.
    const alerts = linesWith(log, "[alert]");
    const expected = log.split("\n").filter((l) => crit.includes(l) || alerts.includes(l));
    expect(faultsInErrorLog(log).map((f) => f.message)).toEqual(expected.map((l) => l.slice(l.search(/\[(crit|alert)\]/))));
  });

  it("a refused reload's [emerg] is a fault unless expected, and only the very lines expected are excused", async () => {
    const { log } = await withNginx({}, async ({ reload, log }) => {
      await reload("", "ssl_verify_depth -1;");
      await reload("", "no_such_directive on;");
      expect(log()).toContain("no_such_directive");
    });
    const emerg = linesWith(log, "[emerg]");
    expect(emerg).toHaveLength(2);
    expect(emerg[0]).toContain('"ssl_verify_depth" directive invalid number');
    expect(emerg[1]).toContain('unknown directive "no_such_directive"');
    expect(faultsInErrorLog(log).map((f) => f.message)).toEqual(emerg.map((l) => l.slice(l.indexOf("[emerg]"))));
    expect(faultsInErrorLog(log, { expected: [emerg[0]!] }).map((f) => f.message)).toEqual([emerg[1]!.slice(emerg[1]!.indexOf("[emerg]"))]);
    expect(faultsInErrorLog(log, { expected: emerg })).toEqual([]);
  });

  it("[error], [warn], [notice] and [info] lines about requests and reloads are not faults", async () => {
    const { log } = await withNginx({}, async ({ port, reload }) => {
      // An upstream that refuses: [error]; a client that leaves mid-request: [info]; a reload that
      // loads: [notice], with a [warn] for a server name declared twice.
      await fetch(`http://127.0.0.1:${port}/up`);
      for (const s of await hold(port, 2, true)) s.destroy();
      const twice = `server { listen 127.0.0.1:${port}; server_name twice.test; }`;
      await reload("", `${twice} ${twice}`);
      await sleep(200);
    });
    expect(linesWith(log, "[error]").some((l) => l.includes("Connection refused) while connecting to upstream"))).toBe(true);
    expect(linesWith(log, "[warn]").some((l) => l.includes('conflicting server name "twice.test"'))).toBe(true);
    expect(linesWith(log, "[info]").length).toBeGreaterThan(0);
    expect(linesWith(log, "reconfiguring").length).toBeGreaterThan(0);
    expect(faultsInErrorLog(log)).toEqual([]);
  });
});

describe("what nginx logs at [alert] that is no fault of the harness", () => {
  it("a client certificate checked against a CRL with a bad signature (a check the run makes): nginx answers 400 and logs a stale OpenSSL error it ignores", async () => {
    const now = Date.now();
    const validity = { notBefore: new Date(now - DAY), notAfter: new Date(now + DAY) };
    const ca = await issue({ name: "ca", subject: "CN=Health Test CA", keys: await generateKeys("p256"), ca: true, ...validity });
    const client = await issue({ name: "client", subject: "CN=client", keys: await generateKeys("p256"), issuer: ca, eku: CLIENT_AUTH, ...validity });
    const server = await issue({ name: "server", subject: "CN=crl.test", keys: await generateKeys("p256"), eku: SERVER_AUTH, dnsNames: ["crl.test"], ...validity });
    // The CA's name, another key's signature.
    const crl = await x509.X509CrlGenerator.create({
      issuer: ca.cert.subject,
      thisUpdate: validity.notBefore,
      nextUpdate: validity.notAfter,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } as Algorithm,
      signingKey: (await generateKeys("p256")).privateKey,
      entries: [],
    });
    const files = mkdtempSync(join(base, "pki-"));
    writeFileSync(join(files, "ca.pem"), ca.certPem);
    writeFileSync(join(files, "server.pem"), `${server.certPem}\n${server.keyPem}`);
    writeFileSync(join(files, "crl.pem"), x509.PemConverter.encode(crl.rawData, "X509 CRL"));
    const tlsPort = await freePort();
    const tlsServer =
      `server { listen 127.0.0.1:${tlsPort} ssl; ssl_certificate ${files}/server.pem; ssl_certificate_key ${files}/server.pem; ` +
      `ssl_client_certificate ${files}/ca.pem; ssl_verify_client on; ssl_crl ${files}/crl.pem; location / { return 200 "ok"; } }`;
    const statuses: Array<number | string> = [];
    const { log } = await withNginx({ http: tlsServer }, async () => {
      for (let i = 0; i < 2; i++) {
        statuses.push(
          await new Promise((resolve) => {
            const req = request({ host: "127.0.0.1", port: tlsPort, servername: "crl.test", cert: client.certPem, key: client.keyPem, ca: server.certPem, agent: false }, (res) => {
              res.resume();
              res.on("end", () => resolve(res.statusCode ?? 0));
            });
            req.on("error", (e) => resolve(e.message));
            req.end();
          }),
        );
      }
    });
    expect(statuses).toEqual([400, 400]);
    expect(linesWith(log, "client SSL certificate verify error: (8:CRL signature failure)")).toHaveLength(2);
    const alerts = linesWith(log, "[alert]");
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.every((l) => l.includes("ignoring stale global SSL error"))).toBe(true);
    expect(faultsInErrorLog(log)).toEqual([]);
  });
});
