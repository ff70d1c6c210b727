// The whole catalogue against the real controller in k3s. Needs a container engine that can pull
// rancher/k3s, ingress-nginx and node images (or has them): run with MTLS_E2E_K3S=1 there.
// This project's CI reaches no registry, so there it is skipped, and says so. `npm run prove:k3s`
// is the same proof as users run it (images pulled and preloaded, the CLI, one report per
// release); both judge the evidence with judgeProof.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { judgeProof } from "../run/prove-k3s.ts";
import { runConformance } from "../run/run.ts";
import { kubernetesOfK3sImage, k3sImageFor } from "./compatibility.ts";
import { DEFAULT_CONTROLLER_VERSION } from "./controller-manifest.ts";
import { DEFAULT_K3S_IMAGE } from "./defaults.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

it("the full catalogue passes against ingress-nginx in k3s", { timeout: 30 * 60_000 }, async (ctx) => {
  if (process.env.MTLS_E2E_K3S !== "1") ctx.skip("needs a container engine that can pull images; set MTLS_E2E_K3S=1 where one can");
  const reportDir = tempDir("k3s-e2e-");
  const outcome = await runConformance({ target: "k3s", reportDir, command: "k3s e2e test" });
  const evidence = JSON.parse(readFileSync(outcome.evidencePath, "utf8"));
  expect(judgeProof(evidence, catalogue.scenarios.length).gaps).toEqual([]);
  // The k3s image is the one picked for the default release, a Kubernetes it supports.
  const kubernetes = kubernetesOfK3sImage(k3sImageFor(DEFAULT_CONTROLLER_VERSION, DEFAULT_K3S_IMAGE));
  expect(evidence.target.versions.kubernetes).toMatch(new RegExp(`^v${kubernetes?.replace(".", "\\.")}\\.`));
});
