// Client credentials made to order for generated checks: a check asks for "a valid client of the CA
// in prod/shop-ca with 3 intermediates", "an impostor of that CA", "a self-signed certificate"...
// and gets the same credential whenever it asks the same. Each CA is the run's own (or the
// deployment's, when its key is given); intermediate chains are built once per CA and depth.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { certificatesIn, traitsOf, type CertificateInput } from "../model/credential-traits.ts";
import type { CredentialTraits } from "../model/outcome.ts";
import { CLIENT_AUTH, DAY, generateKeys, HOUR, certificateFacts, issue, SERVER_AUTH, subjectNameOf, subjectOf, type IssuedCert } from "./pki.ts";

export type Validity = "valid" | "expired" | "not-yet-valid";

export type CredentialSpec =
  | {
      kind: "issued";
      /** Id of the CA (CaEntry.id) at the top of the chain. */
      ca: string;
      /** Certificate-order JSON name, or a string as @peculiar/x509 reads it ("CN=a, O=b"). */
      subject: x509.JsonName | string;
      intermediates?: number;
      /** The leaf is sent without the intermediates it needs. */
      omitIntermediates?: boolean;
      validity?: Validity;
      eku?: "clientAuth" | "serverAuth";
    }
  | { kind: "self-signed"; subject: x509.JsonName | string }
  /** A CA with the same name as `ca` but another key, and a client it signs. */
  | { kind: "impostor"; ca: string; subject: x509.JsonName | string; validity?: Validity }
  /** A credential someone gave the run (--client-cert/--client-key, --clients). */
  | { kind: "given"; id: string };

export interface CaEntry {
  id: string;
  /** With its private key when the run can issue from it. */
  cert: IssuedCert | { cert: x509.X509Certificate; certPem: string; sha256: string; name: string; keys?: undefined; keyPem?: undefined };
  description: string;
}

export interface GivenCredential {
  id: string;
  certFile: string;
  keyFile: string;
  description: string;
}

export interface MintedCredential {
  key: string;
  description: string;
  leafPem: string;
  keyPem: string;
  /** Leaf then the intermediates it sends, PEM. */
  chainPem: string;
  leafSha256: string;
  certificates: IssuedCert[];
  traits: CredentialTraits;
}

const LEAF_KEYS = 8;

export const DEFAULT_CLIENT_SUBJECT = "CN=mtls-conformance-client, O=mtls-conformance";

/** A stable key for a spec: the same request gets the same credential. */
export function credentialKey(spec: CredentialSpec): string {
  const text = JSON.stringify(spec);
  const digest = createHash("sha256").update(text).digest("hex").slice(0, 12);
  const label = spec.kind === "given" ? `given-${spec.id === "*" ? "all" : spec.id}` : spec.kind === "issued" ? `${spec.validity ?? "valid"}-${spec.intermediates ?? 0}i${spec.omitIntermediates ? "-missing" : ""}${spec.eku === "serverAuth" ? "-server-auth" : ""}` : spec.kind;
  return `${label}-${digest}`.replace(/[^A-Za-z0-9._-]/g, "-");
}

/** A CA's subject as X509Certificate.subject prints it. */
function caSubject(entry: CaEntry): string {
  return "der" in entry.cert ? subjectOf(entry.cert) : entry.cert.cert.subject;
}

function describe(spec: CredentialSpec, cas: Map<string, CaEntry>): string {
  const caName = (id: string) => {
    const entry = cas.get(id);
    return entry ? caSubject(entry) : id;
  };
  switch (spec.kind) {
    case "given":
      return `the client certificate given for ${spec.id}`;
    case "self-signed":
      return "a self-signed certificate";
    case "impostor":
      return `signed by another CA carrying the exact name of ${caName(spec.ca)}${spec.validity && spec.validity !== "valid" ? `, ${spec.validity}` : ""}`;
    case "issued": {
      const n = spec.intermediates ?? 0;
      const parts = [`signed by ${caName(spec.ca)}`];
      if (n) parts.push(spec.omitIntermediates ? `through ${n} intermediate CA(s) it does not send` : `through ${n} intermediate CA(s), sent`);
      if (spec.validity && spec.validity !== "valid") parts.push(spec.validity);
      if (spec.eku === "serverAuth") parts.push("extended key usage serverAuth only");
      return parts.join(", ");
    }
  }
}

export class CredentialFactory {
  private readonly cas = new Map<string, CaEntry>();
  private readonly given = new Map<string, GivenCredential>();
  private readonly requested = new Map<string, CredentialSpec>();
  private readonly chains = new Map<string, Promise<IssuedCert[]>>();
  private readonly impostors = new Map<string, Promise<IssuedCert>>();
  private readonly now: Date;
  // Leaves share a few keys: what a check tells apart is the certificate (issuer, validity,
  // chain, subject), never the key, and making hundreds of certificates is then much cheaper.
  private readonly leafKeys: Array<Promise<CryptoKeyPair>> = [];
  private nextLeafKey = 0;

