// report.html past ~1,000 checks: one page of 13,500 checks was 46 MB, which no reviewer opens.
// Above the threshold report.html is an index (verdict, faults, a table of every Ingress with its
// counts and a link) and report/NNNN.html pages hold whole Ingresses, up to ~1,000 checks or
// ~2.5 MB each, Ingresses with failures or errors first, each page listing its failures first.
// Every page is self-contained like report.html: inline CSS, the same CSP, no scripts. The
// catalogue (grouped by suite, not Ingress) and small runs stay one page.
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Evidence, IngressEvidence, ScenarioEvidence } from "./evidence.ts";
import {
  badge,
  diagnosticArtifacts,
  escapeHtml as e,
  failureItem,
  groupAnchor,
  groupCounts,
  htmlPage,
  ingressDeclaration,
  isDeliberateVariant,
  matrixTable,
  none,
  overallVerdict,
  pageTitle,
  renderAppendix,
  renderCertificates,
  renderFaults,
  renderHeader,
  renderReportHtml,
  renderReproduce,
  renderRunAndTarget,
  reportNow,
  scenarioLink,
  subjectChanges,
  trustTable,
  uncheckedIngresses,
  verdictLabel,
  certificateValidity,
  groupScenarios,
  type Locate,
  type ReportHtmlOptions,
} from "./report-html.ts";

/** Above this many checks, a report of Ingresses is paged; also the most checks a page holds. */
export const PAGE_CHECKS = 1000;
/** The most HTML a page holds (an Ingress is never split, so one alone may exceed it). */
export const PAGE_BYTES = 2_500_000;
/** The pages' folder in the report directory. */
export const PAGES_DIR = "report";
/** How many links a summary cell lists before it says how many more there are. */
const LINKS = 20;

export interface PagedReportOptions extends ReportHtmlOptions {
  pageChecks?: number;
  pageBytes?: number;
}

/** Paged when the run is about Ingresses and has more checks than one page holds. */
export function isPaged(evidence: Evidence, pageChecks = PAGE_CHECKS): boolean {
  return (evidence.ingresses?.length ?? 0) > 0 && evidence.scenarios.length > pageChecks;
}

/** An Ingress (or a group that is none) with its checks: what a page holds whole. */
interface Unit {
  group: string;
  ingress?: IngressEvidence;
  checks: ScenarioEvidence[];
  /** The worst of its verdicts, for the index row. */
  worst: "error" | "fail" | "unchecked" | "finding" | "skip" | "pass" | "none";
  /** Where it sorts: failures and errors first, Ingresses without checks last. */
  rank: number;
}

function unitsOf(ev: Evidence): Unit[] {
  const byGroup = groupScenarios(ev.scenarios);
  const unchecked = new Set(uncheckedIngresses(ev));
  const make = (group: string, ingress: IngressEvidence | undefined, checks: ScenarioEvidence[]): Unit => {
    const has = (...v: string[]) => checks.some((s) => v.includes(s.verdict));
    const worst: Unit["worst"] = has("error")
      ? "error"
      : has("fail")
        ? "fail"
        : unchecked.has(group)
          ? "unchecked"
          : has("finding", "guarantee-lost")
            ? "finding"
            : checks.length === 0
              ? "none"
              : has("pass")
                ? "pass"
                : "skip";
    const rank = { error: 0, fail: 0, unchecked: 1, finding: 2, pass: 3, skip: 3, none: 4 }[worst];
    return { group, ingress, checks, worst, rank };
  };
  const units = (ev.ingresses ?? []).map((i) => make(i.id, i, byGroup.get(i.id) ?? []));
  const known = new Set(units.map((u) => u.group));
  for (const [group, checks] of byGroup) if (!known.has(group)) units.push(make(group, undefined, checks));
  // Array.prototype.sort is stable: within a rank, the evidence's order.
  return units.sort((a, b) => a.rank - b.rank);
}

const pageFile = (n: number) => `${PAGES_DIR}/${String(n).padStart(4, "0")}.html`;
const CERTIFICATES_PAGE = `${PAGES_DIR}/certificates.html`;

