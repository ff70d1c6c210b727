// What is in force: the trust anchors the Ingresses' CA Secrets hold, their CRLs, and the server
// certificate each host serves, with the guide's production checks over them (its "Production
// Considerations": a certificate inventory, expiry alerts 30 days ahead, revocation, a server
// certificate whose names match the domain). Controls: PCI DSS 4.0 4.2.1.1 (an inventory of trusted
// keys and certificates), NIST 800-53 IA-5(2). Read-only: nothing is probed.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createHash, X509Certificate } from "node:crypto";
import { rootCertificates } from "node:tls";
import type { V1Ingress } from "@kubernetes/client-node";
import { resolveHosts } from "../model/hosts.ts";
import type { SecretView } from "../model/secrets.ts";

export const INVENTORY_CONTROLS = ["PCI-DSS-4.0:4.2.1.1", "NIST-800-53:IA-5(2)"];
/** The suite (and report group) of the production checks where they are checks of a run. */
export const INVENTORY_SUITE = "inventory";

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

/** One certificate of a chain beyond its leaf. */
export interface ChainLink {
  subject: string;
  issuer: string;
  sha256: string;
  notAfter: string;
}

export interface ServerCertificate extends CertificateFacts {
  host: string;
  /**
   * declared: the tls.crt of the Secret the model says the host serves (the run deployed it, or
   * nothing probed it); presented: what the host sent in a TLS handshake (a live deployment).
   */
  source: "declared" | "presented";
  /** The Secret (namespace/name) the host's tls: entry names. */
  secret?: string;
  /** The certificates after the leaf, as the Secret holds them or the host sent them. */
  chain: ChainLink[];
  chainLength: number;
  /** Each certificate of the chain issued by the next one. */
  chainContiguous: boolean;
  /**
   * The chain leads from the leaf to a trust anchor (the server CA given, or a root Node trusts)
   * with the certificates it holds: true; it does not: false; no anchor known to judge: absent.
   */
  chainComplete?: boolean;
  /** How the chain ends, in words. */
  chainDetail: string;
  /** The leaf's names cover the host (RFC 6125: SAN dNSName, one-label wildcard). */
  coversHost: boolean;
  /** SHA-256 of the leaf's SubjectPublicKeyInfo, base64: the pin curl's --pinnedpubkey takes (sha256//…). */
  publicKeySha256: string;
}

/** A host a live survey could not read a certificate from. */
export interface SurveyProblem {
  host: string;
  error: string;
}

/** The production checks: each a check of its own, per certificate, CRL or host. */
export type ProductionCheckName = "validity" | "crl-freshness" | "strength" | "server-name" | "chain";
export type ProductionRule = "expired" | "expiring" | "crl-stale" | "weak-key" | "weak-signature" | "name-mismatch" | "broken-chain";

export interface ProductionCheck {
  /** Stable: inventory/<what>/<which>#<check>, e.g. inventory/host/api.shop.test#server-name. */
  id: string;
  name: ProductionCheckName;
  /** One sentence with MUST, as the catalogue writes its checks. */
  must: string;
  /** What it concerns: a trust anchor, a CRL, a host's server certificate. */
  subject: string;
  /** pass; finding (weak, or ending within the warning window); fail (expired, a host not named, a chain that does not reach its anchor); skip (nothing to judge it by). */
  verdict: "pass" | "finding" | "fail" | "skip";
  detail: string;
  /** The host it concerns (server-name, chain). */
  host?: string;
  /** What is wrong, where something is. */
  rule?: ProductionRule;
  /** In force now and expired or inside the warning window: `inventory` exits 1. */
  blocking: boolean;
}

