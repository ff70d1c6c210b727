// junit.xml from the evidence: one <testsuite> per group (a catalogue suite, or an Ingress with its
// declared policy as properties), one <testcase> per check with its id, MUST statement, credential
// fingerprint, controls and the basis of its expectation. A failed check is a <failure>; a check
// that erred because the harness was at fault (verdict `error`) is an <error>, which CI systems
// count apart from failures.
//
// Written as a stream, a testcase at a time: at 13,500 checks the whole document as one string
// (and junit-report-builder's tree behind it) cost hundreds of MB. No streaming XML library is a
// dependency (xmlbuilder2's createCB would be; adding it is a package.json change), and the
// structure is four elements deep, so this is a small writer; junit.test.ts validates its output
// with xmllint against fixtures/junit.xsd, hostile characters included.
import type { Inventory } from "../inventory/inventory.ts";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Evidence, IngressEvidence, ScenarioEvidence } from "./evidence.ts";

/** Characters XML 1.0 cannot hold at all, even escaped (C0 controls, lone surrogates, U+FFFE/U+FFFF). */
const NOT_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
/** Visible in the report, so a reader knows something was there. */
const REPLACEMENT = "\uFFFD";

/** Text for a double-quoted attribute; tabs and line breaks as references so attribute normalisation keeps them. */
export function xmlAttr(value: unknown): string {
  return String(value ?? "")
    .replace(NOT_XML, REPLACEMENT)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/\t/g, "&#x9;")
    .replace(/\n/g, "&#xA;")
    .replace(/\r/g, "&#xD;");
}

/**
 * Element text, escaped rather than in CDATA: a parser turns a literal CR into LF (in CDATA too),
 * and a response body's CRLF is evidence, so CR is written as a reference.
 */
export function xmlText(value: unknown): string {
  return String(value ?? "")
    .replace(NOT_XML, REPLACEMENT)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r/g, "&#xD;");
}

type Property = [name: string, value: string];

const propertiesXml = (props: Property[], indent: string): string =>
  props.length
    ? `${indent}<properties>\n${props.map(([n, v]) => `${indent}  <property name="${xmlAttr(n)}" value="${xmlAttr(v)}"/>\n`).join("")}${indent}</properties>\n`
    : "";

function caseProperties(s: ScenarioEvidence): Property[] {
  const p: Property[] = [
    ["scenario-id", s.id],
    ["must", s.must],
    ["credential-sha256", s.credentialSha256 ? `sha256:${s.credentialSha256}` : "none"],
  ];
  for (const c of s.controls) p.push(["control", c]);
  if (s.host) p.push(["host", s.host]);
  if (s.credentialDescription) p.push(["credential", s.credentialDescription]);
  if (s.finding) p.push(["finding", s.finding.statement]);
  if (s.verdict === "finding" || s.verdict === "guarantee-lost" || s.verdict === "error") p.push(["verdict", s.verdict]);
  if (s.migration) {
    p.push(["profile", `${s.migration.profile} ${s.migration.versions}`], ["class", s.migration.class], ["guarantee", s.migration.guarantee], ["class-because", s.migration.reason]);
    for (const src of s.migration.sources) p.push(["class-source", `[${src.basis}] ${src.ref}`]);
  }
  if (s.basis) {
    p.push(["expected-because", s.basis.explanation]);
    for (const source of s.basis.sources) p.push(["source", source]);
  }
  if (s.skipReason) p.push(["skip-reason", s.skipReason]);
  return p;
}

function suiteProperties(ingress: IngressEvidence | undefined, inventory?: Inventory): Property[] {
  if (!ingress) return [];
  return [
    ["ingress", ingress.id],
    ...ingress.hosts.map((h): Property => ["host", h]),
    ...Object.entries(ingress.declared).map(([k, v]): Property => [`annotation ${k}`, v]),
    ...Object.entries(ingress.effective).map(([h, e]): Property => [`effective ${h}`, e]),
    // What it trusts and serves (PCI DSS 4.0 4.2.1.1: an inventory of trusted keys and certificates).
    ...(inventory?.trustAnchors ?? []).filter((a) => a.ingresses.includes(ingress.id)).map((a): Property => ["trust-anchor", `${a.subject}; sha256 ${a.sha256}; valid ${a.notBefore} to ${a.notAfter}`]),
    ...(inventory?.serverCertificates ?? []).filter((c) => ingress.hosts.includes(c.host)).map((c): Property => [`server-certificate ${c.host}`, `sha256 ${c.sha256}; names ${c.sans.join(" ")}; valid to ${c.notAfter}`]),
  ];
}

