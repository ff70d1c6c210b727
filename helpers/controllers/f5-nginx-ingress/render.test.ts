// F5 NGINX Ingress Controller v5.5.4's rendering checked by the system's nginx (`nginx -t`) and
// against the directives the OSS template writes (nginx/kubernetes-ingress@v5.5.4:
// internal/configs/version1/nginx.ingress.tmpl:44-87, 110-112, 164-185, 381-389, copied here by hand),
// and the translation's Policy against the CRD schema and the controller's validation.
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { findNginx } from "../ingress-nginx/nginx-target.ts";
import { OpensslPki } from "../../testing/openssl-pki.ts";
import { tempDirs } from "../../testing/temp-dirs.ts";
import { controllerValidationErrors, crdSchemaErrors } from "./policy-schema.ts";
import { renderF5Config } from "./render.ts";

const tempDir = tempDirs();
let pki: OpensslPki;
const b64 = (s: string) => Buffer.from(s).toString("base64");
const A = "nginx.ingress.kubernetes.io/";
const HOSTS = ["test.localdev.me", "missing.localdev.me", "notls.localdev.me", "crl.localdev.me", "plain.localdev.me", "badcrl.localdev.me", "shared.localdev.me"];

interface IngressOptions {
  tls?: boolean;
  paths?: Array<{ path: string; pathType: string }>;
  created?: string;
  tlsSecret?: string;
}

const ingress = (name: string, host: string, annotations: Record<string, string>, o: IngressOptions = {}): V1Ingress => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name, namespace: "default", ...(o.created ? { creationTimestamp: o.created as unknown as Date } : {}), annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [A + k, v])) },
  spec: {
    ingressClassName: "nginx",
    ...(o.tls === false ? {} : { tls: [{ hosts: [host], secretName: o.tlsSecret ?? "self-tls" }] }),
    rules: [{ host, http: { paths: (o.paths ?? [{ path: "/", pathType: "Prefix" }]).map((p) => ({ ...p, backend: { service: { name: "demo-app", port: { number: 80 } } } })) } }],
  },
});

// The guide's Ingress (fixtures/guide-as-written.ts), with a path.
const guide = () => ingress("test-localhost", "test.localdev.me", { "auth-tls-secret": "default/ca-secret", "auth-tls-verify-client": "on", "auth-tls-verify-depth": "1", "auth-tls-pass-certificate-to-upstream": "true" });

beforeAll(() => {
  pki = new OpensslPki(tempDir("f5-render-pki-")).ca("ca", "/CN=Test CA").leaf("server", "/CN=test.localdev.me", "ca", { eku: "serverAuth", san: HOSTS });
  pki.crl("ca", "ca.crl");
});

function secrets(): V1Secret[] {
  return [
    { apiVersion: "v1", kind: "Secret", metadata: { name: "ca-secret", namespace: "default" }, type: "Opaque", data: { "ca.crt": b64(pki.read("ca")) } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "ca-crl", namespace: "default" }, type: "Opaque", data: { "ca.crt": b64(pki.read("ca")), "ca.crl": b64(pki.read("ca", "crl")) } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "ca-badcrl", namespace: "default" }, type: "Opaque", data: { "ca.crt": b64(pki.read("ca")), "ca.crl": b64("-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n") } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "self-tls", namespace: "default" }, type: "kubernetes.io/tls", data: { "tls.crt": b64(pki.read("server")), "tls.key": b64(pki.read("server", "key")) } },
  ];
}

function render(ingresses: V1Ingress[], extra: V1Secret[] = []) {
  const prefix = tempDir("f5-render-");
  for (const d of ["logs", "secrets", "tmp"]) mkdirSync(join(prefix, d));
  const out = renderF5Config({ ingresses, secrets: [...secrets(), ...extra], prefix, listenAddress: "127.0.0.1", ports: { https: 20443, http: 20080 }, backend: "127.0.0.1:9", generation: 1, controlPort: 20001 });
  for (const f of out.files) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content, { mode: f.mode });
  }
  writeFileSync(join(prefix, "nginx.conf"), out.config);
  return { out, prefix };
}

