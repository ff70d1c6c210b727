import { describe, expect, it } from "vitest";
import { retrying, StopWaiting, waitFor, WaitTimeoutError } from "./wait.ts";

describe("waitFor", () => {
  it("returns as soon as the condition holds, polling with backoff", async () => {
    let calls = 0;
    const t = Date.now();
    const v = await waitFor("three calls", async () => (++calls >= 3 ? { done: true, value: "ok" } : { done: false, observation: `call ${calls}` }), { timeoutMs: 5000, intervalMs: 20 });
    expect(v).toBe("ok");
    expect(calls).toBe(3);
    // 20 ms then 40 ms of backoff: at least 60 ms, far below the bound.
    expect(Date.now() - t).toBeGreaterThanOrEqual(55);
    expect(Date.now() - t).toBeLessThan(2000);
  });

  it("gives up at its bound and says what it waited for and what it last saw", async () => {
    const t = Date.now();
    const error = await waitFor<never>("the controller pod to be Ready", async () => ({ done: false, observation: "0/1 Ready" }), { timeoutMs: 300, intervalMs: 50 }).catch((e: unknown) => e as Error & Record<string, unknown>);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.message).toBe("timed out after 0 s waiting for the controller pod to be Ready (last seen: 0/1 Ready)");
    const elapsed = Date.now() - t;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1000);
  });

  it("a throwing check is 'not yet' and its error is the last observation; StopWaiting ends at once", async () => {
    const e1 = await waitFor<never>("x", async () => { throw new Error("connection refused"); }, { timeoutMs: 100, intervalMs: 10 }).catch((e: unknown) => e as Error & Record<string, unknown>);
    expect(e1.message).toContain("last seen: error: connection refused");
    let calls = 0;
    const fatal = new Error("forbidden");
    const e2 = await waitFor("x", async () => { calls++; throw new StopWaiting(fatal); }, { timeoutMs: 5000 }).catch((e: unknown) => e as Error & Record<string, unknown>);
    expect(e2).toBe(fatal);
    expect(calls).toBe(1);
  });

  it("the interval never exceeds maxIntervalMs nor the time left", async () => {
    const stamps: number[] = [];
    await waitFor("x", async () => { stamps.push(Date.now()); return { done: false, observation: "no" }; }, { timeoutMs: 400, intervalMs: 50, maxIntervalMs: 100 }).catch(() => undefined);
    const gaps = stamps.slice(1).map((s, i) => s - stamps[i]!);
    expect(Math.max(...gaps)).toBeLessThan(160);
    expect(stamps.length).toBeGreaterThanOrEqual(4);
  });
});

describe("retrying", () => {
  const webhook = Object.assign(new Error('Internal error occurred: failed calling webhook "validate.nginx.ingress.kubernetes.io"'), { code: 500 });
  const isWebhook = (e: unknown) => (e as { code?: number }).code === 500 && /failed calling webhook/.test(String((e as Error).message));

  it("retries a passing failure (webhook not serving yet) until it succeeds", async () => {
    let n = 0;
    const v = await retrying("create Ingress", async () => { if (++n < 3) throw webhook; return "created"; }, isWebhook, { timeoutMs: 5000, intervalMs: 10 });
    expect(v).toBe("created");
    expect(n).toBe(3);
  });

  it("any other error is thrown at once, unchanged", async () => {
    const invalid = Object.assign(new Error("admission webhook denied the request: annotation contains invalid value"), { code: 400 });
    let n = 0;
    const e = await retrying("create Ingress", async () => { n++; throw invalid; }, isWebhook, { timeoutMs: 5000 }).catch((x) => x);
    expect(e).toBe(invalid);
    expect(n).toBe(1);
  });

  it("a webhook that never answers ends at the bound with the webhook's message", async () => {
    const e = await retrying("creating Ingress test-localhost", async () => { throw webhook; }, isWebhook, { timeoutMs: 150, intervalMs: 20 }).catch((x) => x);
    expect(e).toBeInstanceOf(WaitTimeoutError);
    expect(e.message).toMatch(/waiting for creating Ingress test-localhost \(last seen: Internal error occurred: failed calling webhook/);
  });
});
