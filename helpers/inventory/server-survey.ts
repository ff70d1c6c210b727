// What each host of a live deployment presents: one TLS handshake per host, with its name as SNI
// and no client certificate, that reads the chain the server sends and nothing else (no request,
// no credential: read-only, cheap enough to run hourly). The inventory judges what it read.
import { X509Certificate } from "node:crypto";
import { connect, type DetailedPeerCertificate } from "node:tls";
import type { Endpoint } from "../targets/target.ts";
import { buildInventory, hostsWithCertificate, type Inventory, type InventoryInput } from "./inventory.ts";

export type PresentedChain = { pems: string[] } | { error: string };

/** The certificates the server sent, leaf first (Node links them by issuerCertificate; a root links to itself). */
function sentChain(leaf: DetailedPeerCertificate): string[] {
  const pems: string[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = leaf; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    pems.push(new X509Certificate(c.raw).toString());
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

/**
 * The inventory of a live deployment: each host with a tls: entry (those `probed`, where given)
 * read in a handshake, its presented chain judged instead of the declared one.
 */
export async function surveyedInventory(input: InventoryInput, endpointFor: (host: string) => Endpoint, probed?: Set<string>): Promise<{ inventory: Inventory; hosts: number; surveyed: number }> {
  const hosts = hostsWithCertificate(input).filter((h) => !probed || probed.has(h));
  const presented = await surveyServers({ hosts, endpointFor });
  return { inventory: buildInventory({ ...input, presented }), hosts: hosts.length, surveyed: Object.values(presented).filter((p) => "pems" in p).length };
}
