// Suite `crl`: the catalogue entries of this suite, each one probe against the target.
import { defineScenarioSuite } from "./scenario-runner.ts";

await defineScenarioSuite("crl");
