// vitest globalSetup: the project's Go data plane (Traefik's) is built once, before any worker
// starts. Cold, with an empty Go build cache, that takes ~50 s on two cores: inside a test it would
// eat the test's time, and two workers would build it side by side. Warm, it is a cache hit.
import { buildDataPlane } from "../controllers/traefik/go-build.ts";

export default async function setup(): Promise<void> {
  const started = performance.now();
  const built = await buildDataPlane();
  if (built.built) process.stderr.write(`built the Traefik data plane with ${built.goVersion} in ${((performance.now() - started) / 1000).toFixed(1)} s (${built.binary})\n`);
}
