// HAProxy Ingress's rendering against what v0.15.4 renders (the lines of its own expected renderings,
// pkg/haproxy/instance_test.go:3148-3251, and of haproxy.tmpl:1261-1268,1347-1424, copied here by
// hand), each rendering checked by the system's HAProxy (`haproxy -c`).
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { findHaproxy } from "../../support/ensure-tools.ts";
import { OpensslPki } from "../../testing/openssl-pki.ts";
import { tempDirs } from "../../testing/temp-dirs.ts";
import { caVerifyOf, haproxyIngressOrder, renderHaproxyIngress } from "./render.ts";

const tempDir = tempDirs();
let pki: OpensslPki;
const b64 = (s: string) => Buffer.from(s).toString("base64");
const A = "nginx.ingress.kubernetes.io/";

const ingress = (name: string, host: string, annotations: Record<string, string>, path = "/"): V1Ingress => ({
  metadata: { name, namespace: "default", annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [A + k, v])) },
  spec: {
    ingressClassName: "nginx",
    tls: [{ hosts: [host], secretName: "server-tls" }],
    rules: [{ host, http: { paths: [{ path, pathType: "Prefix", backend: { service: { name: "app", port: { number: 80 } } } }] } }],
  },
});

beforeAll(() => {
  pki = new OpensslPki(tempDir("hi-render-pki-")).ca("ca", "/CN=Test CA").leaf("server", "/CN=a.test", "ca", { eku: "serverAuth", san: ["a.test", "b.test", "c.test"] });
});

function render(ingresses: V1Ingress[], extra: V1Secret[] = []) {
  const secrets: V1Secret[] = [
    ...extra,
    { metadata: { name: "ca-secret", namespace: "default" }, data: { "ca.crt": b64(pki.read("ca")) } },
    { metadata: { name: "server-tls", namespace: "default" }, data: { "tls.crt": b64(pki.read("server")), "tls.key": b64(pki.read("server", "key")) } },
  ];
  const prefix = tempDir("hi-render-");
  for (const d of ["maps", "ssl", "lua"]) mkdirSync(join(prefix, d));
  const fake = join(prefix, "fake.pem");
  writeFileSync(fake, `${pki.read("server")}\n${pki.read("server", "key")}\n`);
  const r = renderHaproxyIngress({ ingresses, secrets, prefix, listenAddress: "127.0.0.1", https: 20443, http: 20080, controlPort: 20001, backend: "127.0.0.1:9", generation: 1, fakeCertificate: fake, fakeCa: pki.path("ca") });
  for (const f of r.files) writeFileSync(f.path, f.content);
  const conf = join(prefix, "haproxy.cfg");
  writeFileSync(conf, r.config);
  const check = spawnSync(findHaproxy()!, ["-c", "-f", conf], { encoding: "utf8" });
  return { ...r, prefix, check, file: (name: string) => readFileSync(join(prefix, "maps", name), "utf8") };
}

