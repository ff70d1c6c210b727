// Tests for the ingress-nginx auth-tls rendering emulation. Oracles, never the module itself:
// - hand-written lists of the directives ingress-nginx renders (kubernetes/ingress-nginx@controller-v1.15.1:
//   rootfs/etc/nginx/template/nginx.tmpl),
//   compared with the directive lines found in the rendered `server { ... }` block of the host;
// - certificate fingerprints computed by the PKI builder, compared with the PEM files written;
// - the real nginx binary (`nginx -t`), which must accept the rendered configuration
//   and must reject verify-depth -1 as the reference says the controller's reload does;
// - around the servers, the directives of the controller's nginx.tmpl with its config.go defaults
//   and the sizes its nginx.go computes, worked out by hand (kubernetes/ingress-nginx@controller-v1.15.1).
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policies as cataloguePolicies } from "../../../fixtures/catalogue.ts";
import type { Policy } from "../../catalogue/catalogue.ts";
import { buildManifests } from "../../manifests/manifests.ts";
import { freePort } from "../../support/net.ts";
import { buildPki, type Pki } from "../../pki/pki.ts";
import { findNginx } from "./nginx-target.ts";
import { nofileHardLimit, parseAuthTls, renderNginxConfig, type RenderedConfig } from "./nginx-render.ts";

x509.cryptoProvider.set(globalThis.crypto);

const NS = "default";
const PREFIX = "/srv/mtls-render-test";
const P = "nginx.ingress.kubernetes.io/";

let pki: Pki;
let workDir: string;
/** A CRL signed by the guide CA, PEM labelled `X509 CRL` as OpenSSL loads it. */
let crlPem: string;
let crlDer: Buffer;

beforeAll(async () => {
  pki = await buildPki();
  workDir = mkdtempSync(join(tmpdir(), "nginx-render-test-"));
  const crl = await x509.X509CrlGenerator.create({
    issuer: pki.ca.cert.subject,
    thisUpdate: new Date(Date.now() - 3_600_000),
    nextUpdate: new Date(Date.now() + 30 * 86_400_000),
    signingAlgorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as Algorithm,
    signingKey: pki.ca.keys.privateKey,
    entries: [{ serialNumber: pki.credentials["client-expired"].leaf.cert.serialNumber }],
  });
  crlDer = Buffer.from(crl.rawData);
  crlPem = x509.PemConverter.encode(crl.rawData, "X509 CRL");
});

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Objects

const guidePolicy = (): Policy => {
  const p = cataloguePolicies.find((x) => x.name === "guide");
  if (!p) throw new Error("the catalogue has no guide policy");
  return p;
};

/** The guide's policy under another name and host, with annotations changed (undefined removes one). */
function variant(name: string, changes: Record<string, string | undefined>): Policy {
  const guide = guidePolicy();
  const annotations: Record<string, string> = { ...guide.annotations };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete annotations[k];
    else annotations[k] = v;
  }
  return { ...guide, name, ingressName: `mtls-${name}`, host: `${name}.test.localdev.me`, annotations };
}

const hostOf = (name: string): string => `${name}.test.localdev.me`;

function secret(namespace: string, name: string, data: Record<string, string>): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace },
    type: "Opaque",
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")])),
  };
}

function objects(policies: Policy[], extraSecrets: V1Secret[] = []): { ingresses: V1Ingress[]; secrets: V1Secret[] } {
  const m = buildManifests({ namespace: NS, policies, pki });
  return { ingresses: m.ingresses, secrets: [...m.secrets, ...extraSecrets] };
}

