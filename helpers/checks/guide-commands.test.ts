// The guide's commands, run as written: its openssl lines with the system openssl, its curl lines
// with the system curl against the nginx target serving its Ingress made from what openssl made.
// Every verdict below is what the real tools did; the guide's stated outputs are compared line by line.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { GUIDE_COMMANDS, GUIDE_STATEMENTS } from "../../fixtures/guide-commands.ts";
import { checksFromCatalogue } from "./from-catalogue.ts";
import { connectTo, GUIDE_COMMAND_RULES, replayedCommand, runGuideCommands, slashToRfc2253, type GuideCommandsRun } from "./guide-commands.ts";
import { freePort } from "../support/net.ts";

let base: string;
let run: GuideCommandsRun;
const dir = () => join(base, "guide-commands");
const curlRun = (id: string) => run.curl.find((r) => r.id === id)!;
const statement = (id: string, text: string) => run.statements.find((s) => s.id === id && s.statement === text)!;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "guide-commands-test-"));
  run = await runGuideCommands(base);
}, 120_000);

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("the guide's commands as data", () => {
  // The guide's text as the project received it, where this checkout has it beside it.
  const seed = new URL("../../../shared/seeds/000_d80f2264fe2394b5.txt", import.meta.url);
  it("kubectl steps are kept as data only", () => {
    expect(GUIDE_COMMANDS.filter((c) => c.kind === "kubectl").map((c) => c.id)).toEqual(["ca-secret", "tls-secret", "apply-ingress"]);
  });

  it("are quoted verbatim from the guide", (ctx) => {
    // The guide is not part of the repository (it is not ours to copy); where a checkout has it
    // beside it (the development machines), every quoted command must be found in it verbatim.
    if (!existsSync(seed)) ctx.skip(`the guide's text is not beside this checkout (${seed.pathname}); the quotes are checked where it is`);
    const guide = readFileSync(seed, "utf8");
    for (const c of GUIDE_COMMANDS) expect(guide, c.id).toContain(c.command);
    for (const c of GUIDE_COMMANDS.filter((x) => x.stated)) expect(guide, c.id).toContain(c.stated!.split("\n")[0]!);
  });

  it("the replay adds --connect-to and nothing else (and the guide's host for its your-domain.com placeholder)", () => {
    for (const c of GUIDE_COMMANDS.filter((x) => x.kind === "curl")) {
      const replayed = replayedCommand(c, "127.0.0.1", 8443);
      const asWritten = c.placeholderHost ? c.command.replaceAll(c.placeholderHost, "test.localdev.me") : c.command;
      expect(replayed).toBe(`${asWritten} ${connectTo("127.0.0.1", 8443)}`);
    }
    expect(connectTo("127.0.0.1", 8443)).toBe("--connect-to test.localdev.me:443:127.0.0.1:8443");
  });
});

describe("steps 3, 5 and 6: the openssl commands run as written", () => {
  it("every one runs without input and exits 0", () => {
    expect(run.openssl.map((r) => [r.id, r.exitCode])).toEqual([
      ["ca", 0],
      ["client-csr", 0],
      ["client-sign", 0],
      ["server-cert", 0],
    ]);
  });

  it("the CA and client subjects are the ones the guide states (openssl -nameopt RFC2253)", () => {
    expect(run.files!.caSubject).toBe(slashToRfc2253(GUIDE_STATEMENTS.caSubject));
    expect(run.files!.clientSubject).toBe(slashToRfc2253(GUIDE_STATEMENTS.clientSubject));
    expect(run.files!.clientSubject).toBe("O=MyOrganization,CN=authorized-client");
  });

  it("the CA signs the client: openssl verify -CAfile ca.crt client.crt is OK; Node reads every certificate", () => {
    expect(run.files!.clientVerifies).toEqual({ ok: true, output: "client.crt: OK" });
    expect(run.files!.nodeReads).toBe(true);
    // The independent oracle, run here again.
    expect(execFileSync("openssl", ["verify", "-CAfile", "ca.crt", "client.crt"], { cwd: dir(), encoding: "utf8" }).trim()).toBe("client.crt: OK");
  });

  it("the server certificate is self-signed (not from ca.crt) and has no subjectAltName", () => {
    expect(run.files!.serverVerifies.ok).toBe(false);
    expect(run.files!.serverVerifies.output).toMatch(/self-signed certificate/);
    expect(run.files!.serverIssuer).toBe(run.files!.serverSubject);
    expect(run.files!.serverSan).toBe("");
    expect(new X509Certificate(readFileSync(join(dir(), "server.crt"))).subjectAltName).toBeUndefined();
  });

  it("Browser Testing's client.p12 is made by no command: openssl pkcs12 -info cannot open it", () => {
    expect(run.files!.p12.exists).toBe(false);
    expect(run.files!.p12.opensslInfo.ok).toBe(false);
  });

  it("with the server certificate trusted directly, curl and Node still accept its CN for the host (GUIDELINT-002's 'curl rejects it' does not hold for curl 7.88)", async () => {
    const node = spawnSync(process.execPath, ["-e", `const tls=require("tls"),c=new (require("crypto").X509Certificate)(require("fs").readFileSync("server.crt"));process.stdout.write(String(tls.checkServerIdentity("test.localdev.me",c.toLegacyObject())))`], { cwd: dir(), encoding: "utf8" });
    expect(node.stdout).toBe("undefined");
    // curl, trusting server.crt itself, against openssl s_server serving it on loopback.
    // A port the kernel just gave out (a random one may be taken), and up to 20 s for s_server to
    // listen: on a machine busy with the rest of the tests it has been slower than 5 s.
    const port = await freePort();
    const server = spawn("openssl", ["s_server", "-accept", `127.0.0.1:${port}`, "-cert", "server.crt", "-key", "server.key", "-www", "-quiet"], { cwd: dir(), stdio: "ignore" });
    try {
      let r = { status: -1 as number | null, stdout: "" };
      for (let i = 0; i < 200 && r.status !== 0 && server.exitCode === null; i++) {
        spawnSync("sleep", ["0.1"]);
        r = spawnSync("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", "server.crt", "--connect-to", `test.localdev.me:443:127.0.0.1:${port}`, "https://test.localdev.me/"], { cwd: dir(), encoding: "utf8" });
      }
      expect(r.status).toBe(0);
      expect(r.stdout).toBe("200");
    } finally {
      server.kill();
    }
  });
});