/** Where each production check's rule comes from (the standards it restates; for a stale CRL also what the catalogue observes). */
export const PRODUCTION_SOURCES: Record<ProductionCheckName, { explanation: string; sources: string[] }> = {
  validity: { explanation: "a certificate outside its validity fails path validation: clients (or the controller, for a trust anchor) refuse it", sources: ["RFC 5280 §4.1.2.5 (validity)", "RFC 5280 §6.1.3 (path validation checks each certificate's validity)", "PCI DSS 4.0 4.2.1.1 (inventory of trusted keys and certificates)"] },
  "crl-freshness": { explanation: "a CRL past its nextUpdate is expired: OpenSSL refuses every client checked against it", sources: ["RFC 5280 §5.1.2.5 (nextUpdate)", "observed on nginx by the catalogue's MTLS-CRL-004 expired-crl-rejects-all"] },
  strength: { explanation: "RSA keys under 2048 bits and SHA-1 signatures are disallowed for signatures", sources: ["NIST SP 800-131A Rev. 2 §3 (digital signatures: under 112 bits of security disallowed)", "NIST SP 800-131A Rev. 2 §9 (SHA-1 disallowed for signature generation)"] },
  "server-name": { explanation: "a client refuses a server certificate whose names do not match the host it asked for", sources: ["RFC 9110 §4.3.4 (https certificate verification)", "RFC 6125 §6.4 (matching the DNS domain name)"] },
  chain: { explanation: "the server sends the chain from its certificate towards the trust anchor; a client missing an intermediate cannot build the path", sources: ["RFC 8446 §4.4.2 (certificate_list: each certifies the one before)", "RFC 5280 §6.1 (path validation)"] },
};

/** A production check that did not pass (the inventory's findings, as earlier reports had them). */
export interface ProductionFinding {
  rule: ProductionRule;
  check: string;
  must: string;
  subject: string;
  detail: string;
  blocking: boolean;
}