function render(
  policies: Policy[],
  extraSecrets: V1Secret[] = [],
  options: { prefix?: string; port?: number; secrets?: V1Secret[] } = {},
): RenderedConfig {
  const o = objects(policies, extraSecrets);
  return renderNginxConfig({
    ingresses: o.ingresses,
    secrets: options.secrets ?? o.secrets,
    prefix: options.prefix ?? PREFIX,
    listenAddress: "127.0.0.1",
    httpsPort: options.port ?? 8443,
    backendFor: () => "127.0.0.1:18080",
    defaultCertificate: {
      certPem: pki.credentials["client-self-signed"].leaf.certPem,
      keyPem: pki.credentials["client-self-signed"].leaf.keyPem,
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Reading the rendered configuration (nginx's own lexical rules: quotes, comments, braces)

interface Token {
  text: string;
  start: number;
  end: number;
}

function tokenize(config: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < config.length) {
    const ch = config[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "#") {
      while (i < config.length && config[i] !== "\n") i++;
    } else if (ch === "{" || ch === "}" || ch === ";") {
      tokens.push({ text: ch, start: i, end: i + 1 });
      i++;
    } else {
      const start = i;
      while (i < config.length && !/[\s{};]/.test(config[i]!)) {
        if (config[i] === '"' || config[i] === "'") {
          const q = config[i];
          i++;
          while (i < config.length && config[i] !== q) i += config[i] === "\\" ? 2 : 1;
        }
        i++;
      }
      tokens.push({ text: config.slice(start, i), start, end: i });
    }
  }
  return tokens;
}

/** Text of every `server { ... }` block (the braces excluded). */
function serverBlocks(config: string): string[] {
  const tokens = tokenize(config);
  const blocks: string[] = [];
  for (let t = 0; t < tokens.length - 1; t++) {
    const prev = tokens[t - 1]?.text;
    if (tokens[t]!.text !== "server" || tokens[t + 1]!.text !== "{") continue;
    if (prev !== undefined && prev !== "{" && prev !== "}" && prev !== ";") continue;
    let depth = 0;
    for (let u = t + 1; u < tokens.length; u++) {
      if (tokens[u]!.text === "{") depth++;
      if (tokens[u]!.text === "}" && --depth === 0) {
        blocks.push(config.slice(tokens[t + 1]!.end, tokens[u]!.start));
        break;
      }
    }
  }
  return blocks;
}

/** The server block whose server_name lists `host`, as trimmed lines without comments, whitespace collapsed. */
function serverLines(config: string, host: string): string[] {
  const matching = serverBlocks(config).filter((block) => {
    const names = /^\s*server_name\s+([^;]+);/m.exec(block)?.[1]?.trim().split(/\s+/) ?? [];
    return names.includes(host);
  });
  expect(matching, `server blocks for ${host}`).toHaveLength(1);
  return matching[0]!
    .split("\n")
    .map((l) => l.trim().replace(/\s+/g, " "))
    .filter((l) => l !== "" && !l.startsWith("#"));
}

const AUTH_LINE =
  /^(ssl_client_certificate|ssl_verify_client|ssl_verify_depth|ssl_crl|ssl_trusted_certificate)\b|^error_page 49[56]\b|^if ?\(\$ssl_client_s_dn\b|client certificate unauthorized|^proxy_set_header (x-)?ssl[-_]client/i;

interface AuthLines {
  /** Ordered auth-tls directive lines, file paths replaced by `<file>`. */
  lines: string[];
  caFile?: string;
  crlFile?: string;
}

/** The auth-tls-related directive lines of the host's server block, in order (the match-cn `if` with its body). */
function authLines(config: string, host: string): AuthLines {
  const out: AuthLines = { lines: [] };
  let inIf = false;
  for (const line of serverLines(config, host)) {
    if (inIf) {
      out.lines.push(line);
      if (line === "}") inIf = false;
      continue;
    }
    if (!AUTH_LINE.test(line)) continue;
    const ca = /^ssl_client_certificate (\S+);$/.exec(line);
    const crl = /^ssl_crl (\S+);$/.exec(line);
    if (ca) {
      out.caFile = ca[1];
      out.lines.push("ssl_client_certificate <file>;");
    } else if (crl) {
      out.crlFile = crl[1];
      out.lines.push("ssl_crl <file>;");
    } else {
      out.lines.push(line);
    }
    if (/^if\b.*\{$/.test(line)) inIf = true;
  }
  return out;
}

function fileContent(rendered: RenderedConfig, path: string | undefined): string {
  expect(path, "a file path in the directive").toBeDefined();
  const f = rendered.files.find((x) => x.path === path);
  expect(f, `a files entry for ${path}`).toBeDefined();
  return f!.content;
}

/** SHA-256 (hex) of the DER of every PEM block with this label. */
function pemHashes(text: string, label = "CERTIFICATE"): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, "g");
  return [...text.matchAll(re)].map((m) =>
    createHash("sha256").update(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64")).digest("hex"),
  );
}

// ---------------------------------------------------------------------------------------------
// Hand-written expectations (from the reference, not from the module)

const SERVER_GUIDE = ["ssl_client_certificate <file>;", "ssl_verify_client on;", "ssl_verify_depth 1;"];
const H_CERT = "proxy_set_header ssl-client-cert $ssl_client_escaped_cert;";
const H_VERIFY = "proxy_set_header ssl-client-verify $ssl_client_verify;";
const H_SUBJECT = "proxy_set_header ssl-client-subject-dn $ssl_client_s_dn;";
const H_ISSUER = "proxy_set_header ssl-client-issuer-dn $ssl_client_i_dn;";

/** The guide's Ingress as ingress-nginx renders it (one location `/`). */
const GUIDE_EXPECTED = [
  "ssl_client_certificate <file>;",
  "ssl_verify_client on;",
  "ssl_verify_depth 1;",
  "proxy_set_header ssl-client-cert $ssl_client_escaped_cert;",
  "proxy_set_header ssl-client-verify $ssl_client_verify;",
  "proxy_set_header ssl-client-subject-dn $ssl_client_s_dn;",
  "proxy_set_header ssl-client-issuer-dn $ssl_client_i_dn;",
];

// ---------------------------------------------------------------------------------------------

describe("the guide's Ingress (test-localhost, test.localdev.me)", () => {
  it("is the catalogue's guide policy with the guide's annotations", () => {
    const ing = objects([guidePolicy()]).ingresses[0]!;
    expect(ing.metadata?.name).toBe("test-localhost");
    expect(ing.spec?.rules?.[0]?.host).toBe("test.localdev.me");
    expect(ing.metadata?.annotations).toMatchObject({
      [P + "auth-tls-secret"]: "default/ca-secret",
      [P + "auth-tls-verify-client"]: "on",
      [P + "auth-tls-verify-depth"]: "1",
      [P + "auth-tls-pass-certificate-to-upstream"]: "true",
    });
  });

  it("renders exactly the auth-tls directives ingress-nginx renders, in order", () => {
    const rendered = render([guidePolicy()]);
    const auth = authLines(rendered.config, "test.localdev.me");
    expect(auth.lines).toEqual(GUIDE_EXPECTED);
    expect(serverLines(rendered.config, "test.localdev.me")).not.toContain("return 403;");
  });

  it("points ssl_client_certificate at a file holding exactly the guide's CA certificate", () => {
    const rendered = render([guidePolicy()]);
    const auth = authLines(rendered.config, "test.localdev.me");
    expect(auth.caFile!.startsWith(PREFIX + "/")).toBe(true);
    const content = fileContent(rendered, auth.caFile);
    expect(pemHashes(content)).toEqual([pki.ca.sha256]);
    expect(content).not.toContain("PRIVATE KEY");
  });

  it("reports the parsed annotations", () => {
    const ing = objects([guidePolicy()]).ingresses[0]!;
    const parsed = parseAuthTls(ing, objects([guidePolicy()]).secrets);
    expect(parsed).toMatchObject({
      secretRef: "default/ca-secret",
      verifyClient: "on",
      verifyDepth: 1,
      passCertificateToUpstream: true,
    });
    expect(parsed?.brokenReason).toBeUndefined();
    expect(parsed?.errorPage).toBeUndefined();
    expect(parsed?.matchCn).toBeUndefined();
    const server = render([guidePolicy()]).servers.find((s) => s.host === "test.localdev.me");
    expect(server?.ingress).toBe("default/test-localhost");
    expect(server?.warnings).toEqual([]);
  });

  it("an Ingress without auth-tls-secret gets no auth-tls directive at all", () => {
    const plain = variant("plain", {
      "auth-tls-secret": undefined,
      "auth-tls-verify-client": undefined,
      "auth-tls-verify-depth": undefined,
      "auth-tls-pass-certificate-to-upstream": undefined,
    });
    const rendered = render([plain]);
    expect(authLines(rendered.config, hostOf("plain")).lines).toEqual([]);
    expect(serverLines(rendered.config, hostOf("plain"))).not.toContain("return 403;");
    expect(parseAuthTls(objects([plain]).ingresses[0]!, objects([plain]).secrets)).toBeUndefined();
  });
});

describe("location headers", () => {
  it('pass-certificate-to-upstream "false": no ssl-client-cert line, the other three headers are there', () => {
    const noPass = cataloguePolicies.find((p) => p.name === "no-pass-cert")!;
    expect(noPass.annotations["auth-tls-pass-certificate-to-upstream"]).toBe("false");
    const rendered = render([noPass]);
    expect(authLines(rendered.config, noPass.host).lines).toEqual([...SERVER_GUIDE, H_VERIFY, H_SUBJECT, H_ISSUER]);
  });

  it("pass-certificate-to-upstream absent defaults to false", () => {
    const p = variant("pass-absent", { "auth-tls-pass-certificate-to-upstream": undefined });
    const rendered = render([p]);
    expect(authLines(rendered.config, p.host).lines).toEqual([...SERVER_GUIDE, H_VERIFY, H_SUBJECT, H_ISSUER]);
  });

  it("verify-client off still renders the headers (the secret has ca.crt)", () => {
    const p = variant("verify-off", { "auth-tls-verify-client": "off" });
    const rendered = render([p]);
    expect(authLines(rendered.config, p.host).lines).toEqual([
      "ssl_client_certificate <file>;",
      "ssl_verify_client off;",
      "ssl_verify_depth 1;",
      H_CERT,
      H_VERIFY,
      H_SUBJECT,
      H_ISSUER,
    ]);
  });
});

describe("silent fallbacks of the annotations", () => {
  const verifyCases: Array<[string | undefined, string]> = [
    ["maybe", "on"],
    ["ON", "on"],
    ["OFF", "on"],
    ["optional_no_ca", "optional_no_ca"],
    ["optional", "optional"],
    ["off", "off"],
    ["on", "on"],
    [undefined, "on"],
  ];
  it.each(verifyCases)("auth-tls-verify-client %j renders ssl_verify_client %s", (value, expected) => {
    const p = variant("vc", { "auth-tls-verify-client": value });
    const o = objects([p]);
    expect(parseAuthTls(o.ingresses[0]!, o.secrets)?.verifyClient).toBe(expected);
    const lines = authLines(render([p]).config, p.host).lines;
    expect(lines.filter((l) => l.startsWith("ssl_verify_client"))).toEqual([`ssl_verify_client ${expected};`]);
  });

  const depthCases: Array<[string | undefined, number]> = [
    ["abc", 1],
    ["0", 1],
    ["", 1],
    [undefined, 1],
    ["1", 1],
    ["2", 2],
    ["-1", -1],
  ];
  it.each(depthCases)("auth-tls-verify-depth %j renders ssl_verify_depth %d", (value, expected) => {
    const p = variant("vd", { "auth-tls-verify-depth": value });
    const o = objects([p]);
    expect(parseAuthTls(o.ingresses[0]!, o.secrets)?.verifyDepth).toBe(expected);
    const lines = authLines(render([p]).config, p.host).lines;
    expect(lines.filter((l) => l.startsWith("ssl_verify_depth"))).toEqual([`ssl_verify_depth ${expected};`]);
  });

  it("the catalogue's depth-2 policy renders ssl_verify_depth 2", () => {
    const p = cataloguePolicies.find((x) => x.name === "depth-2")!;
    expect(authLines(render([p]).config, p.host).lines).toEqual([
      "ssl_client_certificate <file>;",
      "ssl_verify_client on;",
      "ssl_verify_depth 2;",
      H_CERT,
      H_VERIFY,
      H_SUBJECT,
      H_ISSUER,
    ]);
  });
});

describe("broken auth-tls-secret: the whole host answers 403", () => {
  const otherNamespaceCa = (): V1Secret => secret("other", "ca-secret", { "ca.crt": pki.ca.certPem + "\n" });
  const cases: Array<{ name: string; ref: string; extra: () => V1Secret[]; reason: RegExp }> = [
    { name: "no-slash", ref: "ca-secret", extra: () => [], reason: /namespace\/name/ },
    { name: "missing", ref: "default/no-such-secret", extra: () => [], reason: /not found/ },
    { name: "other-ns", ref: "other/ca-secret", extra: () => [otherNamespaceCa()], reason: /cross namespace/ },
    {
      name: "no-ca-crt",
      ref: "default/ca-key-only",
      // The guide's ca.key without ca.crt, no keypair either: nothing usable.
      extra: () => [secret(NS, "ca-key-only", { "ca.key": pki.ca.keyPem + "\n" })],
      reason: /no keypair or CA certificate/,
    },
  ];

  it.each(cases)("$name ($ref)", ({ name, ref, extra, reason }) => {
    const p = variant(`broken-${name}`, { "auth-tls-secret": ref });
    const rendered = render([guidePolicy(), p], extra());
    const lines = serverLines(rendered.config, p.host);
    // `return 403;` at server level and no location at all (nginx.tmpl:929-931 wraps every
    // location in the else branch, closed at :1453): every path of the host.
    expect(lines).toContain("return 403;");
    expect(lines.findIndex((l) => l.startsWith("location "))).toBe(-1);
    expect(lines.some((l) => l.startsWith("ssl_verify_client"))).toBe(false);
    expect(authLines(rendered.config, p.host).lines).toEqual([]);

    const server = rendered.servers.find((s) => s.host === p.host)!;
    expect(server.warnings.length).toBeGreaterThan(0);
    const warnings = server.warnings.join("\n");
    expect(warnings).toContain("AnnotationParsingFailed");
    expect(warnings).toMatch(reason);
    expect(warnings).toContain(ref);
    expect(server.authTls?.brokenReason).toMatch(reason);

    // The other host is untouched: per-host, not global.
    expect(authLines(rendered.config, "test.localdev.me").lines).toEqual(GUIDE_EXPECTED);
  });

  it("creating the missing secret later heals the host", () => {
    const p = variant("healed", { "auth-tls-secret": "default/late-ca" });
    const before = render([p]);
    expect(serverLines(before.config, p.host)).toContain("return 403;");
    const after = render([p], [secret(NS, "late-ca", { "ca.crt": pki.ca.certPem + "\n" })]);
    expect(serverLines(after.config, p.host)).not.toContain("return 403;");
    expect(authLines(after.config, p.host).lines).toEqual(GUIDE_EXPECTED);
    expect(after.servers.find((s) => s.host === p.host)!.warnings).toEqual([]);
  });

  it("a secret with tls.crt + tls.key but no ca.crt: mTLS silently not configured (no 403)", () => {
    // Reference, "The CA secret": `tls.crt` + `tls.key` without `ca.crt`: mTLS silently **not** configured.
    // The controller stores such a secret as a keypair (usable content), so there is no
    // AnnotationParsingFailed denial; the template renders nothing because the CA file name is empty.
    const p = variant("tls-only", { "auth-tls-secret": "default/self-tls" });
    const rendered = render([p]);
    const lines = serverLines(rendered.config, p.host);
    expect(lines).not.toContain("return 403;");
    expect(authLines(rendered.config, p.host).lines).toEqual([]);
  });
});

describe("the CA secret's content", () => {
  it("tls.crt + tls.key + ca.crt: the CA file holds both certificates (the server cert becomes a trusted CA entry)", () => {
    const combined = secret(NS, "combined", {
      "tls.crt": pki.server.certPem + "\n",
      "tls.key": pki.server.keyPem + "\n",
      "ca.crt": pki.ca.certPem + "\n",
    });
    const p = variant("combined", { "auth-tls-secret": "default/combined" });
    const rendered = render([p], [combined]);
    const auth = authLines(rendered.config, p.host);
    expect(auth.lines).toEqual(GUIDE_EXPECTED);
    const content = fileContent(rendered, auth.caFile);
    expect(pemHashes(content).sort()).toEqual([pki.ca.sha256, pki.server.sha256].sort());
    expect(content).not.toContain("PRIVATE KEY");
  });

  it("ca.crl present: ssl_crl after ssl_verify_depth, and the CRL file written", () => {
    const withCrl = secret(NS, "ca-with-crl", { "ca.crt": pki.ca.certPem + "\n", "ca.crl": crlPem + "\n" });
    const p = variant("crl", { "auth-tls-secret": "default/ca-with-crl" });
    const rendered = render([p], [withCrl]);
    const auth = authLines(rendered.config, p.host);
    expect(auth.lines).toEqual([
      "ssl_client_certificate <file>;",
      "ssl_verify_client on;",
      "ssl_verify_depth 1;",
      "ssl_crl <file>;",
      H_CERT,
      H_VERIFY,
      H_SUBJECT,
      H_ISSUER,
    ]);
    expect(auth.crlFile!.startsWith(PREFIX + "/")).toBe(true);
    expect(auth.crlFile).not.toBe(auth.caFile);
    const crl = fileContent(rendered, auth.crlFile);
    expect(crl).toContain("-----BEGIN X509 CRL-----");
    expect(pemHashes(crl, "X509 CRL")).toEqual([createHash("sha256").update(crlDer).digest("hex")]);
    expect(pemHashes(fileContent(rendered, auth.caFile))).toEqual([pki.ca.sha256]);
  });

  it("no ca.crl: no ssl_crl line", () => {
    const rendered = render([guidePolicy()]);
    expect(serverLines(rendered.config, "test.localdev.me").some((l) => l.startsWith("ssl_crl"))).toBe(false);
  });
});

describe("error page and match-cn", () => {
  it("auth-tls-error-page renders error_page 495 496 = <value>; after the verify lines", () => {
    const p = variant("error-page", { "auth-tls-error-page": "https://auth.example.test/denied" });
    const rendered = render([p]);
    expect(authLines(rendered.config, p.host).lines).toEqual([
      "ssl_client_certificate <file>;",
      "ssl_verify_client on;",
      "ssl_verify_depth 1;",
      "error_page 495 496 = https://auth.example.test/denied;",
      H_CERT,
      H_VERIFY,
      H_SUBJECT,
      H_ISSUER,
    ]);
  });

  it("auth-tls-match-cn renders the $ssl_client_s_dn check before the verify lines", () => {
    const p = variant("match-cn", { "auth-tls-match-cn": "CN=authorized-client" });
    const rendered = render([p]);
    expect(authLines(rendered.config, p.host).lines).toEqual([
      'if ($ssl_client_s_dn !~ "CN=authorized-client") {',
      'return 403 "client certificate unauthorized";',
      "}",
      "ssl_client_certificate <file>;",
      "ssl_verify_client on;",
      "ssl_verify_depth 1;",
      H_CERT,
      H_VERIFY,
      H_SUBJECT,
      H_ISSUER,
    ]);
  });

  it("everything together, in the reference's order", () => {
    const withCrl = secret(NS, "ca-with-crl", { "ca.crt": pki.ca.certPem + "\n", "ca.crl": crlPem + "\n" });
    const p = variant("all", {
      "auth-tls-secret": "default/ca-with-crl",
      "auth-tls-verify-client": "optional",
      "auth-tls-verify-depth": "2",
      "auth-tls-pass-certificate-to-upstream": "false",
      "auth-tls-error-page": "/mtls-error",
      "auth-tls-match-cn": "CN=(alpha|beta)-client",
    });
    const rendered = render([p], [withCrl]);
    expect(authLines(rendered.config, p.host).lines).toEqual([
      'if ($ssl_client_s_dn !~ "CN=(alpha|beta)-client") {',
      'return 403 "client certificate unauthorized";',
      "}",
      "ssl_client_certificate <file>;",
      "ssl_verify_client optional;",
      "ssl_verify_depth 2;",
      "ssl_crl <file>;",
      "error_page 495 496 = /mtls-error;",
      "proxy_set_header ssl-client-verify $ssl_client_verify;",
      "proxy_set_header ssl-client-subject-dn $ssl_client_s_dn;",
      "proxy_set_header ssl-client-issuer-dn $ssl_client_i_dn;",
    ]);
  });
});

describe("files", () => {
  it("key files are written with mode 0600", () => {
    const combined = secret(NS, "combined", {
      "tls.crt": pki.server.certPem + "\n",
      "tls.key": pki.server.keyPem + "\n",
      "ca.crt": pki.ca.certPem + "\n",
    });
    const rendered = render(
      [guidePolicy(), variant("combined", { "auth-tls-secret": "default/combined" })],
      [combined],
    );
    const keyFiles = rendered.files.filter((f) => f.content.includes("PRIVATE KEY"));
    // The default (fake) certificate and the guide's self-tls server certificate.
    expect(keyFiles.length).toBeGreaterThanOrEqual(2);
    for (const f of keyFiles) expect({ path: f.path, mode: f.mode.toString(8) }).toEqual({ path: f.path, mode: "600" });

    // The guide host's ssl_certificate_key is one of them and holds the server key.
    const lines = serverLines(rendered.config, "test.localdev.me");
    const keyPath = /^ssl_certificate_key (\S+);$/.exec(lines.find((l) => l.startsWith("ssl_certificate_key ")) ?? "")?.[1];
    const keyFile = rendered.files.find((f) => f.path === keyPath);
    expect(keyFile?.mode).toBe(0o600);
    expect(keyFile?.content).toContain(pki.server.keyPem.trim());
    expect(pemHashes(keyFile!.content)).toEqual([pki.server.sha256]);
  });
});

// ---------------------------------------------------------------------------------------------
// The real nginx

const nginxBin = findNginx();

async function nginxTest(policies: Policy[], extraSecrets: V1Secret[] = []) {
  return nginxTestOf((prefix, port) => render(policies, extraSecrets, { prefix, port }));
}

/** `nginx -t` on a rendering under a fresh prefix; `edit` changes the configuration text first. */
async function nginxTestOf(renderAt: (prefix: string, port: number) => RenderedConfig, edit: (config: string) => string = (c) => c) {
  // No silent skip: without nginx these checks fail.
  expect(nginxBin, "nginx binary (set NGINX_BIN or install nginx-light)").toBeDefined();
  const dir = mkdtempSync(join(workDir, "conf-"));
  for (const d of ["logs", "ssl", "tmp"]) mkdirSync(join(dir, d), { recursive: true });
  const rendered = renderAt(dir, await freePort("127.0.0.1"));
  rendered.config = edit(rendered.config);
  for (const f of rendered.files) {
    expect(f.path.startsWith(dir + "/"), `${f.path} is under the prefix`).toBe(true);
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content, { mode: f.mode });
  }
  writeFileSync(join(dir, "nginx.conf"), rendered.config);
  const r = spawnSync(nginxBin!, ["-t", "-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], {
    encoding: "utf8",
    timeout: 20_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}`, rendered };
}

describe("nginx -t on the rendered configuration", () => {
  it("accepts the whole rendered configuration (catalogue policies and every auth-tls feature)", async () => {
    const extra = [
      secret(NS, "combined", {
        "tls.crt": pki.server.certPem + "\n",
        "tls.key": pki.server.keyPem + "\n",
        "ca.crt": pki.ca.certPem + "\n",
      }),
      secret(NS, "ca-with-crl", { "ca.crt": pki.ca.certPem + "\n", "ca.crl": crlPem + "\n" }),
    ];
    const policies = [
      ...cataloguePolicies,
      variant("combined", { "auth-tls-secret": "default/combined" }),
      variant("crl", { "auth-tls-secret": "default/ca-with-crl" }),
      variant("error-page", { "auth-tls-error-page": "https://auth.example.test/denied" }),
      variant("match-cn", { "auth-tls-match-cn": "CN=(alpha|beta)-client" }),
      variant("optional-no-ca", { "auth-tls-verify-client": "optional_no_ca", "auth-tls-verify-depth": "2" }),
      variant("verify-off", { "auth-tls-verify-client": "off" }),
      variant("fallbacks", { "auth-tls-verify-client": "maybe", "auth-tls-verify-depth": "abc" }),
      variant("broken", { "auth-tls-secret": "default/no-such-secret" }),
    ];
    const result = await nginxTest(policies, extra);
    expect(result.output).toContain("syntax is ok");
    expect(result.output).toContain("test is successful");
    expect(result.status, result.output).toBe(0);
    expect(result.output).not.toContain("[warn]");
    // The features really are in what nginx accepted.
    for (const directive of ["ssl_crl ", "error_page 495 496 = ", "$ssl_client_s_dn !~", "ssl_verify_client optional_no_ca;", "return 403;"]) {
      expect(result.rendered.config).toContain(directive);
    }
  });

  it("rejects verify-depth -1 (the controller's reload fails), while the same Ingress with depth 1 passes", async () => {
    const bad = await nginxTest([variant("negative-depth", { "auth-tls-verify-depth": "-1" })]);
    expect(bad.rendered.config).toContain("ssl_verify_depth -1;");
    expect(bad.status, bad.output).not.toBe(0);
    expect(bad.output).toContain("ssl_verify_depth");
    expect(bad.output).toContain("test failed");

    const good = await nginxTest([variant("negative-depth", { "auth-tls-verify-depth": "1" })]);
    expect(good.status, good.output).toBe(0);
  });
});


describe("plain HTTP (the controller's port 80)", () => {
  it("every server also listens on the HTTP port; only hosts with tls: redirect to HTTPS with 308, as the controller's Lua builds the Location", async () => {
    const { catalogue } = await import("../../../fixtures/catalogue.ts");
    const { buildPki: build } = await import("../../pki/pki.ts");
    const p = await build({ serverHosts: catalogue.policies.map((x) => x.host) });
    const m = buildManifests({ namespace: "default", policies: catalogue.policies, pki: p });
    const r = renderNginxConfig({
      ingresses: m.ingresses,
      secrets: m.secrets,
      prefix: "/tmp/x",
      listenAddress: "127.0.0.1",
      httpsPort: 8443,
      httpPort: 8080,
      backendFor: () => "127.0.0.1:9",
      defaultCertificate: { certPem: p.server.certPem, keyPem: p.server.keyPem },
    });
    const block = (host: string) => r.config.slice(r.config.indexOf(`## start server ${host}`), r.config.indexOf(`## end server ${host}`));
    const redirect = "if ($scheme = http) {\n                return 308 https://$mtls_redirect_host$mtls_redirect_uri;\n            }";
    expect(block("test.localdev.me")).toContain("listen 127.0.0.1:8080;");
    expect(block("test.localdev.me")).toContain(redirect);
    // lua_ingress.lua: the Host without its port, one trailing "/" removed from the request URI.
    expect(block("test.localdev.me")).toContain('if ($mtls_redirect_host ~ "^([^:]*)") {');
    expect(block("test.localdev.me")).toContain('if ($mtls_redirect_uri ~ "^(.*)/$") {');
    expect(block("no-tls-section.test.localdev.me")).toContain("listen 127.0.0.1:8080;");
    expect(block("no-tls-section.test.localdev.me")).not.toContain("return 308");
    expect(r.config).toContain("listen 127.0.0.1:8080 default_server;");
  });
});

// ---------------------------------------------------------------------------------------------
// What the controller renders around the servers (nginx.tmpl:36-60, :292-293, :518-540 of
// controller-v1.15.1, with the defaults of config.go and the sizes nginx.go computes)

interface Directive {
  words: string[];
  children?: Directive[];
}

/** The configuration as nginx reads it: directives, and blocks with their own. */
function parseConfig(config: string): Directive[] {
  const tokens = tokenize(config);
  let i = 0;
  const block = (): Directive[] => {
    const out: Directive[] = [];
    let words: string[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!.text;
      if (t === ";") out.push({ words }), (words = []);
      else if (t === "{") out.push({ words, children: block() }), (words = []);
      else if (t === "}") return out;
      else words.push(t);
    }
    return out;
  };
  return block();
}

const line = (d: Directive): string => `${d.words.join(" ")};`;
const simple = (ds: Directive[] | undefined): string[] => (ds ?? []).filter((d) => !d.children).map(line);
const blocksNamed = (ds: Directive[] | undefined, name: string): Directive[] => (ds ?? []).filter((d) => d.children && d.words[0] === name);
const httpBlock = (config: string): Directive[] => blocksNamed(parseConfig(config), "http")[0]!.children!;

/** An Ingress with one host and one Service, as a user writes it. */
function userIngress(namespace: string, name: string, host: string, service: string, port: { number: number } | { name: string }): V1Ingress {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace },
    spec: { ingressClassName: "nginx", rules: [{ host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: service, port } } }] } }] },
  };
}

