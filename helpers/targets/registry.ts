// Which target runs. `auto` prefers the real controller (k3s) where a container engine answers
// and that target exists, else the local nginx data plane.
import { request } from "node:http";
import { NginxTarget } from "./nginx-target.ts";
import type { Target } from "./target.ts";
import { ConfigError } from "../errors.ts";

export const TARGET_NAMES = ["auto", "nginx"] as const;

export interface TargetChoice {
  target: Target;
  /** Shown on the first line of a run and recorded in the evidence. */
  why: string;
}

/** Answers within `timeoutMs` whether a Docker-compatible engine is listening on its socket. */
export function containerEngineAnswers(socketPath = dockerSocket(), timeoutMs = 500): Promise<boolean> {
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

function dockerSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith("unix://") ? host.slice("unix://".length) : "/var/run/docker.sock";
}

export async function chooseTarget(name: string): Promise<TargetChoice> {
  if (!(TARGET_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown target "${name}": choose one of ${TARGET_NAMES.join(", ")}`);
  }
  const nginx = new NginxTarget();
  let why: string;
  if (name === "auto") {
    const engine = await containerEngineAnswers();
    why = engine
      ? "auto: a container engine answers, but this version has no k3s target yet, so the local nginx data plane runs"
      : "auto: no container engine answers, so the local nginx data plane runs";
  } else {
    why = "requested with --target nginx";
  }
  const availability = await nginx.check();
  if (!availability.available) throw new ConfigError(availability.reason);
  return { target: nginx, why: `${why}; ${availability.reason}` };
}
