// The translation read back as kubectl reads it (YAML 1.1), checked against the Policy CRD schema
// and the controller's validation, and its notes for what F5 cannot carry over.
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { OpensslPki } from "../../testing/openssl-pki.ts";
import { tempDirs } from "../../testing/temp-dirs.ts";
import { controllerValidationErrors, crdSchemaErrors } from "./policy-schema.ts";
import { translateToF5 } from "./translate.ts";

const tempDir = tempDirs();
let caPem: string;
const b64 = (s: string) => Buffer.from(s).toString("base64");
const A = "nginx.ingress.kubernetes.io/";

const ingress = (name: string, namespace: string, host: string, annotations: Record<string, string>, extra: Record<string, string> = {}): V1Ingress => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name, namespace, annotations: { ...extra, ...Object.fromEntries(Object.entries(annotations).map(([k, v]) => [A + k, v])) } },
  spec: {
    ingressClassName: "nginx",
    tls: [{ hosts: [host], secretName: "self-tls" }],
    rules: [{ host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "demo-app", port: { number: 80 } } } }] } }],
  },
});

const caSecret = (name: string, namespace = "default"): V1Secret => ({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, type: "Opaque", data: { "ca.crt": b64(caPem), "ca.key": b64("not carried") } });

/** The YAML as kubectl's YAML 1.1 reader sees it; every document must parse without error. */
function read(yaml: string): Array<Record<string, any>> {
  const docs = parseAllDocuments(yaml, { version: "1.1" });
  for (const d of docs) expect(d.errors).toEqual([]);
  return docs.map((d) => d.toJS());
}

beforeAll(() => {
  caPem = new OpensslPki(tempDir("f5-translate-pki-")).ca("ca", "/CN=Test CA").read("ca");
});

