import { describe, expect, it } from "vitest";
import type { CollectedResult } from "../reports/progress-reporter.ts";
import type { Expectation } from "../catalogue/catalogue.ts";
import { applyHarnessFaults, faultLines } from "./harness-faults.ts";

const expected: Expectation = { status: 200, upstream: "reached" };
const result = (id: string, verdict: CollectedResult["verdict"], finishedAtMs?: number): CollectedResult => ({
  id,
  verdict,
  errors: verdict === "fail" ? ["status: expected 200, observed no HTTP response (ECONNRESET: Client network socket disconnected before secure TLS connection was established)"] : [],
  durationMs: 15,
  record: {
    id,
    expected,
    observed: { upstreamReached: false, error: { code: "ECONNRESET", message: "Client network socket disconnected before secure TLS connection was established" } },
    mismatches: verdict === "fail" ? ["status: expected 200, observed no HTTP response"] : [],
    durationMs: 15,
    ...(finishedAtMs !== undefined ? { finishedAtMs } : {}),
  },
});

describe("harness faults", () => {
  const at = "2026-12-02T17:06:07.000Z";
  const t = Date.parse(at);
  const fault = { source: "nginx error.log", message: "1024 worker_connections are not enough, reusing connections", at };

  it("failures from the fault's second on become errors that name the fault; earlier failures and passes keep their verdict", () => {
    const results = new Map(
      [result("before", "fail", t - 5000), result("same-second", "fail", t - 400), result("after", "fail", t + 3000), result("passed-after", "pass", t + 3000), result("no-time", "fail")].map((r) => [r.id, r]),
    );
    expect(applyHarnessFaults(results, [fault])).toBe(3);
    expect(results.get("before")!.verdict).toBe("fail");
    expect(results.get("passed-after")!.verdict).toBe("pass");
    for (const id of ["same-second", "after", "no-time"]) {
      const r = results.get(id)!;
      expect(r.verdict).toBe("error");
      expect(r.record!.mismatches[0]).toMatch(/^harness fault: nginx error\.log: 1024 worker_connections are not enough, reusing connections \(first at 2026-12-02T17:06:07\.000Z\): this failure is not evidence against the Ingress/);
      // What was observed stays beside the note.
      expect(r.record!.mismatches[1]).toBe("status: expected 200, observed no HTTP response");
    }
  });

  it("a fault without a time affects every failure", () => {
    const results = new Map([result("early", "fail", 0)].map((r) => [r.id, r]));
    expect(applyHarnessFaults(results, [{ source: "nginx error.log", message: "worker process 123 exited on signal 9" }])).toBe(1);
    expect(results.get("early")!.verdict).toBe("error");
  });

  it("no fault changes nothing", () => {
    const results = new Map([result("a", "fail", t)].map((r) => [r.id, r]));
    expect(applyHarnessFaults(results, [])).toBe(0);
    expect(results.get("a")!.verdict).toBe("fail");
  });

  it("repeated log lines are one line with their count and first time", () => {
    const later = { ...fault, at: "2026-12-02T17:06:09.000Z" };
    expect(faultLines([fault, later, { source: "nginx error.log", message: "worker process 9 exited on signal 11" }])).toEqual([
      "harness fault: nginx error.log: 1024 worker_connections are not enough, reusing connections (2 times, first at 2026-12-02T17:06:07.000Z)",
      "harness fault: nginx error.log: worker process 9 exited on signal 11",
    ]);
  });
});
