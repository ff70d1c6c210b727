// The reports of a run at 1,000 Ingresses and 13,515 checks (the size at which report.html was
// 46 MB and summary.md over GitHub's 1 MiB cap), from the evidence of a real --manifests run on the
// nginx target scaled up (scaled-evidence.ts), with failures, errors and harness faults in it:
// summary.md under 1 MiB, report.html an index and pages each under 3 MB opened in Chromium,
// evidence.json byte for byte what JSON.stringify writes, JUnit valid for xmllint, every file
// listed and covered by the signature.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";

import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

import { runConformance } from "../run/run.ts";
import { writeIngressZoo } from "../testing/ingress-zoo.ts";
import { ENVELOPE_FILE, listArtifacts, MANIFEST_FILE, PUBLIC_KEY_FILE, signReportDir, verifyReportDir } from "./attestation.ts";
import { evidenceJsonChunks, type Evidence } from "./evidence.ts";
import { PAGE_CHECKS, writeReportHtml } from "./report-pages.ts";
import { renderSummaryMarkdown, SUMMARY_LIMIT } from "./report-summary.ts";
import { recompute, scaleEvidence } from "./scaled-evidence.ts";
import { writeReports } from "./write-reports.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { taint } from "../testing/taint.ts";

const XSD = new URL("../../fixtures/junit.xsd", import.meta.url).pathname;
const CHROMIUM = "/usr/bin/chromium";
const INGRESSES = 1000;
const CHECKS = 13_515;
const MB = 1024 * 1024;

const tempDir = tempDirs();

/** Every file under `dir`, relative, `/`-separated. */
const walk = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split("\\").join("/"));

let small: Evidence;
let ev: Evidence;
let dir: string;
let writeMs: number;
const failingIngresses = new Set<string>();
const erringIngresses = new Set<string>();

beforeAll(async () => {
  // A real run: 20 varied Ingresses of the zoo on the nginx target.
  const zoo = await writeIngressZoo(tempDir("reports-zoo-"), 20);
  const runDir = tempDir("reports-base-");
  small = (await runConformance({ target: "nginx", reportDir: runDir, manifests: zoo.dir, command: "test", log: () => undefined })).evidence;

  const scaled = scaleEvidence(small, { ingresses: INGRESSES, checks: CHECKS });
  // Failures in every 37th Ingress; in every 97th, a check that failed while the harness was at fault.
  for (const [n, ing] of scaled.ingresses.entries()) {
    const own = scaled.scenarios.filter((s) => s.group === ing.id && s.verdict === "pass");
    if (own.length && n % 37 === 3) {
      failingIngresses.add(ing.id);
      for (const s of own.slice(0, 2)) {
        s.verdict = "fail";
        s.mismatches = [`status: expected ${s.expected.status}, observed 200`, "upstream: expected not reached, observed reached"];
      }
    }
    if (own.length > 2 && n % 97 === 11) {
      erringIngresses.add(ing.id);
      const s = own.at(-1)!;
      s.verdict = "error";
      s.mismatches = ["harness fault: nginx error.log: 1024 worker_connections are not enough (4 times, first at 2026-12-02T19:40:01Z): this failure is not evidence against the Ingress (the suite broke; run it again)"];
    }
  }
  const fault = { source: "nginx error.log", message: "1024 worker_connections are not enough", at: "2026-12-02T19:40:01Z" };
  scaled.harnessFaults = [fault, fault, fault, { ...fault, at: "2026-12-02T19:40:03Z" }];
  scaled.runErrors = ["harness fault: nginx error.log: 1024 worker_connections are not enough (4 times, first at 2026-12-02T19:40:01Z)"];
  ev = recompute(scaled);

  // Written where the real run's other files are, as a run writes its reports beside its diagnostics.
  dir = tempDir("reports-scaled-");
  cpSync(runDir, dir, { recursive: true });
  for (const f of ["report.html", "evidence.json", "summary.md", "junit.xml", MANIFEST_FILE, ENVELOPE_FILE, PUBLIC_KEY_FILE]) rmSync(join(dir, f), { force: true });
  const t = performance.now();
  await writeReports(ev, [{ file: "junit.xml", ids: new Set(ev.scenarios.map((s) => s.id)) }], dir, ev.artifacts);
  writeMs = Math.round(performance.now() - t);
  // Signed last, as the run signs it.
  await signReportDir(dir, ev);
}, 180_000);

