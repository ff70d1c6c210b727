// What every local data plane of a successor's rendering shares once it is up: a change applies at
// once (settleMs 0), its diagnostics, a stop that cleans up; and on the way up, a step that fails
// cleans up whatever was started before it.
import type { StartedTarget } from "../targets/target.ts";

export type LocalStartedParts = Omit<StartedTarget, "settleMs" | "collectDiagnostics" | "stop">;

export async function startLocalDataPlane(steps: { cleanup: () => Promise<void>; collectDiagnostics: () => Promise<string[]>; up: () => Promise<LocalStartedParts> }): Promise<StartedTarget> {
  try {
    return { ...(await steps.up()), settleMs: 0, collectDiagnostics: steps.collectDiagnostics, stop: steps.cleanup };
  } catch (error) {
    await steps.cleanup();
    throw error;
  }
}