function renderUser(ingresses: V1Ingress[], extra: Partial<Parameters<typeof renderNginxConfig>[0]> = {}): RenderedConfig {
  return renderNginxConfig({
    ingresses,
    secrets: [],
    prefix: PREFIX,
    listenAddress: "127.0.0.1",
    httpsPort: 8443,
    backendFor: () => "127.0.0.1:18080",
    defaultCertificate: { certPem: pki.credentials["client-self-signed"].leaf.certPem, keyPem: pki.credentials["client-self-signed"].leaf.keyPem },
    ...extra,
  });
}

const THREE_SERVICES = (): V1Ingress[] => [
  userIngress("shop", "cart", "cart.shop.test", "cart-svc", { number: 8080 }),
  userIngress("shop", "pay", "pay.shop.test", "pay-svc", { number: 80 }),
  userIngress("ops", "metrics", "metrics.ops.test", "metrics-svc", { name: "http" }),
];

describe("the controller's main and events context", () => {
  it("worker_processes 2, worker_rlimit_nofile the hard RLIMIT_NOFILE less 1024, multi_accept on, worker_connections 16384", () => {
    const tree = parseConfig(renderUser(THREE_SERVICES(), { nofileHardLimit: 20000 }).config);
    const main = simple(tree);
    expect(main.filter((l) => /^worker_/.test(l))).toEqual(["worker_processes 2;", "worker_rlimit_nofile 18976;"]);
    expect(simple(blocksNamed(tree, "events")[0]?.children)).toEqual(["multi_accept on;", "worker_connections 16384;"]);
  });

  const nofileCases: Array<[number | undefined, number]> = [
    [1_048_576, 1_047_552],
    [4096, 3072],
    [2048, 1024],
    [1500, 1024],
    [undefined, 1024],
  ];
  it.each(nofileCases)("a hard limit of %s files gives worker_rlimit_nofile %d (never under 1024)", (hard, expected) => {
    expect(simple(parseConfig(renderUser(THREE_SERVICES(), { nofileHardLimit: hard }).config)).filter((l) => l.startsWith("worker_rlimit_nofile"))).toEqual([
      `worker_rlimit_nofile ${expected};`,
    ]);
  });

  it("the hard limit is read as the shell's `ulimit -Hn` reports it for this process's children", async () => {
    const shell = spawnSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" });
    expect(shell.status).toBe(0);
    expect(await nofileHardLimit()).toBe(Number(shell.stdout.trim()));
  });

  it("workerConnections (tests only) replaces worker_connections and nothing else", () => {
    const tree = parseConfig(renderUser(THREE_SERVICES(), { workerConnections: 32 }).config);
    expect(simple(blocksNamed(tree, "events")[0]?.children)).toEqual(["multi_accept on;", "worker_connections 32;"]);
  });
});

