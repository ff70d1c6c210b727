// The lint rules: every rule triggers on the guide's objects as written and on none of the run's
// own objects; the SAN check agrees with OpenSSL.
import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { guideAsWritten } from "../../fixtures/guide-as-written.ts";
import { LINT_RULES, lintObjects } from "./lint.ts";
import { buildManifests, secretData } from "../manifests/manifests.ts";
import { type Pki } from "../pki/pki.ts";
import { sharedPki } from "../testing/shared-pki.ts";

let pki: Pki;
beforeAll(async () => {
  pki = await sharedPki([...new Set(catalogue.policies.map((p) => p.host))]);
});

describe("lint", () => {
  it("every rule triggers on the guide's objects as written, naming what it found", async () => {
    const results = lintObjects(await guideAsWritten(pki));
    for (const rule of LINT_RULES) expect(results[rule].triggered, rule).toBe(true);
    expect(results["ca-key-in-secret"].detail).toBe("CA secret default/ca-secret holds a private key (ca.key)");
    expect(results["deprecated-ingress-class-annotation"].detail).toContain("default/test-localhost");
  });

  it("no rule triggers on the objects this suite deploys", () => {
    const results = lintObjects(buildManifests({ namespace: "ns", policies: catalogue.policies, pki }));
    for (const rule of LINT_RULES) expect(results[rule].triggered, `${rule}: ${results[rule].detail}`).toBe(false);
  });

  it("OpenSSL agrees: the guide-style server certificate has no subjectAltName, the run's has one", async () => {
    const guide = await guideAsWritten(pki);
    const pem = secretData(guide.secrets.find((s) => s.metadata?.name === "self-tls")!)["tls.crt"]!;
    const ext = (certPem: string) => execFileSync("openssl", ["x509", "-noout", "-ext", "subjectAltName"], { input: certPem, encoding: "utf8" });
    expect(ext(pem)).not.toContain("DNS:");
    expect(ext(pki.server.certPem)).toContain("DNS:test.localdev.me");
  });
});
