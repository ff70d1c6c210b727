// The NGF rendering against the directives NGF v2.6.7's servers_template.go writes (copied here by
// hand from the template's text, lines 7-57 and 84-125), checked by the system's nginx (`nginx -t`).
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { findNginx } from "../ingress-nginx/nginx-target.ts";
import { OpensslPki } from "../../testing/openssl-pki.ts";
import { tempDirs } from "../../testing/temp-dirs.ts";
import { renderNgfConfig } from "./render.ts";

const tempDir = tempDirs();
let pki: OpensslPki;
const b64 = (s: string) => Buffer.from(s).toString("base64");
const A = "nginx.ingress.kubernetes.io/";

const ingress = (name: string, host: string, annotations: Record<string, string>, tls = true): V1Ingress => ({
  metadata: { name, namespace: "default", annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [A + k, v])) },
  spec: {
    ingressClassName: "nginx",
    ...(tls ? { tls: [{ hosts: [host], secretName: "server-tls" }] } : {}),
    rules: [{ host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "app", port: { number: 80 } } } }] } }],
  },
});

beforeAll(() => {
  pki = new OpensslPki(tempDir("ngf-render-pki-")).ca("ca", "/CN=Test CA").leaf("server", "/CN=a.test", "ca", { eku: "serverAuth", san: ["a.test", "b.test", "c.test"] });
});

function render(ingresses: V1Ingress[], extra: V1Secret[] = []) {
  const secrets: V1Secret[] = [
    ...extra,
    { metadata: { name: "ca-secret", namespace: "default" }, data: { "ca.crt": b64(pki.read("ca")) } },
    { metadata: { name: "server-tls", namespace: "default" }, data: { "tls.crt": b64(pki.read("server")), "tls.key": b64(pki.read("server", "key")) } },
  ];
  const prefix = tempDir("ngf-render-");
  for (const d of ["logs", "ssl", "tmp"]) mkdirSync(join(prefix, d));
  let next = 20000;
  const pairs = new Map<string, { https: number; http: number }>();
  const portsFor = (h: string) => pairs.get(h) ?? (pairs.set(h, { https: next++, http: next++ }), pairs.get(h)!);
  for (const h of ["a.test", "b.test", "c.test"]) portsFor(h);
  const out = renderNgfConfig({ ingresses, secrets, prefix, listenAddress: "127.0.0.1", portsFor, unserved: { https: 19998, http: 19999 }, hosts: [...pairs.keys()], backend: "127.0.0.1:9", generation: 1, controlPort: 19997 });
  for (const f of out.files) writeFileSync(f.path, f.content, { mode: f.mode });
  writeFileSync(join(prefix, "nginx.conf"), out.config);
  return { out, prefix, pairs };
}

describe("NGINX Gateway Fabric's rendering", () => {
  it("AllowValidOnly: the template's directives, the 444 location, the 421 check, the default server's reject; nginx -t accepts it", () => {
    const { out, prefix, pairs } = render([ingress("a", "a.test", { "auth-tls-secret": "default/ca-secret" }), ingress("b", "b.test", { "auth-tls-secret": "default/ca-secret", "auth-tls-verify-client": "optional_no_ca" }), ingress("c", "c.test", {})]);
    const a = pairs.get("a.test")!;
    expect(out.config).toContain(`    server {\n        listen 127.0.0.1:${a.https} ssl default_server;\n        ssl_reject_handshake on;\n    }`);
    expect(out.config).toContain(
      ["        ssl_verify_client on;", "        ssl_verify_depth 4;", "        error_page 495 496 = @frontend_tls_verify_failed;", "        location @frontend_tls_verify_failed {", "            return 444;", "        }"].join("\n"),
    );
    expect(out.config).toContain(`        if ($ngf_sni_${a.https} != $ngf_host_${a.https}) {\n            return 421;\n        }`);
    // AllowInsecureFallback: optional_no_ca and no CA, no 444.
    const bPorts = pairs.get("b.test")!;
    const bStart = out.config.indexOf(`listen 127.0.0.1:${bPorts.https} ssl;`);
    const b = out.config.slice(bStart, out.config.indexOf("server_name b.test;", bStart));
    expect(b).toContain("ssl_verify_client optional_no_ca;");
    expect(b).not.toContain("ssl_client_certificate");
    // A host without client auth: served plainly, as ingress2gateway would route it.
    expect(out.gateways.find((g) => g.host === "c.test")).toMatchObject({ validation: "none" });
    // The client-sent ssl-client-* headers the HTTPRoutes remove.
    expect(out.config).toContain('proxy_set_header ssl-client-verify "";');
    const nginx = findNginx()!;
    expect(() => execFileSync(nginx, ["-t", "-p", prefix, "-c", join(prefix, "nginx.conf")], { stdio: "pipe" })).not.toThrow();
  });

  it("a host ingress-nginx denies (a CA Secret in another namespace): no Gateway is written for it, and its port only refuses handshakes", () => {
    const { out, pairs } = render([ingress("a", "a.test", { "auth-tls-secret": "other/ca-secret" })], [{ metadata: { name: "ca-secret", namespace: "other" }, data: { "ca.crt": b64(pki.read("ca")) } }]);
    expect(out.gateways.find((g) => g.host === "a.test")).toBeUndefined();
    expect(out.skipped.join("\n")).toMatch(/^a\.test: ingress-nginx answers 403 to everything there/);
    expect(out.config).toContain(`listen 127.0.0.1:${pairs.get("a.test")!.https} ssl default_server;\n        ssl_reject_handshake on;`);
    expect(out.config).not.toContain("ssl_verify_client on;");
  });
});
