// report.html: the evidence of one run as a single self-contained page (inline CSS, no scripts,
// nothing fetched), readable from file:// and printable. Every string that comes from the
// evidence is escaped: it holds response bodies and headers from the system under test.
// Past ~1,000 checks report-pages.ts splits it into an index and pages built from the same pieces.
import { distinctFaults, suiteFaulted, uncheckedIngresses, type CertificateEvidence, type Evidence, type IngressEvidence, type ScenarioEvidence } from "./evidence.ts";

export { distinctFaults, suiteFaulted, uncheckedIngresses };

const DAY_MS = 86_400_000;
/** A certificate whose notAfter is this close (or already past) is flagged. */
export const EXPIRY_WARNING_DAYS = 30;
const SUITE_ORDER = ["guide", "client-auth", "upstream-headers"];

export interface ReportHtmlOptions {
  /** The instant certificate validity is judged against; default the run's finishedAt. */
  now?: Date;
}

/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const e = escapeHtml;

export { overallVerdict, type OverallVerdict } from "./run-verdict.ts";
import { overallVerdict, type OverallVerdict } from "./run-verdict.ts";

/** The verdict as reports print it. */
export const verdictLabel = (v: OverallVerdict) => (v === "nothing-checked" ? "NOTHING CHECKED" : v === "suite-fault" ? "SUITE FAULT" : v.toUpperCase());

/** What a suite fault means, said the same way in every report. */
export const SUITE_FAULT_HEADLINE = "SUITE FAULT — no verdict on the Ingresses";

/** `N harness fault(s), M check(s) erred`: what broke, counted. */
export function faultCounts(ev: Evidence): string {
  const faults = distinctFaults(ev).length;
  const errors = ev.totals.error ?? 0;
  const others = otherRunErrors(ev).length;
  return [
    faults ? `${faults} harness fault(s)` : "",
    others ? `${others} run error(s)` : "",
    errors ? `${errors} check(s) erred` : "",
  ].filter(Boolean).join(", ") || "the harness broke";
}

/** Run errors other than the one line per harness fault the run adds (those are shown as faults). */
export function otherRunErrors(ev: Evidence): string[] {
  const faults = ev.harnessFaults ?? [];
  return (ev.runErrors ?? []).filter((r) => !faults.some((f) => r.includes(f.message)));
}

/** Scenarios by group, in order of first appearance: built once (a filter per group is quadratic). */
export function groupScenarios(scenarios: ScenarioEvidence[]): Map<string, ScenarioEvidence[]> {
  const groups = new Map<string, ScenarioEvidence[]>();
  for (const s of scenarios) {
    const g = s.group ?? s.suite;
    const list = groups.get(g);
    if (list) list.push(s);
    else groups.set(g, [s]);
  }
  return groups;
}


/** Scenarios whose verdict is `finding` (0 for evidence written before the verdict existed). */
export function findingCount(evidence: Evidence): number {
  return evidence.totals.finding ?? 0;
}

/** `N finding(s)`, as the console summary and the step summary say it. */
export const findingsLabel = (n: number) => `${n} finding(s)`;

/**
 * Artifacts worth opening when something failed: everything but JUnit, the manifests, the PKI
 * and the run's own reports (evidence, this page, the summary, the signed manifest and its
 * signature), which say what the run observed rather than why.
 */
export function diagnosticArtifacts(evidence: Evidence): string[] {
  const reportOutputs = /^(junit[^/]*\.xml|manifests[^/]*\.ya?ml|pki|evidence\.json|report\.(html|png)|summary\.md|manifest\.json|attestation[^/]*|signing-key[^/]*)$/i;
  return [...new Set(Object.values(evidence.artifacts))].filter((path) => {
    const p = path.replace(/\/+$/, "");
    return !reportOutputs.test(p) && !/^pki\//i.test(p);
  });
}

export interface CertificateValidity {
  /** Already past notAfter. */
  expired: boolean;
  /** notAfter within EXPIRY_WARNING_DAYS of now (and not yet past). */
  expiring: boolean;
  notYetValid: boolean;
  /** Whole days until notAfter (negative once expired). */
  daysLeft: number;
  label?: string;
}

export function certificateValidity(c: CertificateEvidence, now: Date): CertificateValidity {
  const notAfter = Date.parse(c.notAfter);
  const notBefore = Date.parse(c.notBefore);
  const msLeft = notAfter - now.getTime();
  const expired = msLeft < 0;
  const expiring = !expired && msLeft <= EXPIRY_WARNING_DAYS * DAY_MS;
  const notYetValid = notBefore > now.getTime();
  const daysLeft = expired ? -Math.floor(-msLeft / DAY_MS) : Math.floor(msLeft / DAY_MS);
  const plural = (n: number) => `${n} ${n === 1 ? "day" : "days"}`;
  let label: string | undefined;
  if (expired) label = `expired ${plural(-daysLeft)} ago`;
  else if (expiring) label = daysLeft === 0 ? "expires in less than a day" : `expires in ${plural(daysLeft)}`;
  if (notYetValid) {
    const until = Math.ceil((notBefore - now.getTime()) / DAY_MS);
    label = [label, `not yet valid (valid in ${plural(until)})`].filter(Boolean).join("; ");
  }
  return { expired, expiring, notYetValid, daysLeft, label };
}

/** Certificates the run makes invalid on purpose, to check the ingress refuses them. */
export const isDeliberateVariant = (name: string) => /expired|not-yet-valid/i.test(name);

/**
 * A link to a file in the report directory; anything that looks like a URL or absolute path stays
 * text. `base` is the way back to the report directory (`../` from report/NNNN.html).
 */
export function artifactLink(path: string, base = ""): string {
  const safe = !/^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[\\/]/.test(path);
  return safe ? `<a href="${e(base + encodeURI(path))}"><code>${e(path)}</code></a>` : `<code>${e(path)}</code>`;
}

export const badge = (verdict: string) => `<span class="badge ${e(verdict)}">${e(verdict.toUpperCase())}</span>`;
export const scenarioAnchor = (id: string) => `scenario-${id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
export const groupAnchor = (group: string) => `group-${group.replace(/[^A-Za-z0-9_-]/g, "_")}`;
/** Where a scenario's row is: on this page, or `report/NNNN.html` of a paged report. */
export type Locate = (id: string) => string;
const onThisPage: Locate = () => "";
export const scenarioLink = (id: string, locate: Locate = onThisPage) => `<a href="${e(locate(id))}#${e(scenarioAnchor(id))}">${e(id)}</a>`;
export const none = `<span class="muted">(none)</span>`;

/** An instant as `2026-11-28 07:31:31 UTC`, the exact ISO value kept in the datetime attribute. */
export function time(iso: string): string {
  const d = new Date(iso);
  const shown = Number.isNaN(d.getTime()) ? iso : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  return `<time datetime="${e(iso)}">${e(shown)}</time>`;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export function keyValueTable(rows: Array<[string, string]>, cls = "kv"): string {
  return `<table class="${cls}"><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${k}</th><td>${v}</td></tr>`).join("")}</tbody></table>`;
}

const stat = (cls: string, n: number, label: string) => `<div class="stat ${cls}"><span class="n">${e(n)}</span><span class="l">${label}</span></div>`;

/** The totals boxes: passed, failed, (erred,) skipped, findings, (guarantees lost,) total. */
export function statBoxes(t: Evidence["totals"] | IngressCounts, findings = t.finding ?? 0): string {
  return `${stat("pass", t.pass, "passed")}${stat("fail", t.fail, "failed")}${t.error ? stat("error", t.error, "erred") : ""}${stat("skip", t.skip, "skipped")}${stat("finding", findings, "findings")}${t["guarantee-lost"] !== undefined ? stat("finding", t["guarantee-lost"], "guarantees lost") : ""}${stat("total", t.total, "total")}`;
}

