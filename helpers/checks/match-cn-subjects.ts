// Certificate subjects for a match-cn pattern: one whose subject DN the pattern matches, one it
// does not, and the substring trick (another CN, the matching text hidden in O). Candidates come
// from randexp (strings generated from the regex) and are kept only when the pattern, as the
// controller validated it (RE2), really matches or misses the DN nginx will print for them.
import RandExpModule from "randexp";
import { parseSimpleRfc2253, rfc2253OfRdns, type SimpleRdn } from "../model/distinguished-name.ts";
import { matchesCn } from "../model/outcome.ts";

export interface MatchCnSubjects {
  /** A subject the pattern matches (certificate order). */
  matching?: SimpleRdn[];
  notMatching?: SimpleRdn[];
  /** CN=mtls-intruder with a matching text in O: matched (a finding) or refused. */
  trick?: { rdns: SimpleRdn[]; matches: boolean };
  /** Why a subject could not be derived. */
  problems: string[];
}

export const INTRUDER_CN = "mtls-intruder";

/** The pattern as a JavaScript regex for randexp; RE2's inline flags become flags of the whole regex. */
function jsRegex(pattern: string): RegExp | undefined {
  let flags = "";
  const body = pattern.replace(/\(\?([imsU]+)\)/g, (_m, f: string) => {
    flags += f.replace(/[^ims]/g, "");
    return "";
  });
  try {
    return new RegExp(body, [...new Set(flags)].join(""));
  } catch {
    return undefined;
  }
}

// randexp is CommonJS (module.exports = RandExp) while its types declare an ES default export.
const RandExp = RandExpModule as unknown as typeof RandExpModule.default;

/** A small seeded generator (mulberry32): the same pattern gives the same subjects on every run. */
function seeded(text: string): () => number {
  let a = [...text].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function candidates(pattern: string, count: number): string[] {
  const re = jsRegex(pattern);
  if (!re) return [];
  const gen = new RandExp(re);
  // Deterministic, so that two runs present the same certificates and diff sees no change.
  const random = seeded(pattern);
  gen.randInt = (from: number, to: number) => from + Math.floor(random() * (to - from + 1));
  // Letters, digits and "-": values that need no escaping in a DN.
  gen.defaultRange.subtract(32, 126);
  gen.defaultRange.add(48, 57);
  gen.defaultRange.add(97, 122);
  gen.defaultRange.add(45, 45);
  gen.max = 3;
  const out = new Set<string>();
  for (let i = 0; i < count * 3 && out.size < count; i++) out.add(gen.gen());
  return [...out];
}

/** A text as a subject: itself when it is a simple DN, else as a CN value. */
function asSubject(text: string): SimpleRdn[] | undefined {
  return parseSimpleRfc2253(text) ?? parseSimpleRfc2253(`CN=${text}`);
}

export function deriveMatchCnSubjects(pattern: string): MatchCnSubjects {
  const problems: string[] = [];
  const out: MatchCnSubjects = { problems };
  const matches = (rdns: SimpleRdn[]) => matchesCn(pattern, rfc2253OfRdns(rdns));

  const generated = candidates(pattern, 24);
  if (generated.length === 0) problems.push(`no string could be generated from ${pattern} (randexp reads JavaScript regex syntax)`);
  // Prefer subjects with a CN, then shorter ones.
  const subjects = generated
    .map(asSubject)
    .filter((r): r is SimpleRdn[] => !!r)
    .sort((a, b) => Number(b.some((r) => r.type === "CN")) - Number(a.some((r) => r.type === "CN")) || rfc2253OfRdns(a).length - rfc2253OfRdns(b).length);
  out.matching = subjects.find(matches);
  if (!out.matching && generated.length) problems.push(`none of ${generated.length} strings generated from ${pattern} is a subject DN the pattern matches`);

  const misses: SimpleRdn[][] = [
    [{ type: "CN", value: "mtls-conformance-unmatched" }],
    [{ type: "O", value: "mtls-conformance" }, { type: "CN", value: "zz-0" }],
    [{ type: "OU", value: "x" }],
  ];
  out.notMatching = misses.find((r) => !matches(r));
  if (!out.notMatching) problems.push(`every subject tried matches ${pattern}`);

  // The trick: the matching text as the value of O, the CN someone else's.
  const text = out.matching ? rfc2253OfRdns(out.matching) : undefined;
  const intruderAlone: SimpleRdn[] = [{ type: "CN", value: INTRUDER_CN }];
  if (text && !text.includes(",") && !matches(intruderAlone)) {
    const layouts: SimpleRdn[][] = [
      [{ type: "O", value: text }, { type: "CN", value: INTRUDER_CN }],
      [{ type: "CN", value: INTRUDER_CN }, { type: "O", value: text }],
    ].filter((r) => parseSimpleRfc2253(rfc2253OfRdns(r)) !== undefined);
    const hit = layouts.find(matches);
    if (hit) out.trick = { rdns: hit, matches: true };
    else if (layouts[0]) out.trick = { rdns: layouts[0], matches: false };
  }
  return out;
}

/**
 * Whether the pattern is anchored at the end of the DN. It can never be anchored at the start: the
 * value must begin with "CN=", so a "^" cannot come first.
 */
export function anchoredAtEnd(pattern: string): boolean {
  return /(^|[^\\])\$$/.test(pattern);
}