describe(`writeReports at ${INGRESSES} Ingresses and ${CHECKS} checks`, () => {
  it("the evidence is what the checks below assume", () => {
    expect(ev.ingresses).toHaveLength(INGRESSES);
    expect(ev.scenarios).toHaveLength(CHECKS);
    expect(new Set(ev.scenarios.map((s) => s.id)).size).toBe(CHECKS);
    expect(ev.totals.fail).toBeGreaterThan(40);
    expect(ev.totals.error).toBe(erringIngresses.size);
    console.log(`writeReports at ${CHECKS} checks: ${writeMs} ms`);
  });

  it("summary.md is under 1 MiB, says the suite broke first, and names every failing Ingress with its first mismatches", () => {
    const md = readFileSync(join(dir, "summary.md"), "utf8");
    expect(Buffer.byteLength(md)).toBeLessThan(SUMMARY_LIMIT);
    expect(md.split("\n")[0]).toMatch(/^## mTLS conformance: SUITE FAULT — no verdict on the Ingresses \(the harness broke; exit 3\)/);
    expect(md).toContain("harness fault, nginx error.log first at 2026-12-02T19:40:01Z (4 times): 1024 worker\\_connections are not enough");
    const failures = md.split("### Failures\n")[1]!.split("\n### ")[0]!;
    for (const id of failingIngresses) expect(failures).toContain(`| ${id} | 2 of `);
    expect(failures).toContain("status: expected 400, observed 200");
    const errors = md.split("### Errors (no verdict: the harness was at fault)\n")[1]!.split("\n### ")[0]!;
    for (const id of erringIngresses) expect(errors).toContain(`| ${id} | 1 of `);
    expect(md).toContain("### Reproduce");
  });

  it("summary.md, every check failing: still under 1 MiB, every failing Ingress named", () => {
    const worst = structuredClone(ev);
    for (const s of worst.scenarios) {
      s.verdict = "fail";
      s.mismatches = [`status: expected ${s.expected.status}, observed 200 ${"x".repeat(300)}`, "upstream: expected not reached, observed reached", "body: expected a marker, observed another"];
    }
    const md = renderSummaryMarkdown(recompute(worst));
    expect(Buffer.byteLength(md)).toBeLessThan(SUMMARY_LIMIT);
    const failures = md.split("### Failures\n")[1]!.split("\n### ")[0]!;
    for (const i of worst.ingresses.filter((x) => worst.scenarios.some((s) => s.group === x.id))) expect(failures, i.id).toContain(`| ${i.id} | `);
  });

  it("summary.md above its budget: the Ingresses that passed every check are a count with a pointer to report.html, the others stay", () => {
    const md = renderSummaryMarkdown(ev, { budget: 64 * 1024 });
    expect(Buffer.byteLength(md)).toBeLessThan(72 * 1024);
    const table = md.split("### Ingresses\n")[1]!.split("\n### ")[0]!;
    const clean = ev.ingresses.filter((i) => !i.totals.fail && !i.totals.error && !i.totals.finding && !i.notServed && !(i.checked === 0 && Object.keys(i.declared).length));
    expect(table).toContain(`${clean.length} Ingress(es) passed every check and are not listed (report.html lists every Ingress)`);
    for (const id of [...failingIngresses, ...erringIngresses]) expect(md).toContain(`| ${id} |`);
    expect(table).not.toContain(`| ${clean[0]!.id} |`);
  });

  it("report.html is an index of every Ingress, failures and faults first, linking to pages of whole Ingresses, each under 3 MB", () => {
    const index = readFileSync(join(dir, "report.html"), "utf8");
    expect(index.length).toBeLessThan(3 * MB);
    const ids = [...index.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.slice(0, 3)).toEqual(["faults", "overview", "failures"]);
    expect(index).toMatch(/<div id="verdict" class="verdict suite-fault" data-verdict="suite-fault">SUITE FAULT<\/div>/);
    const rows = [...index.matchAll(/<tr class="ingress ([a-z-]+)" data-group="([^"]+)"><td><a href="([^"#]+)#([^"]+)"/g)];
    expect(rows.map((r) => r[2]).sort()).toEqual(ev.ingresses.map((i) => i.id).sort());
    // Failures and errors first.
    const bad = rows.map((r) => r[1] === "fail" || r[1] === "error");
    expect(bad.indexOf(false)).toBe(new Set([...failingIngresses, ...erringIngresses]).size);
    expect(bad.lastIndexOf(true)).toBe(bad.indexOf(false) - 1);

    const pages = walk(join(dir, "report")).filter((f) => /^\d{4}\.html$/.test(f)).sort();
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(CHECKS / PAGE_CHECKS));
    const seenChecks: string[] = [];
    const seenGroups: string[] = [];
    for (const p of pages) {
      const html = readFileSync(join(dir, "report", p), "utf8");
      expect(statSync(join(dir, "report", p)).size, p).toBeLessThan(3 * MB);
      const checks = [...html.matchAll(/<tr class="scenario [a-z-]+" id="[^"]+" data-scenario-id="([^"]+)"/g)].map((m) => m[1]!);
      const groups = [...html.matchAll(/<section class="card unit" id="[^"]+" data-group="([^"]+)"/g)].map((m) => m[1]!);
      expect(checks.length, p).toBeLessThanOrEqual(PAGE_CHECKS);
      seenChecks.push(...checks);
      seenGroups.push(...groups);
      // Its failures and errors, listed first.
      const failed = [...html.split('<section class="card unit"')[0]!.matchAll(/<li class="(failure|error-item)" data-scenario-id="([^"]+)"/g)].map((m) => m[2]);
      const here = new Set(checks);
      expect(failed.sort()).toEqual(ev.scenarios.filter((s) => here.has(s.id) && (s.verdict === "fail" || s.verdict === "error")).map((s) => s.id).sort());
    }
    // Every check on exactly one page, every Ingress whole on one page, in the index's order.
    expect(seenChecks.sort()).toEqual(ev.scenarios.map((s) => s.id).sort());
    expect(seenGroups).toEqual(rows.map((r) => r[2]));
    const anchors = new Map<string, Set<string>>();
    for (const r of rows) {
      if (!anchors.has(r[3]!)) anchors.set(r[3]!, new Set([...readFileSync(join(dir, r[3]!), "utf8").matchAll(/ id="([^"]+)"/g)].map((m) => m[1]!)));
      expect(anchors.get(r[3]!)!.has(r[4]!), `${r[3]}#${r[4]}`).toBe(true);
    }
  });

  it("every page is self-contained: the CSP, no script, nothing loaded, and every link resolves in the report directory", () => {
    for (const f of ["report.html", ...walk(join(dir, "report")).map((p) => `report/${p}`)]) {
      const html = readFileSync(join(dir, f), "utf8");
      expect(html, f).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
      expect(html, f).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i);
      expect(html, f).not.toMatch(/\ssrc\s*=|@import|url\s*\(/i);
      const targets = new Set([...html.matchAll(/\shref="([^"#]*)(#[^"]*)?"/g)].map((m) => m[1]!).filter(Boolean));
      for (const href of targets) {
        expect(href, f).not.toMatch(/^([a-z][a-z0-9+.-]*:|\/)/i);
        expect(existsSync(resolve(dirname(join(dir, f)), decodeURI(href))), `${f} -> ${href}`).toBe(true);
      }
    }
  });

  it("every file written is in the artifacts and in evidence.json; the signature covers the pages", async () => {
    const written = walk(dir);
    const recorded = JSON.parse(readFileSync(join(dir, "evidence.json"), "utf8")).artifacts as Record<string, string>;
    for (const f of written.filter((x) => x === "report.html" || x.startsWith("report/") || ["evidence.json", "summary.md", "junit.xml"].includes(x))) {
      expect(ev.artifacts[f], f).toBe(f);
      expect(recorded[f], f).toBe(f);
    }
    expect(written.filter((f) => f.startsWith("report/")).length).toBeGreaterThan(13);

    const v = await verifyReportDir(dir);
    expect(v.problems).toEqual([]);
    expect(v.checkedFiles).toBe((await listArtifacts(dir)).length);
    const subjects = JSON.parse(Buffer.from(JSON.parse(readFileSync(join(dir, ENVELOPE_FILE), "utf8")).payload, "base64").toString("utf8")).subject.map((x: { name: string }) => x.name);
    for (const f of written.filter((x) => x.startsWith("report/"))) expect(subjects, f).toContain(f);
    // A run whose harness broke is FAILED in the signed statement, its erred checks among the failed.
    const predicate = JSON.parse(Buffer.from(JSON.parse(readFileSync(join(dir, ENVELOPE_FILE), "utf8")).payload, "base64").toString("utf8")).predicate;
    expect(predicate.result).toBe("FAILED");
    expect(predicate.failedTests).toEqual(expect.arrayContaining(ev.scenarios.filter((s) => s.verdict === "error").map((s) => s.id)));

    const signed = tempDir("reports-signed-");
    cpSync(dir, signed, { recursive: true });
    const page = join(signed, "report", "0002.html");
    const bytes = readFileSync(page);
    const at = bytes.length >> 1;
    bytes[at] = bytes[at]! ^ 1;
    writeFileSync(page, bytes);
    expect((await verifyReportDir(signed)).problems[0]).toBe("report/0002.html: changed (SHA-256 differs from the signed manifest)");
  });

  it("evidence.json, written as a stream, is JSON.stringify(evidence, null, 2) byte for byte, here and for a small run", () => {
    expect(readFileSync(join(dir, "evidence.json"), "utf8") === JSON.stringify(ev, null, 2) + "\n").toBe(true);
    expect([...evidenceJsonChunks(small)].join("")).toBe(JSON.stringify(small, null, 2) + "\n");
    // What JSON.stringify leaves out or writes as null, and empty arrays and objects.
    const odd = { ...structuredClone(small), scenarios: [], runErrors: [], extra: undefined, fn: () => 1, list: [1, undefined, () => 2], nested: { a: undefined, b: [] } } as unknown as Evidence;
    expect([...evidenceJsonChunks(odd)].join("")).toBe(JSON.stringify(odd, null, 2) + "\n");
    expect([...evidenceJsonChunks({} as Evidence)].join("")).toBe(JSON.stringify({}, null, 2) + "\n");
  });

  it("junit.xml validates against fixtures/junit.xsd and counts every check, failure and error", () => {
    const file = join(dir, "junit.xml");
    const r = spawnSync("xmllint", ["--noout", "--schema", XSD, file], { encoding: "utf8" });
    expect(r.stderr).toContain("validates");
    const head = readFileSync(file, "utf8").slice(0, 300);
    expect(head).toMatch(new RegExp(`<testsuites [^>]*tests="${CHECKS}" failures="${ev.totals.fail}" errors="${ev.totals.error}"`));
  });

  it("paged, every string and key from the evidence is escaped on every page", async () => {
    const MARK = `<i class="evil">'"&</i>`;
    const FREE_FORM = new Set(["target.versions", "artifacts", "run.options", "run.timingsMs", "scenarios.observed.upstreamHeaders", "ingresses.declared", "ingresses.effective"]);
    const tainted = taint(small as Evidence, MARK, FREE_FORM);
    const out = tempDir("reports-tainted-");
    const files: string[] = [];
    await writeReportHtml(tainted, out, (f) => files.push(f), { pageChecks: 50 });
    expect(files.filter((f) => /^report\/\d{4}\.html$/.test(f)).length).toBeGreaterThan(2);
    expect(files.sort()).toEqual(walk(out).sort());
    for (const f of files) {
      const html = readFileSync(join(out, f), "utf8");
      expect(html, f).not.toContain("<i");
      expect(html, f).toContain("&lt;i class=&quot;evil&quot;&gt;&#39;&quot;&amp;&lt;/i&gt;");
    }
  });

  it("the index and a page open from file:// in headless Chromium, fetch nothing, and the index links to the page", async () => {
    expect(existsSync(CHROMIUM), "chromium is needed (apt-get install chromium)").toBe(true);
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      const index = pathToFileURL(join(dir, "report.html")).href;
      await page.goto(index, { waitUntil: "load" });
      const verdict = page.locator("#verdict");
      expect((await verdict.textContent())?.trim()).toBe("SUITE FAULT");
      expect(await verdict.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(130, 80, 223)");
      expect(await page.locator("#suite-fault").innerText()).toContain("SUITE FAULT — no verdict on the Ingresses");
      expect(await page.locator("#faults .fault").count()).toBe(1);
      expect(await page.locator("#ingresses tr.ingress").count()).toBe(INGRESSES);

      const first = page.locator("#ingresses tr.ingress").first();
      const group = await first.getAttribute("data-group");
      await first.locator("a").first().click();
      await page.waitForLoadState("load");
      expect(page.url()).toMatch(/\/report\/0001\.html#group-/);
      expect(await page.locator(`section.unit[data-group="${group}"]`).isVisible()).toBe(true);
      // The page's failures and errors come first, errors in their own colour.
      expect(await page.locator("main > section").first().getAttribute("id")).toBe("failures");
      const erred = page.locator("#failures li.error-item .badge.error");
      if (await erred.count()) expect(await erred.first().evaluate((el) => getComputedStyle(el).color)).toBe("rgb(130, 80, 223)");
      expect(await page.locator("#page-totals .stat.total .n").textContent()).toBe(String(await page.locator("tr.scenario").count()));
      expect(requests).toEqual([index, pathToFileURL(join(dir, "report", "0001.html")).href]);
    } finally {
      await browser.close();
    }
  });
});