  constructor(options: { now?: Date } = {}) {
    this.now = options.now ?? new Date();
  }

  private leafKey(): Promise<CryptoKeyPair> {
    const i = this.nextLeafKey++ % LEAF_KEYS;
    this.leafKeys[i] ??= generateKeys("p256");
    return this.leafKeys[i]!;
  }

  addCa(entry: CaEntry): void {
    this.cas.set(entry.id, entry);
  }

  ca(id: string): CaEntry | undefined {
    return this.cas.get(id);
  }

  /** Whether the run holds this CA's key. */
  canIssue(id: string): boolean {
    return !!this.cas.get(id)?.cert.keys;
  }

  addGiven(credential: GivenCredential): void {
    this.given.set(credential.id, credential);
  }

  hasGiven(id: string): boolean {
    return this.given.has(id);
  }

  /** Registers what a check needs; returns the key its credential will have. */
  request(spec: CredentialSpec): string {
    const key = credentialKey(spec);
    this.requested.set(key, spec);
    return key;
  }

  private window(validity: Validity = "valid"): { notBefore: Date; notAfter: Date } {
    const t = this.now.getTime();
    if (validity === "expired") return { notBefore: new Date(t - 30 * DAY), notAfter: new Date(t - DAY) };
    if (validity === "not-yet-valid") return { notBefore: new Date(t + DAY), notAfter: new Date(t + 30 * DAY) };
    return { notBefore: new Date(t - HOUR), notAfter: new Date(t + 365 * DAY) };
  }

  private issuingCa(id: string): IssuedCert {
    const entry = this.cas.get(id);
    if (!entry) throw new Error(`unknown CA ${id}`);
    if (!entry.cert.keys) throw new Error(`the run holds no key for the CA ${id}`);
    return entry.cert as IssuedCert;
  }

  /** Intermediates below CA `id`, nearest the root first; built once per CA and length. */
  private chain(id: string, length: number): Promise<IssuedCert[]> {
    const cacheKey = `${id}#${length}`;
    let chain = this.chains.get(cacheKey);
    if (!chain) {
      chain = (async () => {
        const above = length > 1 ? await this.chain(id, length - 1) : [];
        const issuer = above.at(-1) ?? this.issuingCa(id);
        const next = await issue({
          name: `intermediate-${length}`,
          subject: `CN=mtls-conformance intermediate ${length}, O=mtls-conformance`,
          keys: await generateKeys("p256"),
          issuer,
          ...this.window(),
          ca: true,
        });
        return [...above, next];
      })();
      this.chains.set(cacheKey, chain);
    }
    return chain;
  }

  private impostor(id: string): Promise<IssuedCert> {
    let ca = this.impostors.get(id);
    if (!ca) {
      const real = this.cas.get(id);
      if (!real) throw new Error(`unknown CA ${id}`);
      // The real CA's name as @peculiar/x509 reads it back (X509Certificate.subjectName.toJSON()).
      const name = "der" in real.cert ? new x509.Name(subjectNameOf(real.cert) as Uint8Array<ArrayBuffer>).toJSON() : real.cert.cert.subjectName.toJSON();
      ca = (async () => issue({ name: "impostor-ca", subject: name, keys: await generateKeys("p256"), ...this.window(), ca: true }))();
      this.impostors.set(id, ca);
    }
    return ca;
  }

  /** A credential and what its traits are read off: the leaf and the chain it sends. */
  private async mintOne(key: string, spec: CredentialSpec): Promise<Omit<MintedCredential, "traits"> & { leaf: CertificateInput; chain: CertificateInput[] }> {
    const description = describe(spec, this.cas);
    if (spec.kind === "given") {
      const g = this.given.get(spec.id);
      if (!g) throw new Error(`no client certificate was given for ${spec.id}`);
      const pem = readFileSync(g.certFile, "utf8");
      const [leaf, ...chain] = certificatesIn(pem);
      if (!leaf) throw new Error(`${g.certFile}: no certificate`);
      const leafSha256 = createHash("sha256").update(Buffer.from(leaf.rawData)).digest("hex");
      return { key, description: g.description, leafPem: leaf.toString("pem"), keyPem: readFileSync(g.keyFile, "utf8"), chainPem: pem.trim() + "\n", leafSha256, certificates: [], leaf, chain };
    }
    let leaf: IssuedCert;
    let sent: IssuedCert[] = [];
    const keys = await this.leafKey();
    if (spec.kind === "self-signed") {
      leaf = await issue({ name: key, subject: spec.subject, keys, ...this.window(), eku: CLIENT_AUTH });
    } else if (spec.kind === "impostor") {
      leaf = await issue({ name: key, subject: spec.subject, keys, issuer: await this.impostor(spec.ca), ...this.window(spec.validity), eku: CLIENT_AUTH });
      sent = [];
    } else {
      const n = spec.intermediates ?? 0;
      const chain = n > 0 ? await this.chain(spec.ca, n) : [];
      const issuer = chain.at(-1) ?? this.issuingCa(spec.ca);
      leaf = await issue({ name: key, subject: spec.subject, keys, issuer, ...this.window(spec.validity), eku: spec.eku === "serverAuth" ? SERVER_AUTH : CLIENT_AUTH });
      sent = spec.omitIntermediates ? [] : [...chain].reverse();
    }
    const chainPem = [leaf, ...sent].map((c) => c.certPem).join("\n") + "\n";
    return { key, description, leafPem: leaf.certPem, keyPem: leaf.keyPem, chainPem, leafSha256: leaf.sha256, certificates: [leaf, ...sent], leaf: leaf.der, chain: sent.map((c) => c.der) };
  }

