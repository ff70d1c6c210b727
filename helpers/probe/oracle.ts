// Verdicts: an expected outcome against an observation. Pure, so it is tested on its own.
import { CERT_ERROR_BODY, MATCH_CN_BODY, NO_CERT_BODY } from "../catalogue/rejections.ts";
import { createHash } from "node:crypto";
import type { Expectation } from "../catalogue/catalogue.ts";
import type { Observation } from "./probe.ts";
import { rdnSetDifference } from "./rdn-set.ts";
import { tlsAlertOf } from "./tls-alert.ts";

export interface Verdict {
  pass: boolean;
  /** One line per difference: "<what>: expected <x>, observed <y>". */
  mismatches: string[];
}

export interface DecodedClientCert {
  certificates: number;
  /** SHA-256 (hex) of the first certificate's DER. */
  sha256?: string;
  problem?: string;
}

/** ingress-nginx's ssl-client-cert is the PEM percent-encoded ($ssl_client_escaped_cert). */
export function decodeClientCertHeader(value: string): DecodedClientCert {
  let pem: string;
  try {
    pem = decodeURIComponent(value);
  } catch {
    return { certificates: 0, problem: "not valid percent-encoding" };
  }
  const blocks = [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)];
  if (blocks.length === 0) return { certificates: 0, problem: "no PEM certificate after percent-decoding" };
  const der = Buffer.from(blocks[0]![1]!.replace(/\s+/g, ""), "base64");
  return { certificates: blocks.length, sha256: createHash("sha256").update(der).digest("hex") };
}

const show = (v: unknown): string => (v === undefined ? "(none)" : JSON.stringify(v));

/** nginx's own answers to a client it refuses: what a request that passed client auth is not. */
function nginxRejection(o: Observation): string | undefined {
  const body = o.body ?? "";
  if (o.status === 400 && (body.includes(NO_CERT_BODY) || body.includes(CERT_ERROR_BODY))) return `400 ${body.includes(NO_CERT_BODY) ? NO_CERT_BODY : CERT_ERROR_BODY}`;
  if (o.status === 403 && body === MATCH_CN_BODY) return `403 ${MATCH_CN_BODY}`;
  // The whole-host denial is nginx's own error page.
  if (o.status === 403 && /<center>403 Forbidden<\/center>/.test(body) && /<center>nginx/.test(body)) return "403 Forbidden (nginx's own page)";
  if (o.status === 495 || o.status === 496) return String(o.status);
  return undefined;
}

/** A TLS alert the server sent: Node's ERR_SSL_..._ALERT_..., or EPROTO (older Node) carrying one. */
const TLS_ALERT = /^ERR_SSL_.*ALERT/;
/**
 * The server's refusal came as an alert: Node's code names it (ERR_SSL_..._ALERT_...), or the code is
 * OpenSSL's reason for one and the message carries "SSL alert number N" (ERR_SSL_TLSV1_UNRECOGNIZED_NAME
 * for nginx's ssl_reject_handshake; EPROTO on older Node).
 */
function isAlert(o: Observation): boolean {
  const code = o.error?.code ?? "";
  if (TLS_ALERT.test(code)) return true;
  return (code === "EPROTO" || code.startsWith("ERR_SSL_")) && !!(o.tlsAlert ?? tlsAlertOf(o.error!));
}

/** The connection ended, with no alert: a reset, or undici's "other side closed". */
const CONNECTION_ENDED = /^ECONNRESET$|^UND_ERR_SOCKET$/;

/**
 * Why an observation without an HTTP response is no refused handshake; undefined when it is one.
 * An alert from the server is a refusal. A connection that merely ended is one only where the
 * exchange shows it: the handshake completed under TLS 1.3 (where the client finishes its side
 * before the server has checked the client certificate, so the refusal comes on the first read,
 * from some servers without an alert) and no HTTP response byte arrived. Anywhere else a reset is
 * what any server can do for any reason, an exhausted one included.
 */
function notARefusal(o: Observation): string | undefined {
  const code = o.error?.code ?? "no error";
  if (isAlert(o)) return undefined;
  if (!CONNECTION_ENDED.test(code)) return `observed ${code}: ${o.error?.message ?? "(no message)"}`;
  const tls = o.tls;
  if (!tls) return `observed ${code} and no record of the TLS exchange: not shown to be a refusal of the certificate`;
  if (!tls.handshakeCompleted) return `observed ${code} before the TLS handshake completed: not a refusal of the certificate (a server out of connections resets the same way)`;
  if (tls.version !== "TLSv1.3") {
    return `observed ${code} after a completed ${tls.version ?? "TLS"} handshake, without an alert: not a refusal of the certificate (below TLS 1.3 the server checks it before the handshake completes, and refuses with an alert)`;
  }
  if (tls.responseBytes > 0) return `observed ${code} after ${tls.responseBytes} bytes of HTTP response: the server answered, it did not refuse the handshake`;
  return undefined;
}