describe("translation to F5 NGINX Ingress Controller objects", () => {
  it("the guide's Ingress: a valid Policy (verifyClient stays the string \"on\" for a YAML 1.1 reader), the nginx.org/ca Secret without ca.key, the Ingress naming the Policy", () => {
    const t = translateToF5({
      ingresses: [ingress("test-localhost", "default", "test.localdev.me", { "auth-tls-secret": "default/ca-secret", "auth-tls-verify-client": "on", "auth-tls-verify-depth": "1", "auth-tls-pass-certificate-to-upstream": "true" }, { "nginx.ingress.kubernetes.io/rewrite-target": "/" })],
      secrets: [caSecret("ca-secret")],
    });
    const docs = read(t.yaml);
    expect(docs.map((d) => d.kind)).toEqual(["Policy", "Secret", "Ingress"]);
    const [policy, secret, ing] = docs as [Record<string, any>, Record<string, any>, Record<string, any>];
    expect(policy.spec.ingressMTLS).toEqual({ clientCertSecret: "ca-secret", verifyClient: "on", verifyDepth: 1 });
    expect(crdSchemaErrors(policy)).toEqual([]);
    expect(controllerValidationErrors(policy)).toEqual([]);
    expect(secret).toEqual({ apiVersion: "v1", kind: "Secret", metadata: { name: "ca-secret", namespace: "default" }, type: "nginx.org/ca", data: { "ca.crt": b64(caPem) } });
    // auth-tls-* removed, the other annotations kept (F5 ignores them).
    expect(ing.metadata.annotations).toEqual({ "nginx.ingress.kubernetes.io/rewrite-target": "/", "nginx.org/policies": "default/test-localhost-mtls" });
    const notes = t.notes["default/test-localhost"]!.join("\n");
    expect(notes).toMatch(/the backend no longer receives ssl-client-verify, ssl-client-subject-dn, ssl-client-issuer-dn, ssl-client-cert/);
    expect(notes).toMatch(/auth-tls-pass-certificate-to-upstream "true" cannot be carried over/);
    // The notes are comments of the YAML, before the Ingress's documents.
    expect(t.yaml).toMatch(/# default\/test-localhost:\n#   - F5 sends no ssl-client-\* headers/);
    expect(t.problems).toEqual([]);
  });

  it("values ingress-nginx replaced, error-page and match-cn are noted; the Policy carries ingress-nginx's effective values", () => {
    const t = translateToF5({
      ingresses: [ingress("app", "default", "a.test", { "auth-tls-secret": "default/ca-secret", "auth-tls-verify-client": "maybe", "auth-tls-verify-depth": "0", "auth-tls-error-page": "https://err.test/x", "auth-tls-match-cn": "CN=client" })],
      secrets: [caSecret("ca-secret")],
    });
    const policy = read(t.yaml).find((d) => d.kind === "Policy")!;
    expect(policy.spec.ingressMTLS).toEqual({ clientCertSecret: "ca-secret", verifyClient: "on", verifyDepth: 1 });
    const notes = t.notes["default/app"]!.join("\n");
    expect(notes).toMatch(/auth-tls-verify-client "maybe" is not one of on, off, optional, optional_no_ca: the controller uses "on"/);
    expect(notes).toMatch(/auth-tls-verify-depth "0" is 0: the controller uses 1/);
    expect(notes).toMatch(/auth-tls-error-page "https:\/\/err.test\/x" cannot be carried over/);
    expect(notes).toMatch(/auth-tls-match-cn "CN=client" cannot be carried over/);
  });

  it("a CA Secret in another namespace: the Policy goes there (F5 reads the secret in the Policy's namespace); a bare name means the Ingress's namespace", () => {
    const t = translateToF5({
      ingresses: [ingress("cross", "apps", "c.test", { "auth-tls-secret": "certs/ca-secret", "auth-tls-verify-client": "optional" }), ingress("bare", "apps", "b.test", { "auth-tls-secret": "ca-secret" })],
      secrets: [caSecret("ca-secret", "certs"), caSecret("ca-secret", "apps")],
    });
    const docs = read(t.yaml);
    const cross = docs.find((d) => d.kind === "Policy" && d.metadata.name === "cross-mtls")!;
    // ingress-nginx denies a cross-namespace secret before reading verify-client: the Policy has what was asked.
    expect(cross).toMatchObject({ metadata: { namespace: "certs" }, spec: { ingressMTLS: { clientCertSecret: "ca-secret", verifyClient: "optional" } } });
    expect(docs.find((d) => d.kind === "Ingress" && d.metadata.name === "cross")!.metadata.annotations["nginx.org/policies"]).toBe("certs/cross-mtls");
    expect(docs.filter((d) => d.kind === "Secret").map((d) => `${d.metadata.namespace}/${d.metadata.name}`).sort()).toEqual(["apps/ca-secret", "certs/ca-secret"]);
    expect(t.notes["apps/cross"]!.join("\n")).toMatch(/ingress-nginx answers 403 on this Ingress's hosts \(cross namespace secrets are not supported\)/);
    expect(docs.find((d) => d.kind === "Policy" && d.metadata.name === "bare-mtls")!.metadata.namespace).toBe("apps");
  });

  it("one nginx.org/ca Secret per CA Secret; none for a Secret the manifests lack; a secret name the controller refuses is a problem", () => {
    const t = translateToF5({
      ingresses: [
        ingress("one", "default", "one.test", { "auth-tls-secret": "default/ca-secret" }),
        ingress("two", "default", "two.test", { "auth-tls-secret": "default/ca-secret" }),
        ingress("gone", "default", "gone.test", { "auth-tls-secret": "default/no-such-secret" }),
        ingress("upper", "default", "upper.test", { "auth-tls-secret": "default/CA_Secret" }),
      ],
      secrets: [caSecret("ca-secret")],
    });
    const docs = read(t.yaml);
    expect(docs.filter((d) => d.kind === "Secret").map((d) => d.metadata.name)).toEqual(["ca-secret"]);
    // In the controller's order (same creation second: namespace/name descending).
    expect(docs.filter((d) => d.kind === "Policy").map((d) => d.metadata.name)).toEqual(["upper-mtls", "two-mtls", "one-mtls", "gone-mtls"]);
    expect(t.notes["default/gone"]!.join("\n")).toMatch(/no nginx.org\/ca Secret is written: the manifests hold no Secret default\/no-such-secret/);
    expect(t.problems).toHaveLength(1);
    expect(t.problems[0]).toMatch(/^Policy default\/upper-mtls is invalid .*clientCertSecret must match pattern/);
    const upper = docs.find((d) => d.kind === "Policy" && d.metadata.name === "upper-mtls")!;
    expect(crdSchemaErrors(upper)).toEqual([]);
    expect(controllerValidationErrors(upper)).not.toEqual([]);
  });

  it("an Ingress of another class is not translated; one without auth-tls is copied unchanged", () => {
    const other = ingress("other", "default", "o.test", {});
    other.spec!.ingressClassName = "traefik";
    const t = translateToF5({ ingresses: [other, ingress("plain", "default", "p.test", {}, { "nginx.org/ssl-redirect": "false" })], secrets: [] });
    const docs = read(t.yaml);
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(["Ingress/plain"]);
    expect(docs[0]!.metadata.annotations).toEqual({ "nginx.org/ssl-redirect": "false" });
    expect(t.notes["default/other"]).toEqual([expect.stringMatching(/^not translated: not served by the controller under test: spec.ingressClassName is "traefik"/)]);
    expect(t.yaml).toMatch(/# Not translated \(ingress-nginx does not serve them either\):\n#   - default\/other:/);
  });
});
