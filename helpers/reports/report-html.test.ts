// The HTML report and the Markdown step summary, rendered from the evidence of real runs on the
// nginx target (one that passes, one with a deliberately broken Ingress, and the whole catalogue,
// whose finding scenarios observe documented weaknesses, and a copy of the broken one in which the
// harness was at fault), checked as text and in a real headless Chromium opened from file://.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";


import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

import { ANNOTATION_PREFIX } from "../catalogue/catalogue.ts";
import { controlEvidence, findings, totals, type Evidence } from "./evidence.ts";
import type { Manifests } from "../manifests/manifests.ts";
import { certificateValidity, diagnosticArtifacts, escapeHtml, overallVerdict, renderReportHtml, verdictLabel } from "./report-html.ts";
import { renderSummaryMarkdown } from "./report-summary.ts";
import { ROOT, runConformance } from "../run/run.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { taint } from "../testing/taint.ts";

const CHROMIUM = "/usr/bin/chromium";
const INJECTED = "<script>alert(1)</script>";

interface Run {
  evidence: Evidence;
  reportDir: string;
}

const tempDir = tempDirs();

async function run(only?: string, alterManifests?: (m: Manifests) => Manifests): Promise<Run> {
  const reportDir = tempDir("report-html-test-");
  const outcome = await runConformance({ target: "nginx", reportDir, only, command: `mtls-conformance run --target nginx --report-dir ${reportDir}`, log: () => undefined, alterManifests });
  return { evidence: outcome.evidence, reportDir };
}

const depth2 = (m: Manifests): Manifests => {
  const ing = m.ingresses.find((i) => i.metadata?.name === "test-localhost");
  if (ing) ing.metadata!.annotations![ANNOTATION_PREFIX + "auth-tls-verify-depth"] = "2";
  return m;
};

const FINDING_ID = "MTLS-CLIENT-001";
const FINDING = { id: "x", statement: "Plain HTTP on port 80 reaches the backend without any client-certificate check (<no TLS at all>)." };

/**
 * A synthetic copy of a real run in which `id` observed a documented weakness: verdict `finding`,
 * the finding it documents, totals, controls and findings as the run would have written them.
 */
function withFinding(ev: Evidence, id = FINDING_ID): Evidence {
  const copy = structuredClone(ev);
  const s = copy.scenarios.find((x) => x.id === id)!;
  const was = s.verdict;
  s.verdict = "finding";
  s.finding = { ...FINDING };
  copy.totals = { ...copy.totals, [was]: (copy.totals[was] ?? 0) - 1, finding: copy.totals.finding + 1 };
  expect(copy.totals).toEqual(totals(copy.scenarios));
  copy.controls = controlEvidence(copy.controls, copy.scenarios);
  copy.findings = findings(copy.scenarios);
  return copy;
}

const FAULT = { source: "nginx error.log", message: "1024 worker_connections are not enough while connecting to upstream", at: "2026-12-02T19:40:01Z" };
const FAULT_LINE = `harness fault: ${FAULT.source}: ${FAULT.message} (3 times, first at ${FAULT.at})`;
const OTHER_ERROR = "suites/crl.conformance.ts: Error: the suite did not load";

/**
 * A copy of the failing run in which the harness was at fault, as the run records it: the fault
 * (seen three times), a line for it and another error in runErrors, and MTLS-CLIENT-010 erred
 * instead of failed, its first mismatch naming the fault.
 */
