// Distinguished names compared as sets of attributes: nginx prints OpenSSL's RFC 2253 order
// (O=MyOrganization,CN=authorized-client), Go's pkix.Name.String its own fixed one
// (CN=authorized-client,O=MyOrganization), with its own type names (SERIALNUMBER, and unknown
// types such as emailAddress as 1.2.840.113549.1.9.1=#<hex of the DER value>).
import { SHORT_NAMES } from "../model/distinguished-name.ts";

/** Lower-cased type name -> OID: OpenSSL's short names, Go's upper-case ones, common aliases. */
const TYPE_OIDS: Record<string, string> = {
  ...Object.fromEntries(Object.entries(SHORT_NAMES).map(([oid, name]) => [name.toLowerCase(), oid])),
  e: "1.2.840.113549.1.9.1",
  email: "1.2.840.113549.1.9.1",
};

function typeOid(type: string): string {
  const t = type.trim().toLowerCase().replace(/^oid\./, "");
  return TYPE_OIDS[t] ?? t;
}

/** The text of a DER string value (#hex form), or undefined when it is not a string type. */
function derString(hex: string): string | undefined {
  const der = Buffer.from(hex, "hex");
  if (der.length < 2 || der.length * 2 !== hex.length) return undefined;
  let length = der[1]!;
  let offset = 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (der[2 + i] ?? 0);
    offset = 2 + n;
  }
  const content = der.subarray(offset, offset + length);
  if (content.length !== length || offset + length !== der.length) return undefined;
  switch (der[0]) {
    case 0x0c: // UTF8String
      return content.toString("utf8");
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x1a: // VisibleString
    case 0x14: // TeletexString, read as Latin-1 as OpenSSL does
      return content.toString("latin1");
    case 0x1e: // BMPString, UTF-16BE
      return Buffer.from(content).swap16().toString("utf16le");
    default:
      return undefined;
  }
}

/**
 * The attributes of an RFC 4514 / 2253 string as "<OID>=<value>", RDN and multi-valued RDN
 * boundaries dropped. Escapes (\, \+ \\ and \XX bytes, which OpenSSL uses above 127) are undone,
 * #hex values decoded when they hold a string. Undefined when the text is no such name.
 */
export function dnAttributes(text: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) return undefined;
    const type = text.slice(i, eq);
    if (!/^\s*[A-Za-z0-9.-]+$/.test(type)) return undefined;
    i = eq + 1;
    const bytes: number[] = [];
    const hexForm = text[i] === "#";
    while (i < text.length && text[i] !== "," && text[i] !== "+") {
      const ch = text[i]!;
      if (ch === "\\") {
        const pair = text.slice(i + 1, i + 3);
        if (/^[0-9A-Fa-f]{2}$/.test(pair)) {
          bytes.push(parseInt(pair, 16));
          i += 3;
          continue;
        }
        if (i + 1 >= text.length) return undefined;
        i++;
      }
      const cp = text.codePointAt(i)!;
      bytes.push(...Buffer.from(String.fromCodePoint(cp), "utf8"));
      i += cp > 0xffff ? 2 : 1;
    }
    const raw = Buffer.from(bytes).toString("utf8");
    const decoded = hexForm && /^#[0-9A-Fa-f]+$/.test(raw) ? derString(raw.slice(1)) : undefined;
    const value = decoded ?? (hexForm ? raw.toLowerCase() : raw);
    out.push(`${typeOid(type)}=${value}`);
    if (i < text.length) {
      i++; // the separator
      if (i === text.length) return undefined; // nothing after it
    }
  }
  return out.length > 0 ? out : undefined;
}

/** "<OID>=<value>" back to a readable attribute (2.5.4.3=admin -> CN=admin). */
const readable = (attribute: string): string => {
  const eq = attribute.indexOf("=");
  const oid = attribute.slice(0, eq);
  return `${SHORT_NAMES[oid] ?? oid}=${attribute.slice(eq + 1)}`;
};

/** Undefined when equal as multisets of attributes, else what differs. */
export function rdnSetDifference(expected: string, observed: string): string | undefined {
  const want = dnAttributes(expected);
  const got = dnAttributes(observed);
  if (!want) return `the expected value is not a distinguished name`;
  if (!got) return `the observed value is not a distinguished name`;
  const missing = [...want];
  const unexpected: string[] = [];
  for (const a of got) {
    const at = missing.indexOf(a);
    if (at >= 0) missing.splice(at, 1);
    else unexpected.push(a);
  }
  if (missing.length === 0 && unexpected.length === 0) return undefined;
  return [missing.length ? `missing ${missing.map(readable).join(", ")}` : "", unexpected.length ? `unexpected ${unexpected.map(readable).join(", ")}` : ""]
    .filter(Boolean)
    .join("; ");
}
