// The user's own objects (`run --manifests PATH`): read as written, then prepared for deployment
// by replacing only what the run must. Each CA Secret's ca.crt becomes a CA of the run's own (the
// user's CA key is never needed), a ca.crl becomes that CA's CRL, key pairs and TLS Secrets get
// the run's certificates, TLS Secrets the manifests name but do not hold are created (as
// cert-manager would), and Services are served by the echo backend. Ingresses are not touched.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { V1Ingress, V1Secret, V1Service } from "@kubernetes/client-node";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { ConfigError } from "../support/errors.ts";
import { annotationOf, ingressId } from "../model/annotations.ts";
import { controllerOrder, servedCertificates } from "../model/hosts.ts";
import { secretView, type SecretView } from "../model/secrets.ts";
import { CredentialFactory, DEFAULT_CLIENT_SUBJECT } from "../pki/credentials.ts";
import { DAY, generateKeys, HOUR, issue, SERVER_AUTH, subjectOf, type IssuedCert } from "../pki/pki.ts";
import { ECHO_IMAGE, echoWorkload, MANAGED_BY_LABEL, secretData, type Manifests } from "./manifests.ts";

export interface UserObjects {
  /** What was read: a file or a folder. */
  source: string;
  files: string[];
  ingresses: V1Ingress[];
  secrets: V1Secret[];
  services: V1Service[];
  /** Kinds read and not used (Deployments, ConfigMaps...), with counts. */
  ignored: Record<string, number>;
}

const YAML_FILE = /\.(ya?ml|json)$/i;
const SERVER_SET = ["creationTimestamp", "resourceVersion", "uid", "generation", "managedFields", "selfLink"];

/** A file, or the YAML and JSON files of a folder (recursively, sorted). Throws when `path` does not exist. */
export function filesUnder(path: string): string[] {
  const st = statSync(path);
  if (st.isFile()) return [path];
  return readdirSync(path, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && YAML_FILE.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Reads every YAML document of a file or folder; objects without a namespace get `defaultNamespace`. */
export function loadUserManifests(path: string, defaultNamespace = "default"): UserObjects {
  let files: string[];
  try {
    files = filesUnder(path);
  } catch {
    throw new ConfigError(`--manifests ${path}: no such file or folder`);
  }
  if (files.length === 0) throw new ConfigError(`--manifests ${path}: no .yaml, .yml or .json file in it`);
  const out: UserObjects = { source: path, files, ingresses: [], secrets: [], services: [], ignored: {} };
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(file, "utf8"));
    for (const doc of docs) {
      if (doc.errors.length) throw new ConfigError(`--manifests ${relative(process.cwd(), file)}: ${doc.errors[0]!.message.split("\n")[0]}`);
      const value = doc.toJS() as { kind?: string; items?: unknown[]; metadata?: { namespace?: string; name?: string } } | null;
      if (!value) continue;
      const objects = value.kind === "List" && Array.isArray(value.items) ? (value.items as (typeof value)[]) : [value];
      for (const o of objects) {
        if (!o?.kind) continue;
        if (!o.metadata?.name) throw new ConfigError(`--manifests ${relative(process.cwd(), file)}: a ${o.kind} without metadata.name`);
        o.metadata.namespace ??= defaultNamespace;
        // Objects exported from a cluster carry what its API server set: a new one sets its own.
        for (const field of SERVER_SET) delete (o.metadata as Record<string, unknown>)[field];
        delete (o as Record<string, unknown>).status;
        if (o.kind === "Ingress") out.ingresses.push(o as V1Ingress);
        else if (o.kind === "Secret") out.secrets.push(o as V1Secret);
        else if (o.kind === "Service") out.services.push(o as V1Service);
        else out.ignored[o.kind] = (out.ignored[o.kind] ?? 0) + 1;
      }
    }
  }
  const ids = new Set<string>();
  for (const i of out.ingresses) {
    const id = ingressId(i);
    if (ids.has(id)) throw new ConfigError(`--manifests ${path}: Ingress ${id} is defined twice`);
    ids.add(id);
  }
  if (out.ingresses.length === 0) throw new ConfigError(`--manifests ${path}: no Ingress in ${files.length} file(s)`);
  return out;
}

export interface PreparedObjects {
  manifests: Manifests;
  /** CA secret (namespace/name) -> the credential factory's id of the run's CA in it. */
  caIds: Map<string, string>;
  /** CA id -> key of a client its deployed CRL revokes. */
  revoked: Map<string, string>;
  /** The CA that signed every TLS Secret the run deployed (what probes trust). */
  serverCa: IssuedCert;
  /** The user's Secrets as written, for the lint (a CA key is visible only here). */
  declared: SecretView[];
  /** One line per replacement or creation, for the log and the evidence. */
  changes: string[];
  /** host -> SHA-256 of the one certificate of the run that names it (hosts two name are not here). */
  onlyCertificate: Map<string, string>;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
/** The certificates of a PEM text, parsed; undefined when there is none or one does not parse. */
const parsedCertificates = (pem: string): x509.X509Certificate[] | undefined => {
  const blocks = [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)];
  if (!blocks.length) return undefined;
  try {
    return blocks.map((b) => new x509.X509Certificate(b[0]));
  } catch {
    return undefined;
  }
};
const validity = (now: Date) => ({ notBefore: new Date(now.getTime() - HOUR), notAfter: new Date(now.getTime() + 365 * DAY) });

