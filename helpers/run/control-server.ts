// A loopback HTTP endpoint between the run (in the main process, where the targets live) and the
// suites (in vitest workers): the suites fetch the run context from it (GET /context), so vitest
// can start its workers and load the suites while the PKI is made and the targets deploy, and the
// lifecycle suite asks it to move the deployed objects to a stage (POST /stage/<name>).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** How long a target's `update` may take unless it says otherwise. */
export const DEFAULT_UPDATE_TIMEOUT_MS = 60_000;
/** Room for the probes after the settle window (each has its own timeouts). */
export const STAGE_PROBE_MARGIN_MS = 30_000;

export interface ControlServer {
  url: string;
  /** The context the suites get from GET /context: requests wait until it is set (or failed). */
  setContext(context: unknown): void;
  /** GET /context answers 500 with this reason: the suites fail to load instead of waiting. */
  failContext(reason: string): void;
  /** Applies stages (POST /stage/<name>), one at a time, each failing after `timeoutMs`. */
  setStageHandler(applyStage: ((stage: string) => Promise<void>) | undefined, timeoutMs?: number): void;
  close(): Promise<void>;
}

export async function startControlServer(): Promise<ControlServer> {
  let context: { json: string } | { error: string } | undefined;
  const waiting: Array<() => void> = [];
  const settle = (value: { json: string } | { error: string }) => {
    context = value;
    for (const wake of waiting.splice(0)) wake();
  };
  let applyStage: ((stage: string) => Promise<void>) | undefined;
  let timeoutMs = DEFAULT_UPDATE_TIMEOUT_MS;
  // One change at a time, in the order asked.
  let queue: Promise<unknown> = Promise.resolve();
  const bounded = (stage: string) =>
    new Promise<void>((resolve, reject) => {
      if (!applyStage) return reject(new Error("this target cannot change its objects while running"));
      const timer = setTimeout(() => reject(new Error(`moving the objects to stage ${stage} did not finish within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}`)), timeoutMs);
      applyStage(stage).then(resolve, reject).finally(() => clearTimeout(timer));
    });
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/context") {
      const answer = () => {
        if (context && "json" in context) res.writeHead(200, { "content-type": "application/json" }).end(context.json);
        else res.writeHead(500, { "content-type": "text/plain" }).end(context?.error ?? "no context");
      };
      if (context) answer();
      else waiting.push(answer);
      return;
    }
    const m = /^\/stage\/([a-z0-9-]+)$/.exec(req.url ?? "");
    if (req.method !== "POST" || !m) {
      res.writeHead(404).end("GET /context or POST /stage/<name>");
      return;
    }
    const job = queue.then(() => bounded(m[1]!));
    queue = job.catch(() => undefined);
    job.then(
      () => res.writeHead(200, { "content-type": "text/plain" }).end(`stage ${m[1]} applied`),
      (error: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(error.message),
    );
  });
  // Requests wait for the context as long as the PKI and the deployment take.
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setContext: (value) => settle({ json: JSON.stringify(value) }),
    failContext: (reason) => settle({ error: reason }),
    setStageHandler: (handler, timeout = DEFAULT_UPDATE_TIMEOUT_MS) => {
      applyStage = handler;
      timeoutMs = timeout;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!context) settle({ error: "the run ended before its checks were ready" });
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