/** One Ingress on its page: what it declares, then its matrix. */
function unitHtml(ev: Evidence, u: Unit): string {
  const heading = u.ingress
    ? `Ingress <code>${e(u.group)}</code> <span class="muted">${u.ingress.hosts.map((h) => e(h)).join(", ")}</span>`
    : e(u.group);
  return `<section class="card unit" id="${e(groupAnchor(u.group))}" data-group="${e(u.group)}">
<h2>${heading} <span class="muted">${groupCounts(u.checks)}</span></h2>
${u.ingress ? ingressDeclaration(u.ingress, undefined) : ""}
${u.checks.length ? matrixTable(ev, u.group, u.checks) : `<p class="muted">No check for this Ingress.</p>`}
</section>`;
}

function pageHeader(ev: Evidence, heading: string, stats: string): string {
  const verdict = overallVerdict(ev);
  const cls = verdict === "nothing-checked" ? "fail nothing-checked" : verdict;
  return `<header class="top ${cls}">
  <div class="title">
    <p class="kicker">${e(ev.tool.name)} · per-Ingress mutual TLS conformance</p>
    <h1>mTLS conformance report · ${e(heading)}</h1>
    <p class="sub">target <strong>${e(ev.target.kind)}</strong> · run <code>${e(ev.run.id)}</code> · <a href="../report.html">the index: verdict, every Ingress, faults</a></p>
  </div>
  <div class="summary">
    <div id="verdict" class="verdict ${cls}" data-verdict="${verdict}" title="the verdict of the whole run">${e(verdictLabel(verdict))}</div>
    ${stats}
  </div>${verdict === "suite-fault" ? `\n  <p id="suite-fault" class="nothing suite-fault">SUITE FAULT — no verdict on the Ingresses: the harness itself broke; see <a href="../report.html#faults">the faults</a>. Checks marked ERROR failed while it was at fault.</p>` : ""}
</header>`;
}

/** The counts of the checks on one page (the verdict beside them is the run's). */
function pageStats(t: Evidence["totals"]): string {
  const stat = (cls: string, n: number, label: string) => `<div class="stat ${cls}"><span class="n">${e(n)}</span><span class="l">${label}</span></div>`;
  return `<div class="stats" id="page-totals" title="the checks on this page">${stat("pass", t.pass, "passed")}${stat("fail", t.fail, "failed")}${t.error ? stat("error", t.error, "erred") : ""}${stat("skip", t.skip, "skipped")}${stat("finding", t.finding, "findings")}${stat("total", t.total, "on this page")}</div>`;
}

const nav = (n: number, last: boolean) =>
  `<nav class="pages"><a href="../report.html">index</a>${n > 1 ? `<a href="${e(pageFile(n - 1).slice(PAGES_DIR.length + 1))}" rel="prev">← page ${n - 1}</a>` : ""}<span>page ${n}</span>${last ? "" : `<a href="${e(pageFile(n + 1).slice(PAGES_DIR.length + 1))}" rel="next">page ${n + 1} →</a>`}</nav>`;

interface PageRecord {
  file: string;
  units: Unit[];
  checks: number;
}

/** Records a file written in the report directory (in the artifacts the signature and evidence list). */
export type Register = (file: string) => void;

/**
 * Writes report/*.html (the pages), then report.html (the index, whose appendix lists them);
 * registers every file as it is written. Returns the files, relative to the report directory.
 */
