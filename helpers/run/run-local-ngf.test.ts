// The catalogue on NGINX Gateway Fabric's rendering here (--target local --controller
// nginx-gateway-fabric): the Ingresses translated to Gateway API, the Gateways rendered as NGF v2.6.7
// renders them, on the system's nginx. Every probed check is judged against the NGF row and against
// ingress-nginx's expectation, so each class it reports is observed.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { observedFile, type ObservedRows } from "../controllers/observed.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { runConformance } from "./run.ts";

const tempDir = tempDirs();

describe("--target local --controller nginx-gateway-fabric", () => {
  it("the whole catalogue: exit 0; a client AllowValidOnly refuses gets its connection closed without an answer (444), not a handshake refusal; each class observed", async () => {
    const reportDir = tempDir("run-local-ngf-");
    const outcome = await runConformance({ target: "local", controller: "nginx-gateway-fabric", reportDir, command: "test", log: () => undefined });
    const scenarios = outcome.evidence.scenarios;
    const byId = Object.fromEntries(scenarios.map((s) => [s.id, s]));
    expect(outcome.exitCode).toBe(0);
    expect(outcome.evidence.totals.fail).toBe(0);
    expect(outcome.evidence.profile).toMatchObject({ name: "nginx-gateway-fabric" });
    const probed = scenarios.filter((s) => !s.static && s.observed);
    for (const s of probed) expect(s.migration?.observed, s.id).toEqual({ class: s.migration!.class, basis: "observed" });

    // No certificate on an `on` host: the handshake completes, the request gets no answer at all.
    const noCert = byId["MTLS-CLIENT-001"]!.observed!;
    expect(noCert.status).toBeUndefined();
    expect(noCert.tlsAlert).toBeUndefined();
    expect(noCert.tls).toMatchObject({ handshakeCompleted: true, responseBytes: 0 });
    // An unknown SNI meets the default server: a handshake refused (unrecognized_name).
    expect(byId["MTLS-TRANSPORT-006"]!.observed!.tlsAlert).toMatchObject({ number: 112 });
    // Lost on Gateway API, observed: depth beyond 1 (NGF's is 4), match-cn, CRL, the headers.
    for (const [id, guarantee] of [["MTLS-CLIENT-010", "verify-depth"], ["MTLS-MATCHCN-002", "match-cn"], ["MTLS-CRL-001", "crl"], ["MTLS-HEADERS-001", "headers"]] as const) {
      expect(byId[id], id).toMatchObject({ verdict: "guarantee-lost", migration: { guarantee, observed: { class: "lost" } } });
    }
    const conf = readFileSync(join(reportDir, "nginx-gateway-fabric", "nginx.conf"), "utf8");
    expect(conf).toContain("error_page 495 496 = @frontend_tls_verify_failed;");
    expect(readFileSync(join(reportDir, "nginx-gateway-fabric", "gateway-api.yaml"), "utf8")).toContain("kind: Gateway");

    const rows = Object.fromEntries(probed.map((s) => [s.id, s.migration!.observed!.class]).sort(([a], [b]) => a!.localeCompare(b!)));
    const file = observedFile("nginx-gateway-fabric");
    const kept = JSON.parse(readFileSync(file, "utf8")) as ObservedRows;
    if (process.env.MTLS_UPDATE_OBSERVED === "1") writeFileSync(file, JSON.stringify({ ...kept, nginxVersion: outcome.evidence.target.versions.nginx, rows }, null, 2) + "\n");
    else expect(rows, `${file} no longer says what is observed: MTLS_UPDATE_OBSERVED=1 npx vitest run helpers/run/run-local-ngf.test.ts rewrites it`).toEqual(kept.rows);
  });
});
