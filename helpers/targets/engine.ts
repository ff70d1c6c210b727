// Whether a Docker-compatible container engine answers: a quick ping of its socket.
import { request } from "node:http";

export function dockerSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith("unix://") ? host.slice("unix://".length) : "/var/run/docker.sock";
}

/** Answers within `timeoutMs` whether the engine's `/_ping` says OK. */
export function containerEngineAnswers(socketPath = dockerSocket(), timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: "/_ping", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}