export async function writePagedReport(ev: Evidence, reportDir: string, register: Register, options: PagedReportOptions = {}): Promise<string[]> {
  const pageChecks = options.pageChecks ?? PAGE_CHECKS;
  const pageBytes = options.pageBytes ?? PAGE_BYTES;
  await mkdir(join(reportDir, PAGES_DIR), { recursive: true });

  const diagnostics = diagnosticArtifacts(ev);
  const pages: PageRecord[] = [];
  const pageOf = new Map<string, number>();
  let current: { units: Unit[]; blocks: string[]; failures: string[]; failed: number; checks: number; bytes: number } | undefined;

  const flush = async (last: boolean) => {
    if (!current) return;
    const n = pages.length + 1;
    const file = pageFile(n);
    const checks = current.units.flatMap((u) => u.checks);
    const counts = pageTotals(checks);
    const failures = `<section id="failures" class="card ${current.failed ? "has-failures" : "no-failures"}">
<h2>Failures and errors on this page <span class="count">${e(current.failed)}</span></h2>
${current.failed ? `<ol class="failure-list">${current.failures.join("")}</ol>` : `<p class="ok-text">No failures on this page.</p>`}
</section>`;
    const main = [nav(n, last), failures, ...current.blocks, nav(n, last)].join("\n");
    await writeFile(join(reportDir, file), htmlPage(pageTitle(ev, ` · page ${n}`), pageHeader(ev, `page ${n}`, pageStats(counts)), main, ev));
    register(file);
    pages.push({ file, units: current.units, checks: current.checks });
    current = undefined;
  };

  for (const u of unitsOf(ev)) {
    const block = unitHtml(ev, u);
    const failed = u.checks.filter((s) => s.verdict === "fail" || s.verdict === "error");
    const failures = failed.map((s) => failureItem(s, diagnostics, "../"));
    const bytes = block.length + failures.reduce((n, f) => n + f.length, 0);
    if (current && (current.checks + u.checks.length > pageChecks || current.bytes + bytes > pageBytes)) await flush(false);
    current ??= { units: [], blocks: [], failures: [], failed: 0, checks: 0, bytes: 0 };
    current.units.push(u);
    current.blocks.push(block);
    current.failures.push(...failures);
    current.failed += failed.length;
    current.checks += u.checks.length;
    current.bytes += bytes;
    for (const s of u.checks) pageOf.set(s.id, pages.length + 1);
  }
  await flush(true);
  const fileOf = new Map<string, string>();
  for (const [id, n] of pageOf) fileOf.set(id, pageFile(n));

  const now = reportNow(ev, options);
  const certificates = htmlPage(
    pageTitle(ev, " · certificates"),
    pageHeader(ev, "certificates", ""),
    `<nav class="pages"><a href="../report.html">index</a></nav>\n${renderCertificates(ev, now)}`,
    ev,
  );
  await writeFile(join(reportDir, CERTIFICATES_PAGE), certificates);
  register(CERTIFICATES_PAGE);
  register("report.html");

  const locate: Locate = (id) => fileOf.get(id) ?? "";
  await writeFile(join(reportDir, "report.html"), renderIndex(ev, pages, locate, now));
  return ["report.html", ...pages.map((p) => p.file), CERTIFICATES_PAGE];
}

function pageTotals(checks: ScenarioEvidence[]): Evidence["totals"] {
  const t = { pass: 0, fail: 0, skip: 0, finding: 0, error: 0, total: checks.length, checked: 0 };
  for (const s of checks) {
    if (s.verdict === "guarantee-lost") t.finding++;
    else t[s.verdict]++;
  }
  return t;
}

