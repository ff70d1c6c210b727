// Diffing two runs' evidence, with real runs on the nginx target: two runs of the same
// configuration must show no change at all (fresh PKI, ports and run ids must not leak into the
// diff), and a deliberately broken Ingress must show up as exactly one regression.
import { writeFileSync } from "node:fs";


import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

import { diffEvidence, diffReportDirs, formatDiffMarkdown, formatDiffText, verdictChangeKind, type ScenarioChange, type Verdict } from "./diff.ts";
import { totals, type Evidence, type ScenarioEvidence } from "./evidence.ts";
import type { Manifests } from "../manifests/manifests.ts";
import { ANNOTATION_PREFIX } from "../catalogue/catalogue.ts";
import { guaranteeOf } from "../profiles/scenario-guarantee.ts";
import { runConformance } from "../run/run.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

const quiet = () => undefined;

const tempDir = tempDirs();

/** verify-depth 2 on the guide's Ingress, in whichever of the run's manifests hold it. */
const depth2 = (m: Manifests): Manifests => {
  const ing = m.ingresses.find((i) => i.metadata?.name === "test-localhost");
  if (ing) ing.metadata!.annotations![ANNOTATION_PREFIX + "auth-tls-verify-depth"] = "2";
  return m;
};

async function run(alterManifests?: (m: Manifests) => Manifests): Promise<{ evidence: Evidence; reportDir: string }> {
  const reportDir = tempDir("diff-test-");
  const outcome = await runConformance({ target: "nginx", reportDir, command: "test", log: quiet, alterManifests });
  return { evidence: outcome.evidence, reportDir };
}

const scenario = (e: Evidence, id: string): ScenarioEvidence => e.scenarios.find((s) => s.id === id)!;

let A: { evidence: Evidence; reportDir: string };
let B: { evidence: Evidence; reportDir: string };
let C: { evidence: Evidence; reportDir: string };

beforeAll(async () => {
  // One after another, as run.test.ts does: each run starts its own nginx and echo backend.
  A = await run();
  B = await run();
  C = await run(depth2);
}, 120_000);

