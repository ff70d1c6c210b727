// `mtls-conformance migration` as users run it: a real process, its output, its files and its
// exit codes (issue 12's done-when on fixtures/examples/migration).
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { validateGatewayApiObject } from "./gateway-api.ts";
import { controllerValidationErrors, crdSchemaErrors } from "../controllers/f5-nginx-ingress/policy-schema.ts";
import type { MigrationReport } from "./migration-report.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "mtls-conformance.ts");
const EXAMPLE = join(ROOT, "fixtures", "examples", "migration");
const NOTHING_LOST = join(ROOT, "fixtures", "examples", "migration-nothing-lost");

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

type Entry = MigrationReport["ingresses"][number];
const entry = (r: MigrationReport, name: string) => r.ingresses.find((e) => e.name === name)!;
const cls = (e: Entry, profile: "traefik" | "gateway-api", g: string) => e.profiles[profile]!.guarantees.find((x) => x.guarantee === g)?.class;

describe("mtls-conformance migration", () => {
  it("done-when: Traefik loses depth, match-cn, error page, CRL and host isolation, keeps the certificate requirement; Gateway API cannot say optional and loses the headers; exit 1", async () => {
    const r = await cli(["migration", "--manifests", EXAMPLE, "--to", "traefik,gateway-api", "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as MigrationReport;
    // The shape: {"ingresses":[{"namespace","name","host","profiles":{"traefik":{"guarantees":[{"guarantee","class","reason"}]}}}]}
    expect(report.ingresses.length).toBe(7);
    for (const e of report.ingresses) {
      expect(Object.keys(e)).toEqual(expect.arrayContaining(["namespace", "name", "host", "profiles"]));
      expect(Object.keys(e.profiles)).toEqual(["traefik", "gateway-api"]);
      for (const p of Object.values(e.profiles)) for (const g of p.guarantees) expect(Object.keys(g)).toEqual(expect.arrayContaining(["guarantee", "class", "reason"]));
    }
    expect(cls(entry(report, "transfers"), "traefik", "verify-depth")).toBe("lost");
    expect(cls(entry(report, "transfers"), "traefik", "client-cert-required")).toBe("equivalent");
    expect(cls(entry(report, "admin"), "traefik", "match-cn")).toBe("lost");
    expect(cls(entry(report, "portal"), "traefik", "error-page")).toBe("lost");
    expect(cls(entry(report, "statements"), "traefik", "crl")).toBe("lost");
    expect(cls(entry(report, "api"), "traefik", "host-isolation")).toBe("lost");
    for (const name of ["transfers", "admin", "portal", "statements"]) expect(cls(entry(report, name), "traefik", "client-cert-required"), name).toBe("equivalent");
    expect(cls(entry(report, "partners"), "gateway-api", "optional-mode")).toBe("not-expressible");
    expect(cls(entry(report, "partners"), "gateway-api", "headers")).toBe("lost");
    // Only what each Ingress relies on: no error page where none is declared, the CRL only with ca.crl.
    expect(entry(report, "transfers").relies).not.toContain("error-page");
    expect(report.ingresses.filter((e) => e.relies.includes("crl")).map((e) => e.name)).toEqual(["statements"]);
    expect(entry(report, "api-health")).toMatchObject({ host: "api.bank.example", status: "no-client-auth", baseline: "no client authentication declared", relies: [] });
    // The summary adds up, and says what the rows rest on.
    for (const [name, p] of Object.entries(report.profiles)) {
      const rows = report.ingresses.flatMap((e) => e.profiles[name as "traefik"]!.guarantees);
      expect(Object.values(p.counts).reduce((a, b) => a + b, 0)).toBe(rows.length);
      expect(p.lost).toBe(rows.filter((x) => x.class === "lost").length);
    }
    expect(report.basis).toMatch(/source reading of Traefik v3.7.9 and Gateway API v1.5 .* not on a live controller/);
    const hostIsolation = entry(report, "api").profiles.traefik!.guarantees.find((g) => g.guarantee === "host-isolation")!;
    expect(hostIsolation.sources.map((s) => s.basis)).toContain("code");
  });

  it("default output is Markdown: a table per Ingress, a summary line per profile, the honesty statement", async () => {
    const r = await cli(["migration", "--manifests", EXAMPLE]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("# Will my mTLS survive the move?");
    expect(r.stdout).toMatch(/^- traefik \(.*\): 0 same, \d+ equivalent, \d+ lost, 0 not-expressible, \d+ stricter$/m);
    expect(r.stdout).toMatch(/^- gateway-api \(.*\): \d+ same, \d+ equivalent, \d+ lost, 1 not-expressible, \d+ stricter$/m);
    expect(r.stdout).toContain("## bank/transfers on transfers.bank.example");
    expect(r.stdout).toContain("| guarantee | traefik | gateway-api |");
    expect(r.stdout).toMatch(/^\| verify-depth \| \*\*lost\*\*: .* \| \*\*lost\*\*: .* \|$/m);
    expect(r.stdout).toMatch(/not on a live controller/);
    expect(r.stdout).toContain("[code] traefik/traefik@v3.7.9:pkg/server/aggregator.go:176-300");
  });

  it("an Ingress folder with nothing lost exits 0 (no client auth, and verify-client off with the certificate headers passed)", async () => {
    const r = await cli(["migration", "--manifests", NOTHING_LOST, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as MigrationReport;
    expect(report.profiles.traefik!.lost + report.profiles["gateway-api"]!.lost).toBe(0);
    expect(entry(report, "website")).toMatchObject({ baseline: "no client authentication declared", relies: [] });
    expect(entry(report, "downloads").relies).toEqual(["headers"]);
    expect([cls(entry(report, "downloads"), "traefik", "headers"), cls(entry(report, "downloads"), "gateway-api", "headers")]).toEqual(["same", "equivalent"]);
  });

  it("--to picks the profiles: only Traefik, no Gateway API translation", async () => {
    const r = await cli(["migration", "--manifests", EXAMPLE, "--to", "traefik", "--json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as MigrationReport;
    expect(Object.keys(report.profiles)).toEqual(["traefik"]);
    expect(report.gatewayApi).toBeUndefined();
  });

  it("--out writes migration.json, migration.md and gateway-api/*.yaml, each object valid", async () => {
    const dir = tempDir("migration-");
    const r = await cli(["migration", "--manifests", EXAMPLE, "--out", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^traefik \(.*\): 0 same/m);
    expect(r.stdout).toMatch(/^wrote 10 file\(s\) to /m);
    expect(JSON.parse(readFileSync(join(dir, "migration.json"), "utf8")).ingresses).toHaveLength(7);
    expect(readFileSync(join(dir, "migration.md"), "utf8")).toContain("# Will my mTLS survive the move?");
    const files = readdirSync(join(dir, "gateway-api"));
    expect(files).toHaveLength(8);
    for (const f of files) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, "gateway-api", f), "utf8"))) {
        expect(doc.errors).toEqual([]);
        expect(validateGatewayApiObject(doc.toJS()), f).toBeUndefined();
      }
    }
  });

  it("--to f5-nginx-ingress --out writes the Policies, nginx.org/ca Secrets and annotated Ingresses F5 needs, each Policy valid for the CRD and the controller", async () => {
    const dir = tempDir("migration-f5-");
    const r = await cli(["migration", "--manifests", EXAMPLE, "--to", "f5-nginx-ingress", "--out", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^f5-nginx-ingress \(.*\): \d+ same, .* \d+ lost/m);
    const docs = parseAllDocuments(readFileSync(join(dir, "f5-nginx-ingress", "objects.yaml"), "utf8")).map((d) => d.toJS({ version: "1.1" } as never) as { kind: string; metadata: { name: string; annotations?: Record<string, string> }; type?: string });
    const policies = docs.filter((d) => d.kind === "Policy");
    expect(policies.length).toBeGreaterThan(0);
    for (const p of policies) {
      expect(crdSchemaErrors(p), p.metadata.name).toEqual([]);
      expect(controllerValidationErrors(p), p.metadata.name).toEqual([]);
    }
    expect(docs.filter((d) => d.kind === "Secret").every((d) => d.type === "nginx.org/ca")).toBe(true);
    const ingresses = docs.filter((d) => d.kind === "Ingress");
    for (const i of ingresses) expect(Object.keys(i.metadata.annotations ?? {}).filter((k) => k.startsWith("nginx.ingress.kubernetes.io/auth-tls-")), i.metadata.name).toEqual([]);
    expect(ingresses.some((i) => i.metadata.annotations?.["nginx.org/policies"])).toBe(true);
  });

  it("--gateway-yaml prints the translation", async () => {
    const r = await cli(["migration", "--manifests", EXAMPLE, "--gateway-yaml"]);
    expect(r.code).toBe(1);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string });
    expect(docs.filter((d) => d.kind === "Gateway")).toHaveLength(6);
    expect(r.stdout).toContain("mode: AllowValidOnly # ingress-nginx: optional");
  });

  it("bad arguments: exit 2 in one line, no stack trace", async () => {
    const cases: Array<[string[], string]> = [
      [["migration", "--manifests", EXAMPLE, "--to", "traefik,envoy"], "mtls-conformance: --to envoy: unknown profile (known: traefik, gateway-api, nginx-gateway-fabric, haproxy-ingress, f5-nginx-ingress)"],
      [["migration", "--manifests", EXAMPLE, "--to", "ingress-nginx"], "mtls-conformance: --to ingress-nginx: that is the baseline"],
      [["migration", "--to", "traefik"], "mtls-conformance: migration: --manifests PATH is required"],
      [["migration", "--manifests", "/nonexistent/ingresses"], "mtls-conformance: --manifests /nonexistent/ingresses: no such file or folder"],
      [["migration", "--manifests", EXAMPLE, "--json", "--markdown"], "mtls-conformance: migration: --json and --markdown exclude each other"],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.startsWith(message), r.stderr).toBe(true);
      expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
      expect(r.stdout).toBe("");
    }
  });
});