describe.skipIf(!findHaproxy())("HAProxy Ingress v0.15.4's rendering, checked by haproxy -c", () => {
  it("the guide's Ingress: crt-list with ca-file and verify optional, the bind's ignore-err, the rules in the template's order; haproxy accepts it", () => {
    const r = render([ingress("guide", "a.test", { "auth-tls-secret": "default/ca-secret", "auth-tls-verify-client": "on", "auth-tls-verify-depth": "1" })]);
    expect(r.check.status, r.check.stderr + r.check.stdout).toBe(0);
    expect(r.file("_front_bind_crt.list")).toMatch(/^\S+ !\*\n\S+ \[ca-file \S+\/ssl\/ca-1\.pem verify optional\] a\.test\n$/);
    expect(r.config).toMatch(/bind 127\.0\.0\.1:20443 ssl alpn h2,http\/1\.1 crt-list \S+ ca-ignore-err all crt-ignore-err all/);
    const order = ["acl tls-has-crt ssl_c_used", "acl tls-has-invalid-crt ssl_c_verify gt 0", "lua.send-421 if tls-has-crt", "lua.send-496", "lua.send-421 if !tls-has-crt tls-host-need-crt", "lua.send-495"].map((l) => r.config.indexOf(l));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    expect(r.file("_front_tls_needcrt__exact.list")).toBe("a.test\n");
    expect(r.config).toContain("http-request set-header X-SSL-Client-SHA1 %{+Q}[ssl_c_sha1,hex] if local-offload");
    // verify-depth is not read: no depth anywhere in what HAProxy gets.
    expect(r.config).not.toMatch(/verify-?depth/);
  });

  it("optional_no_ca is skip-check: a ca-file, but in no auth list, so no 495/496 rule", () => {
    const r = render([ingress("skip", "a.test", { "auth-tls-secret": "default/ca-secret", "auth-tls-verify-client": "optional_no_ca" })]);
    expect(r.check.status, r.check.stderr).toBe(0);
    expect(r.file("_front_bind_crt.list")).toContain("verify optional] a.test");
    expect(r.file("_front_tls_auth__exact.list")).toBe("");
    expect(r.config).not.toContain("lua.send-495");
    expect(r.config).not.toContain("lua.send-496");
  });

  it("an error page: 303 redirects from the page maps; a missing secret with auth-tls-strict: the fake CA", () => {
    const r = render([ingress("page", "a.test", { "auth-tls-secret": "default/ca-secret", "auth-tls-error-page": "https://login.test/denied" }), ingress("broken", "b.test", { "auth-tls-secret": "default/no-such-secret" })]);
    expect(r.check.status, r.check.stderr).toBe(0);
    expect(r.file("_front_tls_missingcrt_pages__exact.map")).toBe("a.test https://login.test/denied\n");
    expect(r.config).toContain("http-request redirect location %[var(req.tls_nocrt_redir)] code 303");
    expect(r.hosts.find((h) => h.host === "b.test")?.auth).toMatchObject({ verify: "always", fakeCa: expect.stringContaining("not found") });
    expect(r.file("_front_bind_crt.list")).toContain(`[ca-file ${pki.path("ca")} verify optional] b.test`);
  });

  it("a ca.crl that is a PEM X509 CRL but no CRL: the host is left out (haproxy would refuse the whole file, as it does here with it)", () => {
    const bad = { metadata: { name: "bad-crl", namespace: "default" }, data: { "ca.crt": b64(pki.read("ca")), "ca.crl": b64("-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n") } };
    const r = render([ingress("guide", "a.test", { "auth-tls-secret": "default/ca-secret" }), ingress("bad", "b.test", { "auth-tls-secret": "default/bad-crl" })], [bad]);
    expect(r.check.status, r.check.stderr).toBe(0);
    expect(r.hosts.map((h) => h.host)).toEqual(["a.test"]);
    expect(r.notes.join("\n")).toMatch(/b\.test: ca\.crl .* does not parse/);
    // The oracle: the same CRL given to HAProxy makes it refuse the configuration.
    const crl = join(r.prefix, "ssl", "bad.crl");
    writeFileSync(crl, "-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n");
    writeFileSync(join(r.prefix, "maps", "_front_bind_crt.list"), `${r.file("_front_bind_crt.list")}${pki.path("server")}.pem [ca-file ${pki.path("ca")} verify optional crl-file ${crl}] b.test\n`);
    execFileSync("sh", ["-c", `cat "${pki.path("server")}" "${pki.path("server", "key")}" > "${pki.path("server")}.pem"`]);
    expect(spawnSync(findHaproxy()!, ["-c", "-f", join(r.prefix, "haproxy.cfg")]).status).not.toBe(0);
  });

  it("the host's keys: the oldest Ingress's value wins, a later different one is dropped; verify-client words as host.go maps them", () => {
    const r = render([ingress("b-second", "a.test", { "auth-tls-verify-client": "optional" }, "/b"), ingress("a-first", "a.test", { "auth-tls-secret": "default/ca-secret", "auth-tls-verify-client": "on" }, "/a")]);
    expect(r.check.status, r.check.stderr).toBe(0);
    expect(haproxyIngressOrder([ingress("b", "x", {}), ingress("a", "x", {})]).map((i) => i.metadata!.name)).toEqual(["a", "b"]);
    expect(r.hosts[0]!.auth?.verify).toBe("always");
    expect(r.hosts[0]!.conflicts.join()).toMatch(/auth-tls-verify-client "optional" dropped/);
    expect(["off", "on", "optional", "optional_no_ca", "ON", " off ", "maybe", undefined].map(caVerifyOf)).toEqual(["off", "always", "optional", "skip-check", "always", "always", "always", "always"]);
  });
});