export interface Inventory {
  generatedAt: string;
  expiryWarningDays: number;
  controls: string[];
  trustAnchors: TrustAnchor[];
  crls: CrlFacts[];
  serverCertificates: ServerCertificate[];
  /** Hosts a live survey read no certificate from. */
  surveyProblems?: SurveyProblem[];
  /** Hosts whose tls: entry names a Secret the objects do not hold (a run deploys a certificate of its own there). */
  serverSecretsAbsent: Array<{ host: string; secret: string }>;
  checks: ProductionCheck[];
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

const issuedBy = (cert: X509Certificate, issuer: X509Certificate) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
const selfSigned = (cert: X509Certificate) => issuedBy(cert, cert);
const fingerprintOf = (cert: X509Certificate) => cert.fingerprint256.replaceAll(":", "").toLowerCase();

/** Anchors as Node certificates, parsed once per bundle. */
const anchorCache = new Map<string, X509Certificate[]>();
function anchorsOf(pem: string): X509Certificate[] {
  let list = anchorCache.get(pem);
  if (!list) {
    list = (pem.match(PEM_CERT) ?? []).flatMap((p) => {
      try {
        return [new X509Certificate(p)];
      } catch {
        return [];
      }
    });
    anchorCache.set(pem, list);
  }
  return list;
}

/**
 * Whether `chain` (leaf first) leads to one of `anchors` with the certificates it holds, as a TLS
 * client builds the path (RFC 5280 6.1 without the dates: expiry is a check of its own). Where it
 * does not, `last` is the certificate the path stops at and `why` says why: its issuer is neither in
 * the chain nor an anchor (a missing intermediate), or it is self-signed and no anchor.
 */
export function chainReach(chain: X509Certificate[], anchors: X509Certificate[]): { complete: true; anchor: string } | { complete: false; last: string; why: string } {
  const name = (c: X509Certificate) => c.subject.replaceAll("\n", ", ");
  const anchorSha = new Set(anchors.map(fingerprintOf));
  const seen = new Set<string>();
  for (let current = chain[0]!; ; ) {
    const sha = fingerprintOf(current);
    if (anchorSha.has(sha)) return { complete: true, anchor: name(current) };
    const anchor = anchors.find((a) => issuedBy(current, a));
    if (anchor) return { complete: true, anchor: name(anchor) };
    if (selfSigned(current)) return { complete: false, last: `the self-signed ${name(current)}`, why: "which is not a trust anchor" };
    if (seen.has(sha)) return { complete: false, last: name(current), why: "which the chain certifies in a loop" };
    const next = chain.find((c) => c !== current && issuedBy(current, c));
    if (!next) return { complete: false, last: `${name(current)}, issued by ${current.issuer.replaceAll("\n", ", ")}`, why: "which the chain does not hold and is not a trust anchor: an intermediate is missing" };
    seen.add(sha);
    current = next;
  }
}

/** The server certificate record of one chain (leaf first), judged against `anchors` where some are known. */
function serverRecord(host: string, pems: string[], source: ServerCertificate["source"], anchors: X509Certificate[] | undefined, secret?: string): ServerCertificate {
  const chain = pems.map((p) => new X509Certificate(p));
  const facts = certificateFacts(pems[0]!);
  const chainContiguous = chain.every((c, i) => i === chain.length - 1 || c.checkIssued(chain[i + 1]!));
  // Without a server CA, the roots Node trusts are the anchors: a public chain is judged, a private one is not.
  const reach = chainReach(chain, anchors ?? anchorsOf(rootCertificates.join("\n")));
  const judged = anchors !== undefined || reach.complete;
  return {
    ...facts,
    host,
    source,
    ...(secret ? { secret } : {}),
    chain: pems.slice(1).map((p) => {
      const f = certificateFacts(p);
      return { subject: f.subject, issuer: f.issuer, sha256: f.sha256, notAfter: f.notAfter };
    }),
    chainLength: chain.length,
    chainContiguous,
    ...(judged ? { chainComplete: reach.complete } : {}),
    chainDetail: reach.complete ? `reaches the trust anchor ${reach.anchor}` : judged ? `ends at ${reach.last}, ${reach.why}` : `ends at ${reach.last}; not judged: no trust anchor known for it`,
    coversHost: namesCover(facts.sans, host),
    publicKeySha256: createHash("sha256").update(chain[0]!.publicKey.export({ type: "spki", format: "der" })).digest("base64"),
  };
}

export interface InventoryInput {
  ingresses: V1Ingress[];
  secrets: SecretView[];
  ingressClass?: string;
  /** Ingresses naming no class taken as the controller's (default: when no ingressClass is given). */
  ignoreClass?: boolean;
  now?: Date;
  expiryWarningDays?: number;
  /** PEM of the CA(s) the hosts' server certificates should lead to (the server CA given to the run). */
  serverAnchors?: string;
  /** host -> the chain it presented in a handshake (a live deployment); where given, it replaces the declared one. */
  presented?: Record<string, { pems: string[] } | { error: string }>;
}

/** The hosts of the objects that serve a certificate of their own (a tls: entry names them). */
export function hostsWithCertificate(input: Pick<InventoryInput, "ingresses" | "secrets" | "ingressClass" | "ignoreClass">): string[] {
  const lookup = (ns: string, name: string) => input.secrets.find((s) => s.namespace === ns && s.name === name);
  return resolveHosts(input.ingresses, lookup, { ingressClass: input.ingressClass, ignoreClass: input.ignoreClass ?? !input.ingressClass }).hosts.filter((h) => h.certificate).map((h) => h.host);
}

export function buildInventory(input: InventoryInput): Inventory {
  const now = input.now ?? new Date();
  const warningDays = input.expiryWarningDays ?? 30;
  const lookup = (ns: string, name: string) => input.secrets.find((s) => s.namespace === ns && s.name === name);
  const model = resolveHosts(input.ingresses, lookup, { ingressClass: input.ingressClass, ignoreClass: input.ignoreClass ?? !input.ingressClass });
  const anchors = new Map<string, TrustAnchor>();
  const crls: CrlFacts[] = [];

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

  // The server certificate of each host with a tls: entry: what it presented where a survey read
  // it, else the Secret the model says the host serves.
  const serverAnchors = input.serverAnchors ? anchorsOf(input.serverAnchors) : undefined;
  const servers: ServerCertificate[] = [];
  const surveyProblems: SurveyProblem[] = [];
  const absent: Inventory["serverSecretsAbsent"] = [];
  for (const h of model.hosts) {
    if (!h.certificate) continue;
    const seen = input.presented?.[h.host];
    if (seen && "error" in seen) {
      surveyProblems.push({ host: h.host, error: seen.error });
      continue;
    }
    const [ns, name] = h.certificate.secret.split("/") as [string, string];
    const pems = seen ? seen.pems : (lookup(ns, name)?.data["tls.crt"]?.match(PEM_CERT) ?? []);
    if (!pems.length) {
      absent.push({ host: h.host, secret: h.certificate.secret });
      continue;
    }
    try {
      servers.push(serverRecord(h.host, pems, seen ? "presented" : "declared", serverAnchors, h.certificate.secret));
    } catch {
      continue;
    }
  }
  servers.sort((a, b) => a.host.localeCompare(b.host));
  const checks = productionChecks([...anchors.values()], crls, servers, now, warningDays);
  return {
    generatedAt: now.toISOString(),
    expiryWarningDays: warningDays,
    controls: INVENTORY_CONTROLS,
    trustAnchors: [...anchors.values()],
    crls,
    serverCertificates: servers,
    ...(input.presented ? { surveyProblems } : {}),
    serverSecretsAbsent: absent,
    checks,
    findings: checks.flatMap((c) => (c.rule ? [{ rule: c.rule, check: c.id, must: c.must, subject: c.subject, detail: c.detail, blocking: c.blocking }] : [])),
  };
}

/** The guide's production checks over what is in force: each certificate, CRL and host judged once. */
function productionChecks(anchors: TrustAnchor[], crls: CrlFacts[], servers: ServerCertificate[], now: Date, warningDays: number): ProductionCheck[] {
  const checks: ProductionCheck[] = [];
  const certificateChecks = (idBase: string, what: string, c: CertificateFacts) => {
    const left = (new Date(c.notAfter).getTime() - now.getTime()) / DAY;
    const validity = { id: `${idBase}#validity`, name: "validity" as const, subject: what, must: `${what} MUST be valid and renewed before it expires (alert ${warningDays} days ahead).` };
    if (left < 0) checks.push({ ...validity, verdict: "fail", rule: "expired", detail: `expired ${c.notAfter} (${Math.ceil(-left)} day(s) ago)`, blocking: true });
    else if (left <= warningDays) checks.push({ ...validity, verdict: "finding", rule: "expiring", detail: `expires ${c.notAfter}, in ${Math.floor(left)} day(s)`, blocking: true });
    else checks.push({ ...validity, verdict: "pass", detail: `valid to ${c.notAfter} (${Math.floor(left)} days)`, blocking: false });
    const rsa = /^rsa (\d+)$/.exec(c.key);
    const weakKey = rsa && Number(rsa[1]) < 2048;
    const weakSignature = /sha-?1\b/i.test(c.signatureAlgorithm);
    const strength = { id: `${idBase}#strength`, name: "strength" as const, subject: what, must: `${what} MUST have a key of at least 2048 bits (RSA) and MUST NOT be signed with SHA-1.`, blocking: false };
    if (weakKey || weakSignature) checks.push({ ...strength, verdict: "finding", rule: weakKey ? "weak-key" : "weak-signature", detail: [weakKey ? c.key : "", weakSignature ? c.signatureAlgorithm : ""].filter(Boolean).join("; ") });
    else checks.push({ ...strength, verdict: "pass", detail: `${c.key}, ${c.signatureAlgorithm}` });
  };
  for (const a of anchors) certificateChecks(`inventory/trust-anchor/${a.sha256.slice(0, 16)}`, `The trust anchor ${a.subject} (sha256 ${a.sha256.slice(0, 16)}…, in ${a.secrets.join(", ")})`, a);
  for (const c of crls) {
    const what = `The CRL of ${c.secret} (${c.issuer})`;
    const base = { id: `inventory/crl/${c.secret}#crl-freshness`, name: "crl-freshness" as const, subject: what, must: `${what} MUST be renewed before its nextUpdate (alert ${warningDays} days ahead).` };
    if (!c.nextUpdate) {
      checks.push({ ...base, verdict: "pass", detail: "no nextUpdate: it does not go stale", blocking: false });
      continue;
    }
    const left = (new Date(c.nextUpdate).getTime() - now.getTime()) / DAY;
    if (left < 0) checks.push({ ...base, verdict: "fail", rule: "crl-stale", detail: `nextUpdate ${c.nextUpdate} has passed: OpenSSL refuses every client with it`, blocking: true });
    else if (left <= warningDays) checks.push({ ...base, verdict: "finding", rule: "crl-stale", detail: `nextUpdate ${c.nextUpdate}, in ${Math.floor(left)} day(s)`, blocking: true });
    else checks.push({ ...base, verdict: "pass", detail: `nextUpdate ${c.nextUpdate} (${Math.floor(left)} days)`, blocking: false });
  }
  // A certificate's validity and strength once, whatever number of hosts serve it; names and chain per host.
  const bySha = new Map<string, ServerCertificate[]>();
  for (const s of servers) bySha.set(s.sha256, [...(bySha.get(s.sha256) ?? []), s]);
  for (const [sha, same] of bySha) certificateChecks(`inventory/server-certificate/${sha.slice(0, 16)}`, `The server certificate ${same[0]!.subject} (sha256 ${sha.slice(0, 16)}…) of ${same.map((s) => s.host).join(", ")}`, same[0]!);
  for (const s of servers) {
    const what = `the server certificate ${s.source === "presented" ? `${s.host} presented` : `of ${s.host} (${s.secret})`}`;
    const names = { id: `inventory/host/${s.host}#server-name`, name: "server-name" as const, subject: what, host: s.host, must: `The server certificate of ${s.host} MUST name ${s.host} in its subjectAltName.`, blocking: false };
    if (s.coversHost) checks.push({ ...names, verdict: "pass", detail: `its names: ${s.sans.join(", ")}` });
    else checks.push({ ...names, verdict: "fail", rule: "name-mismatch", detail: `its names: ${s.sans.join(", ") || "none (no subjectAltName)"}` });
    const chain = { id: `inventory/host/${s.host}#chain`, name: "chain" as const, subject: what, host: s.host, must: `The chain ${s.host} serves MUST lead from its certificate to the trust anchor with every intermediate, each certificate issued by the next.`, blocking: false };
    const count = `${s.chainLength} certificate(s)`;
    if (s.chainComplete === false) checks.push({ ...chain, verdict: "fail", rule: "broken-chain", detail: `${count}: ${s.chainDetail}` });
    else if (!s.chainContiguous) checks.push({ ...chain, verdict: "finding", rule: "broken-chain", detail: `${count}, not each issued by the next${s.chainComplete ? ` (it ${s.chainDetail})` : ""}` });
    else if (s.chainComplete === undefined) checks.push({ ...chain, verdict: "skip", detail: `${count}: ${s.chainDetail}` });
    else checks.push({ ...chain, verdict: "pass", detail: `${count}: ${s.chainDetail}` });
  }
  return checks;
}

/** The inventories of the shards of one input as one: each anchor, CRL, host and check once. */
export function mergeInventories(parts: Inventory[]): Inventory | undefined {
  const [first] = parts;
  if (!first) return undefined;
  const anchors = new Map<string, TrustAnchor>();
  for (const a of parts.flatMap((p) => p.trustAnchors)) {
    const known = anchors.get(a.sha256);
    if (!known) anchors.set(a.sha256, structuredClone(a));
    else for (const k of ["secrets", "ingresses", "hosts"] as const) known[k] = [...new Set([...known[k], ...a[k]])];
  }
  const once = <T>(list: T[], key: (x: T) => string) => [...new Map(list.map((x) => [key(x), x] as const)).values()];
  const absent = parts.flatMap((p) => p.serverSecretsAbsent ?? []);
  const problems = parts.flatMap((p) => p.surveyProblems ?? []);
  return {
    generatedAt: first.generatedAt,
    expiryWarningDays: first.expiryWarningDays,
    controls: first.controls,
    trustAnchors: [...anchors.values()],
    crls: once(parts.flatMap((p) => p.crls), (c) => c.secret),
    serverCertificates: once(parts.flatMap((p) => p.serverCertificates), (c) => c.host).sort((a, b) => a.host.localeCompare(b.host)),
    ...(parts.some((p) => p.surveyProblems) ? { surveyProblems: once(problems, (p) => p.host) } : {}),
    serverSecretsAbsent: once(absent, (a) => a.host),
    checks: once(parts.flatMap((p) => p.checks ?? []), (c) => c.id),
    findings: once(parts.flatMap((p) => p.findings), (f) => `${f.check}|${f.rule}|${f.subject}`),
  };
}

/** The inventory for people: the anchors, CRLs and server certificates, then the production checks that did not pass. */
export function renderInventory(inv: Inventory): string {
  const out: string[] = [`trust anchors in force (${inv.trustAnchors.length}):`];
  for (const a of inv.trustAnchors) out.push(`  ${a.subject}  sha256 ${a.sha256}`, `    issuer ${a.issuer}, serial ${a.serial}, ${a.key}, ${a.signatureAlgorithm}, valid ${a.notBefore} to ${a.notAfter}`, `    in ${a.secrets.join(", ")}; trusted by ${a.ingresses.join(", ")} for ${a.hosts.join(", ")}`);
  out.push(`CRLs (${inv.crls.length}):`);
  for (const c of inv.crls) out.push(`  ${c.secret}: ${c.issuer}, thisUpdate ${c.thisUpdate}${c.nextUpdate ? `, nextUpdate ${c.nextUpdate}` : ""}, ${c.entries} entr${c.entries === 1 ? "y" : "ies"}`);
  out.push(`server certificates (${inv.serverCertificates.length}):`);
  for (const s of inv.serverCertificates) {
    out.push(
      `  ${s.host} (${s.source === "presented" ? "presented in a handshake" : `declared in ${s.secret}`}): ${s.subject}  sha256 ${s.sha256}`,
      `    names ${s.sans.join(", ") || "none"}${s.coversHost ? "" : " (not this host)"}; valid ${s.notBefore} to ${s.notAfter}; ${s.key}, ${s.signatureAlgorithm}`,
      `    chain of ${s.chainLength}${s.chainContiguous ? "" : " (not in order)"}: ${s.chainDetail}`,
    );
    for (const c of s.chain) out.push(`      then ${c.subject}  sha256 ${c.sha256}, valid to ${c.notAfter}`);
  }
  for (const p of inv.surveyProblems ?? []) out.push(`  ${p.host}: no certificate read (${p.error})`);
  for (const a of inv.serverSecretsAbsent) out.push(`  ${a.host}: its tls: entry names ${a.secret}, which is not among the objects (a run deploys a certificate of its own there)`);
  const passed = inv.checks.filter((c) => c.verdict === "pass").length;
  const skipped = inv.checks.filter((c) => c.verdict === "skip").length;
  out.push(`production checks (${inv.checks.length}: ${passed} pass, ${inv.findings.length} not${skipped ? `, ${skipped} not judged` : ""}; expiry warning ${inv.expiryWarningDays} days; controls ${inv.controls.join(", ")}):`);
  for (const c of inv.checks.filter((x) => x.verdict !== "pass")) out.push(`  ${c.verdict === "fail" ? "FAIL" : c.verdict === "skip" ? "SKIP" : "FIND"} ${c.rule ?? c.name}: ${c.detail}`, `    ${c.must}`);
  return out.join("\n") + "\n";
}