/** The faults an erred check names, else every fault of the run: an <error> must say what broke. */
function faultText(evidence: Evidence, s: ScenarioEvidence): string {
  if (s.mismatches.length) return s.mismatches.join("\n");
  const faults = (evidence.harnessFaults ?? []).map((f) => `harness fault (${f.source}${f.at ? `, ${f.at}` : ""}): ${f.message}`);
  return [...faults, ...(faults.length ? [] : evidence.runErrors)].join("\n") || "the harness was at fault (no detail recorded)";
}

function testcaseXml(evidence: Evidence, group: string, s: ScenarioEvidence): string {
  const name = s.id.includes("#") ? s.id : `${s.id} ${s.name}`;
  const time = Math.round(s.durationMs ?? 0) / 1000;
  let body = propertiesXml(caseProperties(s), "      ");
  if (s.verdict === "fail") {
    const text = s.mismatches.join("\n") || "failed";
    body += `      <failure message="${xmlAttr(`${s.id} ${s.name}: ${s.must}\n${text}`)}" type="mismatch">${xmlText(text)}</failure>\n`;
  } else if (s.verdict === "error") {
    // Not a failure of the Ingress: the suite broke while this check ran (the run exits 3).
    const text = faultText(evidence, s);
    body += `      <error message="${xmlAttr(`${s.id} ${s.name}: no verdict, the harness was at fault\n${text}`)}" type="harness-fault">${xmlText(text)}</error>\n`;
  } else if (s.verdict === "skip") {
    body += `      <skipped/>\n      <system-out>${xmlText(`skipped: ${s.skipReason ?? "no reason given"}`)}</system-out>\n`;
  }
  return `    <testcase classname="${xmlAttr(group)}" name="${xmlAttr(name)}" time="${time}"${body ? `>\n${body}    </testcase>` : "/>"}\n`;
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function count(list: ScenarioEvidence[]): Counts {
  const c = { tests: list.length, failures: 0, errors: 0, skipped: 0 };
  for (const s of list) {
    if (s.verdict === "fail") c.failures++;
    else if (s.verdict === "error") c.errors++;
    else if (s.verdict === "skip") c.skipped++;
  }
  return c;
}

const countAttrs = (c: Counts) => `tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}"`;

/** Local time without zone, as junit-report-builder wrote it (and Surefire does). */
function timestamp(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The document in pieces: a testsuite's opening, then each testcase, so no piece is large. */
export function* junitChunks(evidence: Evidence, scenarios: ScenarioEvidence[] = evidence.scenarios): Generator<string> {
  // Grouped in one pass, in order of first appearance (filtering per group is quadratic).
  const groups = new Map<string, ScenarioEvidence[]>();
  for (const s of scenarios) {
    const list = groups.get(s.group);
    if (list) list.push(s);
    else groups.set(s.group, [s]);
  }
  const ingresses = new Map((evidence.ingresses ?? []).map((i) => [i.id, i]));
  const stamp = timestamp(evidence.run.startedAt);
  yield `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xmlAttr(`mtls-conformance ${evidence.target.kind}`)}" ${countAttrs(count(scenarios))}>\n`;
  for (const [group, list] of groups) {
    const props = propertiesXml(suiteProperties(ingresses.get(group), evidence.inventory), "    ");
    yield `  <testsuite name="${xmlAttr(group)}"${stamp ? ` timestamp="${stamp}"` : ""} ${countAttrs(count(list))}>\n${props}`;
    for (const s of list) yield testcaseXml(evidence, group, s);
    yield `  </testsuite>\n`;
  }
  yield `</testsuites>`;
}

/** The JUnit file holding the given checks, grouped as the evidence groups them, as one string (small sets, tests). */
export function renderJunit(evidence: Evidence, scenarios: ScenarioEvidence[] = evidence.scenarios): string {
  return [...junitChunks(evidence, scenarios)].join("");
}

/** Writes the JUnit file as a stream: memory stays at one testcase, whatever the number of checks. */
export async function writeJunit(path: string, evidence: Evidence, scenarios: ScenarioEvidence[] = evidence.scenarios): Promise<void> {
  await pipeline(Readable.from(batched(junitChunks(evidence, scenarios))), createWriteStream(path));
}

/** Joins small pieces into ~64 KiB writes: a stream write per testcase costs more than the text. */
export function* batched(chunks: Iterable<string>, size = 64 * 1024): Generator<string> {
  let buffer: string[] = [];
  let length = 0;
  for (const c of chunks) {
    buffer.push(c);
    length += c.length;
    if (length >= size) {
      yield buffer.join("");
      buffer = [];
      length = 0;
    }
  }
  if (buffer.length) yield buffer.join("");
}
