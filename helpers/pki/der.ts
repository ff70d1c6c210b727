// The little DER the PKI writes and reads by hand: TLV headers, and walking a SEQUENCE's
// elements. Everything with a choice in it (names, times, extensions' contents) is encoded by
// @peculiar/x509; this is only the framing around those parts (X.690 8.1, DER's shortest form).

/** One element: its tag, where it starts (its tag octet), where its content starts and where it ends. */
export interface Tlv {
  tag: number;
  at: number;
  start: number;
  end: number;
}

/** The element at `at`, which must end by `limit`. Single-octet tags only (all a certificate uses). */
export function readTlv(der: Uint8Array, at: number, limit = der.length): Tlv {
  if (at + 2 > limit) throw new Error("DER: truncated");
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) throw new Error("DER: multi-octet tags are not supported");
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new Error("DER: bad length");
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[start + i]!;
    start += n;
  }
  if (start + length > limit) throw new Error("DER: truncated");
  return { tag, at, start, end: start + length };
}

/** The elements inside a constructed element. */
export function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = readTlv(der, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

function header(tag: number, length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(tag, length);
  const octets: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) octets.unshift(l & 0xff);
  return Uint8Array.of(tag, 0x80 | octets.length, ...octets);
}

/** An element of tag `tag` whose content is `parts`, concatenated. */
export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const length = parts.reduce((n, p) => n + p.length, 0);
  return Buffer.concat([header(tag, length), ...parts]);
}

export const SEQUENCE = 0x30;
export const INTEGER = 0x02;
export const BIT_STRING = 0x03;
export const OCTET_STRING = 0x04;