describe("step 8 and Validation: the curl commands run as written against the guide's Ingress", () => {
  it("curl -k https://test.localdev.me: 400 No required SSL certificate was sent, as stated", () => {
    expect(curlRun("curl-no-cert").exitCode).toBe(0);
    expect(curlRun("curl-no-cert").stdout).toContain("<title>400 No required SSL certificate was sent</title>");
    expect(statement("curl-no-cert", "400 Bad Request - No required SSL certificate was sent").verdict).toBe("holds");
  });

  it("curl -k -v ... --key client.key --cert client.crt: the backend answers 200 and receives ssl-client-cert, not X-SSL-Client-Cert", () => {
    const r = curlRun("curl-with-cert");
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/^< HTTP\/2 200 ?$/m);
    expect(run.backendHeaders!["ssl-client-verify"]).toBe("SUCCESS");
    expect(run.backendHeaders!["ssl-client-subject-dn"]).toBe("O=MyOrganization,CN=authorized-client");
    expect(decodeURIComponent(run.backendHeaders!["ssl-client-cert"]!).trim()).toBe(readFileSync(join(dir(), "client.crt"), "utf8").trim());
    expect(run.statements.find((s) => s.id === "x-ssl-client-cert")).toMatchObject({ verdict: "wrong", scenario: "MTLS-HEADERS-006" });
  });

  it("its stated trace: Host holds; 'verify ok', 'Using client certificate', the client subject and HTTP/1.1 are not what curl prints", () => {
    expect(statement("curl-with-cert", "> Host: test.localdev.me").verdict).toBe("holds");
    for (const line of ["* SSL certificate verify ok.", "* Using client certificate:", "*   subject: CN=authorized-client, O=MyOrganization", "> GET / HTTP/1.1", "< HTTP/1.1 200 OK"]) {
      expect(statement("curl-with-cert", line), line).toMatchObject({ verdict: "wrong", scenario: "MTLS-GUIDELINT-006" });
    }
    const trace = curlRun("curl-with-cert").stderr;
    expect(trace).toContain("SSL certificate verify result: self-signed certificate (18), continuing anyway.");
    expect(trace).toMatch(/^> GET \/ HTTP\/2$/m);
  });

  it("Validation's curl -v (no -k) and curl -v --cacert ca.crt both fail with curl (60): the server certificate is not from ca.crt", () => {
    for (const id of ["validate-no-cert", "validate-with-cert"]) {
      expect(curlRun(id).exitCode, id).toBe(60);
      expect(curlRun(id).stderr, id).toContain("SSL certificate problem: self-signed certificate");
      for (const s of run.statements.filter((x) => x.id === id)) expect(s, `${id} ${s.statement}`).toMatchObject({ verdict: "wrong", scenario: "MTLS-GUIDELINT-004" });
    }
  });
});

describe("the findings, as the catalogue run reports them", () => {
  it("MTLS-GUIDELINT-004..006 are findings computed from the run, each detail naming what was observed", () => {
    for (const rule of GUIDE_COMMAND_RULES) expect(run.lint[rule], rule).toMatchObject({ triggered: true });
    const scenarios = catalogue.scenarios.filter((s) => s.lint && (GUIDE_COMMAND_RULES as readonly string[]).includes(s.lint));
    expect(scenarios.map((s) => s.id)).toEqual(["MTLS-GUIDELINT-004", "MTLS-GUIDELINT-005", "MTLS-GUIDELINT-006"]);
    const checks = checksFromCatalogue(catalogue, scenarios, "default", run.lint);
    for (const c of checks) expect(c.static?.verdict, c.id).toBe("finding");
    expect(checks[0]!.static!.detail).toContain("self-signed certificate");
    expect(checks[1]!.static!.detail).toContain("client.p12");
    expect(checks[2]!.static!.detail).toContain("> GET / HTTP/2");
  });

  it("where the commands cannot run, the checks are skipped with the reason, never failed", () => {
    const reason = "openssl is not installed: the guide's commands were not run";
    const lint = Object.fromEntries(GUIDE_COMMAND_RULES.map((rule) => [rule, { rule, triggered: false, detail: reason, unavailable: reason }]));
    const checks = checksFromCatalogue(catalogue, catalogue.scenarios.filter((s) => s.id === "MTLS-GUIDELINT-005"), "default", lint);
    expect(checks[0]).toMatchObject({ skip: reason });
    expect(checks[0]!.static).toBeUndefined();
  });
});