  private readonly revocations = new Map<string, Promise<{ key: string; crlPem: string; minted: Omit<MintedCredential, "traits"> }>>();

  /**
   * A client of CA `id` that the CA's CRL lists as revoked, and that CRL (PEM, X509 CRL): the
   * run puts the CRL where the deployment's CA Secret had its ca.crl.
   */
  revocation(id: string, subject: x509.JsonName | string): Promise<{ key: string; crlPem: string }> {
    let r = this.revocations.get(id);
    if (!r) {
      r = (async () => {
        const ca = this.issuingCa(id);
        const key = `revoked-${createHash("sha256").update(id).digest("hex").slice(0, 12)}`;
        const leaf = await issue({ name: key, subject, keys: await generateKeys("p256"), issuer: ca, ...this.window(), eku: CLIENT_AUTH });
        const now = this.now.getTime();
        const crl = await x509.X509CrlGenerator.create({
          issuer: ca.cert.subjectName,
          thisUpdate: new Date(now - HOUR),
          nextUpdate: new Date(now + 7 * DAY),
          entries: [{ serialNumber: certificateFacts(leaf).serialNumber, revocationDate: new Date(now - HOUR), reason: x509.X509CrlReason.keyCompromise }],
          signingAlgorithm: ca.keys.privateKey.algorithm.name === "ECDSA" ? ({ name: "ECDSA", hash: "SHA-256" } as EcdsaParams) : { name: "RSASSA-PKCS1-v1_5" },
          signingKey: ca.keys.privateKey,
        });
        const minted = { key, description: `signed by ${subjectOf(ca)}, listed in its CRL`, leafPem: leaf.certPem, keyPem: leaf.keyPem, chainPem: leaf.certPem + "\n", leafSha256: leaf.sha256, certificates: [leaf] };
        return { key, crlPem: x509.PemConverter.encode(crl.rawData, "X509 CRL"), minted };
      })();
      this.revocations.set(id, r);
    }
    return r.then(({ key, crlPem }) => ({ key, crlPem }));
  }

  /** Makes every requested credential (in parallel) and derives each one's traits from its certificates. */
  async mint(): Promise<Map<string, MintedCredential>> {
    const anchors: CertificateInput[] = [...this.cas.values()].map((c) => ("der" in c.cert ? c.cert.der : c.cert.cert));
    const made = await Promise.all(
      [...this.requested].map(async ([key, spec]) => {
        const m = await this.mintOne(key, spec);
        const traits = await traitsOf(m.leaf, m.chain, anchors, this.now);
        const { leaf: _leaf, chain: _chain, ...rest } = m;
        return [key, { ...rest, traits }] as const;
      }),
    );
    const revoked = await Promise.all(
      [...this.revocations.values()].map(async (r) => {
        const { minted } = await r;
        const traits = await traitsOf(minted.certificates[0]!.der, [], anchors, this.now);
        return [minted.key, { ...minted, traits }] as const;
      }),
    );
    return new Map([...made, ...revoked]);
  }

  /** Every certificate the factory made (CAs it owns, intermediates, impostors, leaves), for the evidence. */
  async certificates(minted: Map<string, MintedCredential>): Promise<IssuedCert[]> {
    const out = new Map<string, IssuedCert>();
    for (const ca of this.cas.values()) if (ca.cert.keys) out.set(ca.cert.sha256, ca.cert as IssuedCert);
    for (const chain of this.chains.values()) for (const c of await chain) out.set(c.sha256, c);
    for (const ca of this.impostors.values()) {
      const c = await ca;
      out.set(c.sha256, c);
    }
    for (const m of minted.values()) for (const c of m.certificates) out.set(c.sha256, c);
    return [...out.values()];
  }
}
