import { request as httpRequest } from "node:http";
import { createServer } from "node:net";

/** A port that was free a moment ago on `host` (callers retry if it is taken meanwhile). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * The number a data plane answers at `path` (the generation of the configuration it loaded), 0 for
 * anything else. `agent: false`: a connection of its own, closed after the answer (the global
 * agent would keep one idle after every reload).
 */
export function httpNumber(address: string, port: number, path: string, hostHeader?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: address, port, path, ...(hostHeader ? { headers: { host: hostHeader } } : {}), timeout: 1000, agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      // Closed before the answer counts: a socket still closing after the reload check would be one
      // more connection to the listener than the target holds (nginx-target.test.ts counts them).
      res.on("end", () => {
        res.socket.destroy();
        resolve(Number(body) || 0);
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Free ports on `address`, each handed out once: freePort reserves nothing, and the kernel can
 * hand out the same port twice in a row.
 */
export function portTaker(address: string): () => Promise<number> {
  const taken = new Set<number>();
  return async () => {
    for (;;) {
      const p = await freePort(address);
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
}