type IngressCounts = { pass: number; fail: number; skip: number; finding: number; "guarantee-lost"?: number; error?: number; total: number };

/** The banner under the verdict when the suite broke: said before anything else on the page. */
export function suiteFaultBanner(ev: Evidence, faultsHref = "#faults"): string {
  return `<p id="suite-fault" class="nothing suite-fault">${e(SUITE_FAULT_HEADLINE)}: the harness itself broke (<a href="${e(faultsHref)}">${e(faultCounts(ev))}</a>), so this run says nothing about the Ingresses under test; exit 3. Checks that failed while it was at fault are errors, not failures. Fix the harness and run again.</p>`;
}

export function renderHeader(ev: Evidence, faultsHref = "#faults"): string {
  const verdict = overallVerdict(ev);
  const t = ev.totals;
  const findings = findingCount(ev);
  // Findings never turn the verdict: they stand beside it, in amber, so a PASS with findings is
  // never read as a clean pass.
  const findingsBadge = findings > 0
    ? `<a id="findings-count" class="findings-badge" href="#findings" title="documented controller behaviour that weakens mTLS, observed">${e(findingsLabel(findings))}</a>`
    : "";
  const cls = verdict === "nothing-checked" ? "fail nothing-checked" : verdict;
  const nothing =
    verdict === "suite-fault"
      ? suiteFaultBanner(ev, faultsHref)
      : verdict === "nothing-checked"
      ? `<p id="nothing-checked" class="nothing">Nothing was checked: no probe ran (${e(t.skip)} skipped${t.total - t.skip ? `, ${e(t.total - t.skip)} static` : ""}). This run proves nothing about the target.</p>`
      : uncheckedIngresses(ev).length
        ? `<p id="nothing-checked" class="nothing">Nothing was checked for ${uncheckedIngresses(ev).map((i) => `<code>${e(i)}</code>`).join(", ")}: every check of it was skipped.</p>`
        : "";
  return `<header class="top ${cls}${findings > 0 ? " has-findings" : ""}">
  <div class="title">
    <p class="kicker">${e(ev.tool.name)} · per-Ingress mutual TLS conformance</p>
    <h1>mTLS conformance report</h1>
    <p class="sub">target <strong>${e(ev.target.kind)}</strong> · run <code>${e(ev.run.id)}</code></p>
  </div>
  <div class="summary">
    <div id="verdict" class="verdict ${cls}" data-verdict="${verdict}">${verdictLabel(verdict)}</div>${findingsBadge}
    <div class="stats" id="totals">
      ${statBoxes(t, findings)}
    </div>
  </div>
  ${nothing}${
    ev.profile
      ? `<p id="profile" class="nothing">Checks expected <strong>${e(ev.profile.title)} ${e(ev.profile.versions)}</strong>, not ingress-nginx: ${e(ev.profile.basis)}.</p>`
      : ""
  }${emulatedNote(ev)}
</header>`;
}

/** How many verdicts an emulated controller rule decided: they test the emulation, not a controller. */
function emulatedNote(ev: Evidence): string {
  const emulated = ev.scenarios.filter((s) => s.decidedBy?.emulated).length;
  if (!emulated) return "";
  const probed = ev.scenarios.filter((s) => s.decidedBy).length;
  return `<p id="emulated" class="nothing"><strong>Emulated:</strong> ${emulated} of ${probed} probed checks are decided by a controller rule that this target's emulator applies (admission, Secret handling, store updates, which Ingress governs a host). They pass by construction and test the emulation, not a controller; each is marked <span class="tag emulated">emulated rule</span>. A k3s, cluster or endpoint run observes those rules.</p>`;
}

export function renderRunAndTarget(ev: Evidence): string {
  const versions = Object.entries(ev.target.versions ?? {});
  const images = Array.isArray(ev.target.controllerImages)
    ? (ev.target.controllerImages as Array<Record<string, unknown>>).filter((i) => i && typeof i === "object")
    : [];
  const isolated = Array.isArray(ev.target.isolated) ? (ev.target.isolated as Array<Record<string, unknown>>) : [];
  const deployError = typeof ev.target.deployError === "string" ? ev.target.deployError : undefined;
  const timings = Object.entries(ev.run.timingsMs ?? {});

  const targetRows: Array<[string, string]> = [
    ["kind", `<strong>${e(ev.target.kind)}</strong>`],
    ["what answered", `<span class="desc">${e(ev.target.description)}</span>`],
    ["why this target", e(ev.target.selection)],
  ];
  if (ev.subject) targetRows.push(["objects under test", `${e(ev.subject.source)} <span class="muted">(${e(ev.subject.origin)})</span>`]);
  if (deployError) targetRows.push(["deploy error", `<span class="bad-text">${e(deployError)}</span>`]);
  targetRows.push([
    "versions",
    versions.length ? `<ul class="plain">${versions.map(([k, v]) => `<li><span class="k">${e(k)}</span> <code>${e(v)}</code></li>`).join("")}</ul>` : none,
  ]);
  if (images.length) {
    targetRows.push([
      "controller images",
      `<ul class="plain">${images
        .map((i) => `<li><span class="k">${e(i.container ?? i.pod ?? "")}</span> <code>${e(i.image ?? "")}</code><br><code class="hash">${e(i.imageID ?? "")}</code></li>`)
        .join("")}</ul>`,
    ]);
  }
  if (isolated.length) {
    targetRows.push([
      "targets (--isolate)",
      `<ul class="plain">${isolated
        .map((t) => {
          const suites = Array.isArray(t.suites) ? t.suites.join(", ") : "";
          const err = typeof t.deployError === "string" ? ` <span class="bad-text">${e(t.deployError)}</span>` : "";
          return `<li><span class="k">${e(suites)}</span>: ${e(t.kind)}, ${e(t.description)}${err}</li>`;
        })
        .join("")}</ul>`,
    ]);
  }

  const runRows: Array<[string, string]> = [
    ["run id", `<code>${e(ev.run.id)}</code>`],
    ["started", time(ev.run.startedAt)],
    ["finished", time(ev.run.finishedAt)],
    ["tool", `${e(ev.tool.name)} <code>${e(ev.tool.version)}</code>`],
    ["Node.js", `<code>${e(ev.tool.node)}</code>`],
    ["evidence schema", `<code>${e(ev.schemaVersion)}</code>`],
  ];
  if (timings.length) runRows.push(["timings", timings.map(([k, v]) => `${e(k.replace(/Ms$/, ""))} ${e(formatMs(Number(v)))}`).join(" · ")]);

  return `<section id="overview" class="grid2">
  <div class="card"><h2>Target</h2>${keyValueTable(targetRows)}</div>
  <div class="card"><h2>Run</h2>${keyValueTable(runRows)}</div>
</section>`;
}

/** One failed (or erred) check with its mismatches and the files that explain it. */
export function failureItem(s: ScenarioEvidence, diagnostics: string[], base = ""): string {
  const cls = s.verdict === "error" ? "error-item" : "failure";
  return `<li class="${cls}" data-scenario-id="${e(s.id)}">
  <h3>${scenarioLink(s.id)} <span class="name">${e(s.name)}</span>${s.verdict === "error" ? ` ${badge("error")}` : ""}</h3>
  <p class="must">${e(s.must)}</p>
  <ul class="mismatches">${(s.mismatches.length ? s.mismatches : ["(no mismatch recorded)"]).map((m) => `<li><code>${e(m)}</code></li>`).join("")}</ul>
  <p class="diag"><span class="k">Diagnostics:</span> ${diagnostics.length ? diagnostics.map((d) => artifactLink(d, base)).join(" · ") : none}</p>
</li>`;
}

