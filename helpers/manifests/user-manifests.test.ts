// Reading the user's YAML and preparing it for deployment: what is kept as written, what the run
// replaces (only what it must), what it creates, and the errors a user gets for bad input.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CredentialFactory } from "../pki/credentials.ts";
import { secretData } from "./manifests.ts";
import { loadUserManifests, prepareUserObjects } from "./user-manifests.ts";

const EXAMPLE = new URL("../../fixtures/examples/shop", import.meta.url).pathname;

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
};

function folder(files: Record<string, string>): string {
  const dir = tempDir("user-manifests-");
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const ING = (name: string, extra = "") => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  annotations:
    nginx.ingress.kubernetes.io/auth-tls-secret: default/ca
${extra}
spec:
  ingressClassName: nginx
  tls: [{ hosts: [${name}.example], secretName: ${name}-tls }]
  rules:
    - host: ${name}.example
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: ${name}, port: { name: https } } } }] }
`;

describe("loadUserManifests", () => {
  it("reads every YAML file of a folder, Lists included; objects without a namespace get the default one", () => {
    const dir = folder({
      "a.yaml": ING("a"),
      "sub/b.yml": `apiVersion: v1\nkind: List\nitems:\n  - ${ING("b").replaceAll("\n", "\n    ")}`,
      "notes.txt": "ignored",
      "deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: x }\n",
    });
    const o = loadUserManifests(dir, "team");
    expect(o.ingresses.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`).sort()).toEqual(["team/a", "team/b"]);
    expect(o.ignored).toEqual({ Deployment: 1 });
    expect(o.files).toHaveLength(3);
  });

  it("says what is wrong: no such path, no Ingress, bad YAML, an Ingress twice, an object without a name", () => {
    expect(() => loadUserManifests("/nonexistent")).toThrow("--manifests /nonexistent: no such file or folder");
    expect(() => loadUserManifests(folder({ "x.yaml": "apiVersion: v1\nkind: Secret\nmetadata: { name: s }\n" }))).toThrow("no Ingress in 1 file(s)");
    expect(() => loadUserManifests(folder({ "x.yaml": "kind: Ingress\nmetadata: [" }))).toThrow(/--manifests .*x\.yaml/);
    expect(() => loadUserManifests(folder({ "x.yaml": ING("a"), "y.yaml": ING("a") }))).toThrow("Ingress default/a is defined twice");
    expect(() => loadUserManifests(folder({ "x.yaml": "kind: Ingress\nmetadata: {}\n" }))).toThrow("a Ingress without metadata.name");
  });
});