/** `transport: "tls-rejected"`: no HTTP response at all, and the TLS exchange shows a refusal. */
function judgeTlsRejected(expect: Expectation, observed: Observation): Verdict {
  const m: string[] = [];
  // A refused handshake cannot reach anything: the expectation contradicts itself.
  if (expect.upstream === "reached") m.push('transport: expected the TLS handshake refused, but the expectation also says upstream "reached"');
  if (observed.status !== undefined) {
    // Say what answered: nginx's rejection, the backend, or a short body as it came.
    const body = (observed.body ?? "").replace(/\s+/g, " ").trim();
    const detail = nginxRejection(observed)?.replace(/^\d+ ?/, "") || (observed.echo ? `from the backend: ${observed.echo.method} ${observed.echo.path}` : body && body.length <= 80 ? show(body) : "");
    m.push(`transport: expected the TLS handshake refused, observed HTTP ${observed.status}${detail ? ` (${detail})` : ""}`);
  } else {
    const why = notARefusal(observed);
    if (why) m.push(`transport: expected the TLS handshake refused, ${why}`);
  }
  return { pass: m.length === 0, mismatches: m };
}

/** Header names compare case-insensitively (Traefik sends Ssl-Client-Verify); values exactly. */
function byLowerName(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The headers `dnCompare: "rdn-set"` compares as attribute sets. */
const DN_HEADERS = new Set(["ssl-client-subject-dn", "ssl-client-issuer-dn"]);

export interface JudgeOptions {
  /**
   * No echo backend answers (a live endpoint without --echo): "reached" means the answer is not
   * one of nginx's client-certificate rejections, whatever the backend answers; headers are not seen.
   */
  noEcho?: boolean;
}

/** `transport: "connection-closed"`: no HTTP response and no TLS alert: the connection just ended. */
function judgeConnectionClosed(expect: Expectation, observed: Observation): Verdict {
  const m: string[] = [];
  if (expect.upstream === "reached") m.push('transport: expected the connection closed without an answer, but the expectation also says upstream "reached"');
  const code = observed.error?.code ?? "no error";
  if (observed.status !== undefined) m.push(`transport: expected the connection closed without an answer, observed HTTP ${observed.status}`);
  else if (isAlert(observed)) m.push(`transport: expected the connection closed without an answer, observed a TLS alert (${observed.tlsAlert ?? code})`);
  else if (!CONNECTION_ENDED.test(code)) m.push(`transport: expected the connection closed without an answer, observed ${code}: ${observed.error?.message ?? "(no message)"}`);
  else if (observed.tls && observed.tls.responseBytes > 0) m.push(`transport: expected the connection closed without an answer, observed ${observed.tls.responseBytes} bytes of HTTP response`);
  return { pass: m.length === 0, mismatches: m };
}

/** What a client that trusts only the host's certificate says when another one is presented. */
const FOREIGN_SERVER_CERTIFICATE = /server presented certificate sha256|self[- ]signed certificate|unable to verify the first certificate|ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE/;

/** `transport: "host-not-served"`: no HTTP response, because the server presented a certificate that is not the host's. */
function judgeHostNotServed(expect: Expectation, observed: Observation): Verdict {
  const m: string[] = [];
  if (expect.upstream === "reached") m.push('transport: expected the host not served, but the expectation also says upstream "reached"');
  const said = `${observed.error?.code ?? ""} ${observed.error?.message ?? ""}`;
  if (observed.status !== undefined) m.push(`transport: expected the host not served (another server certificate), observed HTTP ${observed.status}`);
  else if (!FOREIGN_SERVER_CERTIFICATE.test(said)) m.push(`transport: expected the host not served (another server certificate), observed ${said.trim() || "no error"}`);
  return { pass: m.length === 0, mismatches: m };
}

export function judge(expect: Expectation, observed: Observation, presentedLeafSha256?: string, options: JudgeOptions = {}): Verdict {
  // First: a refused handshake needs no echo to be judged, so noEcho changes nothing for it.
  if (expect.transport === "tls-rejected") return judgeTlsRejected(expect, observed);
  if (expect.transport === "connection-closed") return judgeConnectionClosed(expect, observed);
  if (expect.transport === "host-not-served") return judgeHostNotServed(expect, observed);
  const m: string[] = [];
  if (options.noEcho && expect.upstream === "reached") {
    if (observed.status === undefined) {
      return { pass: false, mismatches: [`status: expected the request to pass client authentication, observed no HTTP response (${observed.error?.code}: ${observed.error?.message})`] };
    }
    const rejection = nginxRejection(observed);
    if (rejection) m.push(`upstream: expected the request to pass client authentication, observed nginx's rejection ${rejection}`);
    return { pass: m.length === 0, mismatches: m };
  }
  if (observed.status === undefined) {
    m.push(`status: expected ${[expect.status ?? "a response"].flat().join(" or ")}, observed no HTTP response (${observed.error?.code}: ${observed.error?.message})`);
    return { pass: false, mismatches: m };
  }
  const allowed = expect.status === undefined ? undefined : [expect.status].flat();
  if (allowed && !allowed.includes(observed.status)) m.push(`status: expected ${allowed.join(" or ")}, observed ${observed.status}`);
  if (expect.bodyEquals !== undefined && observed.body !== expect.bodyEquals) {
    m.push(`body: expected exactly ${show(expect.bodyEquals)}, observed ${show((observed.body ?? "").slice(0, 200))}`);
  }
  const responseHeaders = byLowerName(observed.responseHeaders);
  for (const [name, value] of Object.entries(expect.responseHeaders ?? {})) {
    const got = responseHeaders[name.toLowerCase()];
    if (got !== value) m.push(`response header ${name}: expected ${show(value)}, observed ${show(got)}`);
  }
  if (expect.bodyIncludes !== undefined && !(observed.body ?? "").includes(expect.bodyIncludes)) {
    m.push(`body: expected to contain ${show(expect.bodyIncludes)}, observed ${show((observed.body ?? "").slice(0, 200))}`);
  }
  if (expect.upstream === "not-reached" && observed.echo) {
    m.push(`upstream: expected the backend not to be reached, observed it answered ${observed.echo.method} ${observed.echo.path}`);
  }
  if (expect.upstream === "reached") {
    if (!observed.echo) {
      m.push("upstream: expected the request to reach the echo backend, observed an answer that did not come from it");
    } else {
      const got = byLowerName(observed.echo.headers);
      const want = expect.upstreamHeaders ?? {};
      for (const [name, value] of Object.entries(want.headers ?? {})) {
        const seen = got[name.toLowerCase()];
        if (expect.dnCompare === "rdn-set" && DN_HEADERS.has(name.toLowerCase())) {
          const difference = seen === undefined ? "absent" : rdnSetDifference(value, seen);
          if (difference) m.push(`upstream header ${name}: expected ${show(value)}, observed ${show(seen)} (compared as a set of attributes, order ignored: ${difference})`);
        } else if (seen !== value) m.push(`upstream header ${name}: expected ${show(value)}, observed ${show(seen)}`);
      }
      for (const [name, prefix] of Object.entries(want.prefixes ?? {})) {
        const seen = got[name.toLowerCase()];
        if (!seen?.startsWith(prefix)) m.push(`upstream header ${name}: expected to start with ${show(prefix)}, observed ${show(seen)}`);
      }
      for (const name of want.absent ?? []) {
        const seen = got[name.toLowerCase()];
        if (seen !== undefined) m.push(`upstream header ${name}: expected absent, observed ${show(seen.slice(0, 80))}`);
      }
      if (want.clientCertIsPresentedLeaf) {
        const header = got["ssl-client-cert"];
        if (header === undefined) {
          m.push("upstream header ssl-client-cert: expected the presented leaf, observed (none)");
        } else {
          const decoded = decodeClientCertHeader(header);
          if (decoded.problem) m.push(`upstream header ssl-client-cert: ${decoded.problem}`);
          else {
            if (decoded.certificates !== 1) {
              m.push(`upstream header ssl-client-cert: expected exactly 1 certificate (the leaf), observed ${decoded.certificates}`);
            }
            if (decoded.sha256 !== presentedLeafSha256) {
              m.push(`upstream header ssl-client-cert: expected sha256 ${presentedLeafSha256 ?? "(no credential)"}, observed ${decoded.sha256}`);
            }
          }
        }
      }
    }
  }
  return { pass: m.length === 0, mismatches: m };
}
