// A second opinion from another TLS client: the curl command line that makes the same request as
// a probe (probe.ts), running it, and reading what it printed into an observation comparable with
// the probe's. The command names files, never their content: the evidence holds no private key.
import { execFile } from "node:child_process";
import type { Expectation } from "../catalogue/catalogue.ts";
import { asEcho, type Observation, type ProbeRequest } from "./probe.ts";

/** The files a curl command names, relative to the directory it runs in (or as a reviewer substitutes them). */
export interface CurlFiles {
  /** The server's CA (PEM), for --cacert. */
  caFile?: string;
  /** The credential's certificate, leaf first then intermediates (PEM), for --cert. */
  certFile?: string;
  /** The credential's private key (PEM), for --key. */
  keyFile?: string;
}

export interface CurlCommand {
  /** argv after "curl". */
  args: string[];
  /** One copy-pasteable shell line, starting with "curl". */
  line: string;
  /** What curl does differently from the probe (none: the same request). */
  notes: string[];
}

/** The request's seconds before curl gives up (--max-time). */
export const CURL_MAX_TIME_S = 10;

/** POSIX shell quoting: bare when safe, otherwise single quotes. */
export function shellQuote(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_\-./:=@,+%]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

const hostPort = (host: string, port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`;

/**
 * The curl command that makes the probe's request: HTTP/1.1, the endpoint's address for the URL's
 * name (--resolve), Host exactly as the probe sends it (the bare host: curl would add the port),
 * the SNI asked for (the URL's name is curl's SNI: a different servername becomes the URL's name
 * with Host set apart; no SNI is a URL naming the address, for which curl sends none), the server
 * trust (--cacert, or -k), the credential's files, the extra headers. `-i` prints the response
 * head before the body. Not expressed: the probe's pin of the exact server certificate (curl pins
 * public keys only; the CA still verifies it).
 */
export function curlCommand(req: ProbeRequest, files: CurlFiles = {}): CurlCommand {
  const scheme = req.scheme ?? "https";
  const { address, port } = req.endpoint;
  const path = req.path ?? "/";
  const sni = req.servername === null ? null : (req.servername ?? req.host);
  const args = ["-sS", "--http1.1", "-i", "--max-time", String(CURL_MAX_TIME_S)];
  const notes: string[] = [];
  let urlHost: string;
  if (scheme === "https" && sni === null) {
    // An address in the URL: curl sends no SNI (RFC 6066 forbids an IP there), and connects to it.
    urlHost = address;
    if (!req.insecure) notes.push("without SNI curl checks the server certificate against the address, which the probe does not");
  } else {
    urlHost = scheme === "https" ? sni! : req.host;
    args.push("--resolve", `${hostPort(urlHost, port)}:${address}`);
  }
  if (scheme === "https") {
    if (req.insecure) args.push("-k");
    // A certificate that does not name the host, pinned: curl's name check would refuse it, so curl
    // skips the CA and name (-k) and pins the public key, which it checks all the same.
    else if (req.serverPublicKeySha256) args.push("-k", "--pinnedpubkey", `sha256//${req.serverPublicKeySha256}`);
    else if (files.caFile) args.push("--cacert", files.caFile);
    if (req.credential) {
      if (files.certFile) args.push("--cert", files.certFile);
      if (files.keyFile) args.push("--key", files.keyFile);
    }
    if (req.serverPublicKeySha256 && !req.insecure) notes.push("the server certificate does not name the host: the probe pins the certificate, curl its public key (--pinnedpubkey), neither checks the name");
    else if (req.serverSha256 && !req.insecure) notes.push("the probe also pins the server certificate's SHA-256; curl only verifies it against the CA");
  }
  // The probe's Host header is the bare host; curl's default would add a non-default port.
  const defaultPort = scheme === "https" ? 443 : 80;
  if (urlHost !== req.host || port !== defaultPort) args.push("-H", `Host: ${req.host}`);
  for (const [name, value] of Object.entries(req.headers ?? {})) args.push("-H", value === "" ? `${name};` : `${name}: ${value}`);
  args.push(`${scheme}://${hostPort(urlHost, port)}${path}`);
  return { args, line: ["curl", ...args].map(shellQuote).join(" "), notes };
}

/** curl's exit codes a refused or failed request ends with (man curl, EXIT CODES). */
const CURL_EXIT: Record<number, string> = {
  6: "CURLE_COULDNT_RESOLVE_HOST",
  7: "CURLE_COULDNT_CONNECT",
  28: "CURLE_OPERATION_TIMEDOUT",
  35: "CURLE_SSL_CONNECT_ERROR",
  52: "CURLE_GOT_NOTHING",
  55: "CURLE_SEND_ERROR",
  56: "CURLE_RECV_ERROR",
  58: "CURLE_SSL_CERTPROBLEM",
  60: "CURLE_PEER_FAILED_VERIFICATION",
};

