// Whether a container engine answers, asked the way testcontainers finds one (its strategies, in
// its order: TESTCONTAINERS_HOST_OVERRIDE, DOCKER_HOST or ~/.testcontainers.properties, the Docker
// socket, the rootless sockets; testcontainers build/container-runtime/clients/client.js:39-66),
// so the answer is the one the k3s target will get. testcontainers takes about a second to load:
// where none of the places it looks at exists, the answer is no without loading it.
import { existsSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";

export interface EngineStatus {
  answers: boolean;
  /** What answered (runtime, version, where), or why nothing did. */
  detail: string;
}

/** The places testcontainers' strategies look at, in its order (rootless-unix-socket-strategy.js, unix-socket-strategy.js, utils/config.js). */
export function engineCandidates(env: NodeJS.ProcessEnv = process.env, home = homedir(), root = "/"): string[] {
  const found: string[] = [];
  if (env.DOCKER_HOST) found.push(`DOCKER_HOST=${env.DOCKER_HOST}`);
  const properties = join(home, ".testcontainers.properties");
  if (existsSync(properties)) found.push(properties);
  const sockets = [
    join(root, "var", "run", "docker.sock"),
    ...(env.XDG_RUNTIME_DIR ? [join(env.XDG_RUNTIME_DIR, "docker.sock")] : []),
    join(home, ".docker", "run", "docker.sock"),
    join(home, ".docker", "desktop", "docker.sock"),
    join(root, "run", "user", String(userInfo().uid), "docker.sock"),
  ];
  for (const s of sockets) if (existsSync(s)) found.push(s);
  if (process.platform === "win32") found.push("//./pipe/docker_engine");
  return found;
}

export async function containerEngine(timeoutMs = 15_000, candidates = engineCandidates()): Promise<EngineStatus> {
  if (candidates.length === 0) return { answers: false, detail: "no DOCKER_HOST, ~/.testcontainers.properties or Docker socket" };
  const { getContainerRuntimeClient } = await import("testcontainers");
  let timer: NodeJS.Timeout | undefined;
  try {
    const client = await Promise.race([
      getContainerRuntimeClient(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs))),
    ]);
    const runtime = client.info.containerRuntime;
    return { answers: true, detail: `a container engine answers (Docker ${runtime.serverVersion}, ${runtime.operatingSystem})` };
  } catch (error) {
    return { answers: false, detail: `no container engine answers at ${candidates.join(", ")} (${(error as Error).message})` };
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a container engine answers. */
export async function containerEngineAnswers(): Promise<boolean> {
  return (await containerEngine()).answers;
}
