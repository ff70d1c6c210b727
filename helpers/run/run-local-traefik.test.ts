// The catalogue on Traefik's data plane here (--target local --controller traefik): Traefik v3.7.9's
// provider rendered from the catalogue's objects, served by the Go data plane on crypto/tls. Every
// probed check is judged against the traefik row and against ingress-nginx's expectation, so each
// class it reports is observed; a data plane that does not do what the row says fails.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Manifests } from "../manifests/manifests.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { observedFile, type ObservedRows } from "../controllers/observed.ts";
import { runConformance, type RunOptions } from "./run.ts";

const tempDir = tempDirs();

async function traefikRun(options: Partial<RunOptions> = {}) {
  const reportDir = tempDir("run-local-traefik-");
  const lines: string[] = [];
  const outcome = await runConformance({ target: "local", controller: "traefik", reportDir, command: "test", log: (l) => lines.push(l), ...options });
  return { outcome, lines, reportDir };
}

describe("--target local --controller traefik", () => {
  it("the whole catalogue: exit 0, every probed check passes or is a guarantee lost, each with its class observed", async () => {
    const { outcome, lines, reportDir } = await traefikRun();
    const scenarios = outcome.evidence.scenarios;
    const byId = Object.fromEntries(scenarios.map((s) => [s.id, s]));
    expect(outcome.exitCode).toBe(0);
    expect(outcome.evidence.totals.fail).toBe(0);
    expect(outcome.evidence.target).toMatchObject({ kind: "local", versions: { go: expect.stringMatching(/^go1\./) } });
    const probed = scenarios.filter((s) => !s.static && s.observed);
    expect(probed.length).toBeGreaterThan(90);
    for (const s of probed) expect(s.migration?.observed, s.id).toEqual({ class: s.migration!.class, basis: "observed" });

    // No certificate on an `on` host: refused in the handshake (an alert), not nginx's 400.
    expect(byId["MTLS-CLIENT-001"]!.observed?.status).toBeUndefined();
    expect(byId["MTLS-CLIENT-001"]!.observed?.error?.code).toMatch(/ALERT/);
    expect(byId["MTLS-CLIENT-001"]!.migration?.observed?.class).toBe("equivalent");
    // Lost, observed: depth, match-cn, error page, CRL, and client auth on a host two Ingresses share.
    const lost = (id: string, guarantee: string) => expect(byId[id], id).toMatchObject({ verdict: "guarantee-lost", migration: { guarantee, observed: { class: "lost" } } });
    lost("MTLS-CLIENT-010", "verify-depth");
    lost("MTLS-MATCHCN-002", "match-cn");
    lost("MTLS-ERRPAGE-001", "error-page");
    lost("MTLS-CRL-001", "crl");
    lost("MTLS-ISOLATION-001", "host-isolation");
    expect(byId["MTLS-ISOLATION-001"]!.observed?.status).toBe(200);
    expect(lines.some((l) => /row\(s\) observed on its data plane here/.test(l))).toBe(true);

    // The classes kept in the repository (what `list --profile traefik` counts as observed) are this run's:
    // MTLS_UPDATE_OBSERVED=1 rewrites them after a deliberate change.
    const rows = Object.fromEntries(probed.map((s) => [s.id, s.migration!.observed!.class]).sort(([a], [b]) => a!.localeCompare(b!)));
    const OBSERVED_FILE = observedFile("traefik");
    const kept = JSON.parse(readFileSync(OBSERVED_FILE, "utf8")) as ObservedRows;
    if (process.env.MTLS_UPDATE_OBSERVED === "1") writeFileSync(OBSERVED_FILE, JSON.stringify({ ...kept, goVersion: outcome.evidence.target.versions.go, rows }, null, 2) + "\n");
    else expect(rows, `${OBSERVED_FILE} no longer says what is observed: MTLS_UPDATE_OBSERVED=1 npx vitest run helpers/run/run-local-traefik.test.ts rewrites it`).toEqual(kept.rows);

    // The rendering is in the report, without the server's private key.
    const dynamic = readFileSync(join(reportDir, "traefik", "dynamic.json"), "utf8");
    expect(dynamic).toContain('"default-test-localhost-default-ca-secret"');
    expect(dynamic).not.toMatch(/PRIVATE KEY/);
    expect(existsSync(join(reportDir, "traefik", "data-plane.log"))).toBe(true);
  });

  it("a data plane that does not refuse what the row says it refuses fails, expected vs observed", async () => {
    // The guide's Ingress without its auth-tls annotations: nothing asks for a certificate.
    const open = (m: Manifests): Manifests => {
      for (const ing of m.ingresses) {
        if (ing.metadata?.name !== "test-localhost") continue;
        for (const k of Object.keys(ing.metadata.annotations ?? {})) if (k.includes("auth-tls")) delete ing.metadata.annotations![k];
      }
      return m;
    };
    const { outcome } = await traefikRun({ only: "MTLS-CLIENT-001", alterManifests: open });
    expect(outcome.exitCode).toBe(1);
    const s = outcome.evidence.scenarios.find((x) => x.id === "MTLS-CLIENT-001")!;
    expect(s.verdict).toBe("fail");
    expect(s.mismatches.join("\n")).toMatch(/expected the TLS handshake refused, observed HTTP 200/);
    expect(s.migration?.observed).toBeUndefined();
  });
});
