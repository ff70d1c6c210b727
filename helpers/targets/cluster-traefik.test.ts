// `--target cluster --controller traefik`: nothing is installed or verified as ingress-nginx, the
// controller is looked for where k3s runs Traefik, and --install-controller is refused at once.
// Against the stateful fake API server (helpers/testing/fake-kube-server.ts).
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { buildManifests, type Manifests } from "../manifests/manifests.ts";
import { ConfigError } from "../support/errors.ts";
import { FakeKubeServer } from "../testing/fake-kube-server.ts";
import { ClusterTarget } from "./cluster-target.ts";
import type { DeployInput } from "./target.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { sharedPki } from "../testing/shared-pki.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

describe("cluster target with --controller traefik", () => {
  const fake = new FakeKubeServer();
  let base: string;
  let kubeconfig: string;
  let manifests: Manifests;
  const input = (): DeployInput => ({ manifests, workDir: join(base, "work"), reportDir: mkdtempSync(join(base, "report-")), log: () => undefined });

  beforeAll(async () => {
    await fake.start();
    base = tempDir("cluster-traefik-");
    kubeconfig = join(base, "kubeconfig");
    writeFileSync(kubeconfig, fake.kubeconfigYaml);
    const pki = await sharedPki(catalogue.policies.map((p) => p.host));
    manifests = buildManifests({ namespace: "mtls-conformance", policies: catalogue.policies.slice(0, 1), pki });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  it("--install-controller is refused before anything is read or written", () => {
    const target = new ClusterTarget({ kubeconfig, controller: "traefik", installController: true });
    expect(() => target.validate()).toThrow(ConfigError);
    expect(() => target.validate()).toThrow("--install-controller installs ingress-nginx; with --controller traefik the run tests the Traefik already in the cluster: omit --install-controller");
    expect(fake.calls).toEqual([]);
  });

  it("Traefik is looked for in kube-system by its chart's label, and Service traefik is its address; the options still win", () => {
    expect(new ClusterTarget({ kubeconfig, controller: "traefik" }).controllerLocation()).toEqual({ namespace: "kube-system", selector: "app.kubernetes.io/name=traefik", service: "traefik" });
    expect(new ClusterTarget({ kubeconfig, controller: "traefik", controllerNamespace: "traefik", controllerService: "edge" }).controllerLocation()).toEqual({ namespace: "traefik", selector: "app.kubernetes.io/name=traefik", service: "edge" });
    expect(new ClusterTarget({ kubeconfig }).controllerLocation()).toEqual({ namespace: undefined, selector: undefined, service: undefined });
  });

  it("no Traefik where looked for: the error says where it looked and what to pass, and nothing ingress-nginx is read or written", async () => {
    const error = (await new ClusterTarget({ kubeconfig, controller: "traefik", timeouts: { controllerReadyMs: 300 } }).start(input()).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain("waiting for the Traefik pod in namespace kube-system to be Ready");
    expect(error.message).toContain("Is Traefik running in namespace kube-system (pods labelled app.kubernetes.io/name=traefik; kube-system is where k3s runs it)?");
    const list = fake.calls.find((c) => c.path === "/api/v1/namespaces/kube-system/pods")!;
    expect(new URLSearchParams(list.query).get("labelSelector")).toBe("app.kubernetes.io/name=traefik");
    expect(fake.calls.filter((c) => c.path.includes("ingress-nginx"))).toEqual([]);
    expect(fake.writes).toEqual([]);
  });

  it("without IngressClass nginx, the error says the provider needs one of controller k8s.io/ingress-nginx", async () => {
    fake.put({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "traefik-7c9d", namespace: "kube-system", labels: { "app.kubernetes.io/name": "traefik" } },
      spec: { containers: [{ name: "traefik", image: "docker.io/traefik:v3.7.9" }] },
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
    } as never);
    const error = (await new ClusterTarget({ kubeconfig, controller: "traefik" }).start(input()).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(
      "IngressClass nginx does not exist in this cluster, so no controller serves the run's Ingresses. Pass --ingress-class with the class your controller serves. Traefik's kubernetesIngressNGINX provider serves IngressClasses whose controller is k8s.io/ingress-nginx: keep (or create) one, as Traefik's migration guide says.",
    );
    expect(fake.writes).toEqual([]);
  });
});