/** The auth-tls secret references that can resolve (namespace/name, same namespace as the Ingress). */
function caSecretRefs(ingresses: V1Ingress[]): Map<string, V1Ingress[]> {
  const refs = new Map<string, V1Ingress[]>();
  for (const ing of ingresses) {
    const raw = annotationOf(ing, "auth-tls-secret")?.trim();
    const parts = raw?.split("/");
    if (!parts || parts.length !== 2 || !parts[1]) continue;
    const ns = parts[0] || (ing.metadata?.namespace ?? "default");
    if (ns !== (ing.metadata?.namespace ?? "default")) continue;
    const ref = `${ns}/${parts[1]}`;
    const list = refs.get(ref);
    if (list) list.push(ing);
    else refs.set(ref, [ing]);
  }
  return refs;
}

export async function prepareUserObjects(user: UserObjects, factory: CredentialFactory, options: { now?: Date; echoImage?: string } = {}): Promise<PreparedObjects> {
  const now = options.now ?? new Date();
  const changes: string[] = [];
  const declared = user.secrets.map(secretView);
  // The first Secret of each name, as find() over the list gave it (a lookup per TLS Secret).
  const byRef = new Map<string, V1Secret>();
  for (const s of user.secrets) {
    const ref = `${s.metadata?.namespace}/${s.metadata?.name}`;
    if (!byRef.has(ref)) byRef.set(ref, s);
  }
  const find = (ref: string) => byRef.get(ref);
  const serverCa = await issue({ name: "server-ca", subject: "CN=mtls-conformance server CA, O=mtls-conformance", keys: await generateKeys("p256"), ...validity(now), ca: true });

  const caIds = new Map<string, string>();
  const revoked = new Map<string, string>();
  const secrets = new Map<string, V1Secret>();
  const meta = (ref: string, from?: V1Secret) => {
    const [namespace, name] = ref.split("/") as [string, string];
    return { name, namespace, labels: { ...(from?.metadata?.labels ?? {}), ...MANAGED_BY_LABEL } };
  };

  // CA secrets: one CA of the run's own per secret, named like the user's CA where it can be read.
  for (const [ref] of caSecretRefs(user.ingresses)) {
    const written = find(ref);
    const data = written ? secretData(written) : undefined;
    const userCa = data?.["ca.crt"];
    const userCerts = userCa ? parsedCertificates(userCa) : undefined;
    if (data && !userCerts) {
      // Deployed as written: the controller's own reading decides (no ca.crt: no client auth; garbage: 403).
      secrets.set(ref, { ...written!, metadata: meta(ref, written) });
      changes.push(`secret ${ref}: deployed as written (${userCa ? "its ca.crt does not parse" : "it has no ca.crt"})`);
      continue;
    }
    let subject: string | x509.JsonName = `CN=mtls-conformance CA for ${ref}, O=mtls-conformance`;
    if (userCerts) subject = userCerts[0]!.subjectName.toJSON();
    const ca = await issue({ name: `ca ${ref}`, subject, keys: await generateKeys("p256"), ...validity(now), ca: true });
    factory.addCa({ id: ref, cert: ca, description: `the run's CA in ${ref}` });
    caIds.set(ref, ref);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(data ?? {})) {
      if (k === "ca.crt" || k === "ca.crl" || k === "tls.crt" || k === "tls.key") continue;
      // A private key the controller never reads (the guide's ca.key): not deployed.
      if (/PRIVATE KEY/.test(v)) {
        changes.push(`secret ${ref}: ${k} (a private key) not deployed`);
        continue;
      }
      out[k] = b64(v);
    }
    out["ca.crt"] = b64(ca.certPem + "\n");
    if (data?.["ca.crl"] !== undefined) {
      if (/-----BEGIN X509 CRL-----/.test(data["ca.crl"])) {
        const r = await factory.revocation(ref, DEFAULT_CLIENT_SUBJECT);
        revoked.set(ref, r.key);
        out["ca.crl"] = b64(r.crlPem + "\n");
      } else out["ca.crl"] = b64(data["ca.crl"]);
    }
    if (data?.["tls.crt"] !== undefined && data["tls.key"] !== undefined) {
      const pair = await issue({ name: `pair ${ref}`, subject: `CN=mtls-conformance key pair ${ref}`, keys: await generateKeys("p256"), issuer: serverCa, ...validity(now), eku: SERVER_AUTH });
      out["tls.crt"] = b64(pair.certPem + "\n");
      out["tls.key"] = b64(pair.keyPem + "\n");
    }
    secrets.set(ref, { apiVersion: "v1", kind: "Secret", metadata: meta(ref, written), type: written?.type ?? "Opaque", data: out });
    changes.push(`secret ${ref}: ${written ? "ca.crt replaced by" : "created with"} the run's CA "${subjectOf(ca)}"${out["ca.crl"] && revoked.has(ref) ? ", ca.crl by its CRL" : ""}${written ? "" : " (not in the manifests, as when another tool makes it)"}`);
  }

  // TLS secrets: the run's server certificate for every host of every tls: entry naming them.
  const tlsHosts = new Map<string, Set<string>>();
  for (const ing of user.ingresses) {
    const ns = ing.metadata?.namespace ?? "default";
    for (const t of ing.spec?.tls ?? []) {
      if (!t.secretName) continue;
      const ref = `${ns}/${t.secretName}`;
      const hosts = t.hosts?.length ? t.hosts : (ing.spec?.rules ?? []).map((r) => r.host).filter((h): h is string => !!h);
      const set = tlsHosts.get(ref) ?? new Set<string>();
      for (const h of hosts) set.add(h);
      tlsHosts.set(ref, set);
    }
  }
  const hostCertificates: Record<string, string> = {};
  // Every certificate of the run that names a host: where only one does, it is what the host serves.
  const certificatesOfHost = new Map<string, string[]>();
  // Server certificates share one key: each is told apart by its names.
  const serverKeys = await generateKeys("p256");
  const made = await Promise.all(
    [...tlsHosts].filter(([ref]) => !secrets.has(ref)).map(async ([ref, hosts]) => {
      const names = [...hosts];
      const cert = await issue({ name: `server ${ref}`, subject: `CN=${names[0] ?? "mtls-conformance"}`, keys: serverKeys, issuer: serverCa, ...validity(now), eku: SERVER_AUTH, dnsNames: names });
      return { ref, names, cert };
    }),
  );
  for (const { ref, names, cert } of made) {
    const written = find(ref);
    secrets.set(ref, { apiVersion: "v1", kind: "Secret", metadata: meta(ref, written), type: "kubernetes.io/tls", data: { "tls.crt": b64(cert.certPem + "\n"), "tls.key": b64(cert.keyPem + "\n") } });
    for (const h of names) {
      hostCertificates[h] ??= cert.sha256;
      certificatesOfHost.set(h, [...(certificatesOfHost.get(h) ?? []), cert.sha256]);
    }
    changes.push(`secret ${ref}: ${written ? "tls.crt/tls.key replaced by" : "created with"} a certificate of the run for ${names.join(", ")}`);
  }

  // The echo backend serves every Service an Ingress names, in its namespace.
  const services = new Map<string, Map<string, Array<{ port: number; name?: string }>>>();
  for (const ing of user.ingresses) {
    const ns = ing.metadata?.namespace ?? "default";
    for (const rule of ing.spec?.rules ?? []) {
      for (const p of rule.http?.paths ?? []) {
        const svc = p.backend.service;
        if (!svc) continue;
        const byName = services.get(ns) ?? new Map();
        const ports = byName.get(svc.name) ?? [];
        const port = svc.port?.number ?? 80 + ports.length;
        const entry = svc.port?.name ? { port, name: svc.port.name } : { port };
        if (!ports.some((x: { port: number; name?: string }) => (entry.name ? x.name === entry.name : x.port === entry.port))) ports.push(entry);
        byName.set(svc.name, ports);
        services.set(ns, byName);
      }
    }
  }
  const namespaces = [...new Set([...user.ingresses.map((i) => i.metadata?.namespace ?? "default")])].sort();
  const workloads = namespaces.flatMap((ns) =>
    echoWorkload(ns, options.echoImage ?? ECHO_IMAGE, "mtls-echo", [...(services.get(ns) ?? new Map()).entries()].map(([name, ports]) => ({ name, ports }))),
  );
  if (user.services.length) changes.push(`${user.services.length} Service(s) replaced by the echo backend`);
  for (const [kind, n] of Object.entries(user.ignored)) changes.push(`${n} ${kind}(s) not deployed`);

  // Each Secret decoded once, however many Ingresses name it.
  const views = new Map([...secrets].map(([ref, secret]) => [ref, secretView(secret)]));
  return {
    manifests: {
      namespace: namespaces[0]!,
      namespaces,
      secrets: [...secrets.values()],
      // As written, in the controller's tie-break order, so the order they are created in agrees with it.
      ingresses: controllerOrder(user.ingresses),
      workloads,
      backends: namespaces.map((namespace) => ({ namespace, name: "mtls-echo" })),
      hostCertificates: servedCertificates(hostCertificates, user.ingresses, (ns, name) => views.get(`${ns}/${name}`)),
    },
    onlyCertificate: new Map([...certificatesOfHost].filter(([, certs]) => certs.length === 1).map(([h, [sha]]) => [h, sha!])),
    caIds,
    revoked,
    serverCa,
    declared,
    changes,
  };
}