describe("prepareUserObjects", () => {
  it("the shop example: the CA named like the user's, created secrets, Ingresses as written, Services to the echo backend", async () => {
    const user = loadUserManifests(EXAMPLE);
    const factory = new CredentialFactory();
    const p = await prepareUserObjects(user, factory);
    // Ingresses untouched (only reordered as the controller sorts them).
    expect(p.manifests.ingresses.map((i) => JSON.stringify(i)).sort()).toEqual(user.ingresses.map((i) => JSON.stringify(i)).sort());
    const caSecret = p.manifests.secrets.find((s) => s.metadata?.name === "shop-client-ca")!;
    const ca = new x509.X509Certificate(secretData(caSecret)["ca.crt"]!);
    const userCa = new x509.X509Certificate(readFileSync(join(EXAMPLE, "secrets.yaml"), "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/)![0].replace(/^ +/gm, ""));
    expect(ca.subject).toBe(userCa.subject);
    expect(Buffer.from(ca.publicKey.rawData).toString("hex")).not.toBe(Buffer.from(userCa.publicKey.rawData).toString("hex"));
    expect(factory.canIssue("shop/shop-client-ca")).toBe(true);
    // The partners' CA secret is not in the manifests: created, as another tool would.
    expect(p.changes.join("\n")).toContain("secret partners/partner-ca: created with the run's CA");
    for (const tls of ["shop/api-tls", "shop/backoffice-tls", "shop/assets-tls", "partners/partners-tls"]) {
      const s = p.manifests.secrets.find((x) => `${x.metadata?.namespace}/${x.metadata?.name}` === tls)!;
      expect(s.type).toBe("kubernetes.io/tls");
    }
    // The server certificate covers the host and is signed by the run's server CA: openssl verify.
    const dir = tempDir("prepared-");
    const api = secretData(p.manifests.secrets.find((x) => x.metadata?.name === "api-tls")!);
    writeFileSync(join(dir, "server.pem"), api["tls.crt"]!);
    writeFileSync(join(dir, "ca.pem"), p.serverCa.certPem + "\n");
    expect(execFileSync("openssl", ["verify", "-CAfile", join(dir, "ca.pem"), "-verify_hostname", "api.shop.example", join(dir, "server.pem")]).toString()).toContain("OK");
    // One echo Deployment per namespace, and every named Service with its ports.
    const services = p.manifests.workloads.filter((w) => w.kind === "Service").map((w) => `${w.metadata?.namespace}/${w.metadata?.name}`);
    expect(services.sort()).toEqual(["partners/partners", "partners/status", "shop/api", "shop/assets", "shop/backoffice"]);
    expect(p.manifests.backends).toEqual([{ namespace: "partners", name: "mtls-echo" }, { namespace: "shop", name: "mtls-echo" }]);
    expect(p.manifests.namespaces).toEqual(["partners", "shop"]);
    expect(Object.keys(p.manifests.hostCertificates).sort()).toEqual(["api.shop.example", "assets.shop.example", "backoffice.shop.example", "img.shop.example", "partners.shop.example"]);
  });

  it("Ingresses sharing a CA Secret share its CA; a TLS Secret named by several gets one certificate for all their hosts", async () => {
    const share = (name: string, host: string) => ING(name).replace(`hosts: [${name}.example], secretName: ${name}-tls`, `hosts: [${host}], secretName: shared-tls`).replace(`- host: ${name}.example`, `- host: ${host}`);
    const dir = folder({ "ing.yaml": [share("a", "a.example"), share("b", "b.example"), share("c", "a.example")].join("---\n") });
    const p = await prepareUserObjects(loadUserManifests(dir), new CredentialFactory());
    expect(p.manifests.secrets.map((s) => s.metadata?.name).sort()).toEqual(["ca", "shared-tls"]);
    const tls = secretData(p.manifests.secrets.find((s) => s.metadata?.name === "shared-tls")!);
    const work = tempDir("shared-");
    writeFileSync(join(work, "tls.pem"), tls["tls.crt"]!);
    const san = execFileSync("openssl", ["x509", "-in", join(work, "tls.pem"), "-noout", "-ext", "subjectAltName"]).toString();
    expect([...san.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]).sort()).toEqual(["a.example", "b.example"]);
  });

  it("replaces only what it must: a CA key is not deployed, a CRL becomes the run's, a broken secret stays broken", async () => {
    const caPem = execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "/dev/null", "-subj", "/CN=Team CA", "-days", "1"]).toString();
    // The CA key a team stored beside ca.crt: made here, never kept in the repository.
    const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const indent = (t: string) => t.trim().replaceAll("\n", "\n    ");
    const dir = folder({
      "ing.yaml": ING("a") + "---\n" + ING("b").replace("default/ca", "default/broken"),
      "secrets.yaml": `apiVersion: v1\nkind: Secret\nmetadata: { name: ca }\nstringData:\n  ca.crt: |\n    ${indent(caPem)}\n  ca.key: |\n    ${indent(key)}\n  ca.crl: |\n    -----BEGIN X509 CRL-----\n    MAA=\n    -----END X509 CRL-----\n---\napiVersion: v1\nkind: Secret\nmetadata: { name: broken }\nstringData:\n  ca.crt: not a certificate\n`,
    });
    const p = await prepareUserObjects(loadUserManifests(dir), new CredentialFactory());
    const ca = secretData(p.manifests.secrets.find((s) => s.metadata?.name === "ca")!);
    expect(Object.keys(ca).sort()).toEqual(["ca.crl", "ca.crt"]);
    expect(ca["ca.crl"]).toContain("-----BEGIN X509 CRL-----");
    expect(p.revoked.get("default/ca")).toBeDefined();
    expect(p.changes.join("\n")).toContain("secret default/ca: ca.key (a private key) not deployed");
    const broken = secretData(p.manifests.secrets.find((s) => s.metadata?.name === "broken")!);
    expect(broken["ca.crt"]).toBe("not a certificate");
    expect(p.changes.join("\n")).toContain("secret default/broken: deployed as written (its ca.crt does not parse)");
    // The lint still sees the user's ca.key.
    expect(Object.keys(p.declared.find((s) => s.name === "ca")!.data)).toContain("ca.key");
  });
});
