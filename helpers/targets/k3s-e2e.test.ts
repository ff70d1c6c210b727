// The whole catalogue against the real controller in k3s. Needs a container engine that can pull
// rancher/k3s, ingress-nginx and node images (or has them): run with MTLS_E2E_K3S=1 there.
// This project's CI reaches no registry, so there it is skipped, and says so.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { runConformance } from "../run/run.ts";

it("the full catalogue passes against ingress-nginx in k3s", { timeout: 30 * 60_000 }, async (ctx) => {
  if (process.env.MTLS_E2E_K3S !== "1") ctx.skip("needs a container engine that can pull images; set MTLS_E2E_K3S=1 where one can");
  const reportDir = mkdtempSync(join(tmpdir(), "k3s-e2e-"));
  const outcome = await runConformance({ target: "k3s", reportDir, command: "k3s e2e test" });
  expect(outcome.evidence.scenarios.filter((s) => s.verdict !== "pass").map((s) => `${s.id}: ${s.mismatches.join("; ")}`)).toEqual([]);
  expect(outcome.evidence.totals.total).toBe(catalogue.scenarios.length);
  const evidence = JSON.parse(readFileSync(outcome.evidencePath, "utf8"));
  expect(evidence.target.versions.kubernetes).toMatch(/^v1\.35\./);
  expect(evidence.target.controllerImages.some((i: { imageID: string }) => /sha256:[0-9a-f]{64}/.test(i.imageID))).toBe(true);
  expect(evidence.target.controllerManifest.sha256).toMatch(/^[0-9a-f]{64}$/);
});
