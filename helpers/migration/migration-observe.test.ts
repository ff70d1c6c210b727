// `migration --observe` as users run it: the example folder (depth 2, a match-cn, an error page, a
// ca.crl, an optional Ingress, a host shared with an Ingress without auth-tls) served by Traefik's
// rendering on Go's crypto/tls, each guarantee classed by what its checks observed.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { MigrationReport } from "./migration-report.ts";
import { cli } from "../testing/cli.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

const tempDir = tempDirs();
const ROOT = join(import.meta.dirname, "..", "..");
const EXAMPLE = join(ROOT, "fixtures", "examples", "migration");
const NOTHING_LOST = join(ROOT, "fixtures", "examples", "migration-nothing-lost");

type Row = MigrationReport["ingresses"][number]["profiles"]["traefik"];
const row = (r: MigrationReport, name: string, guarantee: string, profile: "traefik" | "gateway-api" | "nginx-gateway-fabric" = "traefik") => (r.ingresses.find((e) => e.name === name)!.profiles[profile] as Row)!.guarantees.find((g) => g.guarantee === guarantee)!;

describe("mtls-conformance migration --observe", () => {
  it("each guarantee on Traefik is observed: depth, match-cn, the error page, the CRL and client auth on the shared host lost; exit 1; the run's signed reports kept", async () => {
    const out = tempDir("migration-observe-");
    const r = await cli(["migration", "--manifests", EXAMPLE, "--to", "traefik,nginx-gateway-fabric,gateway-api", "--observe", "--out", out]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/observing traefik: .*Go data plane/);
    const report = JSON.parse(readFileSync(join(out, "migration.json"), "utf8")) as MigrationReport;
    const lost = (name: string, guarantee: string) => {
      const g = row(report, name, guarantee);
      expect(g, `${name} ${guarantee}`).toMatchObject({ class: "lost", basis: "observed" });
      expect(g.observed!.some((c) => c.class === "lost"), `${name} ${guarantee}`).toBe(true);
    };
    lost("transfers", "verify-depth");
    lost("admin", "match-cn");
    lost("portal", "error-page");
    lost("statements", "crl");
    // On the host shared with /health, Traefik's option conflict leaves /v1 without client auth.
    lost("api", "client-cert-required");
    expect(row(report, "api", "client-cert-required").observed!.find((c) => c.id === "bank/api#no-client-cert")).toMatchObject({ class: "lost", observed: "200 from the backend" });
    // Kept, another way: no certificate is refused in the handshake instead of with 400.
    expect(row(report, "transfers", "client-cert-required")).toMatchObject({ class: "equivalent", basis: "observed" });
    expect(row(report, "transfers", "client-cert-required").observed![0]!.observed).toMatch(/refused in the TLS handshake/);
    // Gateway API observed on one implementation, NGINX Gateway Fabric's rendering of the translation:
    // a refused client's connection is closed without an answer; depth (NGF's is 4) and headers lost.
    expect(r.stderr).toMatch(/observing gateway-api: the translation written beside this report, rendered as NGINX Gateway Fabric/);
    expect(row(report, "transfers", "client-cert-required", "gateway-api")).toMatchObject({ class: "equivalent", basis: "observed" });
    expect(row(report, "transfers", "client-cert-required", "gateway-api").observed![0]!.observed).toMatch(/no HTTP answer/);
    expect(row(report, "transfers", "verify-depth", "gateway-api")).toMatchObject({ class: "lost", basis: "observed" });
    // optional has no mode: AllowValidOnly is written, which refuses a client without a certificate.
    expect(row(report, "partners", "client-cert-required", "gateway-api")).toMatchObject({ class: "stricter", basis: "observed" });
    expect(row(report, "partners", "optional-mode", "gateway-api")).toMatchObject({ class: "not-expressible", basis: "source" });
    expect(report.profiles.traefik!.observed).toMatchObject({ checks: expect.any(Number), reportDir: join(out, "observed-traefik") });
    expect(existsSync(join(out, "observed-traefik", "evidence.json"))).toBe(true);
    expect(existsSync(join(out, "observed-traefik", "attestation.dsse.json"))).toBe(true);
    expect(existsSync(join(out, "observed-gateway-api", "evidence.json"))).toBe(true);
    // NGINX Gateway Fabric by name: the same rendering, its own rows and summary.
    expect(row(report, "transfers", "client-cert-required", "nginx-gateway-fabric")).toMatchObject({ class: "equivalent", basis: "observed" });
    expect(row(report, "admin", "match-cn", "nginx-gateway-fabric")).toMatchObject({ class: "lost", basis: "observed" });
    expect(report.profiles["nginx-gateway-fabric"]!.observed!.checks).toBeGreaterThan(0);
    const md = readFileSync(join(out, "migration.md"), "utf8");
    expect(md).toMatch(/\| verify-depth \| \*\*lost\*\* _\(observed: \d+ check\(s\), e\.g\. bank\/transfers#depth-limit-over-limit: 200 from the backend\)_/);
  });

  it("a folder where Traefik keeps everything: exit 0 with --observe too", async () => {
    const r = await cli(["migration", "--manifests", NOTHING_LOST, "--to", "traefik", "--observe", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as MigrationReport;
    expect(report.profiles.traefik!.lost).toBe(0);
    expect(report.profiles.traefik!.observed!.checks).toBeGreaterThan(0);
  });
});
