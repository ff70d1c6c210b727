// The README's "Which successor keeps what" is generated, never typed: it must be what the classes
// kept from the last observed runs give (and those are held to fresh runs by the run-local-* tests).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { observedSuccessorClasses } from "./successor-observe.ts";
import { README_BEGIN, README_END, renderSuccessorTable, replaceReadmeBlock, successorTable, type ObservedSuccessor } from "./successor-table.ts";
import type { MigrationClass } from "./profile.ts";

describe("which successor keeps what", () => {
  it("the README's table is the one the kept observed classes generate (`mtls-conformance successors --readme README.md` rewrites it)", async () => {
    const { classes, source } = await observedSuccessorClasses({ observe: false, log: () => undefined });
    const expected = renderSuccessorTable(successorTable(catalogue, classes, source));
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const block = readme.slice(readme.indexOf(README_BEGIN) + README_BEGIN.length + 1, readme.indexOf(README_END));
    expect(block).toBe(expected);
  });

  it("a cell is its guarantee's worst class with every class counted; a not-expressible row counts without being observed", () => {
    const none = {} as Record<ObservedSuccessor, Record<string, MigrationClass>>;
    for (const n of ["traefik", "nginx-gateway-fabric", "haproxy-ingress", "f5-nginx-ingress"] as const) none[n] = {};
    none["haproxy-ingress"] = { "MTLS-CLIENT-010": "lost", "MTLS-CLIENT-009": "equivalent", "MTLS-CLIENT-011": "same" };
    const t = successorTable(catalogue, none, "a test");
    const depth = t.rows.find((r) => r.guarantee === "verify-depth")!;
    expect(depth.cells["haproxy-ingress"]).toEqual({ class: "lost", counts: { lost: 1, equivalent: 1, same: 1 }, observed: 3 });
    // Gateway API cannot write verify-depth "0": counted from the profile, nothing observed.
    expect(depth.cells["nginx-gateway-fabric"].counts["not-expressible"]).toBeGreaterThan(0);
    expect(depth.cells["nginx-gateway-fabric"].observed).toBe(0);
    expect(renderSuccessorTable(t)).toContain("| verify-depth | – | cannot be written");
    expect(() => replaceReadmeBlock("no markers", "x")).toThrow(/no <!-- successors:begin/);
  });
});
