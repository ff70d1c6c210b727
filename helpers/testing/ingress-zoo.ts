// A folder of many varied user Ingresses, as a platform team's repository would hold them: several
// namespaces and CAs, every verify-client mode, depths 1 to 4, match-cn patterns, error pages,
// CRLs, hosts shared by Ingresses that declare different policies, a host without tls:, a secret
// in another namespace, a secret with nothing usable. For the tests and the benchmark.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

const P = "nginx.ingress.kubernetes.io/";

export interface Zoo {
  dir: string;
  ingresses: number;
  /** Hosts shared by two Ingresses that declare different policies. */
  sharedHosts: string[];
  /** Ingresses whose host is denied (a secret in another namespace, a secret without CA or key pair). */
  deniedIngresses: string[];
}

async function caCertificate(name: string): Promise<string> {
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: `CN=${name}, O=Zoo`,
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  return cert.toString("pem");
}

const CRL_PLACEHOLDER = "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n";

export async function writeIngressZoo(dir: string, count = 100): Promise<Zoo> {
  mkdirSync(dir, { recursive: true });
  const namespaces = ["payments", "catalog", "search", "accounts", "ops"];
  const sharedHosts: string[] = [];
  const deniedIngresses: string[] = [];
  // One CA secret per namespace, plus a second one with a CRL in two of them.
  const secrets: object[] = [];
  for (const ns of namespaces) {
    secrets.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "client-ca", namespace: ns }, type: "Opaque", stringData: { "ca.crt": await caCertificate(`${ns} client CA`) } });
  }
  for (const ns of namespaces.slice(0, 2)) {
    secrets.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "client-ca-crl", namespace: ns }, type: "Opaque", stringData: { "ca.crt": await caCertificate(`${ns} CRL CA`), "ca.crl": CRL_PLACEHOLDER } });
  }
  // A secret holding nothing the controller can use.
  secrets.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "empty-ca", namespace: "ops" }, type: "Opaque", stringData: { note: "rotated away" } });
  writeFileSync(join(dir, "00-secrets.yaml"), secrets.map((s) => stringify(s)).join("---\n"));

  const modes = ["on", "on", "on", "optional", "optional_no_ca", "off"];
  for (let i = 0; i < count; i++) {
    const ns = namespaces[i % namespaces.length]!;
    const name = `svc-${String(i).padStart(3, "0")}`;
    // Every tenth Ingress shares the host of the one before it, with a different policy.
    const shares = i % 10 === 9;
    const host = shares ? `svc-${String(i - 1).padStart(3, "0")}.zoo.test` : `${name}.zoo.test`;
    if (shares) sharedHosts.push(host);
    const annotations: Record<string, string> = {};
    const secret = i % 17 === 5 && namespaces.indexOf(ns) < 2 ? "client-ca-crl" : "client-ca";
    if (i % 13 !== 12) {
      annotations[`${P}auth-tls-secret`] = `${ns}/${secret}`;
      annotations[`${P}auth-tls-verify-client`] = shares ? "optional" : modes[i % modes.length]!;
      annotations[`${P}auth-tls-verify-depth`] = String(1 + (i % 4));
      annotations[`${P}auth-tls-pass-certificate-to-upstream`] = i % 3 === 0 ? "true" : "false";
      if (i % 7 === 3) annotations[`${P}auth-tls-match-cn`] = `CN=${name}-[a-z]+$`;
      if (i % 11 === 4) annotations[`${P}auth-tls-error-page`] = `https://login.zoo.test/${name}`;
    }
    if (i === 41) {
      annotations[`${P}auth-tls-secret`] = "payments/client-ca"; // another namespace: the host is denied
      deniedIngresses.push(`${ns}/${name}`);
    }
    if (i === 57) {
      annotations[`${P}auth-tls-secret`] = "ops/empty-ca"; // nothing usable in it: the host is denied
      deniedIngresses.push(`${ns}/${name}`);
    }
    const tls = i !== 23;
    const ingress = {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name, namespace: ns, annotations },
      spec: {
        ingressClassName: "nginx",
        ...(tls ? { tls: [{ hosts: [host], secretName: `${name}-tls` }] } : {}),
        rules: [{ host, http: { paths: [{ path: shares ? `/${name}` : "/", pathType: "Prefix", backend: { service: { name, port: { number: 8080 } } } }] } }],
      },
    };
    writeFileSync(join(dir, `${name}.yaml`), stringify(ingress));
  }
  return { dir, ingresses: count, sharedHosts, deniedIngresses };
}

/**
 * A large platform's cluster as the scale benchmark has it: `namespaces` namespaces, each with one
 * CA Secret and ten auth-tls Ingresses of their own hosts cycling through six declarations (on with
 * pass-certificate, optional with depth 2, match-cn with depth 3, an error page, optional_no_ca,
 * on with depth 2). Ten Ingresses per namespace: 100 namespaces are 1,000 Ingresses.
 */
export async function writeTenantZoo(dir: string, namespaces: number): Promise<Zoo> {
  mkdirSync(dir, { recursive: true });
  const kinds: Array<Record<string, string>> = [
    { "auth-tls-verify-client": "on", "auth-tls-pass-certificate-to-upstream": "true" },
    { "auth-tls-verify-client": "optional", "auth-tls-verify-depth": "2" },
    { "auth-tls-verify-client": "on", "auth-tls-verify-depth": "3", "auth-tls-match-cn": "CN=client-[a-z]+$" },
    { "auth-tls-verify-client": "on", "auth-tls-error-page": "https://login.tenants.test/denied" },
    { "auth-tls-verify-client": "optional_no_ca" },
    { "auth-tls-verify-client": "on", "auth-tls-verify-depth": "2" },
  ];
  let count = 0;
  for (let n = 0; n < namespaces; n++) {
    const ns = `tenant-${String(n).padStart(3, "0")}`;
    const docs: object[] = [{ apiVersion: "v1", kind: "Secret", metadata: { name: "client-ca", namespace: ns }, type: "Opaque", stringData: { "ca.crt": await caCertificate(`${ns} client CA`) } }];
    for (let i = 0; i < 10; i++, count++) {
      const name = `app-${i}`;
      const host = `${name}.${ns}.tenants.test`;
      const annotations = Object.fromEntries([["auth-tls-secret", `${ns}/client-ca`], ...Object.entries(kinds[i % kinds.length]!)].map(([k, v]) => [P + k, v]));
      docs.push({
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: { name, namespace: ns, annotations },
        spec: {
          ingressClassName: "nginx",
          tls: [{ hosts: [host], secretName: `${name}-tls` }],
          rules: [{ host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { number: 8080 } } } }] } }],
        },
      });
    }
    writeFileSync(join(dir, `${ns}.yaml`), docs.map((d) => stringify(d)).join("---\n"));
  }
  return { dir, ingresses: count, sharedHosts: [], deniedIngresses: [] };
}
