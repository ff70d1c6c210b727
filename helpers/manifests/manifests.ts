// The Kubernetes objects for a run, built once and handed unchanged to every target:
// the guide's `ca-secret` (CA bundle), `self-tls` (server certificate) and one Ingress per policy.
import type { V1ConfigMap, V1Deployment, V1Ingress, V1Secret, V1Service } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { ANNOTATION_PREFIX, type Policy } from "../catalogue/catalogue.ts";
import type { Pki } from "../pki/pki.ts";
import { stringify } from "yaml";
import { servedCertificates } from "../model/hosts.ts";
import { secretData, secretView } from "../model/secrets.ts";

export { secretData };

export const CA_SECRET = "ca-secret";
export const TLS_SECRET = "self-tls";
export const BACKEND_SERVICE = "demo-app";
export const BACKEND_PORT = 80;
export const INGRESS_CLASS = "nginx";
/** Label on everything the suite creates, so a cluster target deletes only its own objects. */
export const MANAGED_BY_LABEL = { "app.kubernetes.io/managed-by": "mtls-conformance" };

/** The in-cluster echo backend: the same file the local target runs, on a stock Node image. */
export const ECHO_IMAGE = "node:24-alpine";
export const ECHO_PORT = 8080;
const ECHO_SOURCE = new URL("../../fixtures/echo-server.ts", import.meta.url);

export interface Manifests {
  /** The namespace of the run's own objects (the catalogue's), or the first of the user's. */
  namespace: string;
  /** Every namespace the objects live in: the cluster targets create and remove them. */
  namespaces: string[];
  secrets: V1Secret[];
  ingresses: V1Ingress[];
  /**
   * The backend behind Service `demo-app`: the echo server, so every scenario can assert what the
   * backend received. (The guide's httpd cannot show that.) The nginx target serves Services
   * with the same code in-process and ignores these objects.
   */
  workloads: Array<V1ConfigMap | V1Deployment | V1Service>;
  /** Deployments that must be available before anything is probed. */
  backends: Array<{ namespace: string; name: string }>;
  /** host -> SHA-256 of the certificate it serves once the controller has synced its TLS Secret. */
  hostCertificates: Record<string, string>;
}

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

