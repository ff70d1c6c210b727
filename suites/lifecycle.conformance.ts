// Suite `lifecycle`: state changes applied in order (secret created, CA rotated, annotation changed).
import { defineScenarioSuite } from "./scenario-runner.ts";

export const define = (): Promise<void> => defineScenarioSuite("lifecycle");
