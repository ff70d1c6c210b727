// Runs under a successor profile, on a real data plane: the nginx target, its objects altered so
// that on one point it behaves as Traefik does (no verify-depth), and left alone elsewhere. A lost
// guarantee observed is `guarantee-lost` (exit 0, or 1 with --strict); a successor that behaves
// otherwise than its row says fails; a policy the successor cannot express is skipped, not passed.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Manifests } from "../manifests/manifests.ts";
import { diffEvidence, formatDiffMarkdown, formatDiffText } from "../reports/diff.ts";
import { runConformance, type RunOptions } from "./run.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

/** Traefik reads no verify-depth: the guide's Ingress as a data plane without a depth limit serves it. */
const noDepthLimit = (m: Manifests): Manifests => {
  for (const ing of m.ingresses) if (ing.metadata?.annotations?.["nginx.ingress.kubernetes.io/auth-tls-verify-depth"]) ing.metadata.annotations["nginx.ingress.kubernetes.io/auth-tls-verify-depth"] = "9";
  return m;
};

async function profileRun(options: Partial<RunOptions>) {
  const reportDir = tempDir("run-profile-");
  const lines: string[] = [];
  const outcome = await runConformance({ target: "nginx", reportDir, command: "test", log: (l) => lines.push(l), ...options });
  return { outcome, lines, junit: readFileSync(outcome.junitPath, "utf8") };
}

describe("a run under a successor profile", () => {
  it("a guarantee the successor loses, observed: guarantee-lost, counted, exit 0; --strict: exit 1", async () => {
    const only = "MTLS-CLIENT-010,MTLS-CLIENT-002,MTLS-CLIENT-012";
    const { outcome, lines, junit } = await profileRun({ only, profile: "traefik", alterManifests: noDepthLimit });
    const byId = Object.fromEntries(outcome.evidence.scenarios.map((s) => [s.id, s]));
    expect(byId["MTLS-CLIENT-010"]).toMatchObject({ verdict: "guarantee-lost", migration: { profile: "traefik", class: "lost", guarantee: "verify-depth" } });
    expect(byId["MTLS-CLIENT-010"]!.observed?.status).toBe(200);
    expect(byId["MTLS-CLIENT-002"]).toMatchObject({ verdict: "pass", migration: { class: "same" } });
    expect(outcome.evidence.totals).toMatchObject({ "guarantee-lost": 1, fail: 0, total: 3 });
    expect(outcome.evidence.profile).toMatchObject({ name: "traefik", versions: ">=3.7.2", strict: false });
    expect(outcome.exitCode).toBe(0);
    expect(lines.some((l) => l.includes("LOST MTLS-CLIENT-010"))).toBe(true);
    expect(lines.some((l) => /guarantee lost: verify-depth lost on traefik >=3\.7\.2: verify-depth is not read/.test(l))).toBe(true);
    expect(lines.some((l) => /1 guarantee\(s\) observed lost/.test(l))).toBe(true);
    expect(junit).toContain('<property name="verdict" value="guarantee-lost"/>');
    expect(junit).toMatch(/<property name="class-source" value="\[doc\] traefik\/traefik@v3\.7\.9:[^"]*ingress-nginx\.md:299/);

    const strict = await profileRun({ only, profile: "traefik", strict: true, alterManifests: noDepthLimit });
    expect(strict.outcome.exitCode).toBe(1);
  });

  it("diff between the baseline and the successor's run speaks in guarantees", async () => {
    const only = "MTLS-CLIENT-010,MTLS-CLIENT-002";
    const baseline = await profileRun({ only });
    const successor = await profileRun({ only, profile: "traefik", alterManifests: noDepthLimit });
    const d = diffEvidence(baseline.outcome.evidence, successor.outcome.evidence);
    expect(d.guarantees).toEqual([{ guarantee: "verify-depth", before: "enforced", after: "lost", scenarios: ["MTLS-CLIENT-010"] }]);
    expect(d.regressed).toBe(true);
    expect(formatDiffText(d)).toContain("verify-depth: enforced on nginx (ingress-nginx's rules) -> lost on traefik >=3.7.2 (MTLS-CLIENT-010)");
    expect(formatDiffMarkdown(d)).toContain("### Guarantees");
  });

  it("a data plane that keeps what the row says the successor loses is not that successor: the check fails with expected vs observed", async () => {
    // ingress-nginx itself (depth enforced) against the Traefik row: 400 where Traefik answers 200.
    const { outcome } = await profileRun({ only: "MTLS-CLIENT-010", profile: "traefik" });
    const s = outcome.evidence.scenarios[0]!;
    expect(s.verdict).toBe("fail");
    expect(s.mismatches).toContain("status: expected 200, observed 400");
    expect(outcome.exitCode).toBe(1);
  });

  it("a policy the successor cannot express is skipped with the reason, and never counted as a pass", async () => {
    const { outcome } = await profileRun({ only: "MTLS-MODE-003,MTLS-CLIENT-012", profile: "gateway-api" });
    const mode = outcome.evidence.scenarios.find((s) => s.id === "MTLS-MODE-003")!;
    expect(mode.verdict).toBe("skip");
    expect(mode.skipReason).toMatch(/^not expressible on gateway-api: optional/);
    expect(outcome.evidence.totals.pass).toBe(0); // CLIENT-012 expects no ssl-client-* header on a Gateway: nginx sends one
  });

  it("a profile with the user's own Ingresses is refused in one line, pointing at the migration report", async () => {
    await expect(profileRun({ manifests: "fixtures/examples/shop", profile: "traefik" })).rejects.toThrow(/--profile traefik applies to the catalogue's scenarios; .*migration --manifests PATH --to traefik/);
  });
});