/** The failed checks, first after the faults; `failed` defaults to every failed check of the run. */
export function renderFailures(ev: Evidence, failed = ev.scenarios.filter((s) => s.verdict === "fail"), base = "", heading = "Failures"): string {
  const diagnostics = diagnosticArtifacts(ev);
  const body = failed.length ? `<ol class="failure-list">${failed.map((s) => failureItem(s, diagnostics, base)).join("")}</ol>` : `<p class="ok-text">No failures.</p>`;
  return `<section id="failures" class="card ${failed.length ? "has-failures" : "no-failures"}">
<h2>${e(heading)} <span class="count">${e(failed.length)}</span></h2>
${body}
</section>`;
}

/**
 * What broke in the harness, first on the page when anything did: each harness fault, the other
 * run errors, and the checks that erred (none of them a verdict on an Ingress). `erred` is given
 * (and may be empty) where the erred checks are listed elsewhere, on the pages of a paged report.
 */
export function renderFaults(ev: Evidence, erred: ScenarioEvidence[] | string = ev.scenarios.filter((s) => s.verdict === "error"), base = ""): string {
  if (!suiteFaulted(ev)) return "";
  const faults = distinctFaults(ev);
  const others = otherRunErrors(ev);
  const diagnostics = diagnosticArtifacts(ev);
  const faultList = faults.length
    ? `<ol class="fault-list">${faults
        .map(
          (f) =>
            `<li class="fault" data-source="${e(f.source)}"><span class="k">${e(f.source)}</span>${f.at ? ` ${f.count > 1 ? "first at " : ""}${time(f.at)}` : ""}${f.count > 1 ? ` <span class="muted">(${e(f.count)} times)</span>` : ""}<pre class="wrap">${e(f.message)}</pre></li>`,
        )
        .join("")}</ol>`
    : "";
  const runErrors = others.length
    ? `<div class="run-errors"><h3>Run errors</h3><ul>${others.map((r) => `<li><pre class="wrap">${e(r)}</pre></li>`).join("")}</ul></div>`
    : "";
  const errors =
    typeof erred === "string"
      ? erred
      : erred.length
        ? `<h3>Checks that erred <span class="count">${e(erred.length)}</span></h3><ol class="error-list">${erred.map((s) => failureItem(s, diagnostics, base)).join("")}</ol>`
        : "";
  return `<section id="faults" class="card">
<h2>Harness faults <span class="count">${e(faults.length + others.length)}</span></h2>
<p class="hint">${e(SUITE_FAULT_HEADLINE)}. These are faults of the test harness (the local data plane, the suite itself), not of the Ingresses: a check that failed while the harness was at fault is an error, with no verdict, and a pass here proves less than it would otherwise.</p>
${faultList}${runErrors}${errors}
</section>`;
}

/** The observed response of a scenario in one line: status (or transport error), upstream, body excerpt. */
export function observedExcerpt(s: ScenarioEvidence): string {
  const o = s.observed;
  if (!o) return `<span class="muted">not observed</span>`;
  if (o.static) return `static check of the objects: ${e(o.static.detail)}`;
  const status = o.status !== undefined ? `status <code>${e(o.status)}</code>` : `no HTTP response${o.error ? `: <code>${e(o.error.code)}</code>` : ""}`;
  const upstream = o.upstreamReached ? "backend reached" : "backend not reached";
  const verify = o.upstreamHeaders?.["ssl-client-verify"];
  const body = o.bodyExcerpt !== undefined ? `<div class="excerpt">${e(o.bodyExcerpt)}</div>` : "";
  return `${status} · ${upstream}${verify !== undefined ? ` · <code>ssl-client-verify: ${e(verify)}</code>` : ""}${body}`;
}

const findingsByScenario = new WeakMap<Evidence["findings"], Map<string, Evidence["findings"][number]>>();
/** The evidence's findings entry for a scenario, from an index built once per evidence. */
function findingEntry(ev: Evidence, id: string): Evidence["findings"][number] | undefined {
  let index = findingsByScenario.get(ev.findings);
  if (!index) {
    index = new Map();
    for (const f of ev.findings) if (!index.has(f.scenario)) index.set(f.scenario, f);
    findingsByScenario.set(ev.findings, index);
  }
  return index.get(id);
}

/** The statement of a finding scenario: its own, else the evidence's findings entry for it. */
export function findingStatement(ev: Evidence, s: ScenarioEvidence): string | undefined {
  return s.finding?.statement ?? findingEntry(ev, s.id)?.statement;
}

/** Scenarios that observed a documented weakness: not failures, shown apart from passes. */
export function renderFindingScenarios(ev: Evidence): string {
  const found = ev.scenarios.filter((s) => s.verdict === "finding");
  const body = found.length
    ? `<ol class="finding-list">${found
        .map((s) => {
          const statement = findingStatement(ev, s);
          const findingId = s.finding?.id ?? findingEntry(ev, s.id)?.id;
          return `<li class="finding-item" data-scenario-id="${e(s.id)}">
  <h3>${scenarioLink(s.id)} <span class="name">${e(s.name)}</span>${findingId ? ` <code class="finding-id">${e(findingId)}</code>` : ""}</h3>
  <p class="statement">${statement ? e(statement) : `<span class="muted">(no statement recorded)</span>`}</p>
  <p class="must"><span class="k">MUST:</span> ${e(s.must)}</p>
  <p class="observed"><span class="k">Observed:</span> ${observedExcerpt(s)}</p>
</li>`;
        })
        .join("")}</ol>`
    : `<p class="ok-text">No findings.</p>`;
  return `<section id="findings" class="card ${found.length ? "has-findings" : "no-findings"}">
<h2>Findings <span class="count">${e(found.length)}</span></h2>
<p class="hint">Documented ingress-nginx behaviour that weakens mTLS, observed exactly as documented. A finding does not fail the run, but the protection it names is not there.</p>
${body}
</section>`;
}

/** Which comparison rows the oracle flagged, from its "<what>: expected …, observed …" lines. */
function mismatchKeys(s: ScenarioEvidence): Set<string> {
  const keys = new Set<string>();
  for (const m of s.mismatches) {
    const header = /^upstream header ([^:]+):/.exec(m);
    const response = /^response header ([^:]+):/.exec(m);
    if (header) keys.add(`header:${header[1]}`);
    else if (response) keys.add(`response:${response[1]}`);
    else {
      const k = /^(status|body|upstream):/.exec(m);
      if (k) keys.add(k[1]!);
      else keys.add("other");
    }
  }
  return keys;
}

