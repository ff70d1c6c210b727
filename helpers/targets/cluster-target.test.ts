import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { ConfigError } from "../support/errors.ts";
import { buildManifests } from "../manifests/manifests.ts";
import { buildPki } from "../pki/pki.ts";
import { controllerImageVersion, parseIngressAddress } from "./cluster-target.ts";
import { isWebhookNotReady, serverBlocksFor } from "./kube.ts";
import { NginxTarget } from "./nginx-target.ts";

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
  });

  it("only the webhook's 'failed calling webhook' 5xx is retried", () => {
    const body = (message: string) => JSON.stringify({ kind: "Status", message });
    expect(isWebhookNotReady({ code: 500, body: body('Internal error occurred: failed calling webhook "validate.nginx.ingress.kubernetes.io"') })).toBe(true);
    expect(isWebhookNotReady({ code: 400, body: body("admission webhook denied the request") })).toBe(false);
    expect(isWebhookNotReady({ code: 500, body: body("etcdserver: request timed out") })).toBe(false);
  });

  it("diagnostics cut the run's server blocks out of an nginx.conf with the controller's markers", async () => {
    const pki = await buildPki({ serverHosts: catalogue.policies.map((p) => p.host) });
    const base = mkdtempSync(join(tmpdir(), "blocks-"));
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
