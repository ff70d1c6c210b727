// What is in force: the trust anchors the Ingresses' CA Secrets hold, their CRLs, and the server
// certificate each host serves, with the guide's production checks over them (its "Production
// Considerations": a certificate inventory, expiry alerts 30 days ahead, revocation, a server
// certificate whose names match the domain). Controls: PCI DSS 4.0 4.2.1.1 (an inventory of trusted
// keys and certificates), NIST 800-53 IA-5(2). Read-only: nothing is probed.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createHash, X509Certificate } from "node:crypto";
import type { V1Ingress } from "@kubernetes/client-node";
import { resolveHosts } from "../model/hosts.ts";
import type { SecretView } from "../model/secrets.ts";

export const INVENTORY_CONTROLS = ["PCI-DSS-4.0:4.2.1.1", "NIST-800-53:IA-5(2)"];

export interface CertificateFacts {
  subject: string;
  issuer: string;
  serial: string;
  sha256: string;
  notBefore: string;
  notAfter: string;
  /** rsa 2048, ec P-256, ed25519. */
  key: string;
  signatureAlgorithm: string;
  /** DNS names of the subjectAltName (server certificates). */
  sans: string[];
}

export interface TrustAnchor extends CertificateFacts {
  /** namespace/name of the Secrets that hold it as ca.crt. */
  secrets: string[];
  ingresses: string[];
  hosts: string[];
}

export interface CrlFacts {
  secret: string;
  issuer: string;
  thisUpdate: string;
  nextUpdate?: string;
  entries: number;
}

export interface ServerCertificate extends CertificateFacts {
  host: string;
  secret: string;
  /** The certificates the Secret's tls.crt holds, leaf first. */
  chainLength: number;
  /** Each certificate of the chain issued by the next one. */
  chainContiguous: boolean;
  /** The leaf's names cover the host (RFC 6125: SAN dNSName, one-label wildcard). */
  coversHost: boolean;
}

export type ProductionRule = "expired" | "expiring" | "crl-stale" | "weak-key" | "weak-signature" | "name-mismatch" | "broken-chain";

export interface ProductionFinding {
  rule: ProductionRule;
  /** One sentence with MUST, as the catalogue writes its checks. */
  must: string;
  /** What it concerns: a trust anchor, a CRL, a host's server certificate. */
  subject: string;
  detail: string;
  /** In force now and expired or inside the warning window: `inventory` exits 1. */
  blocking: boolean;
}

export interface Inventory {
  generatedAt: string;
  expiryWarningDays: number;
  controls: string[];
  trustAnchors: TrustAnchor[];
  crls: CrlFacts[];
  serverCertificates: ServerCertificate[];
  findings: ProductionFinding[];
}

const DAY = 86_400_000;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function keyOf(cert: X509Certificate): string {
  const k = cert.publicKey;
  const d = k.asymmetricKeyDetails ?? {};
  if (k.asymmetricKeyType === "rsa" || k.asymmetricKeyType === "rsa-pss") return `rsa ${d.modulusLength ?? "?"}`;
  if (k.asymmetricKeyType === "ec") return `ec ${d.namedCurve ?? "?"}`;
  return String(k.asymmetricKeyType);
}

const factsCache = new Map<string, CertificateFacts>();

/** The facts of one PEM certificate (@peculiar/x509 for the signature algorithm, Node's for the rest); one parse per certificate. */
export function certificateFacts(pem: string): CertificateFacts {
  const known = factsCache.get(pem);
  if (known) return known;
  const facts = parseFacts(pem);
  if (factsCache.size > 10_000) factsCache.clear();
  factsCache.set(pem, facts);
  return facts;
}

function parseFacts(pem: string): CertificateFacts {
  const cert = new X509Certificate(pem);
  const peculiar = new x509.X509Certificate(pem);
  const sig = peculiar.signatureAlgorithm as { name?: string; hash?: { name?: string } };
  const sans = (cert.subjectAltName ?? "").split(/,\s*/).filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4));
  return {
    subject: cert.subject.replaceAll("\n", ", "),
    issuer: cert.issuer.replaceAll("\n", ", "),
    serial: cert.serialNumber,
    sha256: createHash("sha256").update(cert.raw).digest("hex"),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    key: keyOf(cert),
    signatureAlgorithm: [sig.hash?.name, sig.name].filter(Boolean).join(" with "),
    sans,
  };
}

