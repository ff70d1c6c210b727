// Suite `ingresses`: the checks generated from what the Ingresses under test declare, one group per Ingress.
import { defineScenarioSuite } from "./scenario-runner.ts";

export const define = (): Promise<void> => defineScenarioSuite("ingresses");