export function buildManifests(input: { namespace: string; policies: Policy[]; pki: Pki; echoImage?: string; ingressClass?: string }): Manifests {
  const { namespace, policies, pki } = input;
  const metadata = (name: string) => ({ name, namespace, labels: { ...MANAGED_BY_LABEL } });

  // As `kubectl create secret generic ca-secret --from-file=ca.crt`. The guide also stores
  // ca.key here; the controller never reads it, so the suite does not put a CA key in a cluster.
  const caSecret: V1Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: metadata(CA_SECRET),
    type: "Opaque",
    data: { "ca.crt": b64(pki.ca.certPem + "\n") },
  };
  // As `kubectl create secret tls self-tls --cert server.crt --key server.key`.
  const tlsSecret: V1Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: metadata(TLS_SECRET),
    type: "kubernetes.io/tls",
    data: { "tls.crt": b64(pki.server.certPem + "\n"), "tls.key": b64(pki.server.keyPem + "\n") },
  };

  // Extra CA secrets (another CA, CRLs, content the controller cannot use) that some policies name, once each.
  const extraCaSecrets = new Map<string, V1Secret>();
  for (const p of policies) {
    if (!p.caSecret || extraCaSecrets.has(p.caSecret.name)) continue;
    const ca = p.caSecret.ca === "ca-2" ? pki.others.find((c) => c.name === "ca-2")! : pki.ca;
    const data: Record<string, string> = { "ca.crt": b64(ca.certPem + "\n") };
    if (p.caSecret.crl) data["ca.crl"] = b64(pki.crls[p.caSecret.crl].pem + "\n");
    const broken = p.caSecret.broken;
    if (broken === "garbage-ca-beside-key-pair") {
      data["tls.crt"] = b64(pki.server.certPem + "\n");
      data["tls.key"] = b64(pki.server.keyPem + "\n");
      data["ca.crt"] = b64("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    }
    // OpenSSL's label is X509 CRL; the controller refuses any other (ssl.go:224-227).
    if (broken === "crl-wrong-label") data["ca.crl"] = b64(pki.crls["crl-revoking"].pem.replaceAll("X509 CRL", "CRL") + "\n");
    if (broken === "crl-unparsable") data["ca.crl"] = b64("-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n");
    extraCaSecrets.set(p.caSecret.name, { apiVersion: "v1", kind: "Secret", metadata: metadata(p.caSecret.name), type: "Opaque", data });
  }

  const ingresses = policies.map((policy): V1Ingress => {
    const annotations: Record<string, string> = {};
    for (const [key, value] of Object.entries(policy.annotations)) {
      annotations[ANNOTATION_PREFIX + key] = value.replaceAll("$(NAMESPACE)", namespace);
    }
    return {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { ...metadata(policy.ingressName), annotations },
      spec: {
        ingressClassName: input.ingressClass ?? INGRESS_CLASS,
        ...(policy.tls === false ? {} : { tls: [{ hosts: [policy.host], secretName: TLS_SECRET }] }),
        rules: [
          {
            host: policy.host,
            http: {
              paths: [
                {
                  path: policy.path ?? "/",
                  pathType: "Prefix",
                  backend: { service: { name: BACKEND_SERVICE, port: { number: BACKEND_PORT } } },
                },
              ],
            },
          },
        ],
      },
    };
  });

  const tlsHosts = policies.filter((p) => p.tls !== false).map((p) => p.host);
  return {
    namespace,
    namespaces: [namespace],
    secrets: [caSecret, tlsSecret, ...extraCaSecrets.values()],
    ingresses,
    workloads: echoWorkload(namespace, input.echoImage ?? ECHO_IMAGE, BACKEND_SERVICE, [{ name: BACKEND_SERVICE, ports: [{ port: BACKEND_PORT }] }]),
    backends: [{ namespace, name: BACKEND_SERVICE }],
    // A host whose Ingresses the controller rejects is never served: nothing to wait for there.
    hostCertificates: servedCertificates(Object.fromEntries(tlsHosts.map((h) => [h, pki.server.sha256])), ingresses, lookupIn([caSecret, tlsSecret, ...extraCaSecrets.values()])),
  };
}

/**
 * The echo backend in one namespace: a Deployment running fixtures/echo-server.ts, and the
 * Services the Ingresses name, every port of them pointing at it.
 */
export function echoWorkload(
  namespace: string,
  image: string,
  deploymentName: string,
  services: Array<{ name: string; ports: Array<{ port: number; name?: string }> }>,
): Manifests["workloads"] {
  const labels = { app: deploymentName, ...MANAGED_BY_LABEL };
  const configMap: V1ConfigMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "mtls-echo", namespace, labels },
    data: { "echo-server.ts": readFileSync(ECHO_SOURCE, "utf8") },
  };
  const deployment: V1Deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: deploymentName, namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: deploymentName } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: "echo",
              image,
              // Node >= 22.18 runs erasable TypeScript directly.
              command: ["node", "/app/echo-server.ts"],
              env: [{ name: "PORT", value: String(ECHO_PORT) }],
              ports: [{ name: "http", containerPort: ECHO_PORT }],
              readinessProbe: { httpGet: { path: "/", port: ECHO_PORT }, periodSeconds: 1 },
              volumeMounts: [{ name: "app", mountPath: "/app", readOnly: true }],
            },
          ],
          volumes: [{ name: "app", configMap: { name: "mtls-echo" } }],
        },
      },
    },
  };
  const serviceObjects = services.map(
    (svc): V1Service => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: svc.name, namespace, labels },
      spec: { selector: { app: deploymentName }, ports: svc.ports.map((p, i) => ({ name: p.name ?? (i === 0 ? "http" : `port-${p.port}`), port: p.port, targetPort: ECHO_PORT })) },
    }),
  );
  return [configMap, deployment, ...serviceObjects];
}

const lookupIn = (secrets: V1Secret[]) => (ns: string, name: string) => {
  const s = secrets.find((x) => x.metadata?.namespace === ns && x.metadata?.name === name);
  return s ? secretView(s) : undefined;
};

/** Every object, in the order they are applied: backend first, Secrets before the Ingresses that name them. */
export function allObjects(m: Manifests): Array<V1ConfigMap | V1Deployment | V1Service | V1Secret | V1Ingress> {
  return [...m.workloads, ...m.secrets, ...m.ingresses];
}

/** Objects as they may appear in reports: secret values replaced by their SHA-256. */
export function redactedManifests(manifests: Manifests, sha256: (text: string) => string): Manifests {
  return {
    ...manifests,
    secrets: manifests.secrets.map((s) => ({
      ...s,
      data: Object.fromEntries(
        Object.entries(secretData(s)).map(([k, v]) => [k, `<redacted sha256:${sha256(v)}>`]),
      ),
      stringData: undefined,
    })),
  };
}

/** Multi-document YAML, as `kubectl apply -f` takes it. */
export function manifestsYaml(manifests: Manifests): string {
  return allObjects(manifests).map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}
