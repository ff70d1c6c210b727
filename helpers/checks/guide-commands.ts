// Runs the guide's own commands (fixtures/guide-commands.ts) as written: the openssl ones in a
// scratch directory with the system openssl, the curl ones against a target serving the guide's
// Ingress built from what those openssl commands made. Every result is read back independently
// (openssl verify / x509 / pkcs12, Node's X509Certificate) and compared with what the guide states.
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { parse } from "yaml";
import { GUIDE_COMMANDS, GUIDE_HOST, GUIDE_INGRESS_YAML, GUIDE_STATEMENTS, type GuideCommand } from "../../fixtures/guide-commands.ts";
import type { Manifests } from "../manifests/manifests.ts";
import { onCleanup } from "../support/cleanup.ts";

const execFileAsync = promisify(execFile);

export interface CommandRun {
  id: string;
  command: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** The shells running the guide's commands now: a run that ends early (a refused argument) stops them. */
const running = new Set<ChildProcess>();
const stopGroup = (c: ChildProcess) => {
  try {
    process.kill(-c.pid!, "SIGKILL");
  } catch {
    // Already gone.
  }
};

/** Runs one command through /bin/sh exactly as written, in `dir`, with no input (a prompt is a finding). */
function runShell(command: string, dir: string): Promise<CommandRun & { id: string }> {
  // Asynchronous: RSA-4096 key generation takes seconds, and the run makes its own PKI meanwhile.
  // A process group of its own, so that stopping the shell stops the openssl it started.
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], { cwd: dir, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    running.add(child);
    // A command that waits for input it will never get (a prompt) is stopped; the timer does not
    // hold the process open (spawn's own timeout option did, once the group was stopped early).
    const timer = setTimeout(() => stopGroup(child), 120_000).unref();
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (error) => (stderr += error.message));
    child.on("close", (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ id: "", command, exitCode: code, stdout, stderr });
    });
    child.stdin.end();
  });
}

export function opensslAvailable(): boolean {
  return spawnSync("openssl", ["version"], { stdio: "ignore" }).status === 0;
}

/**
 * Steps 3, 5 and 6's openssl commands as written, reported in the guide's order. The ones that
 * need nothing another made (the CA, the client's request, the server certificate) run side by
 * side; signing the client's request waits for the CA and the request, as in the guide.
 */
export async function runGuideOpenssl(dir: string): Promise<CommandRun[]> {
  const commands = GUIDE_COMMANDS.filter((c) => c.kind === "openssl");
  const run = (c: (typeof commands)[number]) => runShell(c.command, dir).then((r) => ({ ...r, id: c.id }));
  const independent = commands.filter((c) => c.id !== "client-sign");
  const first = await Promise.all(independent.map(run));
  const rest = await Promise.all(commands.filter((c) => c.id === "client-sign").map(run));
  const byId = new Map([...first, ...rest].map((r) => [r.id, r]));
  return commands.map((c) => byId.get(c.id)!);
}

/** The guide's openssl commands, started ahead of the rest of the run (startGuideOpenssl). */
export interface StartedGuideOpenssl {
  /** The scratch directory they run in (removed by whoever runs the rest of the guide's commands). */
  root: string;
  dir: string;
  runs: Promise<CommandRun[]>;
}

let started: StartedGuideOpenssl | undefined;


/**
 * Starts the guide's openssl commands now, once per process: their RSA-4096 keys take Debian's
 * OpenSSL 3.0 about 1.7 s each (Node's own OpenSSL makes the run's in a fifth of that), the
 * longest chain of a catalogue run, so they begin with the process and end beside the probes.
 */
export function startGuideOpenssl(): StartedGuideOpenssl | undefined {
  if (started) return started;
  if (!opensslAvailable()) return undefined;
  const root = mkdtempSync(join(tmpdir(), "guide-commands-"));
  const dir = join(root, "guide-commands");
  mkdirSync(dir, { recursive: true });
  const runs = runGuideOpenssl(dir);
  runs.catch(() => undefined);
  // Removed by whoever runs the rest of the guide's commands; on an early exit, here, once the
  // commands still running are stopped (a run refused at its arguments does not wait for them).
  const stopRunning = () => {
    for (const c of running) stopGroup(c);
  };
  onCleanup(
    () => {
      stopRunning();
      return rm(root, { recursive: true, force: true });
    },
    () => {
      stopRunning();
      rmSync(root, { recursive: true, force: true });
    },
  );
  started = { root, dir, runs };
  return started;
}

/** Takes the commands startGuideOpenssl started, once: the caller runs the rest of the guide's commands with them. */
export function takeStartedGuideOpenssl(): StartedGuideOpenssl | undefined {
  const taken = started && !consumed ? started : undefined;
  if (taken) consumed = true;
  return taken;
}
let consumed = false;

