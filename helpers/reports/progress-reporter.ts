// A vitest reporter that prints one line per scenario as it finishes and keeps every result
// for the evidence. It runs in the CLI's process, so the run reads its results directly.
import type { Reporter, SerializedError, TestCase, TestModule } from "vitest/node";
import type { Check } from "../checks/check.ts";
import { staticRecord, type ScenarioRecord } from "../run/run-context.ts";

/**
 * `guarantee-lost`: run under a successor profile, the scenario observed the weaker behaviour its
 * row expects there (a guarantee ingress-nginx kept is lost); reported like a finding, counted
 * apart, and a failure only with --strict.
 * `finding`: the scenario observed exactly the documented controller behaviour it describes, and
 * that behaviour weakens mTLS. Not a failure of the target against its documentation; reported apart.
 * `error`: the check failed while the harness itself was at fault (HarnessFault: the data plane ran
 * out of connections, crashed...): no verdict on the Ingress; the run exits 3 ("the suite broke").
 */
export type ScenarioVerdict = "pass" | "fail" | "skip" | "finding" | "guarantee-lost" | "error";

/** The four-letter progress label of each verdict; `ERR `: the harness, not the Ingress, was at fault. */
export const VERDICT_LABELS: Record<ScenarioVerdict, string> = { pass: "PASS", fail: "FAIL", skip: "SKIP", finding: "FIND", "guarantee-lost": "LOST", error: "ERR " };

export interface CollectedResult {
  id: string;
  verdict: ScenarioVerdict;
  record?: ScenarioRecord;
  /** Test errors (assertion text, or the exception that stopped the test). */
  errors: string[];
  durationMs: number;
  skipReason?: string;
}

export class ProgressReporter implements Reporter {
  readonly results = new Map<string, CollectedResult>();
  /** Errors outside any scenario (a suite that failed to load...). */
  readonly runErrors: string[] = [];
  /** When each suite's checks ran (ms since the process started, as their results arrived), for the run's spans. */
  readonly suiteSpans = new Map<string, { startMs: number; endMs: number }>();
  private readonly write: (line: string) => void;
  /** How many checks the run has (known once they are planned). */
  total: number;
  private done = 0;
  /** Checks that could not run because the target did not come up: said once, not per check. */
  private notRun: { count: number; why: string } | undefined;

  constructor(write: (line: string) => void, total: number) {
    this.write = write;
    this.total = total;
  }

  onTestCaseResult(testCase: TestCase): void {
    const id = testCase.meta().mtlsCheckId;
    if (!id) return;
    const result = testCase.result();
    const record = testCase.meta().mtls;
    const verdict: ScenarioVerdict =
      result.state === "passed" ? (record?.guaranteeLost ? "guarantee-lost" : record?.finding ? "finding" : "pass") : result.state === "failed" ? "fail" : "skip";
    const errors = (result.errors ?? []).map((e) => e.message ?? String(e));
    const durationMs = record?.durationMs ?? Math.round(testCase.diagnostic()?.duration ?? 0);
    const skipReason = result.state === "skipped" ? result.note ?? "skipped" : undefined;
    this.collect(testCase.name, { id, verdict, record, errors, durationMs, skipReason });
    const suite = testCase.meta().mtlsSuite;
    if (suite) {
      const now = performance.now();
      const span = this.suiteSpans.get(suite) ?? { startMs: now - durationMs, endMs: now };
      this.suiteSpans.set(suite, { startMs: Math.min(span.startMs, now - durationMs), endMs: Math.max(span.endMs, now) });
    }
  }

  /** A check the run decided itself, outside the suites (decidedAfterProbes): static or skipped. */
  recordDecided(c: Check): void {
    const name = c.id.includes("#") ? c.id : `${c.id} ${c.name}`;
    if (c.skip || !c.static) {
      this.collect(name, { id: c.id, verdict: "skip", errors: [], durationMs: 0, skipReason: c.skip ?? "not decided" });
      return;
    }
    const record = staticRecord({ ...c, static: c.static });
    const verdict: ScenarioVerdict = c.static.verdict === "fail" ? "fail" : c.static.verdict === "finding" ? "finding" : "pass";
    this.collect(name, { id: c.id, verdict, record, errors: verdict === "fail" ? [c.static.detail] : [], durationMs: 0 });
  }

  private collect(name: string, result: CollectedResult): void {
    const { id, verdict, record, errors, durationMs, skipReason } = result;
    this.results.set(id, result);

    this.done++;
    const notRun = verdict === "fail" && !record ? /^not run: (the \S+ target did not come up)/.exec(errors[0] ?? "") : null;
    if (notRun) {
      this.notRun = { count: (this.notRun?.count ?? 0) + 1, why: notRun[1]! };
      return;
    }
    const counter = `[${String(this.done).padStart(String(this.total).length)}/${this.total}]`;
    const label = VERDICT_LABELS[verdict];
    const status = record?.observed.status ?? record?.observed.error?.code ?? "-";
    this.write(`${counter} ${label} ${name}  (${status}, ${durationMs} ms)`);
    if (verdict === "fail" || verdict === "error") {
      const lines = record?.mismatches.length ? record.mismatches : errors;
      for (const line of lines) for (const l of line.split("\n")) this.write(`        ${l}`);
    }
    if (verdict === "skip") this.write(`        skipped: ${skipReason}`);
    if (verdict === "finding" && record?.findingStatement) this.write(`        finding: ${record.findingStatement}`);
    if (verdict === "guarantee-lost" && record?.guaranteeStatement) this.write(`        guarantee lost: ${record.guaranteeStatement}`);
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    if (this.notRun) {
      this.write(`${this.notRun.count} check(s) not run: ${this.notRun.why} (the reason is above; the reports list each check with it)`);
      this.notRun = undefined;
    }
    for (const m of testModules) {
      for (const e of m.errors()) this.runErrors.push(`${m.moduleId}: ${e.message}`);
    }
    for (const e of unhandledErrors) this.runErrors.push(e.message ?? String(e));
  }
}
