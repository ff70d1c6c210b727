// The catalogue on HAProxy Ingress's rendering here (--target local --controller haproxy-ingress):
// the Ingresses rendered as HAProxy Ingress v0.15.4 renders them, on Debian's HAProxy 2.6. Every
// probed check is judged against the HAProxy Ingress row and against ingress-nginx's expectation,
// so each class it reports is observed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { holdObservedRows } from "../testing/observed-rows.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { runConformance } from "./run.ts";

const tempDir = tempDirs();

describe("--target local --controller haproxy-ingress", () => {
  it("the whole catalogue: exit 0; no certificate on an `on` host is a completed handshake and 496; verify-depth is lost; each class observed", async () => {
    const reportDir = tempDir("run-local-hi-");
    const outcome = await runConformance({ target: "local", controller: "haproxy-ingress", reportDir, command: "test", log: () => undefined });
    const byId = Object.fromEntries(outcome.evidence.scenarios.map((s) => [s.id, s]));
    expect(outcome.exitCode).toBe(0);
    expect(outcome.evidence.totals.fail).toBe(0);
    expect(outcome.evidence.profile).toMatchObject({ name: "haproxy-ingress" });

    // No certificate on an `on` host: the handshake completes, HAProxy Ingress answers 496 itself.
    const noCert = byId["MTLS-CLIENT-001"]!;
    expect(noCert.observed).toMatchObject({ status: 496, upstreamReached: false });
    expect(noCert.observed!.tlsAlert).toBeUndefined();
    expect(noCert.migration).toMatchObject({ class: "equivalent", observed: { class: "equivalent" } });
    // A bad certificate: 495, the handshake completed too.
    expect(byId["MTLS-CLIENT-003"]!.observed).toMatchObject({ status: 495 });
    // Lost, observed: depth (not read), match-cn (not read), what the backend is told.
    for (const [id, guarantee] of [["MTLS-CLIENT-010", "verify-depth"], ["MTLS-MATCHCN-002", "match-cn"], ["MTLS-HEADERS-002", "headers"], ["MTLS-SPOOF-002", "headers"]] as const) {
      expect(byId[id], id).toMatchObject({ verdict: "guarantee-lost", migration: { guarantee, observed: { class: "lost" } } });
    }
    // Kept, observed: the CRL (495 for a revoked certificate), the error page (303 to it).
    expect(byId["MTLS-CRL-001"]!.observed).toMatchObject({ status: 495 });
    expect(byId["MTLS-ERRPAGE-001"]!.observed).toMatchObject({ status: 303, location: "https://login.example.invalid/mtls-required" });
    const conf = readFileSync(join(reportDir, "haproxy-ingress", "haproxy.cfg"), "utf8");
    expect(conf).toMatch(/ crt-list \S+ ca-ignore-err all crt-ignore-err all/);
    expect(readFileSync(join(reportDir, "haproxy-ingress", "_front_bind_crt.list"), "utf8")).toMatch(/\[ca-file \S+ verify optional\] test\.localdev\.me/);

    holdObservedRows("haproxy-ingress", outcome.evidence, "helpers/run/run-local-haproxy-ingress.test.ts", {
      profile: "haproxy-ingress",
      versions: ">=0.15.0",
      dataPlane: "the catalogue's Ingresses rendered as HAProxy Ingress v0.15.4 renders them (helpers/controllers/haproxy-ingress/render.ts), on the system's HAProxy",
      haproxyVersion: outcome.evidence.target.versions.haproxy,
      command: "mtls-conformance run --target local --controller haproxy-ingress",
    });
  });
});
