// Until the controller has synced a host's TLS secret it serves its "Fake Certificate":
// scenarios must not start before every host serves the run's certificate.
import { connect } from "node:tls";
import type { Endpoint } from "./target.ts";
import { waitFor } from "../support/wait.ts";

export interface PresentedCertificate {
  sha256: string;
  subject: string;
}

/** The certificate an endpoint presents for `servername` (no verification: we only look). */
export function presentedCertificate(endpoint: Endpoint, servername: string, timeoutMs = 5000): Promise<PresentedCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: endpoint.address, port: endpoint.port, servername, rejectUnauthorized: false, timeout: timeoutMs });
    socket.once("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      if (!cert?.fingerprint256) return reject(new Error("no certificate presented"));
      resolve({ sha256: cert.fingerprint256.replaceAll(":", "").toLowerCase(), subject: String(cert.subject?.CN ?? "") });
    });
    socket.once("timeout", () => {
      socket.destroy();
      reject(new Error(`no TLS handshake within ${timeoutMs} ms`));
    });
    // A client certificate request is not an error here: the handshake completes without one.
    socket.once("error", reject);
  });
}

/** Waits until every host is served with its certificate (host -> SHA-256, or one SHA-256 for all `hosts`). */
export async function waitForHostCertificates(
  endpointFor: (host: string) => Endpoint,
  hosts: string[] | Record<string, string>,
  expected: string | undefined,
  timeoutMs: number,
  log?: (line: string) => void,
): Promise<void> {
  const wanted: Record<string, string> = Array.isArray(hosts) ? Object.fromEntries(hosts.map((h) => [h, expected!])) : hosts;
  for (const [host, expectedSha256] of Object.entries(wanted)) {
    await waitFor(
      `${host} to serve the run's server certificate`,
      async () => {
        const seen = await presentedCertificate(endpointFor(host), host);
        return seen.sha256 === expectedSha256
          ? { done: true, value: undefined }
          : { done: false, observation: `certificate "${seen.subject}" sha256 ${seen.sha256.slice(0, 16)}…` };
      },
      { timeoutMs, intervalMs: 250, maxIntervalMs: 2000, onAttempt: (n, o) => n % 5 === 0 && log?.(`  still waiting for ${host}: ${o}`) },
    );
  }
}
