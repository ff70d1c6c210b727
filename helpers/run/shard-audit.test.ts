// `run --target cluster --audit --shard I/N`, as the Indexed Job runs it: a fake API server says
// what is deployed (a zoo of 24 varied Ingresses, prepared as `--manifests` deploys them), the nginx
// data plane serves it, and each shard finds the cluster itself and checks only its slice. The
// whole audit and 3 shards merged must agree check by check.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadUserManifests, prepareUserObjects } from "../manifests/user-manifests.ts";
import { CredentialFactory } from "../pki/credentials.ts";
import { mergeShards, type MergeOutcome } from "../reports/merge.ts";
import type { Evidence } from "../reports/evidence.ts";
import { startFakeKubeApi, type StartedFakeApi } from "../testing/fake-kube-api.ts";
import { writeIngressZoo } from "../testing/ingress-zoo.ts";
import { NginxTarget } from "../controllers/ingress-nginx/nginx-target.ts";
import type { StartedTarget } from "../targets/target.ts";
import { runConformance, type RunOutcome } from "./run.ts";

let dir: string;
let api: StartedFakeApi;
let plane: StartedTarget;
let whole: RunOutcome;
const shards: RunOutcome[] = [];
let merged: MergeOutcome;

async function audit(name: string, shard?: { index: number; count: number }): Promise<RunOutcome> {
  const firstHost = "svc-000.zoo.test";
  const { address, port } = plane.endpointFor(firstHost);
  return runConformance({
    target: "cluster",
    reportDir: join(dir, name),
    command: "audit test",
    log: () => undefined,
    ...(shard ? { shard } : {}),
    // One zoo host has no tls: (the controller's fake certificate): server verification would fail it in any audit.
    targetOptions: { audit: true, kubeconfig: api.kubeconfig, ingressAddress: `${address}:${port}`, insecureServer: true },
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "shard-audit-"));
  const zoo = await writeIngressZoo(join(dir, "zoo"), 24);
  // What a cluster holds after the user's objects were deployed: the run's own preparation of them.
  const prepared = await prepareUserObjects(loadUserManifests(zoo.dir), new CredentialFactory());
  api = await startFakeKubeApi({ ingresses: prepared.manifests.ingresses, secrets: prepared.manifests.secrets }, dir);
  plane = await new NginxTarget().start({ manifests: prepared.manifests, workDir: mkdtempSync(join(dir, "plane-")), reportDir: mkdtempSync(join(dir, "plane-report-")), log: () => undefined });
  whole = await audit("whole");
  for (const index of [1, 2, 3]) shards.push(await audit(`shard-${index}`, { index, count: 3 }));
  merged = await mergeShards({ dirs: shards.map((_, i) => join(dir, `shard-${i + 1}`)), reportDir: join(dir, "merged"), command: "test", log: () => undefined });
}, 240_000);

afterAll(async () => {
  await plane?.stop();
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const verdicts = (e: Evidence) => Object.fromEntries(e.scenarios.map((s) => [s.id, s.verdict]));

describe("an audit in 3 shards, each finding the cluster itself", () => {
  it("merged, every check has the whole audit's verdict and the totals are the same", () => {
    expect(whole.evidence.subject.origin).toBe("audit");
    expect(whole.evidence.totals.checked).toBeGreaterThan(50);
    expect(verdicts(merged.evidence)).toEqual(verdicts(whole.evidence));
    expect(merged.evidence.totals).toEqual(whole.evidence.totals);
    expect(merged.exitCode).toBe(whole.exitCode);
    expect(whole.exitCode).toBe(0);
  });

  it("every audited Ingress is checked in exactly one shard, and the shards name one input", () => {
    const ids = shards.flatMap((s) => s.evidence.ingresses.map((i) => i.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(whole.evidence.ingresses.map((i) => i.id).sort());
    const digests = shards.map((s) => (s.evidence.run as { shard?: { inputDigest: string } }).shard?.inputDigest);
    expect(digests.every((d) => d && d === digests[0])).toBe(true);
    // Nothing was written to the cluster by any of them.
    expect(api.calls.every((c) => c.method === "GET")).toBe(true);
  });
});
