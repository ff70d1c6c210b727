// A full garbage collection on demand. The probes allocate fast and their objects live across a
// handshake, so V8 promotes them and lets the old generation grow far past what stays alive (at
// 1,000 Ingresses the suites' worker held 117 MB and had grown to 445 MB); collecting every so
// many checks keeps the heap near what it holds, for a few tens of ms each time. Node exposes
// gc() only behind --expose-gc; the flag can be set at run time and gc() taken from a new context
// (the idiom of node's own docs for v8.setFlagsFromString).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}

/** Calls collectGarbage() once every `every` calls. */
export function everyNth(every: number): () => void {
  let calls = 0;
  return () => {
    if (++calls % every === 0) collectGarbage();
  };
}
