// Hosts as the controller builds its servers from several Ingresses (controller.go:737-790,
// store.go:1102-1115): order, the first usable CA wins, a broken secret denies the whole host.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { V1Ingress } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { ANNOTATION_PREFIX } from "./annotations.ts";
import { controllerOrder, resolveHosts } from "./hosts.ts";
import type { SecretView } from "./secrets.ts";

const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
const ca = async (cn: string) => (await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: `CN=${cn}`, keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } })).toString("pem");
const secrets: Record<string, SecretView> = {
  "a/ca-a": { namespace: "a", name: "ca-a", data: { "ca.crt": await ca("CA A") } },
  "b/ca-b": { namespace: "b", name: "ca-b", data: { "ca.crt": await ca("CA B") } },
  "a/pair": { namespace: "a", name: "pair", data: { "tls.crt": "x", "tls.key": "y" } },
};
const lookup = (ns: string, name: string) => secrets[`${ns}/${name}`];

function ingress(id: string, host: string, annotations: Record<string, string> = {}, extra: { created?: string; className?: string | null; path?: string } = {}): V1Ingress {
  const [namespace, name] = id.split("/");
  return {
    metadata: {
      namespace,
      name,
      ...(extra.created ? { creationTimestamp: new Date(extra.created) } : {}),
      annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [ANNOTATION_PREFIX + k, v])),
    },
    spec: {
      ...(extra.className === null ? {} : { ingressClassName: extra.className ?? "nginx" }),
      tls: [{ hosts: [host], secretName: "tls" }],
      rules: [{ host, http: { paths: [{ path: extra.path ?? "/", pathType: "Prefix", backend: { service: { name: "svc", port: { number: 80 } } } }] } }],
    },
  };
}

describe("controller order", () => {
  it("creationTimestamp ascending at one-second resolution, then namespace/name descending", () => {
    const order = controllerOrder([
      ingress("a/one", "h", {}, { created: "2026-01-01T00:00:01.900Z" }),
      ingress("a/two", "h", {}, { created: "2026-01-01T00:00:01.100Z" }),
      ingress("b/zero", "h", {}, { created: "2026-01-01T00:00:00.500Z" }),
      ingress("a/three", "h", {}, { created: "2026-01-01T00:00:02.000Z" }),
    ]).map((i) => i.metadata!.name);
    expect(order).toEqual(["zero", "two", "one", "three"]);
  });
});

describe("resolveHosts", () => {
  it("the first Ingress with a usable CA governs the whole host, with all its settings", () => {
    const { hosts } = resolveHosts(
      [
        ingress("a/secure", "shared.example", { "auth-tls-secret": "a/ca-a", "auth-tls-verify-depth": "3" }, { created: "2026-01-01T00:00:05Z" }),
        ingress("b/older", "shared.example", { "auth-tls-secret": "b/ca-b", "auth-tls-verify-client": "optional" }, { created: "2026-01-01T00:00:01Z" }),
        ingress("a/open", "shared.example", {}, { created: "2026-01-01T00:00:00Z", path: "/open" }),
      ],
      lookup,
    );
    expect(hosts).toHaveLength(1);
    expect(hosts[0]!.clientAuth?.governing).toBe("b/older");
    expect(hosts[0]!.clientAuth?.settings.verifyClient).toBe("optional");
    expect(hosts[0]!.ingresses.map((i) => i.id)).toEqual(["a/open", "b/older", "a/secure"]);
  });

  it("any Ingress with an unusable secret denies the host, other hosts are unaffected", () => {
    const { hosts } = resolveHosts([ingress("a/good", "h1", { "auth-tls-secret": "a/ca-a" }), ingress("a/broken", "h1", { "auth-tls-secret": "a/missing" }), ingress("a/other", "h2", { "auth-tls-secret": "a/ca-a" })], lookup);
    expect(hosts.find((h) => h.host === "h1")?.denied).toMatchObject({ by: "a/broken" });
    expect(hosts.find((h) => h.host === "h2")?.denied).toBeUndefined();
  });

  it("match-cn on a key-pair secret without ca.crt: no CA, but the match-cn test is still rendered", () => {
    const { hosts } = resolveHosts([ingress("a/x", "h", { "auth-tls-secret": "a/ca-a", "auth-tls-match-cn": "CN=ok$" })], lookup);
    expect(hosts[0]!.matchCn).toBe("CN=ok$");
    expect(hosts[0]!.clientAuth).toBeDefined();
  });

  it("rejected Ingresses and other classes are not served, and say why", () => {
    const { hosts, ingresses } = resolveHosts(
      [ingress("a/bad", "h1", { "auth-tls-secret": "a/ca-a", "auth-tls-pass-certificate-to-upstream": "yes" }), ingress("a/traefik", "h2", { "auth-tls-secret": "a/ca-a" }, { className: "traefik" }), ingress("a/none", "h3", {}, { className: null })],
      lookup,
    );
    expect(hosts).toEqual([]);
    const why = Object.fromEntries(ingresses.map((i) => [i.id, i.notServed]));
    expect(why).toEqual({
      "a/bad": expect.stringContaining("contains invalid value"),
      "a/traefik": expect.stringContaining('spec.ingressClassName is "traefik"'),
      "a/none": expect.stringContaining("names no IngressClass"),
    });
  });
});
