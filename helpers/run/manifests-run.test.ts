// `run --manifests` on the nginx target with a folder of 100 varied user Ingresses: every auth-tls
// Ingress gets its checks, reports are per Ingress, shared hosts and denied hosts are reported; and
// when the deployed objects differ from what the folder declares, the run fails naming the check.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ANNOTATION_PREFIX } from "../model/annotations.ts";
import { writeIngressZoo, type Zoo } from "../testing/ingress-zoo.ts";
import type { Manifests } from "../manifests/manifests.ts";
import { runConformance, type RunOutcome } from "./run.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

const XSD = new URL("../../fixtures/junit.xsd", import.meta.url).pathname;
let zoo: Zoo;
let outcome: RunOutcome & { reportDir: string };

async function run(manifests: string, alterManifests?: (m: Manifests) => Manifests, only?: string): Promise<RunOutcome & { reportDir: string }> {
  const reportDir = tempDir("manifests-run-");
  return { ...(await runConformance({ target: "nginx", reportDir, manifests, command: "test", log: () => undefined, alterManifests, only })), reportDir };
}

const setOn = (id: string, key: string, value: string) => (m: Manifests) => {
  const ing = m.ingresses.find((i) => `${i.metadata?.namespace}/${i.metadata?.name}` === id)!;
  ing.metadata!.annotations![ANNOTATION_PREFIX + key] = value;
  return m;
};

beforeAll(async () => {
  zoo = await writeIngressZoo(tempDir("zoo-"), 100);
  outcome = await run(zoo.dir);
});

describe("--manifests: 100 varied Ingresses on the nginx target", () => {
  it("passes, with the checks of every auth-tls Ingress run", () => {
    const failed = outcome.evidence.scenarios.filter((s) => s.verdict === "fail");
    expect(failed.map((s) => `${s.id}: ${s.mismatches.join("; ")}`)).toEqual([]);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.evidence.subject).toMatchObject({ origin: "manifests", source: zoo.dir });
    expect(outcome.evidence.ingresses).toHaveLength(100);
    for (const i of outcome.evidence.ingresses.filter((x) => Object.keys(x.declared).length)) expect(i.checked, i.id).toBeGreaterThan(0);
    expect(outcome.evidence.totals.checked).toBeGreaterThan(1000);
    // Every generated check has an expectation with its sources.
    for (const s of outcome.evidence.scenarios.filter((x) => x.observed && !x.static)) expect(s.basis?.sources.length, s.id).toBeGreaterThan(0);
  });

  it("reports the shared-host conflicts and the denied hosts", () => {
    const shared = outcome.evidence.scenarios.filter((s) => s.name === "governing-policy" && s.verdict === "finding");
    expect(new Set(shared.map((s) => s.host))).toEqual(new Set(zoo.sharedHosts));
    expect(shared[0]!.finding!.statement).toMatch(/client auth is per host and comes from/);
    const denied = outcome.evidence.scenarios.filter((s) => s.name === "host-denied");
    expect(denied.map((s) => s.ingress).sort()).toEqual([...zoo.deniedIngresses].sort());
    for (const s of denied) expect(s.observed?.status).toBe(403);
    expect(outcome.evidence.scenarios.find((s) => s.id === "catalog/svc-041#lint-cross-namespace-secret")?.verdict).toBe("finding");
  });

  it("JUnit has a testsuite per Ingress with its declared policy, and validates", () => {
    const junit = readFileSync(outcome.junitPath, "utf8");
    const suites = [...junit.matchAll(/<testsuite name="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(suites).size).toBe(suites.length);
    expect(suites).toEqual(expect.arrayContaining(["payments/svc-000", "ops/svc-099"]));
    expect(junit).toMatch(/<testsuite name="payments\/svc-000"[^>]*>\s*<properties>\s*<property name="ingress" value="payments\/svc-000"\/>\s*<property name="host" value="svc-000.zoo.test"\/>\s*<property name="annotation auth-tls-secret" value="payments\/client-ca"\/>/);
    const r = spawnSync("xmllint", ["--noout", "--schema", XSD, outcome.junitPath], { encoding: "utf8" });
    expect(r.stderr).toContain("validates");
  });

  it("report.html lists the Ingresses under test and groups the checks by Ingress; summary.md a line per Ingress", () => {
    // Past 1,000 checks report.html is an index and the checks are on pages under report/.
    const pages = readdirSync(join(outcome.reportDir, "report")).filter((f) => /^\d{4}\.html$/.test(f));
    expect(pages.length).toBeGreaterThan(1);
    const html = ["report.html", ...pages.map((f) => `report/${f}`)].map((f) => readFileSync(join(outcome.reportDir, f), "utf8")).join("\n");
    expect(html.match(/<div class="policy" data-ingress="/g)).toHaveLength(100);
    expect(html.match(/<table class="matrix" [^>]*data-group="[^"]+\/svc-\d{3}"/g)!.length).toBeGreaterThan(90);
    const summary = readFileSync(join(outcome.reportDir, "summary.md"), "utf8");
    expect(summary).toMatch(/^## mTLS conformance: PASS/);
    expect(summary).toContain("| payments/svc-000 | svc-000.zoo.test |");
  });

  it("the deployed CA secrets hold the run's CAs and never a private key; the user's CA names are kept", () => {
    const yaml = readFileSync(join(outcome.reportDir, "manifests.yaml"), "utf8");
    expect(yaml).not.toMatch(/PRIVATE KEY|LS0tLS1CRUdJTi/);
    const ca = outcome.evidence.certificates.find((c) => c.subject.includes("payments client CA"));
    expect(ca).toBeDefined();
  });
});

describe("--manifests: two runs of the same folder", () => {
  it("diff sees no change: generated ids, subjects derived from match-cn and what is observed are stable", async () => {
    const { diffReportDirs } = await import("../reports/diff.ts");
    const example = new URL("../../fixtures/examples/shop", import.meta.url).pathname;
    const [a, b] = [await run(example), await run(example)];
    const d = await diffReportDirs(a.reportDir, b.reportDir);
    expect(d.changes).toEqual([]);
    expect(d.regressed).toBe(false);
  });
});

describe("--manifests: what is deployed differs from what is declared", () => {
  it("verify-client off where the folder says on: the no-certificate check of that Ingress fails, exit 1", async () => {
    const o = await run(zoo.dir, setOn("payments/svc-000", "auth-tls-verify-client", "off"), "payments/svc-000#*");
    expect(o.exitCode).toBe(1);
    expect(o.evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id)).toContain("payments/svc-000#no-client-cert");
  });

  it("a depth lowered from the declared one: the depth-limit check fails", async () => {
    // svc-002 declares depth 3.
    const o = await run(zoo.dir, setOn("search/svc-002", "auth-tls-verify-depth", "2"), "search/svc-002#depth*");
    expect(o.exitCode).toBe(1);
    expect(o.evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id)).toEqual(["search/svc-002#depth-limit-at-limit"]);
  });

  it("--only selecting nothing that can run: nothing was checked, exit 1", async () => {
    const o = await run(zoo.dir, undefined, "no-such-check");
    expect(o.evidence.totals.checked).toBe(0);
    expect(o.exitCode).toBe(1);
    expect(readFileSync(join(o.reportDir, "report.html"), "utf8")).toMatch(/data-verdict="nothing-checked">NOTHING CHECKED</);
    expect(readFileSync(join(o.reportDir, "summary.md"), "utf8")).toMatch(/^## mTLS conformance: NOTHING CHECKED[^\n]*\n\n\*\*Nothing was checked:\*\*/);
  });
});
