// Suite `error-page`: the catalogue entries of this suite, each one probe against the target.
import { defineScenarioSuite } from "./scenario-runner.ts";

export const define = (): Promise<void> => defineScenarioSuite("error-page");