function comparisonTable(s: ScenarioEvidence): string {
  const exp = s.expected;
  const obs = s.observed;
  const bad = mismatchKeys(s);
  const rows: Array<{ what: string; expected: string; observed: string; key: string }> = [];

  const observedStatus = obs
    ? obs.status !== undefined
      ? `<code>${e(obs.status)}</code>`
      : `no HTTP response${obs.error ? `: <code>${e(obs.error.code)}</code> ${e(obs.error.message)}` : ""}`
    : `<span class="muted">not observed</span>`;
  rows.push({ what: "status", expected: `<code>${e(exp.status)}</code>`, observed: observedStatus, key: "status" });

  if (exp.bodyIncludes !== undefined || obs?.bodyExcerpt !== undefined) {
    rows.push({
      what: "body",
      expected: exp.bodyIncludes !== undefined ? `contains <q>${e(exp.bodyIncludes)}</q>` : `<span class="muted">any</span>`,
      observed: obs?.bodyExcerpt !== undefined ? `<span class="excerpt">${e(obs.bodyExcerpt)}</span>` : `<span class="muted">(echo backend answer)</span>`,
      key: "body",
    });
  }

  for (const [name, value] of Object.entries(exp.responseHeaders ?? {})) {
    const seen = name === "location" ? obs?.location : undefined;
    rows.push({ what: `<code>${e(name)}</code>`, expected: `<code>${e(value)}</code>`, observed: seen !== undefined ? `<code>${e(seen)}</code>` : `<span class="muted">absent</span>`, key: `response:${name}` });
  }

  rows.push({
    what: "upstream",
    expected: exp.upstream === "reached" ? "reached" : "not reached",
    observed: obs ? (obs.upstreamReached ? "reached" : "not reached") : `<span class="muted">not observed</span>`,
    key: "upstream",
  });

  const want = exp.upstreamHeaders;
  const got = obs?.upstreamHeaders;
  const names = new Set<string>([
    ...Object.keys(want?.headers ?? {}),
    ...(want?.absent ?? []),
    ...(want?.clientCertIsPresentedLeaf ? ["ssl-client-cert"] : []),
    ...Object.keys(got ?? {}).filter((h) => h.startsWith("ssl-client-")),
  ]);
  for (const name of names) {
    let expected: string;
    if (want?.headers && name in want.headers) expected = `<code>${e(want.headers[name])}</code>`;
    else if (want?.absent?.includes(name)) expected = `<span class="k">absent</span>`;
    else if (name === "ssl-client-cert" && want?.clientCertIsPresentedLeaf) {
      expected = `the presented leaf${s.credentialSha256 ? ` <code class="hash">sha256 ${e(s.credentialSha256)}</code>` : ""}`;
    } else expected = `<span class="muted">not checked</span>`;

    let observed: string;
    if (!obs?.upstreamReached) observed = `<span class="muted">backend not reached</span>`;
    else if (got?.[name] === undefined) observed = `<span class="muted">absent</span>`;
    else if (name === "ssl-client-cert" && obs.upstreamClientCert) {
      const c = obs.upstreamClientCert;
      observed = `${e(c.certificates)} certificate${c.certificates === 1 ? "" : "s"}${c.sha256 ? ` <code class="hash">sha256 ${e(c.sha256)}</code>` : ""}`;
    } else observed = `<code>${e(got[name])}</code>`;
    rows.push({ what: `<code>${e(name)}</code>`, expected, observed, key: `header:${name}` });
  }

  return `<table class="cmp"><thead><tr><th></th><th>expected</th><th>observed</th></tr></thead><tbody>${rows
    .map((r) => `<tr class="${bad.has(r.key) ? "mismatch" : ""}"><th scope="row">${r.what}</th><td>${r.expected}</td><td>${r.observed}</td></tr>`)
    .join("")}</tbody></table>`;
}

function basisNote(s: ScenarioEvidence): string {
  if (!s.basis) return "";
  return `<details class="basis"><summary>expected because ${e(s.basis.explanation)}</summary><ul>${s.basis.sources.map((x) => `<li>${e(x)}</li>`).join("")}</ul></details>`;
}

export function scenarioRow(ev: Evidence, s: ScenarioEvidence): string {
  const meta = [
    s.policy ? `policy <code>${e(s.policy)}</code>` : s.ingress ? `Ingress <code>${e(s.ingress)}</code>` : "",
    s.host ? `host <code>${e(s.host)}</code>` : "",
    `credential ${s.credentialDescription ? e(s.credentialDescription) : `<code>${e(s.credential)}</code>`}`,
    s.controls.length ? `controls ${s.controls.map((c) => `<code>${e(c)}</code>`).join(" ")}` : "",
  ].filter(Boolean);
  const emulated = s.decidedBy?.emulated ? ` <span class="tag emulated" title="${e(s.decidedBy.how)}">emulated rule</span>` : "";
  return `<tr class="scenario ${e(s.verdict)}" id="${e(scenarioAnchor(s.id))}" data-scenario-id="${e(s.id)}"${s.decidedBy ? ` data-decided-by="${e(s.decidedBy.by)}${s.decidedBy.emulated ? " emulated" : ""}"` : ""}>
  <td class="scn"><div class="id">${e(s.id)}${emulated}</div><div class="name">${e(s.name)}</div>
    <p class="must">${e(s.must)}</p>
    ${s.note ? `<p class="note">${e(s.note)}</p>` : ""}
    ${s.verdict === "finding" ? `<p class="finding-note"><span class="k">finding:</span> ${e(findingStatement(ev, s) ?? "documented weakness observed")}</p>` : ""}
    ${s.verdict === "error" ? `<p class="error-note"><span class="k">error:</span> no verdict, the harness was at fault while this check ran</p>` : ""}
    ${s.migration ? `<p class="finding-note"><span class="k">${e(s.migration.guarantee)} on ${e(s.migration.profile)} ${e(s.migration.versions)}: ${e(s.migration.class)}</span> ${e(s.migration.reason)} <span class="muted">(${s.migration.sources.map((src) => `[${e(src.basis)}] ${e(src.ref)}`).join("; ")})</span></p>` : ""}
    <p class="meta">${meta.join(" · ")}</p>${basisNote(s)}</td>
  <td class="v">${badge(s.verdict)}${s.skipReason ? `<p class="skip-reason">skipped: ${e(s.skipReason)}</p>` : ""}</td>
  <td class="cmpcell">${s.static ? `<p class="muted">static check of the objects: ${e(s.observed?.static?.detail ?? s.mismatches.join("; "))}</p>` : comparisonTable(s)}${
    (s.verdict === "fail" || s.verdict === "error") && s.mismatches.length ? `<ul class="mismatches">${s.mismatches.map((m) => `<li><code>${e(m)}</code></li>`).join("")}</ul>` : ""
  }</td>
  <td class="dur">${e(formatMs(s.durationMs))}</td>
</tr>`;
}

/** `N checks · 3 pass, 1 fail`: a group's size and verdicts. */
export function groupCounts(list: ScenarioEvidence[]): string {
  const n = new Map<string, number>();
  for (const s of list) n.set(s.verdict, (n.get(s.verdict) ?? 0) + 1);
  const counts = (["pass", "fail", "error", "skip", "finding", "guarantee-lost"] as const).filter((v) => n.get(v)).map((v) => `${n.get(v)} ${v}`);
  return `${list.length} check${list.length === 1 ? "" : "s"}${counts.length ? ` · ${counts.join(", ")}` : ""}`;
}

/** One group's matrix: a row per check, expected beside observed. */
export function matrixTable(ev: Evidence, group: string, list: ScenarioEvidence[]): string {
  return `<table class="matrix" data-suite="${e(list[0]?.suite ?? group)}" data-group="${e(group)}"><colgroup><col class="c-scn"><col class="c-v"><col class="c-cmp"><col class="c-dur"></colgroup>
<thead><tr><th>check</th><th>verdict</th><th>expected vs observed</th><th>time</th></tr></thead>
<tbody>${list.map((s) => scenarioRow(ev, s)).join("\n")}</tbody></table>`;
}