const openssl = (args: string[], dir: string) => spawnSync("openssl", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
/** "/CN=a/O=b" as OpenSSL's RFC 2253 rendering prints it ("O=b,CN=a"). */
export const slashToRfc2253 = (dn: string) => dn.split("/").filter(Boolean).reverse().join(",");

/** What the files the guide's openssl commands made are, read independently of how they were made. */
export interface GuideFiles {
  caSubject: string;
  clientSubject: string;
  /** `openssl verify -CAfile ca.crt client.crt`. */
  clientVerifies: { ok: boolean; output: string };
  /** `openssl verify -CAfile ca.crt server.crt`: does the guide's CA vouch for its server certificate? */
  serverVerifies: { ok: boolean; output: string };
  /** The server certificate's subjectAltName as `openssl x509 -ext subjectAltName` prints it ("" when none). */
  serverSan: string;
  serverSubject: string;
  serverIssuer: string;
  /** X.509 version of the client certificate (`openssl x509 -req` without extensions makes v1 on OpenSSL 3.0/3.1). */
  clientVersion: number;
  /** Node reads ca.crt, client.crt and server.crt. */
  nodeReads: boolean;
  /** Browser Testing's client.p12: made by any of the guide's commands? readable by `openssl pkcs12 -info`? */
  p12: { exists: boolean; opensslInfo: { ok: boolean; output: string } };
}

export function inspectGuideFiles(dir: string): GuideFiles {
  const subject = (file: string, what = "-subject") => openssl(["x509", "-in", file, "-noout", what, "-nameopt", "RFC2253"], dir).stdout.trim().replace(/^(subject|issuer)=/, "");
  const verify = (file: string) => {
    const r = openssl(["verify", "-CAfile", "ca.crt", file], dir);
    return { ok: r.status === 0, output: (r.stdout + r.stderr).trim() };
  };
  const san = openssl(["x509", "-in", "server.crt", "-noout", "-ext", "subjectAltName"], dir).stdout.trim();
  const text = openssl(["x509", "-in", "client.crt", "-noout", "-text"], dir).stdout;
  let nodeReads = true;
  try {
    for (const f of ["ca.crt", "client.crt", "server.crt"]) new X509Certificate(readFileSync(join(dir, f)));
  } catch {
    nodeReads = false;
  }
  const p12 = GUIDE_STATEMENTS.browserBundle;
  const info = openssl(["pkcs12", "-info", "-in", p12, "-nokeys", "-passin", "pass:"], dir);
  return {
    caSubject: subject("ca.crt"),
    clientSubject: subject("client.crt"),
    clientVerifies: verify("client.crt"),
    serverVerifies: verify("server.crt"),
    serverSan: san,
    serverSubject: subject("server.crt"),
    serverIssuer: subject("server.crt", "-issuer"),
    clientVersion: Number(/Version: (\d+)/.exec(text)?.[1] ?? 0),
    nodeReads,
    p12: { exists: existsSync(join(dir, p12)), opensslInfo: { ok: info.status === 0, output: (info.stdout + info.stderr).trim().split("\n")[0] ?? "" } },
  };
}

const b64file = (dir: string, f: string) => readFileSync(join(dir, f)).toString("base64");

/**
 * What the guide's kubectl steps create, built as kubectl builds it from the files the openssl
 * steps made: step 4's generic ca-secret (ca.crt and ca.key, as the guide has it), step 6's TLS
 * secret self-tls in the default namespace, step 7's Ingress parsed from the guide's YAML.
 */
export function guideManifests(dir: string): Manifests {
  const secrets: V1Secret[] = [
    { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: { name: "ca-secret", namespace: "default" }, data: { "ca.crt": b64file(dir, "ca.crt"), "ca.key": b64file(dir, "ca.key") } },
    { apiVersion: "v1", kind: "Secret", type: "kubernetes.io/tls", metadata: { name: "self-tls", namespace: "default" }, data: { "tls.crt": b64file(dir, "server.crt"), "tls.key": b64file(dir, "server.key") } },
  ];
  const ingress = parse(GUIDE_INGRESS_YAML) as V1Ingress;
  const der = new X509Certificate(readFileSync(join(dir, "server.crt"))).raw;
  return {
    namespace: "default",
    namespaces: ["default"],
    secrets,
    ingresses: [ingress],
    workloads: [],
    backends: [],
    hostCertificates: { [GUIDE_HOST]: createHash("sha256").update(der).digest("hex") },
  };
}

/** What was added to a curl line so it reaches the target: the guide's host and port 443 mapped to the target's loopback address and port. */
export const connectTo = (address: string, port: number) => `--connect-to ${GUIDE_HOST}:443:${address}:${port}`;

/**
 * The command as replayed: the guide's placeholder host (your-domain.com) replaced by its own
 * host, and `--connect-to` appended. Nothing else.
 */
export function replayedCommand(c: GuideCommand, address: string, port: number): string {
  const command = c.placeholderHost ? c.command.replaceAll(c.placeholderHost, GUIDE_HOST) : c.command;
  return `${command} ${connectTo(address, port)}`;
}

/** Runs the guide's curl lines against `endpoint`, in `dir` (where client.crt and client.key are). Asynchronous: the echo backend may live in this process. */
export async function runGuideCurl(dir: string, endpoint: { address: string; port: number }): Promise<CommandRun[]> {
  const out: CommandRun[] = [];
  for (const c of GUIDE_COMMANDS.filter((x) => x.kind === "curl")) {
    const command = replayedCommand(c, endpoint.address, endpoint.port);
    try {
      const { stdout, stderr } = await execFileAsync("/bin/sh", ["-c", command], { cwd: dir, encoding: "utf8", timeout: 30_000 });
      out.push({ id: c.id, command, exitCode: 0, stdout, stderr });
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      out.push({ id: c.id, command, exitCode: typeof e.code === "number" ? e.code : null, stdout: e.stdout ?? "", stderr: e.stderr ?? "" });
    }
  }
  return out;
}

export type StatementVerdict = "holds" | "wrong";
export interface StatementResult {
  /** Which command or statement of the guide. */
  id: string;
  statement: string;
  verdict: StatementVerdict;
  observed: string;
  /** The catalogue scenario that reports it, when it is wrong. */
  scenario?: string;
}

/**
 * Every stated line of a curl command's output compared with what curl printed (stdout and the -v
 * trace on stderr), one result per stated line.
 */
export function judgeStatedOutput(c: GuideCommand, run: CommandRun): StatementResult[] {
  if (!c.stated) return [];
  const printed = `${run.stderr}\n${run.stdout}`;
  const lines = printed.split(/\r?\n/).map((l) => l.trimEnd());
  if (c.id === "curl-no-cert") {
    // A `# Returns:` comment: the status line and the text, not a verbatim trace.
    const holds = /<title>400 No required SSL certificate was sent<\/title>/.test(run.stdout) && /400 Bad Request/.test(run.stdout);
    return [{ id: c.id, statement: c.stated, verdict: holds ? "holds" : "wrong", observed: `exit ${run.exitCode}; body ${JSON.stringify(run.stdout.slice(0, 200))}` }];
  }
  return c.stated.split("\n").map((line): StatementResult => {
    const want = line.trimEnd();
    const found = want === "<" ? lines.some((l) => l === "<") : lines.some((l) => l === want);
    const near = lines.find((l) => l.startsWith(want.slice(0, 2)) && l.toLowerCase().includes(want.slice(2, 12).trim().toLowerCase().split(" ")[0] ?? ""));
    return { id: c.id, statement: want, verdict: found ? "holds" : "wrong", observed: found ? "printed" : `not printed (exit ${run.exitCode}${near ? `; nearest: ${JSON.stringify(near)}` : ""})` };
  });
}

/** Lint rules whose result is the guide's own commands, run (MTLS-GUIDELINT-004..006). */
export const GUIDE_COMMAND_RULES = ["guide-server-cert-not-from-ca", "guide-browser-bundle-not-made", "guide-stated-curl-output"] as const;
export type GuideCommandRule = (typeof GUIDE_COMMAND_RULES)[number];

export interface GuideCommandLintResult {
  rule: GuideCommandRule;
  triggered: boolean;
  detail: string;
  /** Why the commands could not be run here (no openssl, nginx or curl): the check is skipped with it. */
  unavailable?: string;
}

export interface GuideCommandsRun {
  openssl: CommandRun[];
  files?: GuideFiles;
  curl: CommandRun[];
  /** Every stated output line of a curl command and the X-SSL-Client-Cert claim, with its verdict. */
  statements: StatementResult[];
  /** What the backend received from the guide's `curl -k -v ... --cert client.crt` (the echo backend's JSON), when it answered. */
  backendHeaders?: Record<string, string>;
  lint: Record<GuideCommandRule, GuideCommandLintResult>;
}

const onPath = (tool: string) => spawnSync("/bin/sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status === 0;

/**
 * Runs the guide's commands: the openssl ones in `workDir`, then (where nginx and curl exist) the
 * curl ones against the nginx target serving the guide's Ingress with what openssl made.
 */
export async function runGuideCommands(workDir: string, early?: StartedGuideOpenssl): Promise<GuideCommandsRun> {
  const unavailable = (reason: string): GuideCommandsRun["lint"] =>
    Object.fromEntries(GUIDE_COMMAND_RULES.map((rule) => [rule, { rule, triggered: false, detail: reason, unavailable: reason }])) as GuideCommandsRun["lint"];
  if (!early && !opensslAvailable()) return { openssl: [], curl: [], statements: [], lint: unavailable("openssl is not installed: the guide's commands were not run") };
  const dir = early?.dir ?? join(workDir, "guide-commands");
  mkdirSync(dir, { recursive: true });
  const opensslRuns = await (early?.runs ?? runGuideOpenssl(dir));
  const failed = opensslRuns.filter((r) => r.exitCode !== 0);
  if (failed.length) {
    const why = failed.map((r) => `${r.id}: exit ${r.exitCode}: ${r.stderr.trim().split("\n").pop()}`).join("; ");
    return { openssl: opensslRuns, curl: [], statements: [], lint: { ...unavailable(`the guide's openssl commands failed as written (${why})`) } };
  }
  const files = inspectGuideFiles(dir);
  const lint = unavailable("");
  lint["guide-server-cert-not-from-ca"] = {
    rule: "guide-server-cert-not-from-ca",
    triggered: !files.serverVerifies.ok,
    detail: files.serverVerifies.ok
      ? "openssl verify -CAfile ca.crt server.crt: OK"
      : `server.crt (issuer ${files.serverIssuer}) is not issued by ca.crt: openssl verify -CAfile ca.crt server.crt: ${files.serverVerifies.output.split("\n").slice(-2).join("; ")}`,
  };
  lint["guide-browser-bundle-not-made"] = {
    rule: "guide-browser-bundle-not-made",
    triggered: !files.p12.exists,
    detail: files.p12.exists ? `${GUIDE_STATEMENTS.browserBundle} exists after the guide's commands` : `no command of the guide makes ${GUIDE_STATEMENTS.browserBundle}: openssl pkcs12 -info: ${files.p12.opensslInfo.output}`,
  };
  const run: GuideCommandsRun = { openssl: opensslRuns, files, curl: [], statements: [], lint };
  if (!onPath("nginx") || !onPath("curl")) {
    const reason = `${onPath("nginx") ? "curl" : "nginx"} is not installed: the guide's curl commands were not run`;
    lint["guide-stated-curl-output"] = { rule: "guide-stated-curl-output", triggered: false, detail: reason, unavailable: reason };
    return run;
  }
  const { NginxTarget } = await import("../controllers/ingress-nginx/nginx-target.ts");
  const target = await new NginxTarget().start({ manifests: guideManifests(dir), workDir, reportDir: join(workDir, "guide-commands-nginx"), log: () => undefined });
  try {
    run.curl = await runGuideCurl(dir, target.endpointFor(GUIDE_HOST));
  } finally {
    await target.stop();
  }
  for (const c of GUIDE_COMMANDS.filter((x) => x.kind === "curl")) run.statements.push(...judgeStatedOutput(c, run.curl.find((r) => r.id === c.id)!));
  const withCert = run.curl.find((r) => r.id === "curl-with-cert");
  try {
    run.backendHeaders = (JSON.parse(withCert?.stdout ?? "") as { headers: Record<string, string> }).headers;
  } catch {
    /* the backend did not answer with its JSON */
  }
  if (run.backendHeaders) {
    const got = run.backendHeaders[GUIDE_STATEMENTS.backendHeader.toLowerCase()] !== undefined;
    run.statements.push({
      id: "x-ssl-client-cert",
      statement: `Verify backend reads ${GUIDE_STATEMENTS.backendHeader} header`,
      verdict: got ? "holds" : "wrong",
      observed: `the backend received ${Object.keys(run.backendHeaders).filter((h) => h.includes("ssl-client")).join(", ")}${got ? "" : `, no ${GUIDE_STATEMENTS.backendHeader}`}`,
      ...(got ? {} : { scenario: "MTLS-HEADERS-006" }),
    });
  }
  const wrong = run.statements.filter((s) => s.verdict === "wrong" && s.id !== "x-ssl-client-cert");
  lint["guide-stated-curl-output"] = {
    rule: "guide-stated-curl-output",
    triggered: wrong.length > 0,
    detail: wrong.length
      ? `${wrong.length} stated output line(s) not printed by the guide's curl commands: ${wrong.map((s) => `${s.id} "${s.statement}" (${s.observed})`).join("; ")}`
      : "every stated output line was printed",
  };
  for (const s of wrong) s.scenario = s.id.startsWith("validate-") && !files.serverVerifies.ok ? "MTLS-GUIDELINT-004" : "MTLS-GUIDELINT-006";
  return run;
}