/** The index: the run's verdict and faults, then one row per Ingress with its counts and page. */
function renderIndex(ev: Evidence, pages: PageRecord[], locate: Locate, now: Date): string {
  const pageOfUnit = new Map<string, string>();
  for (const p of pages) for (const u of p.units) pageOfUnit.set(u.group, p.file);
  const units = pages.flatMap((p) => p.units);
  const href = (u: Unit) => `${pageOfUnit.get(u.group)}#${groupAnchor(u.group)}`;
  const link = (u: Unit) => `<a href="${e(href(u))}"><code>${e(u.group)}</code></a>`;
  const more = (n: number, what: string) => (n > 0 ? ` <span class="muted">and ${e(n)} more ${what}</span>` : "");

  const erredUnits = units.filter((u) => u.checks.some((s) => s.verdict === "error"));
  const erred = erredUnits.length
    ? `<h3>Checks that erred <span class="count">${e(ev.totals.error ?? 0)}</span></h3><p>In ${e(erredUnits.length)} Ingress(es), each listed first on its page: ${erredUnits
        .slice(0, LINKS)
        .map(link)
        .join(" · ")}${more(erredUnits.length - LINKS, "(the table below lists every one)")}</p>`
    : "";

  const failedUnits = units.filter((u) => u.checks.some((s) => s.verdict === "fail"));
  const failedCount = ev.totals.fail;
  const failures = `<section id="failures" class="card ${failedCount ? "has-failures" : "no-failures"}">
<h2>Failures <span class="count">${e(failedCount)}</span></h2>
${
  failedCount
    ? `<p>${e(failedCount)} check(s) failed in ${e(failedUnits.length)} Ingress(es). Each page lists its failures first, with the mismatches and the diagnostics.</p>
<ol class="failure-list">${failedUnits
        .slice(0, 200)
        .map((u) => {
          const first = u.checks.find((s) => s.verdict === "fail")!;
          const n = u.checks.filter((s) => s.verdict === "fail").length;
          return `<li class="failed-ingress" data-group="${e(u.group)}">${link(u)} <span class="muted">${e(n)} failed</span>: ${scenarioLink(first.id, locate)} <code>${e(first.mismatches[0] ?? "(no mismatch recorded)")}</code></li>`;
        })
        .join("")}</ol>${more(failedUnits.length - 200, "Ingresses with failures: see the table below")}`
    : `<p class="ok-text">No failures.</p>`
}
</section>`;

  const cell = (n: number | undefined) => `<td class="n">${n ? e(n) : `<span class="muted">0</span>`}</td>`;
  const rows = units
    .map((u) => {
      // Counted from the checks on its page, so the row and the page always agree.
      const t = pageTotals(u.checks);
      const probes = u.ingress?.checked ?? u.checks.filter((s) => !s.static && s.verdict !== "skip" && s.observed).length;
      return `<tr class="ingress ${e(u.worst)}" data-group="${e(u.group)}"><td>${link(u)}${u.ingress?.notServed ? `<div class="bad-text">${e(u.ingress.notServed)}</div>` : ""}</td><td>${(u.ingress?.hosts ?? []).map((h) => `<code>${e(h)}</code>`).join(" ")}</td><td class="n">${e(probes)}</td>${cell(t.pass)}${cell(t.fail)}${cell(t.error)}${cell(t.skip)}${cell(t.finding)}<td><a href="${e(href(u))}">${e(pageOfUnit.get(u.group)!.slice(PAGES_DIR.length + 1))}</a></td></tr>`;
    })
    .join("\n");
  const ingresses = `<section id="ingresses" class="card"><h2>Ingresses under test <span class="count">${e(units.length)}</span></h2>
<p class="hint">From ${e(ev.subject?.source ?? "")}. Failures and errors first. Each Ingress's page shows what it declares, what the controller configures on its hosts, the lint of the objects and every check, expected beside observed.</p>
${subjectChanges(ev)}
<table class="ingresses"><thead><tr><th>Ingress</th><th>hosts</th><th>probes</th><th>pass</th><th>fail</th><th>error</th><th>skip</th><th>finding</th><th>page</th></tr></thead>
<tbody>${rows}</tbody></table>
${trustTable(ev)}
</section>`;

  const pageList = `<section id="pages" class="card"><h2>Pages <span class="count">${e(pages.length)}</span></h2>
<ol class="plain">${pages
    .map((p) => {
      const t = pageTotals(p.units.flatMap((u) => u.checks));
      return `<li><a href="${e(p.file)}">${e(p.file)}</a> <span class="muted">${e(p.units.length)} Ingress(es), ${e(p.checks)} check(s): ${e(t.pass)} passed, ${e(t.fail)} failed${t.error ? `, ${e(t.error)} erred` : ""}, ${e(t.finding)} finding(s) · ${e(p.units[0]!.group)}${p.units.length > 1 ? ` … ${e(p.units.at(-1)!.group)}` : ""}</span></li>`;
    })
    .join("")}<li><a href="${e(CERTIFICATES_PAGE)}">${e(CERTIFICATES_PAGE)}</a> <span class="muted">the certificates of the run</span></li></ol>
</section>`;

  const main = [
    renderFaults(ev, erred),
    renderRunAndTarget(ev),
    failures,
    ingresses,
    renderFindingsSummary(ev, locate),
    pageList,
    renderCertificatesSummary(ev, now),
    renderControlsSummary(ev, locate),
    renderReproduce(ev),
    renderAppendix(ev),
  ]
    .filter(Boolean)
    .join("\n");
  return htmlPage(pageTitle(ev), renderHeader(ev), main, ev);
}

