// Suite `guide-lint`: static checks of the guide's own objects, reported as findings.
import { defineScenarioSuite } from "./scenario-runner.ts";

export const define = (): Promise<void> => defineScenarioSuite("guide-lint");
