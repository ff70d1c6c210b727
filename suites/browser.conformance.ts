// Suite `browser` (--browser): the guide's browser step in headless Chromium, the certificate
// chosen by the browser from its own NSS database (helpers/browser/chromium-nss.ts). One browser
// at a time; each check gets a fresh profile and leaves a screenshot in <report-dir>/browser/.
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { describe, test } from "vitest";
import { BROWSER_SUITE } from "../helpers/browser/browser-checks.ts";
import { browserUnavailable, makeProfile, SELECTION, visit } from "../helpers/browser/chromium-nss.ts";
import { CLIENT_P12_PASSWORD, clientP12 } from "../helpers/pki/pki-files.ts";
import { decodeClientCertHeader, judge } from "../helpers/probe/oracle.ts";
import type { Observation } from "../helpers/probe/probe.ts";
import { summarize, type RunContext, type RunCredential, type ScenarioRecord } from "../helpers/run/run-context.ts";
import { formatFailure, runContext, testName } from "./scenario-runner.ts";

const pemBlocks = (pem: string) => [...pem.matchAll(/-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/g)].map((m) => ({ type: m[1]!, der: Buffer.from(m[2]!.replace(/\s+/g, ""), "base64") }));

/** The credential as client.p12: its chain and the run's CA, in the format --keys-dir writes. */
async function p12Of(run: RunContext, credential: RunCredential, caPem: string): Promise<Uint8Array> {
  const [leaf, ...chain] = pemBlocks(credential.certChainPem).filter((b) => b.type === "CERTIFICATE");
  const key = pemBlocks(credential.keyPem).find((b) => b.type === "PRIVATE KEY");
  if (!leaf || !key) throw new Error("the credential has no certificate or no PKCS#8 key");
  return clientP12(leaf.der, [...chain.map((b) => b.der), new X509Certificate(caPem).raw], key.der, credential === run.credentials.client ? "authorized-client" : "mtls-conformance client");
}

const cnOf = (pem: string) => /(?:^|\n)CN=([^\n]*)/.exec(new X509Certificate(pem).subject)?.[1] ?? "";

export async function define(): Promise<void> {
  const run = await runContext(BROWSER_SUITE);
  const checks = run.checks.filter((c) => c.suite === BROWSER_SUITE);
  describe(BROWSER_SUITE, () => {
  for (const c of checks) {
    test(testName(c), async ({ task, skip }) => {
      task.meta.mtlsCheckId = c.id;
      task.meta.mtlsSuite = c.suite;
      if (c.skip) skip(c.skip);
      const unavailable = await browserUnavailable();
      if (unavailable) skip(unavailable);
      if (run.deployError) throw new Error(`not run: the ${run.target.kind} target did not come up: ${run.deployError}`);
      if (!run.reportDir) throw new Error("the run gave the browser suite no report directory for its screenshots");
      const endpoint = run.endpoints[c.host];
      if (!endpoint) throw new Error(`the target returned no https endpoint for ${c.host}`);
      const credential = c.credential ? run.credentials[c.credential] : undefined;
      if (c.credential && !credential) throw new Error(`the run made no credential ${c.credential}`);
      const trust = run.hostTrust[c.host] ?? run.trust;
      if (!trust.caPem) throw new Error(`no CA to trust for ${c.host}`);
      const profile = await makeProfile({
        serverCaPem: trust.caPem,
        clientIssuerCn: cnOf(trust.caPem),
        host: c.host,
        p12: credential ? { bytes: await p12Of(run, credential, trust.caPem), password: CLIENT_P12_PASSWORD } : undefined,
      });
      try {
        const screenshot = `browser/${c.name}.png`;
        const seen = await visit(profile, c.host, endpoint, join(run.reportDir, screenshot));
        let echo: Observation["echo"];
        if (seen.headers["x-echo"] === "mtls-conformance" && seen.body) {
          try {
            echo = JSON.parse(seen.body) as Observation["echo"];
          } catch {
            echo = undefined;
          }
        }
        const observation: Observation = {
          status: seen.status,
          responseHeaders: seen.headers,
          body: seen.body,
          echo,
          ...(seen.error ? { error: { code: /net::[A-Z_]+/.exec(seen.error)?.[0] ?? "BROWSER", message: seen.error } } : {}),
          sni: c.host,
          durationMs: seen.durationMs,
        };
        const verdict = judge(c.expect, observation, credential?.leafSha256);
        const certHeader = echo?.headers["ssl-client-cert"];
        const identities = profile.nssListing.split("\n").filter((l) => /\s(u,u,u|C,,)\s*$/.test(l)).map((l) => l.trim().replace(/\s{2,}/g, "  "));
        const record: ScenarioRecord = {
          id: c.id,
          credentialSha256: credential?.leafSha256,
          expected: c.expect,
          observed: {
            ...summarize(observation, certHeader === undefined ? undefined : decodeClientCertHeader(certHeader)),
            browser: { selection: SELECTION, screenshot, nssDatabase: identities, ...(seen.error ? { navigationError: seen.error } : {}) },
          },
          mismatches: verdict.mismatches,
          durationMs: seen.durationMs,
        };
        task.meta.mtls = record;
        if (!verdict.pass) throw new Error(formatFailure(c, verdict.mismatches));
      } finally {
        await profile.remove();
      }
    }, 60_000);
  }
});
}
