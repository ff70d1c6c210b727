// What a server's refusal looked like at the TLS layer, read off Node's (OpenSSL's) error. Recorded
// as evidence, never asserted: the alert depends on the server's TLS stack and on TLS 1.2 or 1.3.

export interface TlsAlert {
  /** The alert's name as RFC 8446 section 6 spells it (bad_certificate), else OpenSSL's text. */
  alert?: string;
  /** The alert's number on the wire (42), from OpenSSL's "SSL alert number N". */
  number?: number;
  /** The protocol the handshake agreed (TLSv1.3), when it completed before the refusal. */
  tlsVersion?: string;
}

/** RFC 8446 6.2 (and 5246 7.2) alert numbers a refused client may see. */
const ALERT_NAMES: Record<number, string> = {
  0: "close_notify",
  10: "unexpected_message",
  20: "bad_record_mac",
  40: "handshake_failure",
  42: "bad_certificate",
  43: "unsupported_certificate",
  44: "certificate_revoked",
  45: "certificate_expired",
  46: "certificate_unknown",
  47: "illegal_parameter",
  48: "unknown_ca",
  49: "access_denied",
  50: "decode_error",
  51: "decrypt_error",
  70: "protocol_version",
  71: "insufficient_security",
  80: "internal_error",
  86: "inappropriate_fallback",
  90: "user_canceled",
  109: "missing_extension",
  110: "unsupported_extension",
  112: "unrecognized_name",
  113: "bad_certificate_status_response",
  115: "unknown_psk_identity",
  116: "certificate_required",
  120: "no_application_protocol",
};

/**
 * The alert a TLS error reports, from OpenSSL's message ("...:tlsv13 alert certificate
 * required:...:SSL alert number 116") or Node's code (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED).
 * Undefined when the error is no received alert (a reset, a close, a local failure).
 */
export function tlsAlertOf(error: { code?: string; message?: string }, tlsVersion?: string): TlsAlert | undefined {
  const message = error.message ?? "";
  const numberText = /SSL alert number (\d+)/.exec(message)?.[1];
  const number = numberText === undefined ? undefined : Number(numberText);
  // OpenSSL's reason text: "sslv3 alert bad certificate", "ssl/tls alert handshake failure".
  const text = /(?:sslv3|tlsv1|tlsv13|ssl\/tls) alert ([a-z0-9 ]+)/.exec(message)?.[1] ?? /^ERR_SSL_.*?_ALERT_(.+)$/.exec(error.code ?? "")?.[1];
  if (number === undefined && text === undefined) return undefined;
  const alert = (number !== undefined ? ALERT_NAMES[number] : undefined) ?? text?.trim().toLowerCase().replaceAll(" ", "_");
  return { ...(alert ? { alert } : {}), ...(number !== undefined ? { number } : {}), ...(tlsVersion ? { tlsVersion } : {}) };
}