export interface CurlObservation extends Observation {
  /** curl's exit code (0: a response arrived, whatever its status). */
  exitCode: number;
}

/** What `curl -i` printed (response head, blank line, body), its stderr and exit code, as an observation. */
export function curlObservation(stdout: string, stderr: string, exitCode: number, sni: string | null, durationMs: number, acceptAnyEcho = false): CurlObservation {
  const split = stdout.indexOf("\r\n\r\n");
  const head = split < 0 ? "" : stdout.slice(0, split);
  const status = /^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1];
  const base = { sni, durationMs, exitCode };
  if (exitCode !== 0 || status === undefined) {
    const message = stderr.trim().replace(/^curl: \(\d+\) /, "") || (status === undefined ? "no HTTP response in curl's output" : "");
    return { ...base, error: { code: CURL_EXIT[exitCode] ?? `CURL_EXIT_${exitCode}`, message } };
  }
  const responseHeaders: Record<string, string> = {};
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    responseHeaders[name] = name in responseHeaders ? `${responseHeaders[name]}, ${value}` : value;
  }
  const body = stdout.slice(split + 4);
  return { ...base, status: Number(status), responseHeaders, body, echo: asEcho(body, responseHeaders, acceptAnyEcho) };
}

/** Runs curl (execFile, no shell) in `cwd`, where the command's files are; never throws. */
export function runCurl(command: CurlCommand, options: { cwd: string; binary?: string; sni: string | null; acceptAnyEcho?: boolean }): Promise<CurlObservation> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(options.binary ?? "curl", command.args, { cwd: options.cwd, timeout: (CURL_MAX_TIME_S + 5) * 1000, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      const durationMs = performance.now() - started;
      const e = error as (Error & { code?: number | string; killed?: boolean }) | null;
      if (e && typeof e.code !== "number") {
        // curl did not run, or was killed by the timeout.
        resolve({ sni: options.sni, durationMs, exitCode: -1, error: { code: e.killed ? "CURL_KILLED" : String(e.code ?? "CURL_NOT_RUN"), message: e.message } });
        return;
      }
      resolve(curlObservation(stdout, stderr, e ? (e.code as number) : 0, options.sni, durationMs, options.acceptAnyEcho));
    });
  });
}

const lowerKeys = (h: Record<string, string> | undefined) => Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k.toLowerCase(), v]));

/** The upstream headers that matter for a comparison: the ssl-client-* ones, and any the expectation names. */
function headersThatMatter(expect: Expectation, a: Record<string, string>, b: Record<string, string>): string[] {
  const want = expect.upstreamHeaders ?? {};
  const named = [...Object.keys(want.headers ?? {}), ...Object.keys(want.prefixes ?? {}), ...(want.absent ?? []), ...(want.clientCertIsPresentedLeaf ? ["ssl-client-cert"] : [])].map((n) => n.toLowerCase());
  const sslClient = [...Object.keys(a), ...Object.keys(b)].filter((n) => n.startsWith("ssl-client-"));
  return [...new Set([...named, ...sslClient])].sort();
}

const shown = (v: string | undefined) => (v === undefined ? "(none)" : JSON.stringify(v.slice(0, 120)));

/** One observation in a line: status (or the failure), reached or not. */
export function describeObservation(o: Observation): string {
  if (o.status === undefined) return `no HTTP response (${o.error?.code ?? "no error"}: ${(o.error?.message ?? "").slice(0, 160)})`;
  return `${o.status}${o.echo ? " from the backend" : " (backend not reached)"}`;
}

/**
 * Where the two clients disagree on what a verdict rests on: an HTTP response or none, its status,
 * the backend reached or not, and the upstream headers the expectation looks at (with every
 * ssl-client-* header). Error codes differ by client and are not compared.
 */
export function crossCheckDisagreements(expect: Expectation, probed: Observation, curled: Observation): string[] {
  const out: string[] = [];
  const p = describeObservation(probed);
  const c = describeObservation(curled);
  if (probed.status !== curled.status || !!probed.echo !== !!curled.echo) {
    out.push(`curl disagrees: probe observed ${p}, curl observed ${c}`);
    return out;
  }
  if (probed.echo && curled.echo) {
    const a = lowerKeys(probed.echo.headers);
    const b = lowerKeys(curled.echo.headers);
    for (const name of headersThatMatter(expect, a, b)) {
      if (a[name] !== b[name]) out.push(`curl disagrees on upstream header ${name}: probe observed ${shown(a[name])}, curl observed ${shown(b[name])}`);
    }
  }
  return out;
}
