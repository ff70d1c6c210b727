// The controller's store under updates (store.ts): what it keeps, what it drops, what it says.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { Manifests } from "../manifests/manifests.ts";
import { ANNOTATION_PREFIX } from "./annotations.ts";
import { applyToStore, configurationLoads } from "./store.ts";

const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
const caPem = (await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: "CN=Store CA", keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } })).toString("pem");

const secret = (name: string, caCrt: string): V1Secret => ({ metadata: { namespace: "ns", name }, data: { "ca.crt": Buffer.from(caCrt).toString("base64") } });
function ingress(name: string, annotations: Record<string, string>): V1Ingress {
  return {
    metadata: { namespace: "ns", name, annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [ANNOTATION_PREFIX + k, v])) },
    spec: {
      ingressClassName: "nginx",
      tls: [{ hosts: [`${name}.example`], secretName: "tls" }],
      rules: [{ host: `${name}.example`, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "svc", port: { number: 80 } } } }] } }],
    },
  };
}
const manifests = (secrets: V1Secret[], ingresses: V1Ingress[]): Manifests => ({ secrets, ingresses }) as unknown as Manifests;
const verify = (m: Manifests, name: string) => m.ingresses.find((i) => i.metadata?.name === name)?.metadata?.annotations?.[ANNOTATION_PREFIX + "auth-tls-verify-client"];

const good = ingress("app", { "auth-tls-secret": "ns/ca", "auth-tls-verify-client": "off" });

describe("applyToStore", () => {
  const rejectedUpdate = ingress("app", { "auth-tls-secret": "ns/ca", "auth-tls-verify-client": "on", "auth-tls-pass-certificate-to-upstream": "yes" });
  const neverAdmitted = ingress("bad", { "auth-tls-secret": "ns/ca", "auth-tls-error-page": "http://x/?q=1" });

  it("an update the webhook rejects keeps the previous version, and says so once", () => {
    const held = manifests([secret("ca", caPem)], [good]);
    const first = applyToStore(held, manifests([secret("ca", caPem)], [rejectedUpdate]), held);
    expect(verify(first.manifests, "app")).toBe("off");
    expect(first.notes).toEqual([expect.stringMatching(/^the admission webhook rejects the update of Ingress ns\/app \(.*pass-certificate-to-upstream.*\): the previous version stays$/)]);
    // Applied again unchanged: nothing reaches the controller, nothing is said.
    const again = applyToStore(first.manifests, manifests([secret("ca", caPem)], [rejectedUpdate]), manifests([secret("ca", caPem)], [rejectedUpdate]));
    expect(verify(again.manifests, "app")).toBe("off");
    expect(again.notes).toEqual([]);
  });

  it("an Ingress never admitted is not created, and re-applying it unchanged is silent", () => {
    const empty = manifests([], []);
    const created = applyToStore(empty, manifests([secret("ca", caPem)], [neverAdmitted]), empty);
    expect(created.manifests.ingresses).toEqual([]);
    expect(created.notes).toEqual([expect.stringMatching(/Ingress ns\/bad .*error-page.*: it is not created$/)]);
    const submitted = manifests([secret("ca", caPem)], [neverAdmitted]);
    expect(applyToStore(created.manifests, submitted, submitted).notes).toEqual([]);
  });

  it("a Secret updated to content the controller cannot use keeps the previous content; a deleted one is gone", () => {
    const held = manifests([secret("ca", caPem)], [good]);
    const corrupted = applyToStore(held, manifests([secret("ca", "not a certificate")], [good]), held);
    expect(Buffer.from(corrupted.manifests.secrets[0]!.data!["ca.crt"]!, "base64").toString()).toBe(caPem);
    expect(corrupted.notes).toEqual([expect.stringMatching(/^secret ns\/ca updated to content the controller cannot use \(.*\): it keeps the previous content$/)]);
    const deleted = applyToStore(corrupted.manifests, manifests([], [good]), manifests([secret("ca", "not a certificate")], [good]));
    expect(deleted.manifests.secrets).toEqual([]);
  });
});

describe("configurationLoads", () => {
  it("nginx refuses a negative verify-depth, naming the host and the Ingress", () => {
    const m = manifests([secret("ca", caPem)], [ingress("deep", { "auth-tls-secret": "ns/ca", "auth-tls-verify-depth": "-1" })]);
    expect(configurationLoads(m)).toEqual({ loads: false, why: "ssl_verify_depth -1 on deep.example (Ingress ns/deep)" });
    expect(configurationLoads(manifests([secret("ca", caPem)], [good]))).toEqual({ loads: true });
  });
});
