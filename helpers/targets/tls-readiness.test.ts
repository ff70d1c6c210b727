// Readiness by certificate, against the nginx target (its default server plays the controller's
// fake certificate for names no Ingress claims).
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { buildManifests } from "../manifests/manifests.ts";
import { type Pki } from "../pki/pki.ts";
import { WaitTimeoutError } from "../support/wait.ts";
import { NginxTarget } from "../controllers/ingress-nginx/nginx-target.ts";
import type { StartedTarget } from "./target.ts";
import { presentedCertificate, waitForHostCertificates } from "./tls-readiness.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { sharedPki } from "../testing/shared-pki.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

let pki: Pki;
let target: StartedTarget;
let manifests: ReturnType<typeof buildManifests>;
beforeAll(async () => {
  pki = await sharedPki(catalogue.policies.map((p) => p.host));
  const base = tempDir("tls-ready-");
  manifests = buildManifests({ namespace: "default", policies: catalogue.policies, pki });
  target = await new NginxTarget().start({
    manifests,
    workDir: base,
    reportDir: join(base, "r"),
    log: () => undefined,
  });
});
afterAll(() => target?.stop());

it("sees the run's certificate on every served host, even where a client certificate is requested", async () => {
  const endpoint = target.endpointFor("test.localdev.me");
  const tlsHosts = Object.keys(manifests.hostCertificates);
  expect(tlsHosts.length).toBeGreaterThan(20);
  for (const host of tlsHosts) expect((await presentedCertificate(endpoint, host)).sha256).toBe(pki.server.sha256);
  await waitForHostCertificates(target.endpointFor, manifests.hostCertificates, undefined, 2000);
  // The hosts of Ingresses the controller rejects are not served: the fake certificate, not waited for.
  const rejected = catalogue.policies.find((p) => p.name === "reject-pass-not-bool")!;
  expect(tlsHosts).not.toContain(rejected.host);
  expect((await presentedCertificate(endpoint, rejected.host)).subject).toBe("Kubernetes Ingress Controller Fake Certificate");
  // A host whose Ingress has no tls: section keeps the fake certificate, as with the controller.
  const noTls = catalogue.policies.find((p) => p.tls === false)!;
  expect((await presentedCertificate(endpoint, noTls.host)).subject).toBe("Kubernetes Ingress Controller Fake Certificate");
});

it("a host still served with the fake certificate times out with a message naming what it saw", async () => {
  const endpoint = target.endpointFor("test.localdev.me");
  const t = Date.now();
  const error = await waitForHostCertificates(() => endpoint, ["not-yet-synced.localdev.me"], pki.server.sha256, 600).catch((e) => e);
  expect(error).toBeInstanceOf(WaitTimeoutError);
  expect(error.message).toContain("waiting for not-yet-synced.localdev.me to serve the run's server certificate");
  expect(error.message).toContain('certificate "Kubernetes Ingress Controller Fake Certificate"');
  expect(Date.now() - t).toBeLessThan(3000);
});