/** Checks grouped as the run grouped them: by catalogue suite, or by Ingress. */
function renderScenarios(ev: Evidence): string {
  const byGroup = groupScenarios(ev.scenarios);
  const groups = [...new Set([...SUITE_ORDER.filter((g) => byGroup.has(g)), ...byGroup.keys()])];
  const ingresses = new Map((ev.ingresses ?? []).map((i) => [i.id, i]));
  const html = groups
    .map((group) => {
      const list = byGroup.get(group)!;
      const ingress = ingresses.get(group);
      const heading = ingress ? `Ingress ${e(group)} <span class="muted">${ingress.hosts.map((h) => e(h)).join(", ")}</span>` : e(group);
      return `<h3 class="suite" id="${e(groupAnchor(group))}">${heading} <span class="muted">${groupCounts(list)}</span></h3>
${matrixTable(ev, group, list)}`;
    })
    .join("\n");
  return `<section id="scenarios" class="card"><h2>${ev.ingresses?.length ? "Checks by Ingress" : "Scenarios"} <span class="count">${e(ev.scenarios.length)}</span></h2>
<p class="hint">Rows the oracle flagged are highlighted. Observed <code>ssl-client-*</code> headers are those the echo backend received; <code>ssl-client-cert</code> is shown by the SHA-256 of the certificate it carries.${ev.ingresses?.length ? " Every expectation was computed by the policy model from what the Ingress declares; open \u201cexpected because\u201d for the controller source lines and observations it rests on." : ""}</p>
${html}</section>`;
}

export function renderCertificates(ev: Evidence, now: Date): string {
  const rows = ev.certificates
    .map((c) => {
      const v = certificateValidity(c, now);
      const classes = [v.expired ? "expired" : "", v.expiring ? "expiring" : "", v.notYetValid ? "not-yet-valid" : ""].filter(Boolean);
      const flagged = classes.length > 0;
      const flag = flagged
        ? `<span class="flag">${e(v.label)}</span>${isDeliberateVariant(c.name) ? ` <span class="deliberate">test variant, on purpose</span>` : ""}`
        : "";
      return `<tr class="cert ${classes.join(" ")}" data-cert="${e(c.name)}">
  <td><strong>${e(c.name)}</strong>${c.publicKey ? `<div class="muted">${e(c.publicKey)}</div>` : ""}</td>
  <td>${e(c.subject)}</td><td>${e(c.issuer)}</td><td><code class="hash">${e(c.serial)}</code></td>
  <td>${time(c.notBefore)}</td><td>${time(c.notAfter)}${flag ? `<div>${flag}</div>` : ""}</td>
  <td><code class="hash">${e(c.sha256)}</code></td>
</tr>`;
    })
    .join("\n");
  const deliberate = ev.certificates.filter((c) => isDeliberateVariant(c.name)).map((c) => `<code>${e(c.name)}</code>`);
  return `<section id="certificates" class="card"><h2>Certificates <span class="count">${e(ev.certificates.length)}</span></h2>
<p class="hint">Validity judged at ${time(now.toISOString())}; anything that expires within ${EXPIRY_WARNING_DAYS} days or has expired is flagged.${
    deliberate.length
      ? ` The test variants ${deliberate.join(", ")} are expired or not yet valid on purpose: the scenarios check that the ingress refuses them.`
      : ""
  } Private keys are never part of the evidence.</p>
<table class="certs"><thead><tr><th>name</th><th>subject</th><th>issuer</th><th>serial</th><th>not before</th><th>not after</th><th>SHA-256</th></tr></thead>
<tbody>${rows}</tbody></table></section>`;
}