/** Findings and claims by id: how often each held, with links to where. */
function renderFindingsSummary(ev: Evidence, locate: Locate): string {
  const by = new Map<string, { statement: string; holds: number; not: number; unknown: number; where: string[] }>();
  for (const f of ev.findings) {
    const entry = by.get(f.id) ?? { statement: f.statement, holds: 0, not: 0, unknown: 0, where: [] };
    if (f.holds === true) {
      entry.holds++;
      entry.where.push(f.scenario);
    } else if (f.holds === false) entry.not++;
    else entry.unknown++;
    by.set(f.id, entry);
  }
  const found = ev.totals.finding ?? 0;
  const rows = [...by]
    .map(
      ([id, f]) => `<tr><td>${e(f.statement)}<div class="muted"><code>${e(id)}</code></div></td><td class="n">${e(f.holds)}</td><td class="n">${e(f.not)}</td><td class="n">${e(f.unknown)}</td><td class="ids">${f.where
        .slice(0, LINKS)
        .map((s) => scenarioLink(s, locate))
        .join(" ")}${f.where.length > LINKS ? ` <span class="muted">and ${e(f.where.length - LINKS)} more</span>` : ""}</td></tr>`,
    )
    .join("\n");
  return `<section id="findings" class="card ${found ? "has-findings" : "no-findings"}">
<h2>Findings <span class="count">${e(found)}</span></h2>
<p class="hint">Documented ingress-nginx behaviour that weakens mTLS, observed exactly as documented, and the guide's claims, by kind: how many checks saw each hold. A finding does not fail the run, but the protection it names is not there.</p>
${by.size ? `<table class="claims"><thead><tr><th>statement (the first of its kind)</th><th>holds</th><th>does not hold</th><th>not checked</th><th>where it holds</th></tr></thead><tbody>${rows}</tbody></table>` : `<p class="ok-text">No findings.</p>`}
</section>`;
}

function renderCertificatesSummary(ev: Evidence, now: Date): string {
  const flagged = ev.certificates.filter((c) => {
    const v = certificateValidity(c, now);
    return (v.expired || v.expiring || v.notYetValid) && !isDeliberateVariant(c.name);
  });
  return `<section id="certificates" class="card"><h2>Certificates <span class="count">${e(ev.certificates.length)}</span></h2>
<p>Every certificate of the run, its validity judged at the run's end, is on <a href="${e(CERTIFICATES_PAGE)}">${e(CERTIFICATES_PAGE)}</a>. Private keys are never part of the evidence.</p>
<p>${flagged.length ? `<span class="bad-text">Expired, expiring within 30 days or not yet valid, and not a deliberate test variant:</span> ${flagged.map((c) => `<code>${e(c.name)}</code>`).join(", ")}` : `No certificate other than the deliberate test variants is expired, expiring within 30 days or not yet valid.`}</p>
</section>`;
}

/** Each control with its verdict and the checks that did not pass it, linked to their pages. */
function renderControlsSummary(ev: Evidence, locate: Locate): string {
  const verdictOf = new Map(ev.scenarios.map((s) => [s.id, s.verdict]));
  const rows = ev.controls
    .map((c) => {
      const notPassed = c.scenarios.filter((id) => verdictOf.get(id) !== "pass");
      const links = notPassed.length
        ? `${notPassed.slice(0, LINKS).map((id) => `${scenarioLink(id, locate)}&nbsp;${badge(verdictOf.get(id) ?? "fail")}`).join(" ")}${notPassed.length > LINKS ? ` <span class="muted">and ${e(notPassed.length - LINKS)} more</span>` : ""}`
        : none;
      return `<tr class="control ${e(c.verdict)}"><td><code>${e(c.id)}</code></td><td>${e(c.title)}</td><td class="ids">${e(c.scenarios.length)} check(s); not passed: ${links}</td><td>${badge(c.verdict)}</td></tr>`;
    })
    .join("\n");
  return `<section id="controls" class="card"><h2>Control coverage</h2>
${ev.controls.length ? `<table class="controls"><thead><tr><th>control</th><th>title</th><th>checks</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table>` : `<p>No control is evidenced by the selected scenarios.</p>`}
</section>`;
}

/** Pages of an earlier run in the same directory would be signed with this one's: remove them. */
async function removeOldPages(reportDir: string): Promise<void> {
  const dir = join(reportDir, PAGES_DIR);
  const files = await readdir(dir).catch(() => [] as string[]);
  for (const f of files) if (/^(\d{4}|certificates)\.html$/.test(f)) await rm(join(dir, f));
}

/**
 * report.html for any run: one page, or past `pageChecks` checks of Ingresses the index and its
 * pages. Registers every file written; returns their paths.
 */
export async function writeReportHtml(ev: Evidence, reportDir: string, register: Register, options: PagedReportOptions = {}): Promise<string[]> {
  await removeOldPages(reportDir);
  if (isPaged(ev, options.pageChecks)) return writePagedReport(ev, reportDir, register, options);
  register("report.html");
  await writeFile(join(reportDir, "report.html"), renderReportHtml(ev, options));
  return ["report.html"];
}

