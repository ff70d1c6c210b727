// A loopback HTTP endpoint through which the suites (in a vitest worker) ask the run (in the main
// process, where the target lives) to move the deployed objects to a lifecycle stage.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** How long a target's `update` may take unless it says otherwise. */
export const DEFAULT_UPDATE_TIMEOUT_MS = 60_000;
/** Room for the probes after the settle window (each has its own timeouts). */
export const STAGE_PROBE_MARGIN_MS = 30_000;

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

/** Applies a stage, failing with a clear message when it takes longer than `timeoutMs`. */
export async function startControlServer(applyStage: (stage: string) => Promise<void>, timeoutMs = DEFAULT_UPDATE_TIMEOUT_MS): Promise<ControlServer> {
  // One change at a time, in the order asked.
  let queue: Promise<unknown> = Promise.resolve();
  const bounded = (stage: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`moving the objects to stage ${stage} did not finish within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}`)), timeoutMs);
      applyStage(stage).then(resolve, reject).finally(() => clearTimeout(timer));
    });
  const server = createServer((req, res) => {
    const m = /^\/stage\/([a-z0-9-]+)$/.exec(req.url ?? "");
    if (req.method !== "POST" || !m) {
      res.writeHead(404).end("POST /stage/<name>");
      return;
    }
    const job = queue.then(() => bounded(m[1]!));
    queue = job.catch(() => undefined);
    job.then(
      () => res.writeHead(200, { "content-type": "text/plain" }).end(`stage ${m[1]} applied`),
      (error: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(error.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
