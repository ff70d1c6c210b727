import { describe, expect, it } from "vitest";
import { collectGarbage, everyNth } from "./collect-garbage.ts";

describe("collectGarbage", () => {
  it("frees what nothing holds any more: the heap in use drops after garbage is made", () => {
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    // ~100 MB of short-lived objects that nothing keeps.
    let kept = 0;
    for (let i = 0; i < 200; i++) kept += new Array(65_536).fill(i).length;
    expect(kept).toBe(200 * 65_536);
    collectGarbage();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 * 1024 * 1024);
  });

  it("everyNth collects on every nth call only", () => {
    const seen: number[] = [];
    const tick = everyNth(3);
    for (let i = 1; i <= 7; i++) {
      const before = performance.now();
      tick();
      seen.push(performance.now() - before);
    }
    // A full collection takes measurable time; the other calls are a counter.
    expect(seen[2]! + seen[5]!).toBeGreaterThan(seen[0]! + seen[1]! + seen[3]! + seen[4]! + seen[6]!);
  });
});