/** What is in force in the objects under test: trust anchors, CRLs, server certificates, the production checks. */
export function renderInventory(ev: Evidence): string {
  const inv = ev.inventory;
  if (!inv) return "";
  const anchors = inv.trustAnchors
    .map((a) => `<tr class="anchor"><td>${e(a.subject)}<div class="muted">issuer ${e(a.issuer)}; serial <code class="hash">${e(a.serial)}</code>; ${e(a.key)}, ${e(a.signatureAlgorithm)}</div></td><td>${time(a.notBefore)}</td><td>${time(a.notAfter)}</td><td><code class="hash">${e(a.sha256)}</code></td><td>${a.secrets.map((x) => `<code>${e(x)}</code>`).join(" ")}<div class="muted">${e(a.ingresses.join(", "))}: ${e(a.hosts.join(", "))}</div></td></tr>`)
    .join("\n");
  const crls = inv.crls.map((c) => `<li><code>${e(c.secret)}</code>: ${e(c.issuer)}, thisUpdate ${time(c.thisUpdate)}${c.nextUpdate ? `, nextUpdate ${time(c.nextUpdate)}` : ""}, ${e(c.entries)} entr${c.entries === 1 ? "y" : "ies"}</li>`).join("\n");
  const servers = inv.serverCertificates
    .map((c) => `<tr class="server${c.coversHost ? "" : " mismatch"}"><td>${e(c.host)}<div class="muted">${c.source === "presented" ? "presented in a handshake" : `declared in ${e(c.secret ?? "")}`}</div></td><td>${e(c.sans.join(", ") || "none")}${c.coversHost ? "" : ` <span class="flag">does not name the host</span>`}</td><td>${time(c.notAfter)}</td><td>${e(c.chainLength)}${c.chainContiguous ? "" : ` <span class="flag">not in order</span>`}${c.chainComplete === false ? ` <span class="flag">incomplete</span>` : ""}<div class="muted">${e(c.chainDetail)}</div></td><td><code class="hash">${e(c.sha256)}</code>${c.chain.map((l) => `<div class="muted">then ${e(l.subject)} <code class="hash">${e(l.sha256)}</code></div>`).join("")}</td></tr>`)
    .join("\n");
  const notRead = [
    ...(inv.surveyProblems ?? []).map((p) => `<li><strong>${e(p.host)}</strong>: no certificate read (${e(p.error)})</li>`),
    ...(inv.serverSecretsAbsent ?? []).map((a) => `<li><strong>${e(a.host)}</strong>: its tls: entry names <code>${e(a.secret)}</code>, not among the objects</li>`),
  ].join("\n");
  const checks = inv.checks ?? [];
  const notPassed = checks.filter((c) => c.verdict !== "pass");
  const rows = notPassed.map((c) => `<li class="${c.verdict === "fail" ? "fail" : c.verdict === "skip" ? "skip" : "finding"}">${badge(c.verdict)} <strong>${e(c.rule ?? c.name)}</strong>: ${e(c.detail)}<div class="muted">${e(c.must)} <code>${e(c.id)}</code></div></li>`).join("\n");
  return `<section id="inventory" class="card"><h2>What is in force <span class="count">${e(inv.trustAnchors.length)} trust anchor(s), ${e(inv.serverCertificates.length)} server certificate(s)</span></h2>
<p class="hint">The trust anchors, CRLs and server certificates of the objects under test, as of ${time(inv.generatedAt)} (controls ${e(inv.controls.join(", "))}); expiry warning ${e(inv.expiryWarningDays)} days.</p>
<table class="certs"><thead><tr><th>trust anchor</th><th>not before</th><th>not after</th><th>SHA-256</th><th>in</th></tr></thead><tbody>${anchors}</tbody></table>
${crls ? `<h3>CRLs</h3><ul>${crls}</ul>` : ""}
${servers ? `<table class="certs"><thead><tr><th>host</th><th>names</th><th>not after</th><th>chain</th><th>SHA-256</th></tr></thead><tbody>${servers}</tbody></table>` : ""}
${notRead ? `<ul>${notRead}</ul>` : ""}
<h3>Production checks <span class="count">${e(checks.length - notPassed.length)} of ${e(checks.length)} pass</span></h3>${ev.subject.origin === "catalogue" ? `<p class="hint">The catalogue's own objects are broken on purpose (an expired CRL is one of its scenarios): their production checks are listed here, not judged in the run.</p>` : `<p class="hint">Each is also a check of the run (JUnit suite <code>inventory</code>).</p>`}${rows ? `<ul>${rows}</ul>` : "<p>Every one passes: nothing expired or near its end, no weak key or signature, every server certificate names its host and leads to its anchor.</p>"}
</section>`;
}

function renderControls(ev: Evidence): string {
  const rows = ev.controls
    .map(
      (c) => `<tr class="control ${e(c.verdict)}"><td><code>${e(c.id)}</code></td><td>${e(c.title)}</td><td class="ids">${c.scenarios.map((id) => scenarioLink(id)).join(" ")}</td><td>${badge(c.verdict)}</td></tr>`,
    )
    .join("\n");
  return `<section id="controls" class="card"><h2>Control coverage</h2>
${ev.controls.length ? `<table class="controls"><thead><tr><th>control</th><th>title</th><th>scenarios</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table>` : `<p>No control is evidenced by the selected scenarios.</p>`}
</section>`;
}

/** Claims from the guide and folklore, and every documented weakness, with whether the run saw them hold. */
export function renderClaims(ev: Evidence): string {
  const holds = (h: boolean | null) =>
    h === true ? `<span class="badge pass">holds</span>` : h === false ? `<span class="badge fail">does not hold</span>` : `<span class="badge skip">not checked</span>`;
  const rows = ev.findings
    .map((f) => `<tr><td>${e(f.statement)}<div class="muted"><code>${e(f.id)}</code></div></td><td>${scenarioLink(f.scenario)}</td><td>${holds(f.holds)}</td></tr>`)
    .join("\n");
  return `<section id="claims" class="card"><h2>Claims checked</h2>
<p class="hint">Claims from the guide and common folklore, and documented weaknesses, checked by the run's observations.</p>
${ev.findings.length ? `<table class="claims"><thead><tr><th>statement</th><th>scenario</th><th>result</th></tr></thead><tbody>${rows}</tbody></table>` : `<p>No claim is checked by the selected scenarios.</p>`}
</section>`;
}

/** The trusted CA bundle and CRL, by their SHA-256. */
export const trustTable = (ev: Evidence): string =>
  keyValueTable([
    ["CA bundle SHA-256", `<code class="hash">${e(ev.caBundleSha256)}</code>`],
    ["CRL SHA-256", ev.crlSha256 ? `<code class="hash">${e(ev.crlSha256)}</code>` : "none"],
  ]);

/** `N probe(s): 3 passed, 0 failed, …`: an Ingress's counts in words. */
export function ingressCounts(i: IngressEvidence): string {
  const t = i.totals;
  return `${e(i.checked)} probe(s): ${e(t.pass)} passed, ${e(t.fail)} failed, ${t.error ? `${e(t.error)} erred, ` : ""}${e(t.skip)} skipped, ${e(t.finding)} finding(s)`;
}

/** What one Ingress declares, what its hosts do, and what the lint found; the heading links to `href`. */
export function ingressDeclaration(i: IngressEvidence, href: string | undefined): string {
  const lint = i.lint.filter((l) => l.triggered);
  const name = href === undefined ? `<code>${e(i.id)}</code>` : `<a href="${e(href)}"><code>${e(i.id)}</code></a>`;
  return `<div class="policy" data-ingress="${e(i.id)}"><h3>${name} <span class="muted">${i.hosts.map((h) => `<code>${e(h)}</code>`).join(" ")} · ${ingressCounts(i)}</span></h3>
${i.notServed ? `<p class="bad-text">${e(i.notServed)}</p>` : ""}
<table class="kv annotations"><tbody>${Object.entries(i.declared).map(([k, v]) => `<tr><th scope="row"><code>${e(k)}</code></th><td><code>${e(v)}</code></td></tr>`).join("") || `<tr><td>${none} no auth-tls annotation</td></tr>`}
${Object.entries(i.effective).map(([h, v]) => `<tr><th scope="row">effective on <code>${e(h)}</code></th><td>${e(v)}</td></tr>`).join("")}</tbody></table>
${lint.length ? `<ul class="plain">${lint.map((l) => `<li><span class="k">${e(l.rule)}</span> ${e(l.detail)}</li>`).join("")}</ul>` : ""}
${i.notes.length ? `<ul class="plain muted">${i.notes.map((n) => `<li>${e(n)}</li>`).join("")}</ul>` : ""}</div>`;
}

/** What the run replaced or created in the user's objects. */
export function subjectChanges(ev: Evidence): string {
  return ev.subject?.changes?.length
    ? `<details><summary>what the run replaced or created in these objects (${e(ev.subject.changes.length)})</summary><ul class="plain">${ev.subject.changes.map((c) => `<li>${e(c)}</li>`).join("")}</ul></details>`
    : "";
}

function renderIngresses(ev: Evidence): string {
  const items = (ev.ingresses ?? []).map((i) => ingressDeclaration(i, `#${groupAnchor(i.id)}`)).join("\n");
  return `<section id="policies" class="card"><h2>Ingresses under test <span class="count">${e(ev.ingresses.length)}</span></h2>
<p class="hint">From ${e(ev.subject?.source ?? "")}. What each Ingress declares, what the controller configures on its hosts (client auth is per host), and what the lint of the objects found.</p>
${subjectChanges(ev)}
${items}
${trustTable(ev)}
</section>`;
}

function renderPolicies(ev: Evidence): string {
  if (ev.ingresses?.length) return renderIngresses(ev);
  const items = ev.policies
    .map(
      (p) => `<div class="policy"><h3><code>${e(p.ingress)}</code> <span class="muted">policy ${e(p.name)} · host <code>${e(p.host)}</code></span></h3>
<p>${e(p.description)}</p>
<table class="kv annotations"><tbody>${Object.entries(p.annotations)
        .map(([k, v]) => `<tr><th scope="row"><code>${e(k)}</code></th><td><code>${e(v)}</code></td></tr>`)
        .join("")}</tbody></table></div>`,
    )
    .join("\n");
  return `<section id="policies" class="card"><h2>Policies under test</h2>
${items}
${trustTable(ev)}
</section>`;
}

export function renderReproduce(ev: Evidence): string {
  return `<section id="reproduce" class="card"><h2>How to reproduce</h2>
<pre class="cmd">${e(ev.run.command)}</pre>
<p>The same command against the same target reproduces this run; <code>mtls-conformance verify &lt;dir&gt;</code> checks the signed manifest of the report directory.</p>
</section>`;
}

/** --browser: each browser check's screenshot (a report file, browser/<name>.png), with its verdict. */
export function renderBrowserScreenshots(ev: Evidence): string {
  const shots = Object.values(ev.artifacts).filter((p) => /^browser\/[^/]+\.png$/.test(p));
  if (!shots.length) return "";
  const figure = (path: string) => {
    const s = ev.scenarios.find((x) => x.observed?.browser?.screenshot === path);
    const caption = s ? `${scenarioLink(s.id)} ${badge(s.verdict)} ${e(s.must)}` : `<code>${e(path)}</code>`;
    return `<figure class="browser-shot"><a href="${e(encodeURI(path))}"><img src="${e(encodeURI(path))}" alt="${e(`screenshot ${path}`)}" width="500" loading="lazy"></a><figcaption>${caption}</figcaption></figure>`;
  };
  const selection = ev.scenarios.map((x) => x.observed?.browser?.selection).find(Boolean);
  return `<section id="browser" class="card"><h2>Browser</h2>${selection ? `<p class="muted">${e(selection)}</p>` : ""}${shots.map(figure).join("")}</section>`;
}

