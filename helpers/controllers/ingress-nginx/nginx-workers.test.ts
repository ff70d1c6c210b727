// nginx's workers as /proc shows them, on a real nginx: the reload leaves the old workers
// accepting for a while, then they shut down; one held by an unfinished request stays "shutting down".
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../support/net.ts";
import { findNginx } from "./nginx-target.ts";
import { accepting, waitForOldWorkers, workerProcesses } from "./nginx-workers.ts";

let nginx: ChildProcess;
let port: number;
let prefix: string;
const held: Socket[] = [];

const config = (answer: string) =>
  `daemon off;\nworker_processes 2;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/logs/error.log info;\nevents { worker_connections 64; }\n` +
  `http { access_log off; client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;\n` +
  `  server { listen 127.0.0.1:${port}; location / { return 200 "${answer}"; } } }\n`;

/** One request on a fresh connection: the answer of whichever worker accepted it. */
const answer = () =>
  new Promise<string>((resolve, reject) => {
    request({ host: "127.0.0.1", port, agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(body));
    })
      .on("error", reject)
      .end();
  });

beforeAll(async () => {
  const bin = findNginx();
  if (!bin) throw new Error("nginx is not installed: apt-get install -y nginx-light");
  prefix = mkdtempSync(join(tmpdir(), "nginx-workers-test-"));
  mkdirSync(join(prefix, "logs"));
  port = await freePort();
  writeFileSync(join(prefix, "nginx.conf"), config("generation 0"));
  nginx = spawn(bin, ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-e", join(prefix, "logs", "error.log")], { stdio: "ignore" });
  // Two workers titled as nginx titles them.
  for (let i = 0; i < 200; i++) {
    if ((await workerProcesses(nginx.pid!))?.length === 2) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("nginx did not start two workers");
});

afterAll(async () => {
  for (const s of held) s.destroy();
  if (nginx && nginx.exitCode === null) await new Promise((resolve) => nginx.once("exit", resolve).kill("SIGQUIT"));
  rmSync(prefix, { recursive: true, force: true });
});

/** A connection with a request that never completes: the worker that accepted it cannot exit. */
function unfinishedRequest(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write("GET / HTTP/1.1\r\nHost: x\r\n");
      held.push(socket);
      setTimeout(() => resolve(socket), 50);
    });
    socket.once("error", reject);
  });
}

describe.skipIf(process.platform !== "linux")("workerProcesses / waitForOldWorkers (Linux /proc)", () => {
  it("lists the master's workers with nginx's titles", async () => {
    const workers = (await workerProcesses(nginx.pid!))!;
    expect(workers.map((w) => w.title)).toEqual(["nginx: worker process", "nginx: worker process"]);
    expect(accepting(workers)).toHaveLength(2);
  });

  it("after SIGHUP: new workers, and the old ones gone once waited for", async () => {
    const old = (await workerProcesses(nginx.pid!))!.map((w) => w.pid);
    nginx.kill("SIGHUP");
    expect(await waitForOldWorkers(nginx.pid!, old, { timeoutMs: 5000 })).toBe(true);
    // Not accepting: exited, or (the instant it closes its listening sockets) shutting down.
    await new Promise((r) => setTimeout(r, 300));
    // The new workers may still be starting when the old ones are gone.
    let now = (await workerProcesses(nginx.pid!))!;
    for (let i = 0; i < 100 && now.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
      now = (await workerProcesses(nginx.pid!))!;
    }
    expect(now).toHaveLength(2);
    expect(now.filter((w) => old.includes(w.pid))).toEqual([]);
  });

  it("an old worker held by an unfinished request is shutting down, not accepting, and is not waited for", async () => {
    // Both workers may hold one: open enough that at least one does.
    for (let i = 0; i < 4; i++) await unfinishedRequest();
    const old = (await workerProcesses(nginx.pid!))!.map((w) => w.pid);
    nginx.kill("SIGHUP");
    expect(await waitForOldWorkers(nginx.pid!, old, { timeoutMs: 5000 })).toBe(true);
    const remaining = (await workerProcesses(nginx.pid!))!.filter((w) => old.includes(w.pid));
    expect(remaining.length).toBeGreaterThan(0);
    for (const w of remaining) expect(w.title).toBe("nginx: worker process is shutting down");
  });

  it("old workers told to QUIT as soon as a new one answers: from then on every connection gets the new configuration", async () => {
    // What the nginx target does on each lifecycle stage, instead of waiting out the master's 100 ms.
    for (let generation = 1; generation <= 5; generation++) {
      const old = (await workerProcesses(nginx.pid!))!.map((w) => w.pid);
      writeFileSync(join(prefix, "nginx.conf"), config(`generation ${generation}`));
      nginx.kill("SIGHUP");
      const deadline = Date.now() + 5000;
      while ((await answer()) !== `generation ${generation}`) {
        if (Date.now() > deadline) throw new Error(`generation ${generation} never answered`);
        await new Promise((r) => setTimeout(r, 5));
      }
      for (const pid of old) {
        try {
          process.kill(pid, "SIGQUIT");
        } catch {
          // An earlier test's worker that has finished shutting down meanwhile.
        }
      }
      expect(await waitForOldWorkers(nginx.pid!, old, { timeoutMs: 5000 })).toBe(true);
      const answers = await Promise.all(Array.from({ length: 40 }, answer));
      expect(new Set(answers)).toEqual(new Set([`generation ${generation}`]));
    }
  });

  it("answers undefined for a process /proc does not know", async () => {
    expect(await workerProcesses(2 ** 22 + 12345)).toBeUndefined();
  });
});