/** RFC 6125 6.4: a dNSName matches the host, a wildcard one leftmost label. */
export function namesCover(sans: string[], host: string): boolean {
  const h = host.toLowerCase();
  return sans.some((n) => {
    const name = n.toLowerCase();
    if (name === h) return true;
    return name.startsWith("*.") && h.endsWith(name.slice(1)) && !h.slice(0, h.length - name.length + 1).includes(".");
  });
}

/** A CRL's facts (PEM X509 CRL). */
function crlFacts(secret: string, pem: string): CrlFacts {
  const crl = new x509.X509Crl(pem);
  return { secret, issuer: crl.issuer, thisUpdate: crl.thisUpdate.toISOString(), ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate.toISOString() } : {}), entries: crl.entries.length };
}

export interface InventoryInput {
  ingresses: V1Ingress[];
  secrets: SecretView[];
  ingressClass?: string;
  /** Ingresses naming no class taken as the controller's (default: when no ingressClass is given). */
  ignoreClass?: boolean;
  now?: Date;
  expiryWarningDays?: number;
}

export function buildInventory(input: InventoryInput): Inventory {
  const now = input.now ?? new Date();
  const warningDays = input.expiryWarningDays ?? 30;
  const lookup = (ns: string, name: string) => input.secrets.find((s) => s.namespace === ns && s.name === name);
  const model = resolveHosts(input.ingresses, lookup, { ingressClass: input.ingressClass, ignoreClass: input.ignoreClass ?? !input.ingressClass });
  const anchors = new Map<string, TrustAnchor>();
  const crls: CrlFacts[] = [];
  const findings: ProductionFinding[] = [];
  const add = (f: Omit<ProductionFinding, "blocking"> & { blocking?: boolean }) => findings.push({ blocking: false, ...f });

  // Trust anchors: every certificate of the ca.crt of each CA Secret an Ingress names.
  for (const ing of model.ingresses) {
    const ref = ing.auth?.secretRef;
    if (!ref) continue;
    const [ns, name] = ref.split("/") as [string, string];
    const secret = lookup(ns, name);
    const ca = secret?.data["ca.crt"];
    if (!ca) continue;
    for (const pem of ca.match(PEM_CERT) ?? []) {
      let facts: CertificateFacts;
      try {
        facts = certificateFacts(pem);
      } catch {
        continue;
      }
      const a = anchors.get(facts.sha256) ?? { ...facts, secrets: [], ingresses: [], hosts: [] };
      anchors.set(facts.sha256, a);
      if (!a.secrets.includes(ref)) a.secrets.push(ref);
      if (!a.ingresses.includes(ing.id)) a.ingresses.push(ing.id);
      for (const h of ing.hosts) if (!a.hosts.includes(h)) a.hosts.push(h);
    }
    const crl = secret.data["ca.crl"];
    if (crl && !crls.some((c) => c.secret === ref)) {
      try {
        crls.push(crlFacts(ref, crl));
      } catch {
        // An unparsable ca.crl is the catalogue's concern (the controller denies the host), not an inventory entry.
      }
    }
  }

  // The server certificate of each host: the Secret the model says the host serves.
  const servers: ServerCertificate[] = [];
  for (const h of model.hosts) {
    if (!h.certificate) continue;
    const [ns, name] = h.certificate.secret.split("/") as [string, string];
    const pems = lookup(ns, name)?.data["tls.crt"]?.match(PEM_CERT) ?? [];
    if (!pems.length) continue;
    let chain: X509Certificate[];
    try {
      chain = pems.map((p) => new X509Certificate(p));
    } catch {
      continue;
    }
    const facts = certificateFacts(pems[0]!);
    const chainContiguous = chain.every((c, i) => i === chain.length - 1 || c.checkIssued(chain[i + 1]!));
    servers.push({ ...facts, host: h.host, secret: h.certificate.secret, chainLength: chain.length, chainContiguous, coversHost: namesCover(facts.sans, h.host) });
  }

  servers.sort((a, b) => a.host.localeCompare(b.host));

  // The production checks.
  const validity = (what: string, c: CertificateFacts) => {
    const left = (new Date(c.notAfter).getTime() - now.getTime()) / DAY;
    if (left < 0) add({ rule: "expired", subject: what, must: `${what} MUST NOT be expired.`, detail: `expired ${c.notAfter} (${Math.ceil(-left)} day(s) ago)`, blocking: true });
    else if (left <= warningDays) add({ rule: "expiring", subject: what, must: `${what} MUST be renewed before it expires (alert ${warningDays} days ahead).`, detail: `expires ${c.notAfter}, in ${Math.floor(left)} day(s)`, blocking: true });
    const rsa = /^rsa (\d+)$/.exec(c.key);
    if (rsa && Number(rsa[1]) < 2048) add({ rule: "weak-key", subject: what, must: `${what} MUST have a key of at least 2048 bits (RSA).`, detail: `${c.key}` });
    if (/sha-?1\b/i.test(c.signatureAlgorithm)) add({ rule: "weak-signature", subject: what, must: `${what} MUST NOT be signed with SHA-1.`, detail: c.signatureAlgorithm });
  };
  for (const a of anchors.values()) validity(`trust anchor ${a.subject} (sha256 ${a.sha256.slice(0, 16)}…, in ${a.secrets.join(", ")})`, a);
  for (const c of crls) {
    if (!c.nextUpdate) continue;
    const left = (new Date(c.nextUpdate).getTime() - now.getTime()) / DAY;
    const what = `the CRL of ${c.secret} (${c.issuer})`;
    if (left < 0) add({ rule: "crl-stale", subject: what, must: `${what} MUST be renewed before its nextUpdate.`, detail: `nextUpdate ${c.nextUpdate} has passed: OpenSSL refuses every client with it`, blocking: true });
    else if (left <= warningDays) add({ rule: "crl-stale", subject: what, must: `${what} MUST be renewed before its nextUpdate.`, detail: `nextUpdate ${c.nextUpdate}, in ${Math.floor(left)} day(s)`, blocking: true });
  }
  // A certificate's validity once, whatever number of hosts serve it; names and chain per host.
  const bySha = new Map<string, ServerCertificate[]>();
  for (const s of servers) bySha.set(s.sha256, [...(bySha.get(s.sha256) ?? []), s]);
  for (const [, same] of bySha) validity(`the server certificate ${same[0]!.subject} (sha256 ${same[0]!.sha256.slice(0, 16)}…) of ${same.map((s) => s.host).join(", ")}`, same[0]!);
  for (const s of servers) {
    const what = `the server certificate of ${s.host} (${s.secret})`;
    if (!s.coversHost) add({ rule: "name-mismatch", subject: what, must: `The server certificate of ${s.host} MUST name ${s.host} in its subjectAltName.`, detail: `its names: ${s.sans.join(", ") || "none (no subjectAltName)"}` });
    if (!s.chainContiguous) add({ rule: "broken-chain", subject: what, must: `The chain ${s.host} serves MUST be in order, each certificate issued by the next.`, detail: `${s.chainLength} certificate(s), not each issued by the next` });
  }

  return {
    generatedAt: now.toISOString(),
    expiryWarningDays: warningDays,
    controls: INVENTORY_CONTROLS,
    trustAnchors: [...anchors.values()],
    crls,
    serverCertificates: servers,
    findings,
  };
}

