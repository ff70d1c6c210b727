// Distinguished names as nginx shows them to the backend and to match-cn: $ssl_client_s_dn and
// $ssl_client_i_dn are OpenSSL's X509_NAME_print_ex(..., XN_FLAG_RFC2253): last RDN first, short
// names, "," between RDNs and "+" inside one, RFC 2253 escaping, bytes above 127 as \XX.
// The oracle in the tests is `openssl x509 -nameopt RFC2253`.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Name as AsnName, type AttributeValue } from "@peculiar/asn1-x509";
import { children, readTlv } from "../pki/der.ts";

/** OpenSSL's short names for the attribute types a client certificate carries. */
export const SHORT_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.17": "postalCode",
  "2.5.4.42": "GN",
  "2.5.4.43": "initials",
  "2.5.4.46": "dnQualifier",
  "2.5.4.65": "pseudonym",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
};
const OIDS: Record<string, string> = Object.fromEntries(Object.entries(SHORT_NAMES).map(([oid, name]) => [name, oid]));

/** OpenSSL ESC_2253 | ESC_CTRL | ESC_MSB on the UTF-8 bytes of a value. */
export function escapeRfc2253(value: string): string {
  const bytes = Buffer.from(value, "utf8");
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const ch = String.fromCharCode(b);
    const first = i === 0;
    const last = i === bytes.length - 1;
    if (b > 0x7e || b < 0x20) out += "\\" + b.toString(16).toUpperCase().padStart(2, "0");
    else if (',+"\\<>;'.includes(ch) || (first && (ch === "#" || ch === " ")) || (last && ch === " ")) out += "\\" + ch;
    else out += ch;
  }
  return out;
}

function valueText(v: AttributeValue): string | undefined {
  return v.utf8String ?? v.printableString ?? v.ia5String ?? v.teletexString ?? v.bmpString ?? v.universalString;
}

function rfc2253OfAsn(name: AsnName): string {
  return [...name]
    .reverse()
    // OpenSSL keeps a name as one flat list of attributes and prints it reversed, so the
    // attributes inside a multi-valued RDN come out reversed too.
    .map((rdn) =>
      [...rdn]
        .reverse()
        .map((atv) => {
          const short = SHORT_NAMES[atv.type];
          const text = valueText(atv.value);
          // Unknown fields and unknown string types are dumped as #<hex of the DER value>.
          if (!short || text === undefined) {
            const der = Buffer.from(AsnConvert.serialize(atv.value));
            return `${short ?? atv.type}=#${der.toString("hex").toUpperCase()}`;
          }
          return `${short}=${escapeRfc2253(text)}`;
        })
        .join("+"),
    )
    .join(",");
}

export interface CertificateFields {
  /** DER of the issuer and subject Names, as they are in the certificate. */
  issuer: Uint8Array;
  subject: Uint8Array;
  /** Content octets of the serialNumber INTEGER. */
  serial: Uint8Array;
}

/**
 * The names and serial of a DER certificate, read straight off its TBSCertificate (version,
 * serialNumber, signature, issuer, validity, subject: RFC 5280 4.1) without decoding the rest.
 */
export function certificateFields(der: Uint8Array): CertificateFields {
  const cert = readTlv(der, 0);
  const tbs = readTlv(der, cert.start, cert.end);
  if (cert.tag !== 0x30 || tbs.tag !== 0x30) throw new Error("not a DER certificate");
  const fields = children(der, tbs);
  // The version is [0] EXPLICIT and absent in v1 certificates.
  const [serial, , issuer, , subject] = fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
  if (serial?.tag !== 0x02 || issuer?.tag !== 0x30 || subject?.tag !== 0x30) throw new Error("not a DER certificate");
  return { issuer: der.subarray(issuer.at, issuer.end), subject: der.subarray(subject.at, subject.end), serial: der.subarray(serial.start, serial.end) };
}

// Distinct names are few (one per CA, a handful of client subjects): each is decoded once.
const nameTexts = new Map<string, string>();

/** A Name (DER) as $ssl_client_s_dn shows it. */
export function rfc2253OfName(der: Uint8Array): string {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("latin1");
  let text = nameTexts.get(key);
  if (text === undefined) {
    text = rfc2253OfAsn(AsnConvert.parse(der, AsnName));
    if (nameTexts.size > 10_000) nameTexts.clear();
    nameTexts.set(key, text);
  }
  return text;
}

const derOf = (cert: x509.X509Certificate | Uint8Array): Uint8Array => (cert instanceof Uint8Array ? cert : new Uint8Array(cert.rawData));

/** The subject and issuer of a certificate (parsed or DER) as $ssl_client_s_dn and $ssl_client_i_dn show them. */
export function namesOf(cert: x509.X509Certificate | Uint8Array): { subject: string; issuer: string } {
  const fields = certificateFields(derOf(cert));
  return { subject: rfc2253OfName(fields.subject), issuer: rfc2253OfName(fields.issuer) };
}

/** The subject of a certificate as $ssl_client_s_dn shows it. */
export function rfc2253Of(cert: x509.X509Certificate | Uint8Array, which: "subject" | "issuer" = "subject"): string {
  return rfc2253OfName(certificateFields(derOf(cert))[which]);
}

/** An RDN of a name the project builds: one attribute, a value with no escaping needed. */
export interface SimpleRdn {
  type: string;
  value: string;
}

const SAFE_VALUE = /^[A-Za-z0-9][A-Za-z0-9 ._@:=/-]*$/;

/**
 * Parses an RFC 2253 string made only of known short names and values that need no escaping
 * ("CN=a,O=b"), as the project derives them from match-cn patterns. Returns the RDNs in the
 * order a certificate stores them (the reverse of the string), or undefined when the string is
 * not such a name.
 */
export function parseSimpleRfc2253(text: string): SimpleRdn[] | undefined {
  const parts = text.split(",");
  const rdns: SimpleRdn[] = [];
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq <= 0) return undefined;
    const type = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (!OIDS[type] || !SAFE_VALUE.test(value) || value.endsWith(" ")) return undefined;
    if (type === "C" && !/^[A-Z]{2}$/.test(value)) return undefined;
    rdns.push({ type, value });
  }
  return rdns.reverse();
}

/** The JSON name @peculiar/x509 takes, in certificate order, for RDNs from parseSimpleRfc2253. */
export function jsonName(rdns: SimpleRdn[]): x509.JsonName {
  return rdns.map((r) => ({ [OIDS[r.type]!]: [r.value] }));
}

/** RFC 2253 text of RDNs given in certificate order (what nginx will print for them). */
export function rfc2253OfRdns(rdns: SimpleRdn[]): string {
  return [...rdns].reverse().map((r) => `${r.type}=${escapeRfc2253(r.value)}`).join(",");
}