describe("upstreams: one balancer, not one per Service", () => {
  const BALANCER = ["server 127.0.0.1:18080;", "keepalive 320;", "keepalive_time 1h;", "keepalive_timeout 60s;", "keepalive_requests 10000;"];

  it("three Services in two namespaces on one backend address: a single `upstream upstream_balancer` with the controller's keep-alive", () => {
    const http = httpBlock(renderUser(THREE_SERVICES()).config);
    const upstreams = blocksNamed(http, "upstream");
    expect(upstreams.map((u) => u.words)).toEqual([["upstream", "upstream_balancer"]]);
    expect(simple(upstreams[0]!.children)).toEqual(BALANCER);
  });

  it("every location proxies to it and still says which Ingress and Service it serves", () => {
    const http = httpBlock(renderUser(THREE_SERVICES()).config);
    const locations = (host: string) => {
      const server = blocksNamed(http, "server").find((s) => simple(s.children).includes(`server_name ${host};`));
      return blocksNamed(server?.children, "location").map((l) => simple(l.children));
    };
    const expected: Array<[string, string[]]> = [
      ["cart.shop.test", ['set $namespace "shop";', 'set $ingress_name "cart";', 'set $service_name "cart-svc";', 'set $service_port "8080";']],
      ["pay.shop.test", ['set $namespace "shop";', 'set $ingress_name "pay";', 'set $service_name "pay-svc";', 'set $service_port "80";']],
      ["metrics.ops.test", ['set $namespace "ops";', 'set $ingress_name "metrics";', 'set $service_name "metrics-svc";', 'set $service_port "http";']],
    ];
    for (const [host, sets] of expected) {
      const found = locations(host);
      expect(found, host).toHaveLength(1);
      expect(found[0]!.filter((l) => l.startsWith("set $")), host).toEqual(sets);
      expect(found[0]!.filter((l) => l.startsWith("proxy_pass")), host).toEqual(["proxy_pass http://upstream_balancer;"]);
    }
  });

  it("Services on different backend addresses get an upstream each, and each location the one of its address", () => {
    const http = httpBlock(renderUser(THREE_SERVICES(), { backendFor: (service) => (service === "pay-svc" ? "127.0.0.2:9000" : "127.0.0.1:18080") }).config);
    const upstreams = blocksNamed(http, "upstream");
    expect(upstreams).toHaveLength(2);
    const serverOf = new Map(upstreams.map((u) => [u.words[1]!, simple(u.children)[0]]));
    for (const [host, address] of [["cart.shop.test", "server 127.0.0.1:18080;"], ["pay.shop.test", "server 127.0.0.2:9000;"], ["metrics.ops.test", "server 127.0.0.1:18080;"]]) {
      const server = blocksNamed(http, "server").find((s) => simple(s.children).includes(`server_name ${host};`))!;
      const pass = simple(blocksNamed(server.children, "location")[0]!.children).find((l) => l.startsWith("proxy_pass"))!;
      expect(serverOf.get(/^proxy_pass http:\/\/(\S+);$/.exec(pass)![1]!), host).toBe(address);
    }
  });
});

