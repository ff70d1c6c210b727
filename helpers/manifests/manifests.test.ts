// The objects every target deploys, validated against the Kubernetes OpenAPI schemas
// (kubernetes-models), and checked for what the guide and the controller need.
import { ConfigMap, Secret, Service } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { catalogue } from "../../fixtures/catalogue.ts";
import { allObjects, buildManifests, manifestsYaml, redactedManifests, secretData, type Manifests } from "./manifests.ts";
import { type Pki } from "../pki/pki.ts";
import { sharedPki } from "../testing/shared-pki.ts";

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap, Secret, Service, Deployment, Ingress,
};

let pki: Pki;
let m: Manifests;
beforeAll(async () => {
  pki = await sharedPki(catalogue.policies.map((p) => p.host));
  m = buildManifests({ namespace: "mtls-test", policies: catalogue.policies, pki });
});

describe("manifests", () => {
  it("every object is valid against its Kubernetes schema", () => {
    const objects = allObjects(m);
    const extraSecrets = new Set(catalogue.policies.flatMap((p) => (p.caSecret ? [p.caSecret.name] : []))).size;
    expect(extraSecrets).toBeGreaterThan(0);
    const count = (kind: string) => objects.filter((o) => o.kind === kind).length;
    expect([count("ConfigMap"), count("Deployment"), count("Service")]).toEqual([1, 1, 1]);
    expect(count("Ingress")).toBe(catalogue.policies.length);
    expect(count("Secret")).toBe(2 + extraSecrets);
    for (const o of objects) {
      const Model = MODELS[o.kind!]!;
      expect(() => new Model(o as never).validate(), `${o.kind}/${o.metadata?.name}`).not.toThrow();
    }
  });

  it("the validator is not a rubber stamp: a broken Ingress is rejected", () => {
    const bad = structuredClone(m.ingresses[0]!) as unknown as { spec: { rules: Array<{ http: { paths: Array<{ pathType: unknown }> } }> } };
    bad.spec.rules[0]!.http.paths[0]!.pathType = 42;
    expect(() => new Ingress(bad as never).validate()).toThrow();
  });

  it("the guide's objects: ca-secret with ca.crt, self-tls as kubernetes.io/tls, Ingress test-localhost", () => {
    const ca = m.secrets.find((s) => s.metadata?.name === "ca-secret")!;
    expect(Object.keys(secretData(ca))).toEqual(["ca.crt"]);
    expect(secretData(ca)["ca.crt"]).toBe(pki.ca.certPem + "\n");
    const tls = m.secrets.find((s) => s.metadata?.name === "self-tls")!;
    expect(tls.type).toBe("kubernetes.io/tls");
    expect(secretData(tls)["tls.crt"]).toBe(pki.server.certPem + "\n");
    const guide = m.ingresses.find((i) => i.metadata?.name === "test-localhost")!;
    expect(guide.spec?.ingressClassName).toBe("nginx");
    expect(guide.spec?.tls).toEqual([{ hosts: ["test.localdev.me"], secretName: "self-tls" }]);
    expect(guide.spec?.rules?.[0]?.http?.paths[0]?.backend.service).toEqual({ name: "demo-app", port: { number: 80 } });
    expect(guide.metadata?.annotations?.["nginx.ingress.kubernetes.io/auth-tls-secret"]).toBe("mtls-test/ca-secret");
  });

  it("no CA private key is put in the cluster", () => {
    const text = JSON.stringify(m.secrets.map(secretData));
    // The only private key is the server's: in self-tls, and beside the unparsable ca.crt of the
    // key-pair secret that MTLS-SECRETS-001 needs.
    const keyValues = m.secrets.flatMap((s) => Object.values(secretData(s)).filter((v) => v.includes("PRIVATE KEY")));
    expect(keyValues.length).toBeGreaterThan(0);
    for (const v of keyValues) expect(v.trim()).toBe(pki.server.keyPem.trim());
    expect(text).not.toContain(pki.ca.keyPem.split("\n")[1]);
  });

  it("the echo backend runs the same file as the local target", () => {
    const cm = m.workloads.find((o) => o.kind === "ConfigMap") as { data: Record<string, string> };
    expect(cm.data["echo-server.ts"]).toBe(readFileSync(new URL("../../fixtures/echo-server.ts", import.meta.url), "utf8"));
  });

  it("everything carries the managed-by label the cluster target deletes by", () => {
    for (const o of allObjects(m)) expect(o.metadata?.labels?.["app.kubernetes.io/managed-by"]).toBe("mtls-conformance");
  });

  it("manifests.yaml parses back to the same objects, Secrets redacted", () => {
    const docs = parseAllDocuments(manifestsYaml(redactedManifests(m, () => "x".repeat(64)))).map((d) => d.toJS());
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(allObjects(m).map((o) => `${o.kind}/${o.metadata?.name}`));
    const secret = docs.find((d) => d.metadata.name === "self-tls");
    expect(secret.data["tls.key"]).toBe(`<redacted sha256:${"x".repeat(64)}>`);
  });
});