describe("real runs", () => {
  it("the runs are what the test needs: A and B all pass on fresh PKI and ports, C fails MTLS-CLIENT-010 only", () => {
    expect(A.evidence.totals.fail).toBe(0);
    expect(B.evidence.totals.fail).toBe(0);
    expect(C.evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id)).toEqual(["MTLS-CLIENT-010"]);
    // What differs between A and B, and must not show up in their diff.
    expect(B.evidence.run.id).not.toBe(A.evidence.run.id);
    expect(B.evidence.caBundleSha256).not.toBe(A.evidence.caBundleSha256);
    expect(B.evidence.target.listen).not.toBe(A.evidence.target.listen);
    expect(scenario(B.evidence, "MTLS-HEADERS-001").observed?.upstreamClientCert?.sha256).not.toBe(
      scenario(A.evidence, "MTLS-HEADERS-001").observed?.upstreamClientCert?.sha256,
    );
  });

  it("diff(A, A): no change, not regressed", () => {
    const d = diffEvidence(A.evidence, A.evidence);
    expect(d.changes).toEqual([]);
    expect(d.versionChanges).toEqual([]);
    expect(d.regressed).toBe(false);
  });

  it("diff(A, B), two runs of the same configuration: no change (nothing run-specific leaks in)", () => {
    const d = diffEvidence(A.evidence, B.evidence);
    expect(d.changes).toEqual([]);
    expect(d.versionChanges).toEqual([]);
    expect(d.regressed).toBe(false);
    expect(d.a.runId).toBe(A.evidence.run.id);
    expect(d.b.runId).toBe(B.evidence.run.id);
    const text = formatDiffText(d).trimEnd().split("\n");
    expect(text.at(-1)).toBe("no change");
    expect(text).toHaveLength(2);
    expect(formatDiffMarkdown(d)).toContain("**no change**");
  });

  it("diff(A, C), depth 2 on the guide's Ingress: exactly one change, MTLS-CLIENT-010 regressed, status 400 -> 200", () => {
    const d = diffEvidence(A.evidence, C.evidence);
    expect(d.changes).toHaveLength(1);
    const c = d.changes[0]!;
    expect(c).toMatchObject({ id: "MTLS-CLIENT-010", name: "depth-1-two-intermediates", before: "pass", after: "fail", kind: "regressed" });
    expect(c.details).toContain("status 400 -> 200");
    expect(c.details).toContain("upstream not reached -> reached");
    expect(c.details).toContain('body marker "The SSL certificate error" present -> absent');
    // Never a fingerprint or anything else run-specific.
    expect(c.details.join("\n")).not.toMatch(/[0-9a-f]{64}|127\.0\.0\.1|sha256/);
    expect(d.regressed).toBe(true);
  });

  it("diff(C, A): the same scenario is fixed, nothing regressed", () => {
    const d = diffEvidence(C.evidence, A.evidence);
    expect(d.changes).toHaveLength(1);
    expect(d.changes[0]).toMatchObject({ id: "MTLS-CLIENT-010", before: "fail", after: "pass", kind: "fixed" });
    expect(d.changes[0]!.details).toContain("status 200 -> 400");
    expect(d.regressed).toBe(false);
  });

  it("text output: header with run ids and versions, one line per change, a summary line", () => {
    const d = diffEvidence(A.evidence, C.evidence);
    const lines = formatDiffText(d).trimEnd().split("\n");
    const nginx = A.evidence.target.versions.nginx!;
    expect(lines[0]).toBe(
      `A ${A.evidence.run.id} (nginx ${versions(A.evidence)}) -> B ${C.evidence.run.id} (nginx ${versions(C.evidence)})`,
    );
    expect(lines[0]).toContain(`nginx=${nginx}`);
    // The guarantee first, as a migration or an upgrade is judged, then the scenario behind it.
    expect(lines[1]).toBe("verify-depth: enforced on nginx (ingress-nginx's rules) -> failing on nginx (ingress-nginx's rules) (MTLS-CLIENT-010)");
    expect(lines[2]).toMatch(/^REGRESSED MTLS-CLIENT-010 depth-1-two-intermediates: pass -> fail; status 400 -> 200(; .*)?$/);
    expect(lines[3]).toBe("1 change(s), 1 regression(s)");
    expect(lines).toHaveLength(4);

    expect(formatDiffText(diffEvidence(C.evidence, A.evidence))).toMatch(/^FIXED MTLS-CLIENT-010 depth-1-two-intermediates: fail -> pass; status 200 -> 400/m);
    expect(formatDiffText(diffEvidence(C.evidence, A.evidence)).trimEnd().split("\n").at(-1)).toBe("1 change(s), 0 regression(s)");
  });

  it("Markdown output: a heading, the runs, a table of changes, the summary", () => {
    const md = formatDiffMarkdown(diffEvidence(A.evidence, C.evidence));
    expect(md).toMatch(/^## .*\S/);
    expect(md).toContain(A.evidence.run.id);
    expect(md).toContain(C.evidence.run.id);
    expect(md).toContain("| change | scenario | name | A | B | details |");
    expect(md).toMatch(/^\| REGRESSED \| MTLS-CLIENT-010 \| depth-1-two-intermediates \| pass \| fail \| status 400 -> 200; .*\|$/m);
    expect(md).toContain("**1 change(s), 1 regression(s)**");
    expect(md).not.toContain("### Version changes");
  });

  it("diffReportDirs reads both evidence.json files", async () => {
    const d = await diffReportDirs(A.reportDir, C.reportDir);
    expect(d).toEqual(diffEvidence(A.evidence, C.evidence));
    // The file itself is accepted too.
    expect(await diffReportDirs(join(A.reportDir, "evidence.json"), B.reportDir)).toMatchObject({ changes: [], regressed: false });
  });
});