describe("server_names_hash sized to the host names", () => {
  const sizes = (config: string) => simple(httpBlock(config)).filter((l) => l.startsWith("server_names_hash_"));

  // Worked by hand from nginx.go:504-535, :792-813: bucket = nextPowerOf2(8 + 8 + align8(longest + 2)),
  // max = nextPowerOf2(sum of the names' lengths), at least 1024; "_" counts as a name.
  it('the guide (test.localdev.me, 16 bytes): bucket 8+8+24 = 40 -> 64; names 17 bytes -> max stays 1024', () => {
    expect(sizes(render([guidePolicy()]).config).sort()).toEqual(["server_names_hash_bucket_size 64;", "server_names_hash_max_size 1024;"]);
  });

  it("an 82-byte host: bucket 8+8+88 = 104 -> 128", () => {
    const long = userIngress("shop", "long", `${"a".repeat(60)}.long.test.localdev.me`, "svc", { number: 80 });
    expect(sizes(renderUser([long]).config).sort()).toEqual(["server_names_hash_bucket_size 128;", "server_names_hash_max_size 1024;"]);
  });

  it("1,200 hosts of 19 bytes: 22,801 bytes of names -> max 32768", () => {
    const many = Array.from({ length: 1200 }, (_, i) => userIngress("shop", `s${i}`, `svc-${String(i).padStart(4, "0")}.scale.test`, `s${i}`, { number: 80 }));
    expect(sizes(renderUser(many).config).sort()).toEqual(["server_names_hash_bucket_size 64;", "server_names_hash_max_size 32768;"]);
  });
});