/** The inventory for people: the anchors, CRLs and server certificates, then the findings. */
export function renderInventory(inv: Inventory): string {
  const out: string[] = [`trust anchors in force (${inv.trustAnchors.length}):`];
  for (const a of inv.trustAnchors) out.push(`  ${a.subject}  sha256 ${a.sha256}`, `    issuer ${a.issuer}, serial ${a.serial}, ${a.key}, ${a.signatureAlgorithm}, valid ${a.notBefore} to ${a.notAfter}`, `    in ${a.secrets.join(", ")}; trusted by ${a.ingresses.join(", ")} for ${a.hosts.join(", ")}`);
  out.push(`CRLs (${inv.crls.length}):`);
  for (const c of inv.crls) out.push(`  ${c.secret}: ${c.issuer}, thisUpdate ${c.thisUpdate}${c.nextUpdate ? `, nextUpdate ${c.nextUpdate}` : ""}, ${c.entries} entr${c.entries === 1 ? "y" : "ies"}`);
  out.push(`server certificates (${inv.serverCertificates.length}):`);
  for (const s of inv.serverCertificates) out.push(`  ${s.host}: ${s.subject}  sha256 ${s.sha256}`, `    names ${s.sans.join(", ") || "none"}${s.coversHost ? "" : " (not this host)"}; valid to ${s.notAfter}; chain of ${s.chainLength}${s.chainContiguous ? "" : " (not in order)"}; from ${s.secret}`);
  out.push(`findings (${inv.findings.length}; expiry warning ${inv.expiryWarningDays} days; controls ${inv.controls.join(", ")}):`);
  for (const f of inv.findings) out.push(`  ${f.blocking ? "FAIL" : "FIND"} ${f.rule}: ${f.detail}`, `    ${f.must}`);
  return out.join("\n") + "\n";
}