export function renderAppendix(ev: Evidence): string {
  const { kind: _k, description: _d, selection: _s, versions: _v, controllerImages: _c, isolated: _i, deployError: _e, ...details } = ev.target;
  const value = (v: unknown) =>
    typeof v === "string" ? e(v) : `<code class="json">${e(JSON.stringify(v))}</code>`;
  const rows: Array<[string, string]> = [
    ["run options", keyValueTable(Object.entries(ev.run.options).map(([k, v]) => [e(k), value(v)]), "kv inner")],
  ];
  if (Object.keys(details).length) {
    const detailRows = Object.entries(details).map(([k, v]): [string, string] =>
      Array.isArray(v) && v.every((x) => x && typeof x === "object")
        ? [e(k), `<ul class="plain">${v.map((x) => `<li>${value(x)}</li>`).join("")}</ul>`]
        : [e(k), value(v)],
    );
    rows.push(["target details", keyValueTable(detailRows, "kv inner")]);
  }
  const artifacts = Object.values(ev.artifacts);
  if (artifacts.length) rows.push(["artifacts", artifacts.map((a) => artifactLink(a)).join(" · ")]);
  return `<section id="appendix" class="card"><h2>Configuration and artifacts</h2>${keyValueTable(rows)}</section>`;
}

export const CSS = `
:root{--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;--skip:#9a6700;--skip-bg:#fff8c5;--finding:#bc4c00;--finding-bg:#fff1e5;--error:#8250df;--error-bg:#fbefff;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--card:#fff;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1280px;margin:0 auto;padding:0 20px 40px}
code,pre,.hash{font-family:var(--mono);font-size:12px}
code{overflow-wrap:anywhere}
.hash{word-break:break-all}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
h1{margin:2px 0 4px;font-size:26px}
h2{margin:0 0 12px;font-size:18px;border-bottom:1px solid var(--line);padding-bottom:6px}
h3{margin:16px 0 8px;font-size:15px}
.muted{color:var(--muted);font-weight:normal}
.count{display:inline-block;min-width:1.8em;padding:0 6px;border-radius:10px;background:var(--bg);border:1px solid var(--line);font-size:12px;text-align:center;vertical-align:middle;color:var(--muted)}
header.top{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:16px;padding:20px max(20px,calc((100% - 1240px)/2));background:var(--card);border-bottom:4px solid var(--line);margin-bottom:20px}
header.top.pass{border-bottom-color:var(--pass)}header.top.fail{border-bottom-color:var(--fail)}header.top.pass.has-findings{border-bottom-color:var(--finding)}header.top.suite-fault{border-bottom-color:var(--error)}
.kicker{margin:0;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.06em}
.sub{margin:0;color:var(--muted)}
.summary{display:flex;align-items:center;gap:18px;flex-wrap:wrap}
.verdict{font-size:34px;font-weight:800;letter-spacing:.08em;padding:8px 26px;border-radius:10px;color:#fff}
.verdict.pass{background:var(--pass)}.verdict.fail{background:var(--fail)}.verdict.suite-fault{background:var(--error)}
p.nothing{margin:8px 0 0;padding:8px 12px;border-radius:6px;background:var(--fail);color:#fff;font-weight:600;grid-column:1/-1}
p.nothing.suite-fault{background:var(--error);flex-basis:100%}p.nothing a{color:#fff;text-decoration:underline}
details.basis{margin:4px 0 0;font-size:12px;color:var(--muted)}details.basis ul{margin:4px 0 0 16px;padding:0}
.findings-badge{align-self:center;padding:6px 14px;border-radius:16px;background:var(--finding);color:#fff;font-size:15px;font-weight:700;letter-spacing:.03em;white-space:nowrap}
a.findings-badge:hover{text-decoration:none;filter:brightness(1.1)}
.stats{display:flex;gap:8px}
.stat{display:flex;flex-direction:column;align-items:center;min-width:64px;padding:6px 10px;border-radius:8px;border:1px solid var(--line);background:var(--bg)}
.stat .n{font-size:22px;font-weight:700}.stat .l{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.stat.pass .n{color:var(--pass)}.stat.fail .n{color:var(--fail)}.stat.skip .n{color:var(--skip)}.stat.finding .n{color:var(--finding)}.stat.error .n{color:var(--error)}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin-bottom:20px}
.grid2{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:20px;margin-bottom:0}
.grid2>.card{margin-bottom:20px}
@media (max-width:900px){.grid2{grid-template-columns:minmax(0,1fr)}}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
thead th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);background:var(--bg);white-space:nowrap;overflow-wrap:normal}
table.kv th{width:150px;color:var(--muted);font-weight:600;white-space:nowrap}
table.kv tr:last-child>*{border-bottom:none}
ul.plain{list-style:none;margin:0;padding:0}ul.plain li{margin:0 0 2px}
.k{color:var(--muted);font-weight:600}
.desc{font-weight:600}
.bad-text{color:var(--fail)}.ok-text{color:var(--pass);font-weight:600}
.badge{display:inline-block;padding:1px 8px;border-radius:12px;font-size:11px;font-weight:700;letter-spacing:.04em;white-space:nowrap;border:1px solid transparent}
.tag.emulated{display:inline-block;margin-left:6px;padding:0 6px;border:1px dashed #8c959f;border-radius:10px;font-size:11px;color:#57606a;font-weight:normal}
.badge.pass{background:var(--pass-bg);color:var(--pass);border-color:#aceebb}.badge.fail{background:var(--fail-bg);color:var(--fail);border-color:#ffcecb}.badge.skip{background:var(--skip-bg);color:var(--skip);border-color:#f5e0a0}.badge.finding{background:var(--finding-bg);color:var(--finding);border-color:#ffc799}.badge.error{background:var(--error-bg);color:var(--error);border-color:#d8b9ff}
#failures.has-failures{border-left:5px solid var(--fail)}#failures.no-failures{border-left:5px solid var(--pass)}
#findings.has-findings{border-left:5px solid var(--finding)}#findings.no-findings{border-left:5px solid var(--pass)}
.finding-list{margin:0;padding-left:20px}
.finding-item{margin-bottom:14px}.finding-item h3{margin:4px 0}
.finding-item .name{font-weight:normal;color:var(--muted)}
.finding-item .statement{margin:2px 0 6px;color:var(--finding);font-weight:600}
.finding-item .observed{margin:2px 0 0;font-size:13px}
.finding-item .observed .excerpt{margin-top:2px}
code.finding-id{font-weight:normal;color:var(--muted)}
.failure-list{margin:0;padding-left:20px}
.failure{margin-bottom:14px}.failure h3{margin:4px 0}
.failure .name{font-weight:normal;color:var(--muted)}
.must{margin:2px 0 6px}
.mismatches{margin:6px 0;padding-left:18px}
.mismatches li{color:var(--fail);margin-bottom:2px}
.mismatches code{color:var(--fail);white-space:pre-wrap}
.diag{margin:4px 0 0;font-size:13px}
.run-errors pre{margin:0}
#faults{border-left:5px solid var(--error)}
.fault-list,.error-list{margin:0 0 10px;padding-left:20px}
.fault{margin-bottom:8px}.fault pre{margin:4px 0 0;border-color:#d8b9ff;background:var(--error-bg)}
.error-item{margin-bottom:14px}.error-item h3{margin:4px 0}.error-item .name{font-weight:normal;color:var(--muted)}
.error-item .mismatches li,.error-item .mismatches code{color:var(--error)}
nav.pages{margin:0 0 16px;font-size:13px}nav.pages a,nav.pages span{margin-right:8px}
table.ingresses{font-size:13px}table.ingresses td.n{text-align:right;white-space:nowrap}
table.ingresses tr.fail>td:first-child{box-shadow:inset 4px 0 0 var(--fail)}table.ingresses tr.error>td:first-child{box-shadow:inset 4px 0 0 var(--error)}
table.ingresses tr.finding>td:first-child{box-shadow:inset 4px 0 0 var(--finding)}table.ingresses tr.unchecked>td:first-child{box-shadow:inset 4px 0 0 var(--skip)}
.hint{color:var(--muted);margin:0 0 10px;font-size:13px}
h3.suite{margin:18px 0 6px;padding:4px 8px;background:var(--bg);border-radius:6px;font-size:14px}
table.matrix{table-layout:fixed}
col.c-scn{width:31%}col.c-v{width:92px}col.c-dur{width:72px}
table.matrix>tbody>tr.scenario>td{border-bottom:1px solid var(--line)}
tr.scenario.fail>td:first-child{box-shadow:inset 4px 0 0 var(--fail)}
tr.scenario.skip>td:first-child{box-shadow:inset 4px 0 0 var(--skip)}
tr.scenario.pass>td:first-child{box-shadow:inset 4px 0 0 var(--pass)}
tr.scenario.finding>td:first-child{box-shadow:inset 4px 0 0 var(--finding)}
tr.scenario.error>td:first-child{box-shadow:inset 4px 0 0 var(--error)}
.scn .error-note{font-size:12px;color:var(--error);margin:4px 0;font-weight:600}.scn .error-note .k{color:var(--error)}
tr.scenario.error .mismatches li,tr.scenario.error .mismatches code{color:var(--error)}
.scn .id{font-family:var(--mono);font-weight:700;font-size:13px}
.scn .name{color:var(--muted);font-size:13px}
.scn .must{font-size:13px;margin:4px 0}
.scn .note{font-size:12px;color:var(--muted);margin:4px 0;font-style:italic}
.scn .meta{font-size:12px;color:var(--muted);margin:4px 0 0}
.skip-reason{font-size:12px;color:var(--skip);margin:4px 0 0}
.scn .finding-note{font-size:12px;color:var(--finding);margin:4px 0;font-weight:600}
.scn .finding-note .k{color:var(--finding)}
.dur{white-space:nowrap;color:var(--muted);font-size:12px;text-align:right}
table.cmp{font-size:12px;border:1px solid var(--line);border-radius:6px}
table.cmp th,table.cmp td{padding:3px 6px}
table.cmp thead th{font-size:11px}
table.cmp{table-layout:fixed}
table.cmp thead th:nth-child(1){width:19%}table.cmp thead th:nth-child(2){width:33%}table.cmp thead th:nth-child(3){width:48%}
table.cmp tbody th{font-weight:600;color:var(--muted)}
table.cmp tr.mismatch>*{background:var(--fail-bg)}
table.cmp tr.mismatch>th{color:var(--fail);box-shadow:inset 3px 0 0 var(--fail)}
.excerpt{font-family:var(--mono);font-size:11px;color:var(--muted);overflow-wrap:anywhere}
table.certs{table-layout:fixed;font-size:12px}
table.certs th:nth-child(1){width:13%}table.certs th:nth-child(2),table.certs th:nth-child(3){width:17%}table.certs th:nth-child(4){width:13%}table.certs th:nth-child(5),table.certs th:nth-child(6){width:12%}table.certs th:nth-child(7){width:16%}
tr.cert.expired>td,tr.cert.expiring>td,tr.cert.not-yet-valid>td{background:#fff8c5}
.flag{display:inline-block;margin-top:3px;padding:0 6px;border-radius:4px;background:var(--fail);color:#fff;font-weight:700;font-size:11px}
tr.cert.expiring:not(.expired) .flag{background:var(--skip)}
.deliberate{display:inline-block;margin-top:3px;font-size:11px;color:var(--muted);font-style:italic}
table.controls{table-layout:fixed}
table.controls th:nth-child(1){width:170px}table.controls th:nth-child(2){width:30%}table.controls th:nth-child(4){width:92px}
table.controls td:first-child code{white-space:nowrap}
table.claims th:nth-child(2){width:160px}table.claims th:nth-child(3){width:130px}
td.ids a{font-family:var(--mono);font-size:12px;margin-right:6px;white-space:nowrap}
.policy{margin-bottom:12px}.policy h3{margin:6px 0 2px}.policy p{margin:0 0 6px}
table.annotations{width:auto;min-width:60%}
table.annotations th{width:auto;color:var(--ink);font-weight:normal;padding-right:32px}
pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:10px 12px;margin:0 0 8px}
pre.cmd{white-space:pre-wrap;word-break:break-all;font-size:13px;font-weight:600}
pre.wrap{white-space:pre-wrap;word-break:break-word}
table.kv.inner{width:auto}
table.kv.inner th{width:auto;padding:2px 12px 2px 0;font-weight:normal}
table.kv.inner td{padding:2px 0}
table.kv.inner th,table.kv.inner td{border-bottom:none}
code.json{font-size:11px;color:var(--muted);word-break:break-word}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:10px}
@media print{
  body{background:#fff;font-size:11px}
  main{max-width:none;padding:0}
  header.top{padding:0 0 10px;margin-bottom:12px}
  .card{border:none;border-radius:0;padding:0;margin-bottom:16px;break-inside:auto}
  #failures.has-failures,#failures.no-failures,#findings.has-findings,#findings.no-findings,#faults{border-left:none}
  tr,.failure,.error-item,.fault,.finding-item,.policy{break-inside:avoid}
  nav.pages{display:none}
  thead{display:table-header-group}
  h2,h3{break-after:avoid}
  a{color:inherit}
}
`;