describe("nginx -t on the controller's sizes", () => {
  const at = (ingresses: V1Ingress[]) => (prefix: string, port: number) => renderUser(ingresses, { prefix, httpsPort: port });
  const without = (directive: string) => (config: string) => config.replace(new RegExp(`^\\s*${directive} .*;$`, "m"), "");

  it("an 82-byte host name loads; without the computed bucket size nginx refuses it", async () => {
    const long = [userIngress("shop", "long", `${"a".repeat(60)}.long.test.localdev.me`, "svc", { number: 80 })];
    const ok = await nginxTestOf(at(long));
    expect(ok.status, ok.output).toBe(0);
    expect(ok.output).not.toContain("server_names_hash");
    const bare = await nginxTestOf(at(long), without("server_names_hash_bucket_size"));
    expect(bare.status).not.toBe(0);
    expect(bare.output).toContain("could not build server_names_hash, you should increase server_names_hash_bucket_size");
  });

  it("1,200 hosts load without a word about the hash; with nginx's default max size it warns", async () => {
    const many = Array.from({ length: 1200 }, (_, i) => userIngress("shop", `s${i}`, `svc-${String(i).padStart(4, "0")}.scale.test`, `s${i}`, { number: 80 }));
    const ok = await nginxTestOf(at(many));
    expect(ok.status, ok.output).toBe(0);
    expect(ok.output).not.toContain("[warn]");
    const bare = await nginxTestOf(at(many), without("server_names_hash_max_size"));
    expect(bare.output).toContain("could not build optimal server_names_hash");
  });

  it("the balancer's keep-alive directives and the events block load (nginx 1.19.10+ for keepalive_time)", async () => {
    const r = await nginxTestOf(at(THREE_SERVICES()));
    expect(r.status, r.output).toBe(0);
    expect(r.output).not.toContain("[warn]");
  });
});
