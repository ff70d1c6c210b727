// What each host of a live deployment presents: one TLS handshake per host, with its name as SNI
// and no client certificate, that reads the chain the server sends and nothing else (no request,
// no credential: read-only, cheap enough to run hourly). The inventory judges what it read.
import { connect, type DetailedPeerCertificate } from "node:tls";
import type { Endpoint } from "../targets/target.ts";

export type PresentedChain = { pems: string[] } | { error: string };

const pemOf = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`;

/** The certificates the server sent, leaf first (Node links them by issuerCertificate; a root links to itself). */
function sentChain(leaf: DetailedPeerCertificate): string[] {
  const pems: string[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = leaf; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    pems.push(pemOf(c.raw));
  }
  return pems;
}

/** One handshake as `host`: the chain it presented, or why none was read. */
export function presentedChain(endpoint: Endpoint, host: string, timeoutMs = 10_000): Promise<PresentedChain> {
  return new Promise((resolve) => {
    // Nothing is trusted or refused here: the chain is read as sent and judged afterwards.
    const socket = connect({ host: endpoint.address, port: endpoint.port, servername: host, rejectUnauthorized: false, timeout: timeoutMs });
    const done = (result: PresentedChain) => {
      socket.destroy();
      resolve(result);
    };
    socket.once("secureConnect", () => {
      const leaf = socket.getPeerCertificate(true);
      done(leaf?.raw ? { pems: sentChain(leaf) } : { error: "the server sent no certificate" });
    });
    socket.once("timeout", () => done({ error: `no handshake within ${timeoutMs / 1000} s` }));
    socket.once("error", (error: NodeJS.ErrnoException) => done({ error: `${error.code ?? "error"}: ${error.message}` }));
  });
}

/** Every host's presented chain, a few handshakes at a time. */
export async function surveyServers(input: { hosts: string[]; endpointFor: (host: string) => Endpoint; concurrency?: number; timeoutMs?: number }): Promise<Record<string, PresentedChain>> {
  const out: Record<string, PresentedChain> = {};
  const queue = [...input.hosts];
  const worker = async () => {
    for (let host = queue.shift(); host !== undefined; host = queue.shift()) out[host] = await presentedChain(input.endpointFor(host), host, input.timeoutMs);
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency ?? 8, queue.length) }, worker));
  return out;
}