function withHarnessFault(ev: Evidence): Evidence {
  const copy = structuredClone(ev);
  const s = copy.scenarios.find((x) => x.id === "MTLS-CLIENT-010")!;
  s.verdict = "error";
  s.mismatches = [`${FAULT_LINE}: this failure is not evidence against the Ingress (the suite broke; run it again)`, ...s.mismatches];
  copy.harnessFaults = [FAULT, { ...FAULT, at: "2026-12-02T19:40:02Z" }, FAULT];
  copy.runErrors = [FAULT_LINE, OTHER_ERROR];
  copy.totals = totals(copy.scenarios);
  copy.controls = controlEvidence(copy.controls, copy.scenarios);
  return copy;
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The HTML of one `<section id="…">`. */
const section = (html: string, id: string) => html.split(`<section id="${id}"`)[1]!.split("</section>")[0]!;

/** Every `src`/`href`/`@import`/`url(` in the page, which must load nothing remote. */
function resourceReferences(html: string): { src: string[]; href: string[]; imports: number; urls: number } {
  return {
    src: [...html.matchAll(/\ssrc\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1]!),
    href: [...html.matchAll(/\shref\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1]!),
    imports: (html.match(/@import/gi) ?? []).length,
    urls: (html.match(/url\s*\(/gi) ?? []).length,
  };
}

const tableRows = (md: string, heading: string): string[] => {
  const section = md.split(`### ${heading}\n`)[1]!.split("\n### ")[0]!;
  return section.split("\n").filter((l) => l.startsWith("| ")).slice(1);
};
/** Cells of a Markdown table row, splitting on pipes that are not escaped. */
const cells = (row: string): string[] => row.slice(2, -2).split(/(?<!\\)\|/).map((c) => c.trim());

/** The suites that pass outright on nginx: no finding scenario among them. */
const PASSING_SUITES = "guide,client-auth,upstream-headers";

let passing: Run;
let failing: Run;
/** The whole catalogue: passes, with the findings its finding scenarios observe on nginx. */
let full: Run;

beforeAll(async () => {
  passing = await run(PASSING_SUITES);
  failing = await run("MTLS-CLIENT-009,MTLS-CLIENT-010", depth2);
  full = await run();
}, 180_000);

describe("renderReportHtml", () => {
  it("the runs are what the checks below assume: one passes fully, one fails on MTLS-CLIENT-010", () => {
    expect(passing.evidence.totals.fail).toBe(0);
    expect(passing.evidence.totals.pass).toBe(passing.evidence.totals.total);
    expect(failing.evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id)).toEqual(["MTLS-CLIENT-010"]);
    // The whole catalogue: nothing fails, and every non-pass is a finding of a finding scenario.
    const t = full.evidence.totals;
    expect(t).toMatchObject({ fail: 0, skip: 0 });
    expect(t.finding).toBeGreaterThan(0);
    expect(t.pass + t.finding).toBe(t.total);
    for (const s of full.evidence.scenarios.filter((x) => x.verdict === "finding")) expect(s.finding?.statement, s.id).toBeTruthy();
  });

  it("states the verdict, totals, target, why it was chosen, versions and the run", () => {
    const ev = passing.evidence;
    const html = renderReportHtml(ev);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toMatch(/<div id="verdict" class="verdict pass" data-verdict="pass">PASS<\/div>/);
    expect(renderReportHtml(failing.evidence)).toMatch(/id="verdict"[^>]*data-verdict="fail">FAIL</);
    expect(html).toContain(`<span class="n">${ev.totals.total}</span><span class="l">total</span>`);
    expect(ev.target.description).toContain("this is not the ingress-nginx controller");
    expect(html).toContain(escapeHtml(ev.target.description));
    expect(html).toContain(escapeHtml(ev.target.selection));
    expect(html).toContain(ev.target.versions.nginx!);
    for (const s of [ev.run.id, ev.run.startedAt, ev.run.finishedAt, ev.tool.version, ev.tool.node]) expect(html).toContain(s);
  });

  it("shows controller image digests when the target recorded them", () => {
    const ev = structuredClone(passing.evidence);
    const imageID = `registry.k8s.io/ingress-nginx/controller@sha256:${"ab".repeat(32)}`;
    ev.target.controllerImages = [{ pod: "ingress-nginx-controller-x", container: "controller", image: "registry.k8s.io/ingress-nginx/controller:v1.15.1", imageID }];
    expect(renderReportHtml(ev)).toContain(imageID);
  });

  it("loads nothing: no src, no remote href, no @import, no url()", () => {
    for (const r of [passing, failing]) {
      const refs = resourceReferences(renderReportHtml(r.evidence));
      expect(refs.src).toEqual([]);
      expect(refs.imports).toBe(0);
      expect(refs.urls).toBe(0);
      expect(refs.href.length).toBeGreaterThan(0);
      for (const href of refs.href) expect(href).not.toMatch(/^([a-z][a-z0-9+.-]*:|\/\/)/i);
      expect(renderReportHtml(r.evidence)).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i);
    }
  });

  it("escapes every string from the evidence: an injected script stays text", () => {
    const ev = structuredClone(passing.evidence);
    const s = ev.scenarios.find((x) => x.observed?.bodyExcerpt !== undefined)!;
    s.observed!.bodyExcerpt = INJECTED;
    s.verdict = "fail";
    s.mismatches = [`body: expected x, observed ${INJECTED}`];
    ev.target.description = INJECTED;
    ev.run.command = `mtls-conformance run ${INJECTED}`;
    ev.policies[0]!.annotations[INJECTED] = INJECTED;
    ev.certificates[0]!.subject = INJECTED;
    ev.artifacts[INJECTED] = `javascript:alert(1)`;
    const html = renderReportHtml(ev);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    // The body excerpt, the mismatch, description, command, annotation and subject: each escaped.
    expect(html.split("&lt;script&gt;alert(1)&lt;/script&gt;").length - 1).toBeGreaterThanOrEqual(7);
    expect(html).not.toMatch(/href="javascript:/i);
  });

  it("escapes every string and key anywhere in the evidence", () => {
    const MARK = `<i class="evil">'"&</i>`;
    // Every string value is tainted, and so are the keys of the free-form maps (annotations,
    // versions, headers seen and expected, artifacts, options, timings).
    const FREE_FORM = new Set([
      "policies.annotations",
      "target.versions",
      "artifacts",
      "run.options",
      "run.timingsMs",
      "scenarios.observed.upstreamHeaders",
      "scenarios.expected.upstreamHeaders.headers",
    ]);
    const tainted = taint(failing.evidence as Evidence, MARK, FREE_FORM);
    // Tainted header names, expected and observed, still reach the matrix.
    expect(Object.keys(tainted.scenarios[0]!.expected.upstreamHeaders!.headers!)[0]).toContain(MARK);
    expect(Object.keys(tainted.scenarios[0]!.observed!.upstreamHeaders!)[0]).toContain(MARK);
    const html = renderReportHtml(tainted);
    const md = renderSummaryMarkdown(tainted);
    expect(html).not.toContain("<i");
    expect(html).toContain("&lt;i class=&quot;evil&quot;&gt;&#39;&quot;&amp;&lt;/i&gt;");
    // Outside the fenced command block (literal there), no tag survives in the Markdown either.
    expect(md.replace(/```sh\n[\s\S]*?\n```/, "")).not.toContain("<i");
    expect(md).toContain("```sh\n" + tainted.run.command + "\n```");
  });

  it("lists exactly the failed scenarios under #failures, with their mismatches and the diagnostics", () => {
    const ev = failing.evidence;
    const html = renderReportHtml(ev);
    const failures = html.split('<section id="failures"')[1]!.split("</section>")[0]!;
    expect([...failures.matchAll(/class="failure" data-scenario-id="([^"]+)"/g)].map((m) => m[1])).toEqual(["MTLS-CLIENT-010"]);
    const s = ev.scenarios.find((x) => x.id === "MTLS-CLIENT-010")!;
    expect(failures).toContain(escapeHtml(s.must));
    expect(s.mismatches).toContain("status: expected 400, observed 200");
    expect(failures).toContain("status: expected 400, observed 200");
    const diagnostics = diagnosticArtifacts(ev);
    expect(diagnostics).toContain("nginx/nginx.conf");
    expect(diagnostics.some((d) => /^(junit|manifests|pki)/.test(d))).toBe(false);
    expect(diagnostics).not.toContain("evidence.json");
    for (const d of diagnostics) expect(failures).toContain(`<a href="${d}">`);

    const ok = renderReportHtml(passing.evidence).split('<section id="failures"')[1]!.split("</section>")[0]!;
    expect(ok).toContain("No failures.");
    expect(ok).not.toContain('class="failure"');
  });

  it("has one matrix row per scenario, grouped by suite in catalogue order, expected beside observed", () => {
    const ev = passing.evidence;
    const html = renderReportHtml(ev);
    const rows = [...html.matchAll(/<tr class="scenario (pass|fail|skip)" id="[^"]+" data-scenario-id="([^"]+)"/g)];
    expect(rows.map((m) => m[2])).toEqual(["guide", "client-auth", "upstream-headers"].flatMap((suite) => ev.scenarios.filter((s) => s.suite === suite).map((s) => s.id)));
    expect([...html.matchAll(/<table class="matrix" data-suite="([^"]+)"/g)].map((m) => m[1])).toEqual(["guide", "client-auth", "upstream-headers"]);
    // The guide's subject header: expected value and observed value both shown.
    const row = html.split('id="scenario-MTLS-GUIDE-002"')[1]!.split("</tr>\n")[0]!;
    expect(row.match(/O=MyOrganization,CN=authorized-client/g)?.length).toBeGreaterThanOrEqual(2);
    expect(row).toContain("ssl-client-verify");
    // A rejected request: the body marker beside the observed excerpt.
    const rejected = html.split('id="scenario-MTLS-GUIDE-001"')[1]!.split("</tr>\n")[0]!;
    expect(rejected).toContain("contains <q>No required SSL certificate was sent</q>");
    expect(rejected).toContain('class="excerpt"');
    expect(rejected).toContain("not reached");

    // The failed row has its status comparison flagged.
    const failed = renderReportHtml(failing.evidence).split('id="scenario-MTLS-CLIENT-010"')[1]!.split("</tr>\n")[0]!;
    expect(failed).toMatch(/<tr class="mismatch"><th scope="row">status<\/th><td><code>400<\/code><\/td><td><code>200<\/code><\/td><\/tr>/);
  });

  it("shows a skipped scenario's reason", () => {
    const ev = structuredClone(passing.evidence);
    const s = ev.scenarios[0]!;
    s.verdict = "skip";
    s.skipReason = "needs a CRL the target cannot load";
    ev.totals = { ...ev.totals, pass: ev.totals.pass - 1, skip: 1 };
    const html = renderReportHtml(ev);
    expect(html).toContain("skipped: needs a CRL the target cannot load");
    expect(html).toContain('data-verdict="pass"');
  });

  it("flags the deliberately expired certificate, and one that expires within 30 days", () => {
    const ev = passing.evidence;
    const html = renderReportHtml(ev);
    const expired = html.split('data-cert="client-expired"')[1]!.split("</tr>")[0]!;
    expect(html).toMatch(/<tr class="cert expired" data-cert="client-expired">/);
    expect(expired).toMatch(/expired \d+ days? ago/);
    expect(expired).toContain("test variant, on purpose");
    expect(html).toContain("expired or not yet valid on purpose");
    expect(html).toMatch(/<tr class="cert " data-cert="client">/);

    const client = ev.certificates.find((c) => c.name === "client")!;
    const now = new Date(Date.parse(client.notAfter) - 10 * 86_400_000 - 3_600_000);
    expect(certificateValidity(client, now)).toMatchObject({ expiring: true, expired: false, daysLeft: 10 });
    expect(renderReportHtml(ev, { now })).toMatch(/<tr class="cert expiring" data-cert="client">[\s\S]*?expires in 10 days/);
    const later = new Date(Date.parse(client.notAfter) + 1000);
    expect(certificateValidity(client, later)).toMatchObject({ expired: true, expiring: false });
  });

  it("a finding: PASS with an amber \"1 finding(s)\" badge beside it, counted in the totals, never as a pass", () => {
    const ev = withFinding(passing.evidence);
    expect(overallVerdict(ev)).toBe("pass");
    const html = renderReportHtml(ev);
    expect(html).toMatch(/<div id="verdict" class="verdict pass" data-verdict="pass">PASS<\/div><a id="findings-count" class="findings-badge" href="#findings"[^>]*>1 finding\(s\)<\/a>/);
    expect(html).toMatch(/<header class="top pass has-findings">/);
    const t = ev.totals;
    expect(t).toMatchObject({ pass: passing.evidence.totals.pass - 1, fail: 0, skip: 0, finding: 1, total: passing.evidence.totals.total });
    expect(html).toContain(`<div class="stat pass"><span class="n">${t.pass}</span><span class="l">passed</span></div>`);
    expect(html).toContain(`<div class="stat finding"><span class="n">1</span><span class="l">findings</span></div>`);
    expect(html).toContain(`<span class="n">${t.total}</span><span class="l">total</span>`);
    expect(html).toContain("1 finding(s)");
    expect(html).toMatch(/<title>PASS · [^<]*1 finding\(s\)/);

    // Findings and skips together still pass; a failure next to a finding fails; totals that do not add up fail.
    const skipped = structuredClone(ev);
    skipped.scenarios.find((x) => x.verdict === "pass")!.verdict = "skip";
    skipped.totals = totals(skipped.scenarios);
    expect(overallVerdict(skipped)).toBe("pass");
    const failed = structuredClone(ev);
    failed.scenarios.find((x) => x.verdict === "pass")!.verdict = "fail";
    failed.totals = totals(failed.scenarios);
    expect(overallVerdict(failed)).toBe("fail");
    expect(renderReportHtml(failed)).toMatch(/id="verdict"[^>]*data-verdict="fail">FAIL</);
    expect(overallVerdict({ ...ev, totals: { ...ev.totals, finding: 0 } })).toBe("fail");

    // No finding: no badge, and the totals say 0 findings.
    const clean = renderReportHtml(passing.evidence);
    expect(clean).not.toContain('id="findings-count"');
    expect(clean).not.toContain("finding(s)");
    expect(clean).toContain(`<div class="stat finding"><span class="n">0</span><span class="l">findings</span></div>`);
  });

  it("lists each finding under #findings, after the failures and before the matrix: id, statement, MUST, observed excerpt", () => {
    const ev = withFinding(passing.evidence);
    const html = renderReportHtml(ev);
    const ids = [...html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.indexOf("findings")).toBe(ids.indexOf("failures") + 1);
    expect(ids.indexOf("scenarios")).toBe(ids.indexOf("findings") + 1);
    expect(ids.filter((id) => id === "findings")).toHaveLength(1);

    const found = section(html, "findings");
    expect(html).toContain('<section id="findings" class="card has-findings">');
    expect([...found.matchAll(/class="finding-item" data-scenario-id="([^"]+)"/g)].map((m) => m[1])).toEqual([FINDING_ID]);
    const s = ev.scenarios.find((x) => x.id === FINDING_ID)!;
    expect(found).toContain(`<a href="#scenario-${FINDING_ID}">${FINDING_ID}</a>`);
    expect(found).toContain(escapeHtml(FINDING.statement));
    expect(found).not.toContain("<no TLS");
    expect(found).toContain(`<code class="finding-id">${FINDING.id}</code>`);
    expect(found).toContain(escapeHtml(s.must));
    expect(s.observed?.bodyExcerpt).toBeTruthy();
    expect(found).toContain(`<div class="excerpt">${escapeHtml(s.observed!.bodyExcerpt)}</div>`);
    expect(found).toContain(`status <code>${s.observed!.status}</code>`);
    // A finding is not a failure.
    expect(section(html, "failures")).toContain("No failures.");

    const none = section(renderReportHtml(passing.evidence), "findings");
    expect(none).toContain("No findings.");
    expect(none).not.toContain('class="finding-item"');
    expect(renderReportHtml(passing.evidence)).toContain('<section id="findings" class="card no-findings">');
  });

  it("badges a finding scenario apart from pass, fail and skip, in its row, its suite's counts and its controls", () => {
    const ev = withFinding(passing.evidence);
    const html = renderReportHtml(ev);
    const s = ev.scenarios.find((x) => x.id === FINDING_ID)!;
    // The row's own attributes (data-decided-by, ...) follow its id.
    const row = html.split(`<tr class="scenario finding" id="scenario-${FINDING_ID}" data-scenario-id="${FINDING_ID}"`)[1]!.split("</tr>\n")[0]!;
    expect(row).toContain('<span class="badge finding">FINDING</span>');
    expect(row).toContain(`<p class="finding-note"><span class="k">finding:</span> ${escapeHtml(FINDING.statement)}</p>`);
    expect(row).not.toContain('class="badge pass"');
    expect(html.match(/<tr class="scenario finding"/g)).toHaveLength(1);
    expect(html.match(/<tr class="scenario pass"/g)).toHaveLength(ev.totals.pass);
    // Amber, not the colours of pass, fail or skip.
    expect(html).toMatch(/--finding:#bc4c00/);
    expect(html).toMatch(/\.badge\.finding\{background:var\(--finding-bg\);color:var\(--finding\)/);

    const list = ev.scenarios.filter((x) => x.suite === s.suite);
    expect(html).toContain(`<h3 class="suite" id="group-${s.suite.replace(/[^A-Za-z0-9_-]/g, "_")}">${s.suite} <span class="muted">${list.length} checks · ${list.length - 1} pass, 1 finding</span></h3>`);

    const controls = ev.controls.filter((c) => c.scenarios.includes(FINDING_ID));
    expect(controls.length).toBeGreaterThan(0);
    for (const c of controls) {
      expect(c.verdict).toBe("finding");
      expect(html).toMatch(new RegExp(`<tr class="control finding"><td><code>${reEscape(c.id)}</code></td>.*?<span class="badge finding">FINDING</span></td></tr>`));
    }
    for (const c of ev.controls.filter((x) => !x.scenarios.includes(FINDING_ID))) expect(html).toContain(`<tr class="control pass"><td><code>${c.id}</code></td>`);

    // The claims table says the documented weakness holds.
    const claims = section(html, "claims");
    expect(claims).toContain(escapeHtml(FINDING.statement));
    expect(claims).toMatch(new RegExp(`<a href="#scenario-${FINDING_ID}">${FINDING_ID}</a></td><td><span class="badge pass">holds</span>`));
  });

  it("the whole catalogue on nginx: PASS beside an amber badge counting its real findings, each listed with its statement", () => {
    const ev = full.evidence;
    const found = ev.scenarios.filter((s) => s.verdict === "finding");
    const html = renderReportHtml(ev);
    expect(html).toMatch(new RegExp(`data-verdict="pass">PASS</div><a id="findings-count" class="findings-badge" href="#findings"[^>]*>${found.length} finding\\(s\\)</a>`));
    expect(html).toContain(`<div class="stat finding"><span class="n">${found.length}</span><span class="l">findings</span></div>`);
    const section_ = section(html, "findings");
    expect([...section_.matchAll(/class="finding-item" data-scenario-id="([^"]+)"/g)].map((m) => m[1])).toEqual(found.map((s) => s.id));
    for (const s of found) {
      expect(section_).toContain(escapeHtml(s.finding!.statement));
      expect(section_).toContain(escapeHtml(s.must));
      expect(html).toContain(`<tr class="scenario finding" id="scenario-${s.id}"`);
    }
    expect(html.match(/<span class="badge finding">FINDING<\/span>/g)!.length).toBeGreaterThanOrEqual(found.length);
    for (const c of ev.controls.filter((x) => x.verdict === "finding")) expect(html).toContain(`<tr class="control finding"><td><code>${c.id}</code></td>`);
    // Every real finding the run recorded holds in the claims table.
    for (const f of ev.findings.filter((x) => found.some((s) => s.id === x.scenario))) expect(f.holds).toBe(true);

    const md = renderSummaryMarkdown(ev);
    const t = ev.totals;
    expect(md.split("\n")[0]).toBe(`## mTLS conformance: PASS (${t.pass} passed, 0 failed, 0 skipped, ${found.length} finding(s) of ${t.total}) on nginx`);
    expect(tableRows(md, "Findings").map((r) => cells(r)[0])).toEqual(found.map((s) => s.id));
  });

  it("has controls, findings, policies and the command to reproduce", () => {
    const ev = passing.evidence;
    const html = renderReportHtml(ev);
    expect(ev.controls.length).toBeGreaterThan(0);
    for (const c of ev.controls) expect(html).toContain(`<tr class="control ${c.verdict}"><td><code>${c.id}</code></td>`);
    for (const f of ev.findings) expect(html).toContain(f.statement);
    expect(html).toContain("does not hold");
    for (const p of ev.policies) {
      expect(html).toContain(p.ingress);
      for (const [k, v] of Object.entries(p.annotations)) expect(html).toContain(`<th scope="row"><code>${k}</code></th><td><code>${v}</code></td>`);
    }
    expect(html).toContain(ev.caBundleSha256);
    expect(html).toMatch(/CRL SHA-256<\/th><td>none</);
    expect(html).toContain(`<pre class="cmd">${ev.run.command}</pre>`);
    expect(html).toContain("mtls-conformance verify &lt;dir&gt;");
  });
});

describe("a run whose harness broke (verdict error)", () => {
  it("report.html: SUITE FAULT instead of a verdict, the faults first, erred checks apart from failures and badged ERROR", () => {
    const ev = withHarnessFault(failing.evidence);
    expect(ev.totals).toMatchObject({ pass: 1, fail: 0, error: 1, total: 2 });
    expect(overallVerdict(ev)).toBe("suite-fault");
    const html = renderReportHtml(ev);
    expect(html).toMatch(/<title>SUITE FAULT · mTLS conformance /);
    expect(html).toContain('<div id="verdict" class="verdict suite-fault" data-verdict="suite-fault">SUITE FAULT</div>');
    const banner = html.split('<p id="suite-fault"')[1]!.split("</p>")[0]!;
    expect(banner).toContain("SUITE FAULT — no verdict on the Ingresses");
    expect(banner).toContain("exit 3");
    expect(banner).toContain("1 harness fault(s), 1 run error(s), 1 check(s) erred");
    expect(html).toContain(`<div class="stat error"><span class="n">1</span><span class="l">erred</span></div>`);

    // The faults come before anything else; the fault once (with how often), the other error, the erred check.
    const ids = [...html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.slice(0, 3)).toEqual(["faults", "overview", "failures"]);
    const faults = section(html, "faults");
    expect([...faults.matchAll(/<li class="fault" data-source="([^"]+)"/g)].map((m) => m[1])).toEqual([FAULT.source]);
    expect(faults).toContain(escapeHtml(FAULT.message));
    expect(faults).toContain("(3 times)");
    expect(faults).toContain(`first at <time datetime="${FAULT.at}">`);
    // The other run error is listed; the run's line for the fault is not listed again beside it.
    const runErrors = faults.split('<div class="run-errors">')[1]!.split("</div>")[0]!;
    expect(runErrors).toContain(escapeHtml(OTHER_ERROR));
    expect(runErrors).not.toContain(escapeHtml(FAULT.message));
    expect([...faults.matchAll(/<li class="error-item" data-scenario-id="([^"]+)"/g)].map((m) => m[1])).toEqual(["MTLS-CLIENT-010"]);
    // Not a failure of the Ingress.
    expect(section(html, "failures")).toContain("No failures.");

    const row = html.split('<tr class="scenario error" id="scenario-MTLS-CLIENT-010"')[1]!.split("</tr>\n")[0]!;
    expect(row).toContain('<span class="badge error">ERROR</span>');
    expect(row).toContain("no verdict, the harness was at fault while this check ran");
    expect(row).toContain(escapeHtml(FAULT_LINE));
    expect(html).toMatch(/\.badge\.error\{background:var\(--error-bg\);color:var\(--error\)/);
    // A control evidenced by the erred check is not shown to hold.
    for (const c of ev.controls.filter((x) => x.scenarios.includes("MTLS-CLIENT-010"))) expect(html).toContain(`<tr class="control error"><td><code>${c.id}</code></td>`);
  });

  it("a run error alone (a suite that did not load) is a suite fault too; without any, the verdict is as before", () => {
    const ev = structuredClone(passing.evidence);
    ev.runErrors = [OTHER_ERROR];
    expect(overallVerdict(ev)).toBe("suite-fault");
    expect(verdictLabel("suite-fault")).toBe("SUITE FAULT");
    expect(overallVerdict(passing.evidence)).toBe("pass");
  });

  it("summary.md: the first line says the suite broke, the faults follow, erred checks are tabled apart from failures", () => {
    const ev = withHarnessFault(failing.evidence);
    const md = renderSummaryMarkdown(ev);
    expect(md.split("\n")[0]).toBe("## mTLS conformance: SUITE FAULT — no verdict on the Ingresses (the harness broke; exit 3) (1 passed, 0 failed, 1 erred, 0 skipped of 2) on nginx");
    expect(md).toContain("- ⛔ harness fault, nginx error.log first at 2026-12-02T19:40:01Z (3 times): 1024 worker\\_connections are not enough while connecting to upstream");
    expect(md).toContain(`- ⛔ run error: ${OTHER_ERROR}`);
    expect(md).toMatch(/### Failures\n\nNo failures\./);
    const errors = tableRows(md, "Errors (no verdict: the harness was at fault)");
    expect(errors.map((r) => cells(r)[0])).toEqual(["MTLS-CLIENT-010"]);
    expect(cells(errors[0]!)[2]).toContain("this failure is not evidence against the Ingress");
    expect(tableRows(md, "Scenarios").map((r) => cells(r).slice(0, 2))).toEqual([
      ["MTLS-CLIENT-009", "✅"],
      ["MTLS-CLIENT-010", "⛔"],
    ]);
  });
});

describe("renderSummaryMarkdown", () => {
  it("starts with the verdict line and says there are no failures on a passing run", () => {
    const ev = passing.evidence;
    const md = renderSummaryMarkdown(ev);
    const t = ev.totals;
    expect(md.split("\n")[0]).toBe(`## mTLS conformance: PASS (${t.pass} passed, 0 failed, 0 skipped of ${t.total}) on nginx`);
    expect(md).toContain(`nginx ${ev.target.versions.nginx}`);
    expect(md).toMatch(/### Failures\n\nNo failures\./);
    const scenarioRows = tableRows(md, "Scenarios");
    expect(scenarioRows.map((r) => cells(r)[0])).toEqual(ev.scenarios.map((s) => s.id));
    expect(scenarioRows.every((r) => cells(r)[1] === "✅")).toBe(true);
    expect(tableRows(md, "Controls").map((r) => cells(r)[0])).toEqual(ev.controls.map((c) => c.id));
    expect(md).toContain("```sh\n" + ev.run.command + "\n```");
  });

  it("tables the failure with its mismatches on a failing run", () => {
    const ev = failing.evidence;
    const md = renderSummaryMarkdown(ev);
    expect(md.split("\n")[0]).toBe("## mTLS conformance: FAIL (1 passed, 1 failed, 0 skipped of 2) on nginx");
    const failures = tableRows(md, "Failures");
    expect(failures).toHaveLength(1);
    const [id, name, mismatches] = cells(failures[0]!);
    expect(id).toBe("MTLS-CLIENT-010");
    expect(name).toBe(ev.scenarios.find((s) => s.id === "MTLS-CLIENT-010")!.name.replace(/_/g, "\\_"));
    expect(mismatches).toContain("status: expected 400, observed 200");
    expect(tableRows(md, "Scenarios").map((r) => cells(r).slice(0, 2))).toEqual([
      ["MTLS-CLIENT-009", "✅"],
      ["MTLS-CLIENT-010", "❌"],
    ]);
  });

  it("a finding: counted in the verdict line, tabled under Findings with its statement, ⚠️ in the scenarios and controls", () => {
    const ev = withFinding(passing.evidence);
    const md = renderSummaryMarkdown(ev);
    const t = ev.totals;
    expect(md.split("\n")[0]).toBe(`## mTLS conformance: PASS (${t.pass} passed, 0 failed, 0 skipped, 1 finding(s) of ${t.total}) on nginx`);
    expect(md).toMatch(/### Failures\n\nNo failures\./);
    const found = tableRows(md, "Findings");
    expect(md).toContain("### Findings\n\n| ID | Statement |");
    expect(found.map(cells)).toEqual([[FINDING_ID, FINDING.statement.replace("<", "&lt;").replace(">", "&gt;")]]);
    // Findings come after the failures and before the scenarios.
    expect(md.indexOf("### Failures")).toBeLessThan(md.indexOf("### Findings"));
    expect(md.indexOf("### Findings")).toBeLessThan(md.indexOf("### Scenarios"));
    const scenarioRows = tableRows(md, "Scenarios").map(cells);
    expect(scenarioRows.filter((r) => r[1] === "⚠️").map((r) => r[0])).toEqual([FINDING_ID]);
    expect(scenarioRows.filter((r) => r[1] === "✅")).toHaveLength(t.pass);
    const controlRows = tableRows(md, "Controls").map(cells);
    expect(controlRows.filter((r) => r[3] === "⚠️").map((r) => r[0])).toEqual(ev.controls.filter((c) => c.verdict === "finding").map((c) => c.id));

    // With a failure as well: FAIL, and the findings still counted.
    const failed = structuredClone(ev);
    failed.scenarios.find((x) => x.verdict === "pass")!.verdict = "fail";
    failed.totals = totals(failed.scenarios);
    expect(renderSummaryMarkdown(failed).split("\n")[0]).toBe(`## mTLS conformance: FAIL (${t.pass - 1} passed, 1 failed, 0 skipped, 1 finding(s) of ${t.total}) on nginx`);

    // Without findings the line is as it always was, and the section says so.
    const clean = renderSummaryMarkdown(passing.evidence);
    expect(clean.split("\n")[0]).not.toContain("finding");
    expect(clean).toMatch(/### Findings\n\nNo findings\./);
  });

  it("escapes pipes, newlines and HTML inside table cells", () => {
    const ev = structuredClone(failing.evidence);
    const s = ev.scenarios.find((x) => x.verdict === "fail")!;
    s.mismatches = ["body: expected a|b, observed\nline two", INJECTED];
    const md = renderSummaryMarkdown(ev);
    const [row] = tableRows(md, "Failures");
    expect(cells(row!)).toHaveLength(3);
    expect(row).toContain("a\\|b");
    expect(row).toContain("observed<br>line two<br>&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(md).not.toContain("<script>");
  });
});

describe("the report in a real browser", () => {
  let findingRun: Run | undefined;
  /** The passing run with one synthetic finding, rendered into a directory of its own. */
  const withFindingRun = (): Run =>
    (findingRun ??= { evidence: withFinding(passing.evidence), reportDir: tempDir("report-html-finding-") });

  let faultRun: Run | undefined;
  /** The failing run in which the harness was at fault (withHarnessFault), in a directory of its own. */
  const withFaultRun = (): Run => (faultRun ??= { evidence: withHarnessFault(failing.evidence), reportDir: tempDir("report-html-fault-") });

  it.for([
    ["passing", () => passing],
    ["failing", () => failing],
    ["finding", withFindingRun],
    ["full", () => full],
    ["harness fault", withFaultRun],
  ] as const)("the %s run's report.html opens from file:// in headless Chromium, fetches nothing and shows every section", async ([label, get]) => {
    // Never skipped: a report nobody opened in a browser is not known to work.
    expect(existsSync(CHROMIUM), "chromium is needed: apt-get install chromium").toBe(true);
    const { evidence, reportDir } = get();
    const htmlPath = join(reportDir, "report.html");
    writeFileSync(htmlPath, renderReportHtml(evidence));
    const url = pathToFileURL(htmlPath).href;

    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      await page.goto(url, { waitUntil: "load" });

      const verdict = page.locator("#verdict");
      expect(await verdict.isVisible()).toBe(true);
      const expected = { passing: "pass", failing: "fail", finding: "pass", full: "pass", "harness fault": "suite-fault" }[label];
      expect((await verdict.textContent())?.trim()).toBe(expected === "suite-fault" ? "SUITE FAULT" : expected.toUpperCase());
      expect(await verdict.getAttribute("data-verdict")).toBe(expected);
      // Green for PASS, red for FAIL, purple when the suite broke.
      const bg = await verdict.evaluate((el) => getComputedStyle(el).backgroundColor);
      expect(bg).toBe({ pass: "rgb(26, 127, 55)", fail: "rgb(207, 34, 46)", "suite-fault": "rgb(130, 80, 223)" }[expected]);
      const erred = evidence.scenarios.filter((s) => s.verdict === "error").map((s) => s.id);
      if (erred.length) {
        // The faults first on the page, the erred checks in them, in purple, not among the failures.
        expect(await page.locator("main > section").first().getAttribute("id")).toBe("faults");
        expect(await page.locator("#suite-fault").innerText()).toContain("SUITE FAULT — no verdict on the Ingresses");
        expect(await page.locator("#faults .error-item").evaluateAll((els) => els.map((el) => el.getAttribute("data-scenario-id")))).toEqual(erred);
        expect(await page.locator("#scenarios tr.scenario.error .badge.error").evaluateAll((els) => els.map((el) => getComputedStyle(el).color))).toEqual(erred.map(() => "rgb(130, 80, 223)"));
      } else expect(await page.locator("#faults").count()).toBe(0);

      const failures = page.locator("#failures");
      expect(await failures.isVisible()).toBe(true);
      const failedIds = evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id);
      expect(await failures.locator(".failure").evaluateAll((els) => els.map((el) => el.getAttribute("data-scenario-id")))).toEqual(failedIds);
      if (failedIds.length) expect(await failures.locator(".failure").first().innerText()).toContain("status: expected 400, observed 200");
      else expect(await failures.innerText()).toContain("No failures.");

      expect(await page.locator("#scenarios tr.scenario").count()).toBe(evidence.scenarios.length);
      expect(await page.locator("#scenarios tr.scenario").first().isVisible()).toBe(true);
      // Findings: an amber badge beside the verdict, and the finding scenarios listed apart.
      const findingIds = evidence.scenarios.filter((s) => s.verdict === "finding").map((s) => s.id);
      const findingsCount = page.locator("#findings-count");
      if (findingIds.length) {
        expect(await findingsCount.isVisible()).toBe(true);
        expect((await findingsCount.textContent())?.trim()).toBe(`${findingIds.length} finding(s)`);
        expect(await findingsCount.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(188, 76, 0)");
        expect(await page.locator("#scenarios .badge.finding").evaluateAll((els) => els.map((el) => getComputedStyle(el).color))).toEqual(findingIds.map(() => "rgb(188, 76, 0)"));
      } else expect(await findingsCount.count()).toBe(0);
      expect(await page.locator("#findings").isVisible()).toBe(true);
      expect(await page.locator("#findings .finding-item").evaluateAll((els) => els.map((el) => el.getAttribute("data-scenario-id")))).toEqual(findingIds);
      expect(await page.locator("#totals .stat.finding .n").textContent()).toBe(String(findingIds.length));

      for (const id of ["#certificates", "#controls", "#reproduce"]) expect(await page.locator(id).isVisible(), id).toBe(true);
      expect(await page.locator("#certificates tr.cert.expired").evaluateAll((els) => els.map((el) => el.getAttribute("data-cert")))).toContain("client-expired");
      expect((await page.locator("#reproduce pre").textContent())?.trim()).toBe(evidence.run.command);
      expect(await page.locator("#controls tr.control").count()).toBe(evidence.controls.length);

      // The page itself is the only request: no fonts, images, scripts or styles from anywhere.
      expect(requests).toEqual([url]);

      const png = join(reportDir, "report.png");
      await page.screenshot({ path: png, fullPage: true });
      const bytes = readFileSync(png);
      expect(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
      expect(bytes.length).toBeGreaterThan(10_000);
      if (label === "passing" && process.env.UPDATE_REPORT_SCREENSHOT === "1") {
        // The README shows the top of the page: verdict, target, failures and the first scenarios.
        mkdirSync(join(ROOT, "docs"), { recursive: true });
        await page.screenshot({ path: join(ROOT, "docs", "report-screenshot.png"), clip: { x: 0, y: 0, width: 1280, height: 1500 } });
      }
    } finally {
      await browser.close();
    }
  });
});
