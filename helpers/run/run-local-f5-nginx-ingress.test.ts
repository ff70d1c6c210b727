// The catalogue on F5 NGINX Ingress's rendering here (--target local --controller f5-nginx-ingress):
// each Ingress with client auth translated into a Policy (spec.ingressMTLS) named by nginx.org/policies,
// rendered as F5 NIC v5.5.4 renders it, on the system's nginx. Every probed check is judged against
// the F5 row and against ingress-nginx's expectation, so each class it reports is observed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { holdObservedRows } from "../testing/observed-rows.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { runConformance } from "./run.ts";

const tempDir = tempDirs();

describe("--target local --controller f5-nginx-ingress", () => {
  it("the whole catalogue: exit 0; the error page and the headers are lost, verify-depth kept; each class observed", async () => {
    const reportDir = tempDir("run-local-f5-");
    const outcome = await runConformance({ target: "local", controller: "f5-nginx-ingress", reportDir, command: "test", log: () => undefined });
    const byId = Object.fromEntries(outcome.evidence.scenarios.map((s) => [s.id, s]));
    expect(outcome.exitCode).toBe(0);
    expect(outcome.evidence.totals.fail).toBe(0);
    expect(outcome.evidence.profile).toMatchObject({ name: "f5-nginx-ingress" });

    // nginx's own 400, as for ingress-nginx: the same directives at server level.
    expect(byId["MTLS-CLIENT-001"]!.observed).toMatchObject({ status: 400 });
    expect(byId["MTLS-CLIENT-001"]!.migration).toMatchObject({ class: "same", observed: { class: "same" } });
    // Depth kept: two intermediates at depth 1 refused (400), as by ingress-nginx.
    expect(byId["MTLS-CLIENT-010"]).toMatchObject({ verdict: "pass", observed: { status: 400 }, migration: { class: "same" } });
    // Lost, observed: the error page (400, no redirect), the headers (none set, forged ones pass), match-cn.
    for (const [id, guarantee] of [["MTLS-ERRPAGE-001", "error-page"], ["MTLS-HEADERS-002", "headers"], ["MTLS-SPOOF-002", "headers"], ["MTLS-MATCHCN-002", "match-cn"]] as const) {
      expect(byId[id], id).toMatchObject({ verdict: "guarantee-lost", migration: { guarantee, observed: { class: "lost" } } });
    }
    expect(byId["MTLS-ERRPAGE-001"]!.observed).toMatchObject({ status: 400 });
    // The translation a person applies, kept in the report: a Policy per Ingress with client auth.
    const docs = parseAllDocuments(readFileSync(join(reportDir, "f5-nginx-ingress", "f5-objects.yaml"), "utf8")).map((d) => d.toJS() as { kind?: string; spec?: { ingressMTLS?: unknown } });
    const guide = docs.find((d) => d.kind === "Policy" && JSON.stringify(d).includes("test-localhost"));
    expect(guide?.spec?.ingressMTLS).toEqual({ clientCertSecret: "ca-secret", verifyClient: "on", verifyDepth: 1 });

    holdObservedRows("f5-nginx-ingress", outcome.evidence, "helpers/run/run-local-f5-nginx-ingress.test.ts", {
      profile: "f5-nginx-ingress",
      versions: ">=5.0.0",
      dataPlane: "the catalogue's Ingresses translated to F5 objects (helpers/controllers/f5-nginx-ingress/translate.ts) and rendered as F5 NGINX Ingress v5.5.4 renders them (render.ts), on the system's nginx",
      nginxVersion: outcome.evidence.target.versions.nginx,
      command: "mtls-conformance run --target local --controller f5-nginx-ingress",
    });
  });
});
