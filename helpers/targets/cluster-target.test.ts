import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { ConfigError } from "../support/errors.ts";
import { buildManifests, type Manifests } from "../manifests/manifests.ts";
import { helmDeployment, releaseDeployment, releaseLikeManifest } from "../testing/controller-installs.ts";
import { FakeKubeServer } from "../testing/fake-kube-server.ts";
import { ClusterTarget, controllerImageVersion, parseIngressAddress } from "./cluster-target.ts";
import { isWebhookNotReady, serverBlocksFor } from "./kube.ts";
import { NginxTarget } from "../controllers/ingress-nginx/nginx-target.ts";
import type { DeployInput } from "./target.ts";
import { tempDirs } from "../testing/temp-dirs.ts";
import { runConformance } from "../run/run.ts";
import { sharedPki } from "../testing/shared-pki.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

describe("cluster target pieces", () => {
  it("--ingress-address takes HOST:PORT and [IPv6]:PORT", () => {
    expect(parseIngressAddress("127.0.0.1:8443")).toEqual({ address: "127.0.0.1", port: 8443 });
    expect(parseIngressAddress("ingress.example.internal:443")).toEqual({ address: "ingress.example.internal", port: 443 });
    expect(parseIngressAddress("[::1]:443")).toEqual({ address: "::1", port: 443 });
    for (const bad of ["127.0.0.1", ":443", "host:0", "host:70000", "host:https"]) expect(() => parseIngressAddress(bad)).toThrow(ConfigError);
  });

  it("the controller version is read from the running image", () => {
    const digest = `sha256:${"c".repeat(64)}`;
    expect(controllerImageVersion([`registry.k8s.io/ingress-nginx/controller:v1.15.1@${digest}`])).toBe("v1.15.1");
    expect(controllerImageVersion(["docker.io/library/busybox:1.36"])).toBe("unknown");
    // containerd dropped the tag: the status image says nothing (the cluster target reads the spec and labels first).
    expect(controllerImageVersion([`registry.k8s.io/ingress-nginx/controller@${digest}`])).toBe("unknown");
  });

  it("only the webhook's 'failed calling webhook' 5xx is retried", () => {
    const body = (message: string) => JSON.stringify({ kind: "Status", message });
    expect(isWebhookNotReady({ code: 500, body: body('Internal error occurred: failed calling webhook "validate.nginx.ingress.kubernetes.io"') })).toBe(true);
    expect(isWebhookNotReady({ code: 400, body: body("admission webhook denied the request") })).toBe(false);
    expect(isWebhookNotReady({ code: 500, body: body("etcdserver: request timed out") })).toBe(false);
  });

  it("diagnostics cut the run's server blocks out of an nginx.conf with the controller's markers", async () => {
    const pki = await sharedPki(catalogue.policies.map((p) => p.host));
    const base = tempDir("blocks-");
    const target = await new NginxTarget().start({
      manifests: buildManifests({ namespace: "default", policies: catalogue.policies, pki }),
      workDir: base,
      reportDir: join(base, "r"),
      log: () => undefined,
    });
    await target.collectDiagnostics();
    await target.stop();
    const conf = readFileSync(join(base, "r", "nginx", "nginx.conf"), "utf8");
    const blocks = serverBlocksFor(conf, ["test.localdev.me", "absent.localdev.me"]);
    expect(blocks).toMatch(/^## start server test\.localdev\.me[\s\S]*ssl_verify_depth 1;[\s\S]*## end server test\.localdev\.me\n/);
    expect(blocks).not.toContain("depth-2.test.localdev.me");
    expect(blocks).toContain("## server absent.localdev.me: not found in nginx.conf");
  });
});

describe("cluster target against an API server that answers as the real one", () => {
  const fake = new FakeKubeServer();
  let base: string;
  let kubeconfig: string;
  let manifests: Manifests;
  const logged: string[] = [];
  const input = (extra: Partial<DeployInput> = {}): DeployInput => ({ manifests, workDir: join(base, "work"), reportDir: mkdtempSync(join(base, "report-")), log: (l) => logged.push(l), ...extra });
  const manifestFile = (text: string) => {
    const file = join(mkdtempSync(join(base, "manifest-")), "deploy.yaml");
    writeFileSync(file, text);
    return file;
  };
  const readyController = () =>
    fake.put({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "ingress-nginx-controller-abc", namespace: "ingress-nginx", labels: { "app.kubernetes.io/component": "controller", "app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/instance": "ingress-nginx" } },
      spec: { containers: [{ name: "controller", image: "registry.k8s.io/ingress-nginx/controller:v1.15.1" }] },
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
    } as never);
  const ingressClass = (name: string) => fake.put({ apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name }, spec: { controller: "k8s.io/ingress-nginx" } } as never);

  beforeAll(async () => {
    await fake.start();
    base = tempDir("cluster-target-");
    kubeconfig = join(base, "kubeconfig");
    writeFileSync(kubeconfig, fake.kubeconfigYaml);
    const pki = await sharedPki(catalogue.policies.map((p) => p.host));
    manifests = buildManifests({ namespace: "mtls-conformance", policies: catalogue.policies.slice(0, 2), pki });
  });
  afterAll(() => fake.stop());
  beforeEach(() => {
    fake.reset();
    logged.length = 0;
  });

  it("--install-controller over a Helm release refuses before anything is applied, saying what it found and what to do", async () => {
    fake.put(helmDeployment({ appVersion: "1.14.5", chartVersion: "4.14.5" }));
    const target = new ClusterTarget({ kubeconfig, installController: true, controllerManifest: manifestFile(releaseLikeManifest("1.15.1")) });
    const error = (await target.start(input()).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("--install-controller: this cluster already runs ingress-nginx (Deployment ingress-nginx/ingress-nginx-controller, version v1.14.5, app.kubernetes.io/managed-by: Helm, helm.sh/chart: ingress-nginx-4.14.5)");
    expect(error.message).toContain("it runs v1.14.5, the manifest v1.15.1; it was installed by Helm (chart ingress-nginx-4.14.5), not by the release manifest");
    expect(error.message).toContain("Nothing was applied. Omit --install-controller to test the controller that is there, or use another cluster.");
    expect(fake.writes).toEqual([]);
    const list = fake.calls.find((c) => c.path === "/apis/apps/v1/deployments")!;
    expect(new URLSearchParams(list.query).get("labelSelector")).toBe("app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx");
  });

  it("through a run, the refusal ends it with the ConfigError (exit 2), nothing applied and the run's scratch removed", async () => {
    fake.put(helmDeployment({ appVersion: "1.14.5", chartVersion: "4.14.5" }));
    const error = await runConformance({ target: "cluster", only: "MTLS-GUIDE-001", reportDir: mkdtempSync(join(base, "run-")), command: "test", log: () => undefined, targetOptions: { kubeconfig, installController: true, controllerManifest: manifestFile(releaseLikeManifest("1.15.1")) } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain("--install-controller: this cluster already runs ingress-nginx");
    expect(fake.writes).toEqual([]);
  });

  it("a Helm release in another namespace is refused too, pointing at --controller-namespace", async () => {
    fake.put(helmDeployment({ release: "edge", namespace: "edge-system", appVersion: "1.15.1", chartVersion: "4.15.1" }));
    const target = new ClusterTarget({ kubeconfig, installController: true, controllerManifest: manifestFile(releaseLikeManifest("1.15.1")) });
    const error = (await target.start(input()).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("Deployment edge-system/edge-ingress-nginx-controller, version v1.15.1, app.kubernetes.io/managed-by: Helm");
    expect(error.message).toContain("(with --controller-namespace edge-system)");
    expect(fake.writes).toEqual([]);
  });

  it("the same release's manifest applied earlier is applied again (apply is idempotent)", async () => {
    fake.put(releaseDeployment("1.15.1"));
    const target = new ClusterTarget({ kubeconfig, installController: true, controllerManifest: manifestFile(releaseLikeManifest("1.15.1")), timeouts: { controllerReadyMs: 300 } });
    const error = (await target.start(input()).catch((e: unknown) => e)) as Error;
    // It got past the check: it applied the manifest and then waited for a controller pod (none in a fake).
    expect(error).not.toBeInstanceOf(ConfigError);
    expect(error.message).toContain("waiting for the ingress-nginx controller pod in namespace ingress-nginx to be Ready");
    expect(fake.writes.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      "PATCH /api/v1/namespaces/ingress-nginx 201",
      "PATCH /api/v1/namespaces/ingress-nginx/services/ingress-nginx-controller 201",
      "PATCH /apis/apps/v1/namespaces/ingress-nginx/deployments/ingress-nginx-controller 200",
      "PATCH /apis/networking.k8s.io/v1/ingressclasses/nginx 201",
    ]);
  });

  it("a controller not where the options say: the error names the namespace searched and the options to pass", async () => {
    readyController();
    const t = Date.now();
    const error = (await new ClusterTarget({ kubeconfig, controllerNamespace: "edge", timeouts: { controllerReadyMs: 400 } }).start(input()).catch((e: unknown) => e)) as Error;
    expect(Date.now() - t).toBeLessThan(3_000);
    expect(error.message).toContain("waiting for the ingress-nginx controller pod in namespace edge to be Ready");
    expect(error.message).toContain(
      "Is ingress-nginx installed in namespace edge (pods labelled app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx)? Pass --controller-namespace NAME (and --controller-selector LABELS) where it runs, or --install-controller to install it.",
    );
    expect(fake.writes).toEqual([]);
  });

  it("an IngressClass the cluster does not have is said before anything is deployed", async () => {
    readyController();
    ingressClass("nginx");
    const error = (await new ClusterTarget({ kubeconfig }).start(input({ ingressClass: "internal" })).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain("IngressClass internal does not exist in this cluster");
    expect(fake.writes).toEqual([]);
  });

  it("a namespace someone else made is refused, and not deleted when the start fails on it", async () => {
    readyController();
    ingressClass("nginx");
    fake.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "mtls-conformance", labels: { team: "payments" } } });
    const error = (await new ClusterTarget({ kubeconfig }).start(input()).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain("namespace mtls-conformance exists and was not created by mtls-conformance");
    expect(fake.calls.filter((c) => c.method === "DELETE")).toEqual([]);
    expect(fake.get("Namespace", "mtls-conformance")).toBeDefined();
    expect(logged).toContain("namespace mtls-conformance is not gone: left in place: it has no app.kubernetes.io/managed-by=mtls-conformance label, so the run did not create it");
  });

  it("a failed start removes the namespace it made and waits until it is gone, so the next group can make it again", async () => {
    readyController();
    ingressClass("nginx");
    fake.terminationMs = 500;
    fake.put({ apiVersion: "v1", kind: "Service", metadata: { name: "ingress-nginx-controller", namespace: "ingress-nginx" }, spec: { type: "LoadBalancer", ports: [{ name: "https", port: 443 }] }, status: { loadBalancer: {} } } as never);
    const error = (await new ClusterTarget({ kubeconfig }).start(input()).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe("Service ingress-nginx/ingress-nginx-controller publishes no load-balancer address; pass --ingress-address HOST:PORT (or --controller-service NAME for another Service)");
    expect(fake.calls.filter((c) => c.method === "DELETE").map((c) => `${c.path} ${c.status}`)).toEqual(["/api/v1/namespaces/mtls-conformance 200"]);
    expect(fake.calls.at(-1)).toMatchObject({ method: "GET", path: "/api/v1/namespaces/mtls-conformance", status: 404 });
    expect(fake.get("Namespace", "mtls-conformance")).toBeUndefined();
  });
});
