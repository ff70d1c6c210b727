// One HTTPS request the way a real client makes it: SNI and Host set to the scenario's host,
// the scenario's credential (leaf + chain), the run's CA trusted and the server certificate
// pinned. Everything that happens, TLS failures included, is an observation, never a throw.
import type { Socket } from "node:net";
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext, type TLSSocket } from "node:tls";
import { Agent, buildConnector, request } from "undici";
import type { EchoResponse } from "../../fixtures/echo-server.ts";
import { type TlsAlert, tlsAlertOf } from "./tls-alert.ts";

export interface ProbeCredential {
  /** Leaf first, then intermediates, PEM. */
  certChainPem: string;
  keyPem: string;
}

export interface ProbeRequest {
  endpoint: { address: string; port: number };
  /** Plain HTTP (no TLS at all) instead of HTTPS. */
  scheme?: "https" | "http";
  host: string;
  /** SNI; defaults to `host`; null sends none. Independent of the Host header. */
  servername?: string | null;
  path?: string;
  credential?: ProbeCredential;
  /** PEM of the CA that signed the server certificate. */
  caPem?: string;
  /** Do not verify the server certificate (a live endpoint without its CA). */
  insecure?: boolean;
  /** Treat any JSON answer with a `headers` object as the echo (someone else's echo backend). */
  acceptAnyEcho?: boolean;
  /** Expected SHA-256 (hex) of the server certificate: anything else is a failed probe. */
  serverSha256?: string;
  /**
   * Set where that certificate does not name the host (the probe ignores it: the certificate pin
   * says more): curl, which cannot pin a certificate, pins its public key instead (curl-command.ts).
   */
  serverPublicKeySha256?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface Observation {
  /** Absent when no HTTP response arrived (see `error`). */
  status?: number;
  responseHeaders?: Record<string, string>;
  body?: string;
  /** The echo backend's record of the request it received, when the request reached it. */
  echo?: EchoResponse;
  /** Transport or TLS failure, as the client saw it. */
  error?: { code: string; message: string };
  /** The TLS alert the server sent with its refusal, when `error` reports one (evidence only). */
  tlsAlert?: TlsAlert;
  /** What the TLS exchange showed (HTTPS probes only): tells a refusal from a reset (oracle.ts). */
  tls?: TlsExchange;
  /** SHA-256 of the certificate the server presented. */
  serverCertSha256?: string;
  /** The SNI the client sent (null: none). */
  sni: string | null;
  durationMs: number;
}

/** The TLS side of the connection that carried the request, as the client saw it. */
export interface TlsExchange {
  /**
   * The client's side of the handshake completed (secureConnect). Under TLS 1.3 that happens
   * before the server has checked the client certificate; under TLS 1.2, after.
   */
  handshakeCompleted: boolean;
  /** The protocol the handshake agreed (TLSv1.3), known once it completed. */
  version?: string;
  /** Bytes of HTTP response that arrived (decrypted application data; 0: none). */
  responseBytes: number;
}

function headerRecord(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

type CodedError = Error & { code?: string; cause?: unknown; errors?: unknown[] };

/** The error that says what happened: the innermost cause (undici wraps), the first of an AggregateError. */
function rootError(error: unknown): CodedError {
  let e = error as CodedError;
  for (let i = 0; i < 5; i++) {
    const next = e.cause instanceof Error ? e.cause : e.errors?.[0] instanceof Error ? e.errors[0] : undefined;
    if (!next) break;
    e = next as CodedError;
  }
  return e;
}

export function asEcho(body: string, headers: Record<string, string>, acceptAny = false): EchoResponse | undefined {
  if (!acceptAny && headers["x-echo"] !== "mtls-conformance") return undefined;
  try {
    const parsed = JSON.parse(body) as EchoResponse;
    return typeof parsed.headers === "object" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

// A TLS context per (credential, trusted CA): parsing the PEMs once, not for every probe. Sessions
// are still never resumed (maxCachedSessions: 0); the context holds keys and trust, no session.
// Each holds ~65 KiB of OpenSSL's memory, and a run over 1,000 Ingresses presents thousands of
// credentials: the most recently used ones are kept (checks of one Ingress run together), the
// rest made again when needed.
const CONTEXTS_KEPT = 256;
const NO_CREDENTIAL = {};
const ids = new WeakMap<object, number>();
const contexts = new Map<string, SecureContext>();
function secureContextFor(credential: ProbeCredential | undefined, caPem: string | undefined): SecureContext {
  const owner = credential ?? NO_CREDENTIAL;
  let id = ids.get(owner);
  if (id === undefined) ids.set(owner, (id = nextId++));
  const key = `${id}\u0000${caPem ?? ""}`;
  let context = contexts.get(key);
  if (context) contexts.delete(key);
  else context = createSecureContext({ ...(caPem ? { ca: caPem } : {}), ...(credential ? { cert: credential.certChainPem, key: credential.keyPem } : {}) });
  // Map order is insertion order: re-inserted, it is the most recent; the oldest goes first.
  contexts.set(key, context);
  if (contexts.size > CONTEXTS_KEPT) contexts.delete(contexts.keys().next().value!);
  return context;
}
let nextId = 0;

export async function probe(req: ProbeRequest): Promise<Observation> {
  const started = performance.now();
  // The SNI is exactly what was asked, whatever the Host header says: undici would otherwise
  // derive it from Host (request.js), so the connector sets it on every connection it opens.
  const sni = req.servername === null ? null : (req.servername ?? req.host);
  const timeout = req.timeoutMs ?? 10_000;
  let serverCertSha256: string | undefined;
  // What the socket itself reported: undici replaces a TLS alert that arrives after the handshake
  // (TLS 1.3 refusals come on the first read) with its own "other side closed" when the end follows.
  let socketError: CodedError | undefined;
  let tlsVersion: string | undefined;
  // The connection that carried the request (the last one opened): undici hands it over only once
  // the handshake completed, so a connection it never handed over did not complete one.
  let handshakeCompleted = false;
  let connected: Socket | undefined;
  const https = (req.scheme ?? "https") === "https";
  const tlsExchange = (): { tls?: TlsExchange } =>
    https ? { tls: { handshakeCompleted, ...(tlsVersion ? { version: tlsVersion } : {}), responseBytes: connected?.bytesRead ?? 0 } } : {};

  // Where the run knows the exact server certificate (it deployed it), the pin is the check: it
  // says more than a chain and a name would (the one certificate issued for the host). Then OpenSSL
  // gets no trust anchors and Node no name to check, and the pin is compared on the certificate
  // itself; Node's own check would build a JS object of the whole peer chain for every probe
  // (getPeerCertificate(true), about 1 ms each, the largest cost of a probe on the client side).
  const pinned = !req.insecure && !!req.serverSha256;
  const connector = buildConnector({
    // HTTP/1.1, as the Agent: the connector makes its own ALPN offer.
    allowH2: false,
    timeout,
    secureContext: secureContextFor(req.credential, pinned ? undefined : req.caPem),
    rejectUnauthorized: !req.insecure && !pinned,
    // A full handshake every time: a resumed session would carry an earlier verification.
    maxCachedSessions: 0,
    checkServerIdentity: (hostname: string, cert: PeerCertificate) => {
      serverCertSha256 = cert.fingerprint256.replaceAll(":", "").toLowerCase();
      if (req.insecure) return undefined;
      if (req.serverSha256 && serverCertSha256 !== req.serverSha256.toLowerCase()) {
        return new Error(`server presented certificate sha256 ${serverCertSha256}, expected the run's ${req.serverSha256}`);
      }
      return checkServerIdentity(hostname, cert);
    },
  });
  const agent = new Agent({
    allowH2: false,
    connectTimeout: timeout,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    // With no servername the connector falls back to the address, an IP: no SNI at all.
    connect: (options, callback) => {
      handshakeCompleted = false;
      tlsVersion = undefined;
      connected = undefined;
      connector({ ...options, servername: sni ?? undefined }, (...args) => {
        const socket = args[1];
        if (socket) connected = socket;
        if (socket && "getProtocol" in socket) {
          handshakeCompleted = true;
          tlsVersion = socket.getProtocol() ?? undefined;
          if (pinned || req.insecure) {
            serverCertSha256 = (socket as TLSSocket).getPeerX509Certificate()?.fingerprint256.replaceAll(":", "").toLowerCase();
            if (pinned && serverCertSha256 !== req.serverSha256!.toLowerCase()) {
              socket.destroy();
              callback(new Error(`server presented certificate sha256 ${serverCertSha256}, expected the run's ${req.serverSha256}`), null);
              return;
            }
          }
        }
        socket?.prependListener("error", (e: CodedError) => (socketError ??= e));
        callback(...args);
      });
    },
  });

  try {
    const res = await request(`${req.scheme ?? "https"}://${req.endpoint.address}:${req.endpoint.port}${req.path ?? "/"}`, {
      method: "GET",
      dispatcher: agent,
      headers: { host: req.host, ...req.headers },
    });
    const body = await res.body.text();
    const responseHeaders = headerRecord(res.headers);
    return {
      status: res.statusCode,
      responseHeaders,
      body,
      echo: asEcho(body, responseHeaders, req.acceptAnyEcho),
      ...tlsExchange(),
      serverCertSha256,
      sni,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    const e = error as CodedError;
    const root = rootError(e);
    const tlsFirst = socketError && /^ERR_SSL_|^EPROTO$/.test(socketError.code ?? "") ? socketError : undefined;
    const reported = tlsFirst ?? root;
    const alert = tlsAlertOf(reported, tlsVersion);
    return {
      error: { code: reported.code ?? e.code ?? e.name, message: reported.message || e.message },
      ...(alert ? { tlsAlert: alert } : {}),
      ...tlsExchange(),
      serverCertSha256,
      sni,
      durationMs: performance.now() - started,
    };
  } finally {
    await agent.close().catch(() => undefined);
  }
}