/** The server block whose server_name is `host`, as text. */
function serverOf(config: string, host: string): string {
  const blocks = config.split(/\n    server \{\n/).slice(1);
  const block = blocks.find((b) => b.includes(`        server_name ${host};\n`));
  if (!block) throw new Error(`no server for ${host}`);
  return block;
}

const nginxT = (prefix: string) => execFileSync(findNginx()!, ["-t", "-p", prefix, "-c", join(prefix, "nginx.conf")], { stdio: "pipe" });

describe("F5 NGINX Ingress Controller v5.5.4's rendering", () => {
  it("the guide's Ingress, a CRL, a missing CA Secret, an Ingress without spec.tls: the template's directives, and nginx -t accepts it", () => {
    const { out, prefix } = render([
      guide(),
      ingress("missing", "missing.localdev.me", { "auth-tls-secret": "default/no-such-secret" }),
      ingress("notls", "notls.localdev.me", { "auth-tls-secret": "default/ca-secret" }, { tls: false }),
      ingress("crl", "crl.localdev.me", { "auth-tls-secret": "default/ca-crl", "auth-tls-verify-client": "optional", "auth-tls-verify-depth": "2" }, { paths: [{ path: "/", pathType: "Prefix" }, { path: "/exact", pathType: "Exact" }] }),
      ingress("plain", "plain.localdev.me", {}),
    ]);
    expect(() => nginxT(prefix)).not.toThrow();

    const test = serverOf(out.config, "test.localdev.me");
    const caFile = join(prefix, "secrets", "default-ca-secret-ca.crt");
    expect(test).toContain(`        listen 127.0.0.1:20080;\n        listen 127.0.0.1:20443 ssl;\n`);
    expect(test).toContain([`        ssl_client_certificate ${caFile};`, "        ssl_verify_client on;", "        ssl_verify_depth 1;"].join("\n"));
    expect(test).not.toContain("ssl_crl");
    expect(test).not.toContain("return 500;");
    // tmpl:179-181 with the defaults: the literal first SSL port 443.
    expect(test).toContain("        if ($scheme = http) {\n            return 301 https://$host:443$request_uri;\n        }");
    // tmpl:384-389: F5's proxy headers.
    for (const h of ["Host $host", "X-Real-IP $remote_addr", "X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Host $host", "X-Forwarded-Port $server_port", "X-Forwarded-Proto $scheme"]) {
      expect(test).toContain(`            proxy_set_header ${h};`);
    }
    expect(test).toContain("            proxy_pass http://127.0.0.1:9;");
    // The CA file is the Secret's ca.crt.
    expect(out.files.find((f) => f.path === caFile)?.content).toBe(pki.read("ca"));

    const crl = serverOf(out.config, "crl.localdev.me");
    expect(crl).toContain([`        ssl_client_certificate ${join(prefix, "secrets", "default-ca-crl-ca.crt")};`, `        ssl_crl ${join(prefix, "secrets", "default-ca-crl-ca.crl")};`, "        ssl_verify_client optional;", "        ssl_verify_depth 2;"].join("\n"));
    expect(crl).toContain("        location = /exact {");
    expect(crl).toContain("        location / {");
    expect(out.hosts.find((h) => h.host === "crl.localdev.me")?.mtls).toEqual({ verifyClient: "optional", verifyDepth: 2, crl: true });

    // A CA Secret that does not exist: the whole server answers 500, without client verification.
    const missing = serverOf(out.config, "missing.localdev.me");
    expect(missing).toMatch(/        server_tokens on;\n        return 500;\n        server_name missing\.localdev\.me;/);
    expect(missing).not.toContain("ssl_client_certificate");
    expect(missing).not.toContain("ssl_verify_client");
    expect(out.hosts.find((h) => h.host === "missing.localdev.me")?.errorReturn).toMatch(/references an invalid secret default\/no-such-secret: secret doesn't exist/);

    // No spec.tls: "TLS must be enabled", 500, HTTP only (no ssl listen, no redirect).
    const notls = serverOf(out.config, "notls.localdev.me");
    expect(notls).toContain("        return 500;\n");
    expect(notls).not.toMatch(/listen \S+ ssl/);
    expect(notls).not.toContain("return 301");
    expect(out.hosts.find((h) => h.host === "notls.localdev.me")).toMatchObject({ tls: "none", errorReturn: expect.stringMatching(/^TLS must be enabled for IngressMTLS policy default\/notls-mtls/) });

    // An Ingress without auth-tls: served with its certificate, no client verification.
    const plain = serverOf(out.config, "plain.localdev.me");
    expect(plain).toContain("ssl_certificate ");
    expect(plain).not.toContain("ssl_verify_client");

    // No ssl-client-* header and no error_page anywhere (no $ssl_client_* in the templates).
    expect(out.config).not.toMatch(/ssl[-_]client[-_](verify|s_dn|i_dn|escaped|raw|cert|subject|issuer)\b(?! (on|optional|optional_no_ca);)/);
    expect(out.config).not.toMatch(/proxy_set_header\s+ssl-client/i);
    expect(out.config).not.toContain("$ssl_client_");
    expect(out.config).not.toContain("error_page");

    // The default server: reject unknown SNI, 404 for an unknown Host.
    expect(out.config).toContain("        listen 127.0.0.1:20080 default_server;\n        listen 127.0.0.1:20443 ssl default_server;\n        ssl_reject_handshake on;");
    expect(out.config).toContain("        location / {\n            return 404;\n        }");
  });

  it("the translation's Policy passes the CRD schema and the controller's validation; verifyClient \"maybe\" fails only the controller's", () => {
    const { out } = render([guide()]);
    const docs = parseAllDocuments(out.translation).map((d) => d.toJS());
    const policy = docs.find((d) => d.kind === "Policy");
    expect(policy).toEqual({ apiVersion: "k8s.nginx.org/v1", kind: "Policy", metadata: { name: "test-localhost-mtls", namespace: "default" }, spec: { ingressMTLS: { clientCertSecret: "ca-secret", verifyClient: "on", verifyDepth: 1 } } });
    expect(crdSchemaErrors(policy)).toEqual([]);
    expect(controllerValidationErrors(policy)).toEqual([]);
    const maybe = { ...policy, spec: { ingressMTLS: { ...policy.spec.ingressMTLS, verifyClient: "maybe" } } };
    expect(crdSchemaErrors(maybe)).toEqual([]);
    expect(controllerValidationErrors(maybe).join("\n")).toMatch(/\/spec\/ingressMTLS\/verifyClient must be equal to one of the allowed values/);
    // The CRD's types: a string depth is refused by the API server already.
    expect(crdSchemaErrors({ ...policy, spec: { ingressMTLS: { ...policy.spec.ingressMTLS, verifyDepth: "1" } } }).join("\n")).toMatch(/verifyDepth must be integer/);
    // The controller: a secret name that is no DNS subdomain, a negative depth, no secret at all.
    expect(controllerValidationErrors({ ...policy, spec: { ingressMTLS: { clientCertSecret: "CA_Secret", verifyDepth: -1 } } }).join("\n")).toMatch(/clientCertSecret must match pattern[\s\S]*verifyDepth must be >= 0/);
    expect(controllerValidationErrors({ ...policy, spec: { ingressMTLS: { verifyClient: "on" } } }).join("\n")).toMatch(/must have required property 'clientCertSecret'/);

    const ing = docs.find((d) => d.kind === "Ingress");
    expect(ing.metadata.annotations).toEqual({ "nginx.org/policies": "default/test-localhost-mtls" });
    const secret = docs.find((d) => d.kind === "Secret");
    expect(secret).toMatchObject({ type: "nginx.org/ca", metadata: { name: "ca-secret", namespace: "default" } });
    expect(Buffer.from(secret.data["ca.crt"], "base64").toString()).toBe(pki.read("ca"));
  });

  it("an invalid Policy (the controller rejects it) renders return 500; a CRL nginx cannot load leaves the Ingress out", () => {
    const { out, prefix } = render([
      // ingress-nginx uses depth -1 as given; F5's validation refuses a negative verifyDepth.
      ingress("negative", "test.localdev.me", { "auth-tls-secret": "default/ca-secret", "auth-tls-verify-depth": "-1" }),
      ingress("badcrl", "badcrl.localdev.me", { "auth-tls-secret": "default/ca-badcrl" }),
    ]);
    expect(() => nginxT(prefix)).not.toThrow();
    expect(out.problems.join("\n")).toMatch(/Policy default\/negative-mtls is invalid[\s\S]*verifyDepth must be >= 0/);
    expect(serverOf(out.config, "test.localdev.me")).toContain("        return 500;\n");
    expect(out.hosts.find((h) => h.host === "test.localdev.me")?.errorReturn).toMatch(/Policy default\/negative-mtls is missing or invalid/);
    expect(out.config).not.toContain("server_name badcrl.localdev.me;");
    expect(out.hosts.find((h) => h.host === "badcrl.localdev.me")).toBeUndefined();
    expect(out.notes.join("\n")).toMatch(/default\/badcrl: left out: .*ca\.crl holds no CRL nginx can load/);
  });

  it("a host two Ingresses claim belongs to the older one; a same-second tie is reported as unknown", () => {
    const older = ingress("older", "shared.localdev.me", { "auth-tls-secret": "default/ca-secret" }, { created: "2024-01-01T00:00:00Z" });
    const newer = ingress("newer", "shared.localdev.me", {}, { created: "2024-01-02T00:00:00Z" });
    const { out, prefix } = render([newer, older]);
    expect(() => nginxT(prefix)).not.toThrow();
    expect(out.hosts).toEqual([expect.objectContaining({ host: "shared.localdev.me", ingress: "default/older", mtls: { verifyClient: "on", verifyDepth: 1, crl: false } })]);
    expect(out.config.match(/server_name shared\.localdev\.me;/g)).toHaveLength(1);
    expect(out.notes.join("\n")).toMatch(/default\/newer: host shared\.localdev\.me is taken by another resource \(default\/older, the older one\)/);
    expect(out.notes.join("\n")).toMatch(/default\/newer: rejected by F5: All hosts are taken/);

    const a = ingress("a", "shared.localdev.me", {}, { created: "2024-01-01T00:00:00Z" });
    const b = ingress("b", "shared.localdev.me", {}, { created: "2024-01-01T00:00:00Z" });
    const tie = render([a, b]).out;
    expect(tie.notes.join("\n")).toMatch(/created in the same second: F5 gives the host to the larger UID, which a local run cannot know/);
  });

  it("a TLS Secret of another type: ssl_reject_handshake on the host; a CA Secret that is also the TLS Secret is not re-created", () => {
    const f5ca: V1Secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "f5-ca", namespace: "default" }, type: "nginx.org/ca", data: { "ca.crt": b64(pki.read("ca")) } };
    const { out, prefix } = render([ingress("wrongtls", "test.localdev.me", {}, { tlsSecret: "f5-ca" })], [f5ca]);
    expect(() => nginxT(prefix)).not.toThrow();
    const server = serverOf(out.config, "test.localdev.me");
    expect(server).toContain("        ssl_reject_handshake on;\n");
    expect(server).not.toContain("ssl_certificate ");
    expect(out.hosts[0]).toMatchObject({ tls: "reject-handshake" });
    expect(out.notes.join("\n")).toMatch(/TLS secret f5-ca is of a wrong type 'nginx.org\/ca', must be 'kubernetes.io\/tls'/);
    // An Opaque Secret is never stored: "doesn't exist or of an unsupported type".
    const opaque = render([ingress("opaque", "test.localdev.me", {}, { tlsSecret: "ca-crl" })]).out;
    expect(opaque.notes.join("\n")).toMatch(/TLS secret ca-crl is invalid: secret doesn't exist or of an unsupported type/);
    // auth-tls-secret naming the host's own TLS Secret: left as kubernetes.io/tls, so the Policy's secret has the wrong type.
    const same = render([ingress("same", "test.localdev.me", { "auth-tls-secret": "default/self-tls" })]);
    expect(() => nginxT(same.prefix)).not.toThrow();
    expect(serverOf(same.out.config, "test.localdev.me")).toContain("        ssl_certificate ");
    expect(same.out.hosts[0]!.errorReturn).toMatch(/references a secret default\/self-tls of a wrong type 'kubernetes.io\/tls', must be 'nginx.org\/ca'/);
    expect(same.out.translationNotes["default/same"]!.join("\n")).toMatch(/Secret default\/self-tls is not re-created as nginx.org\/ca: it is a TLS Secret/);
  });
});