function versions(e: Evidence): string {
  return Object.entries(e.target.versions)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

describe("synthetic changes on a real run", () => {
  const copy = (): Evidence => structuredClone(A.evidence);

  it("a removed scenario, an added scenario and a changed nginx version", () => {
    const b = copy();
    const removed = b.scenarios.find((s) => s.id === "MTLS-CLIENT-005")!;
    b.scenarios = b.scenarios.filter((s) => s !== removed);
    b.scenarios.push({ ...structuredClone(removed), id: "MTLS-CLIENT-999", name: "a-new-scenario", verdict: "fail" });
    b.target.versions.nginx = "1.99.0";
    delete b.target.versions.opensslBuiltWith;
    b.target.versions.controller = "v1.15.1";

    const d = diffEvidence(A.evidence, b);
    expect(d.changes).toEqual([
      { id: "MTLS-CLIENT-005", name: "not-yet-valid-client-cert", before: "pass", kind: "removed", details: [] },
      { id: "MTLS-CLIENT-999", name: "a-new-scenario", after: "fail", kind: "added", details: [] },
    ]);
    expect(d.regressed).toBe(false);
    expect(d.versionChanges).toContainEqual({ key: "nginx", before: A.evidence.target.versions.nginx, after: "1.99.0" });
    expect(d.versionChanges).toContainEqual({ key: "controller", after: "v1.15.1" });
    if (A.evidence.target.versions.opensslBuiltWith) {
      expect(d.versionChanges).toContainEqual({ key: "opensslBuiltWith", before: A.evidence.target.versions.opensslBuiltWith });
    }

    const text = formatDiffText(d);
    expect(text).toContain(`version nginx: ${A.evidence.target.versions.nginx} -> 1.99.0\n`);
    expect(text).toContain("version controller: (none) -> v1.15.1\n");
    expect(text).toContain("REMOVED MTLS-CLIENT-005 not-yet-valid-client-cert: pass -> (none)\n");
    expect(text).toContain("ADDED MTLS-CLIENT-999 a-new-scenario: (none) -> fail\n");
    expect(text.trimEnd().split("\n").at(-1)).toBe("2 change(s), 0 regression(s)");

    const md = formatDiffMarkdown(d);
    expect(md).toContain("### Version changes");
    expect(md).toContain(`| nginx | ${A.evidence.target.versions.nginx} | 1.99.0 |`);
    expect(md).toContain("| REMOVED | MTLS-CLIENT-005 | not-yet-valid-client-cert | pass | (none) |  |");
    expect(md).toContain("| ADDED | MTLS-CLIENT-999 | a-new-scenario | (none) | fail |  |");
  });

  it("a different target kind is a version change", () => {
    const b = copy();
    b.target.kind = "k3s";
    expect(diffEvidence(A.evidence, b).versionChanges).toContainEqual({ key: "target", before: "nginx", after: "k3s" });
  });

  it("verdict kinds: pass -> skip regresses, skip -> fail and skip -> pass only change the verdict", () => {
    const a = copy();
    const b = copy();
    scenario(b, "MTLS-CLIENT-001").verdict = "skip";
    scenario(a, "MTLS-CLIENT-002").verdict = "skip";
    scenario(b, "MTLS-CLIENT-002").verdict = "fail";
    scenario(a, "MTLS-CLIENT-003").verdict = "skip";
    const d = diffEvidence(a, b);
    expect(d.changes.map((c) => [c.id, c.kind])).toEqual([
      ["MTLS-CLIENT-001", "regressed"],
      ["MTLS-CLIENT-002", "changed-verdict"],
      ["MTLS-CLIENT-003", "changed-verdict"],
    ]);
    expect(d.regressed).toBe(true);
    expect(formatDiffText(d)).toContain("CHANGED-VERDICT MTLS-CLIENT-002 valid-client-cert: skip -> fail\n");
  });

  /** Marks a scenario of a synthetic copy as a finding (the documented weakness observed), totals adjusted. */
  const markFinding = (e: Evidence, id: string) => {
    const s = scenario(e, id);
    s.verdict = "finding";
    s.finding = { id: "x", statement: "Plain HTTP on port 80 reaches the backend without any client-certificate check." };
    e.totals = totals(e.scenarios);
  };
  const setVerdict = (e: Evidence, id: string, v: Verdict) => {
    scenario(e, id).verdict = v;
    e.totals = totals(e.scenarios);
  };

  it("verdict kinds with findings: pass -> finding and finding -> fail regress, finding -> pass is fixed, the rest only change", () => {
    const a = copy();
    const b = copy();
    markFinding(b, "MTLS-CLIENT-001"); // pass -> finding: a weakness appeared
    markFinding(a, "MTLS-CLIENT-002");
    setVerdict(b, "MTLS-CLIENT-002", "fail"); // finding -> fail
    markFinding(a, "MTLS-CLIENT-003"); // finding -> pass: the weakness is gone
    markFinding(a, "MTLS-CLIENT-004");
    setVerdict(b, "MTLS-CLIENT-004", "skip"); // finding -> skip
    setVerdict(a, "MTLS-CLIENT-005", "fail");
    markFinding(b, "MTLS-CLIENT-005"); // fail -> finding
    setVerdict(a, "MTLS-CLIENT-006", "skip");
    markFinding(b, "MTLS-CLIENT-006"); // skip -> finding
    markFinding(a, "MTLS-CLIENT-007");
    markFinding(b, "MTLS-CLIENT-007"); // finding -> finding: no change
    // On top of the findings the real run observed (the same on both sides, so never a change).
    const base = A.evidence.totals;
    // A check marked skip no longer counts as one that ran.
    expect(a.totals).toEqual({ ...base, pass: base.pass - 6, finding: base.finding + 4, fail: base.fail + 1, skip: base.skip + 1, checked: base.checked - 1 });
    expect(b.totals).toEqual({ ...base, pass: base.pass - 6, finding: base.finding + 4, fail: base.fail + 1, skip: base.skip + 1, checked: base.checked - 1 });

    const d = diffEvidence(a, b);
    expect(d.changes.map((c) => [c.id, c.before, c.after, c.kind])).toEqual([
      ["MTLS-CLIENT-001", "pass", "finding", "regressed"],
      ["MTLS-CLIENT-002", "finding", "fail", "regressed"],
      ["MTLS-CLIENT-003", "finding", "pass", "fixed"],
      ["MTLS-CLIENT-004", "finding", "skip", "changed-verdict"],
      ["MTLS-CLIENT-005", "fail", "finding", "changed-verdict"],
      ["MTLS-CLIENT-006", "skip", "finding", "changed-verdict"],
    ]);
    expect(d.regressed).toBe(true);
    const text = formatDiffText(d);
    expect(text).toContain("REGRESSED MTLS-CLIENT-001 no-client-cert: pass -> finding\n");
    expect(text).toContain("REGRESSED MTLS-CLIENT-002 valid-client-cert: finding -> fail\n");
    expect(text).toMatch(/^FIXED MTLS-CLIENT-003 [^:]+: finding -> pass\n/m);
    expect(text.trimEnd().split("\n").at(-1)).toBe("6 change(s), 2 regression(s)");
    expect(formatDiffMarkdown(d)).toContain("| REGRESSED | MTLS-CLIENT-001 | no-client-cert | pass | finding |  |");

    // A weakness that goes away, alone, is fixed and regresses nothing; one that stays is no change.
    const fixed = diffEvidence(a, copy());
    expect(fixed.changes.filter((c) => c.after === "pass" && c.before === "finding").map((c) => [c.id, c.kind])).toEqual([
      ["MTLS-CLIENT-002", "fixed"],
      ["MTLS-CLIENT-003", "fixed"],
      ["MTLS-CLIENT-004", "fixed"],
      ["MTLS-CLIENT-007", "fixed"],
    ]);
    expect(diffEvidence(b, b)).toMatchObject({ changes: [], regressed: false });
    const onlyFixed = copy();
    markFinding(onlyFixed, "MTLS-CLIENT-008");
    expect(diffEvidence(onlyFixed, copy())).toMatchObject({ regressed: false, changes: [{ id: "MTLS-CLIENT-008", before: "finding", after: "pass", kind: "fixed" }] });
  });

  it("every verdict pair: what passed or was a finding and now fails regressed, pass -> anything else regressed", () => {
    const kinds: Array<[Verdict, Verdict, ScenarioChange["kind"]]> = [
      ["pass", "fail", "regressed"],
      ["pass", "skip", "regressed"],
      ["pass", "finding", "regressed"],
      ["finding", "fail", "regressed"],
      ["finding", "pass", "fixed"],
      ["finding", "skip", "changed-verdict"],
      ["fail", "pass", "fixed"],
      ["fail", "skip", "changed-verdict"],
      ["fail", "finding", "changed-verdict"],
      ["skip", "pass", "changed-verdict"],
      ["skip", "fail", "changed-verdict"],
      ["skip", "finding", "changed-verdict"],
      // A run whose harness was at fault has no verdict for the checks that erred.
      ["pass", "error", "inconclusive"],
      ["error", "pass", "inconclusive"],
      ["fail", "error", "inconclusive"],
      ["error", "fail", "inconclusive"],
      ["finding", "error", "inconclusive"],
      ["error", "skip", "inconclusive"],
    ];
    for (const [before, after, kind] of kinds) expect(verdictChangeKind(before, after), `${before} -> ${after}`).toBe(kind);
  });

  it("same verdict, different observed behaviour: changed-behaviour with each difference", () => {
    const b = copy();
    const guide = scenario(b, "MTLS-GUIDE-002").observed!;
    guide.upstreamHeaders!["ssl-client-subject-dn"] = "CN=authorized-client,O=MyOrganization";
    guide.upstreamHeaders!["x-ssl-client-cert"] = "something";
    guide.upstreamClientCert = { sha256: guide.upstreamClientCert!.sha256, certificates: 2 };
    const noCert = scenario(b, "MTLS-CLIENT-001").observed!;
    noCert.bodyExcerpt = "<html>400 Bad Request | other text</html>";
    const d = diffEvidence(A.evidence, b);
    expect(d.changes).toEqual([
      {
        id: "MTLS-GUIDE-002",
        name: "guide-client-cert",
        before: "pass",
        after: "pass",
        kind: "changed-behaviour",
        details: [
          "ssl-client-subject-dn O=MyOrganization,CN=authorized-client -> CN=authorized-client,O=MyOrganization",
          "ssl-client-cert present (1 certificate) -> present (2 certificates)",
          "x-ssl-client-cert absent -> present",
        ],
      },
      {
        id: "MTLS-CLIENT-001",
        name: "no-client-cert",
        before: "pass",
        after: "pass",
        kind: "changed-behaviour",
        details: ['body marker "No required SSL certificate was sent" present -> absent'],
      },
    ]);
    expect(d.regressed).toBe(false);
    expect(formatDiffText(d)).toContain(
      "CHANGED-BEHAVIOUR MTLS-GUIDE-002 guide-client-cert: pass; ssl-client-subject-dn O=MyOrganization,CN=authorized-client -> CN=authorized-client,O=MyOrganization; ",
    );
  });

  it("a transport error instead of a response, and a scenario that did not run", () => {
    const a = copy();
    const b = copy();
    const x = scenario(b, "MTLS-CLIENT-003").observed!;
    delete x.status;
    delete x.bodyExcerpt;
    x.error = { code: "ECONNRESET", message: "socket hang up on 127.0.0.1:40000" };
    scenario(a, "MTLS-CLIENT-004").verdict = "fail";
    scenario(b, "MTLS-CLIENT-004").verdict = "fail";
    delete scenario(b, "MTLS-CLIENT-004").observed;
    const d = diffEvidence(a, b);
    expect(d.changes.find((c) => c.id === "MTLS-CLIENT-003")?.details).toEqual([
      "status 400 -> (none)",
      "transport error (none) -> ECONNRESET",
      'body marker "The SSL certificate error" present -> absent',
    ]);
    expect(d.changes.find((c) => c.id === "MTLS-CLIENT-004")).toMatchObject({ kind: "changed-behaviour", details: ["status 400 -> not run"] });
  });

  it("run-specific values never make a change: fingerprints, durations, ports, forwarding headers, host, run id", () => {
    const b = copy();
    b.run.id = "other-run";
    b.run.startedAt = new Date(0).toISOString();
    b.target.listen = "127.0.0.1:1";
    for (const s of b.scenarios) {
      s.durationMs += 1000;
      s.credentialSha256 = "0".repeat(64);
      if (!s.observed) continue;
      s.observed.serverCertSha256 = "1".repeat(64);
      if (s.observed.upstreamClientCert) s.observed.upstreamClientCert.sha256 = "2".repeat(64);
      if (s.observed.bodyExcerpt) s.observed.bodyExcerpt = s.observed.bodyExcerpt.replace(/nginx\/[\d.]+/, "nginx/9.9.9");
      const h = s.observed.upstreamHeaders;
      if (h) {
        h.host = "elsewhere";
        h["x-forwarded-for"] = "10.0.0.1";
        h["x-forwarded-host"] = "elsewhere";
        if (h["ssl-client-cert"]) h["ssl-client-cert"] = "<9999 characters, see upstreamClientCert>";
      }
    }
    expect(diffEvidence(A.evidence, b)).toMatchObject({ changes: [], versionChanges: [], regressed: false });
  });

  it("an erred check (a harness fault) is inconclusive: neither a regression nor a fix, and the diff says so", () => {
    const a = copy();
    const b = copy();
    const fault = "harness fault: nginx error.log: 1024 worker_connections are not enough";
    const err = (e: Evidence, id: string) => {
      scenario(e, id).verdict = "error";
      scenario(e, id).mismatches = [fault];
      e.harnessFaults = [{ source: "nginx error.log", message: "1024 worker_connections are not enough" }];
      e.runErrors = [fault];
      e.totals = totals(e.scenarios);
    };
    err(b, "MTLS-CLIENT-001"); // pass -> error: not a regression
    err(a, "MTLS-CLIENT-002"); // error -> pass: not a fix
    err(a, "MTLS-CLIENT-003");
    err(b, "MTLS-CLIENT-003"); // error in both: no verdict to compare, not "no change"
    const d = diffEvidence(a, b);
    expect(d.changes.map((c) => [c.id, c.before, c.after, c.kind])).toEqual([
      ["MTLS-CLIENT-001", "pass", "error", "inconclusive"],
      ["MTLS-CLIENT-002", "error", "pass", "inconclusive"],
      ["MTLS-CLIENT-003", "error", "error", "inconclusive"],
    ]);
    expect(d.regressed).toBe(false);
    expect(d.inconclusive).toBe(3);
    const text = formatDiffText(d);
    expect(text).toContain("INCONCLUSIVE MTLS-CLIENT-001 no-client-cert: pass -> error; no verdict in B: the harness was at fault (neither a regression nor a fix)\n");
    expect(text).toMatch(/^INCONCLUSIVE MTLS-CLIENT-002 [^:]+: error -> pass; no verdict in A: the harness was at fault \(neither a regression nor a fix\)$/m);
    expect(text).toContain("A: SUITE FAULT — no verdict on the Ingresses (1 harness fault(s), 2 check(s) erred); its erred checks are inconclusive\n");
    expect(text).toContain("B: SUITE FAULT — no verdict on the Ingresses (1 harness fault(s), 2 check(s) erred); its erred checks are inconclusive\n");
    expect(text.trimEnd().split("\n").at(-1)).toBe("3 change(s), 0 regression(s), 3 inconclusive (a harness fault, no verdict on one side)");
    const md = formatDiffMarkdown(d);
    expect(md).toContain("**B: SUITE FAULT — no verdict on the Ingresses (1 harness fault(s), 2 check(s) erred); its erred checks are inconclusive**");
    expect(md).toContain("| INCONCLUSIVE | MTLS-CLIENT-001 | no-client-cert | pass | error |");

    // The guarantee an erred check decides is not shown to hold: inconclusive, not enforced.
    const only = copy();
    err(only, "MTLS-CLIENT-001");
    const g = guaranteeOf(scenario(only, "MTLS-CLIENT-001"));
    expect(diffEvidence(A.evidence, only).guarantees).toContainEqual({ guarantee: g, before: "enforced", after: "inconclusive", scenarios: ["MTLS-CLIENT-001"] });
    // A run without faults says nothing of the kind.
    expect(formatDiffText(diffEvidence(A.evidence, B.evidence))).not.toContain("SUITE FAULT");
  });

  it("Markdown escapes | in cells", () => {
    const b = copy();
    scenario(b, "MTLS-CLIENT-002").name = "a|b";
    scenario(b, "MTLS-CLIENT-002").verdict = "fail";
    const md = formatDiffMarkdown(diffEvidence(A.evidence, b));
    expect(md).toContain("| REGRESSED | MTLS-CLIENT-002 | a\\|b | pass | fail |");
  });
});

describe("diffReportDirs errors", () => {
  it("a directory without evidence.json: the error names the file", async () => {
    const empty = tempDir("diff-empty-");
    await expect(diffReportDirs(empty, empty)).rejects.toThrow(join(empty, "evidence.json"));
    await expect(diffReportDirs(empty, empty)).rejects.toThrow(/no such file/);
  });

  it("a directory that does not exist, and an evidence.json that is not JSON or not evidence", async () => {
    const missing = join(tmpdir(), "diff-does-not-exist-" + process.pid);
    await expect(diffReportDirs(missing, missing)).rejects.toThrow(join(missing, "evidence.json"));
    const bad = tempDir("diff-bad-");
    writeFileSync(join(bad, "evidence.json"), "{ not json");
    await expect(diffReportDirs(bad, bad)).rejects.toThrow(new RegExp(`${join(bad, "evidence.json")}: not JSON`));
    const other = tempDir("diff-other-");
    writeFileSync(join(other, "evidence.json"), JSON.stringify({ hello: "world" }));
    await expect(diffReportDirs(other, other)).rejects.toThrow(/not an mtls-conformance evidence\.json/);
  });
});