/** The instant certificate validity is judged against: options.now, else the run's end. */
export function reportNow(evidence: Evidence, options: ReportHtmlOptions = {}): Date {
  const finished = new Date(evidence.run.finishedAt);
  return options.now ?? (Number.isNaN(finished.getTime()) ? new Date() : finished);
}

/** `PASS · mTLS conformance <run> (n/N passed, …)`: the title of every page of the report. */
export function pageTitle(evidence: Evidence, suffix = ""): string {
  const t = evidence.totals;
  return `${verdictLabel(overallVerdict(evidence))}${suffix} · mTLS conformance ${evidence.run.id} (${t.pass}/${t.total} passed${t.error ? `, ${t.error} erred` : ""}${findingCount(evidence) > 0 ? `, ${findingsLabel(findingCount(evidence))}` : ""}, ${evidence.target.kind})`;
}

/** A whole self-contained page: inline CSS, a CSP that lets nothing load, no scripts. */
export function htmlPage(title: string, header: string, main: string, evidence: Evidence): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="referrer" content="no-referrer">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
${header}
<main>
${main}
<footer>${e(evidence.tool.name)} ${e(evidence.tool.version)} · evidence schema ${e(evidence.schemaVersion)} · run ${e(evidence.run.id)}</footer>
</main>
</body>
</html>
`;
}

/** The run's evidence as one self-contained HTML page. */
export function renderReportHtml(evidence: Evidence, options: ReportHtmlOptions = {}): string {
  const now = reportNow(evidence, options);
  const main = [
    renderFaults(evidence),
    renderRunAndTarget(evidence),
    renderFailures(evidence),
    renderFindingScenarios(evidence),
    renderScenarios(evidence),
    renderBrowserScreenshots(evidence),
    renderCertificates(evidence, now),
    renderInventory(evidence),
    renderControls(evidence),
    renderClaims(evidence),
    renderPolicies(evidence),
    renderReproduce(evidence),
    renderAppendix(evidence),
  ]
    .filter(Boolean)
    .join("\n");
  return htmlPage(pageTitle(evidence), renderHeader(evidence), main, evidence);
}
