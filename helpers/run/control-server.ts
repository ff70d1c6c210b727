// A loopback HTTP endpoint through which the suites (in a vitest worker) ask the run (in the main
// process, where the target lives) to move the deployed objects to a lifecycle stage.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

export async function startControlServer(applyStage: (stage: string) => Promise<void>): Promise<ControlServer> {
  // One change at a time, in the order asked.
  let queue: Promise<unknown> = Promise.resolve();
  const server = createServer((req, res) => {
    const m = /^\/stage\/([a-z0-9-]+)$/.exec(req.url ?? "");
    if (req.method !== "POST" || !m) {
      res.writeHead(404).end("POST /stage/<name>");
      return;
    }
    const job = queue.then(() => applyStage(m[1]!));
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
