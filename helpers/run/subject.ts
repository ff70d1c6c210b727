// What a run checks, ready to run: the checks (grouped by the target they run on), the objects to
// deploy (if the run deploys), the credentials, how to trust the servers, and what the evidence
// says about the subject. Two kinds: the fixed catalogue on its own objects, and the checks the
// policy model generates for the user's Ingresses (--manifests, a live endpoint, an audit).
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { globMatcher, type Catalogue, type Policy, type Scenario } from "../catalogue/catalogue.ts";
import type { Check } from "../checks/check.ts";
import { checksFromCatalogue, decideLint, type ProfileChoice } from "../checks/from-catalogue.ts";
import { completeChecks, planChecks, type IngressPlan } from "../checks/generate.ts";
import { lintObjects } from "../checks/lint.ts";
import { GUIDE_COMMAND_RULES, runGuideCommands, startGuideOpenssl, takeStartedGuideOpenssl } from "../checks/guide-commands.ts";
import { guideAsWritten } from "../../fixtures/guide-as-written.ts";
import { manifestsAtStage } from "../../fixtures/lifecycle.ts";
import { buildManifests, type Manifests } from "../manifests/manifests.ts";
import type { PreparedObjects, UserObjects } from "../manifests/user-manifests.ts";
import { resolveHosts, type HostPolicy } from "../model/hosts.ts";
import { hostFacts, type HostFacts } from "../profiles/guarantees.ts";
import { buildInventory, type Inventory, type InventoryInput } from "../inventory/inventory.ts";
import { secretView, type SecretView } from "../model/secrets.ts";
import { CredentialFactory, type MintedCredential } from "../pki/credentials.ts";
import { allCertificates, buildPki, chainPem, importCa, type IssuedCert, type Pki } from "../pki/pki.ts";
import { writeIssued, writePki, type PkiDirs } from "../pki/pki-files.ts";
import { policyEvidence } from "../reports/evidence.ts";
import type { DeclaredObjects } from "../targets/target.ts";
import type { HostTrust, RunCredential } from "./run-context.ts";

export type SubjectOrigin = "catalogue" | "manifests" | "endpoint" | "audit";

/** One data plane of a group that has several, started side by side: the suites it serves and its objects. */
export interface Deployment {
  /** Names its diagnostics (e.g. nginx-lifecycle/). */
  name: string;
  suites: string[];
  manifests: Manifests;
}

/** Checks that share one deployed target: all of them, or (catalogue, --isolate) one suite each. */
export interface SubjectGroup {
  name: string;
  checks: Check[];
  /** What to deploy for them; absent when the objects are found deployed. */
  manifests?: Manifests;
  /**
   * Where a data plane is cheap to start (the nginx target), suites that change their objects
   * while they run (lifecycle: ten reloads in order) get one of their own, so the other suites
   * need not wait for them. Absent: one deployment of `manifests` serves every suite.
   */
  deployments?: Deployment[];
  /** Report file names of the group. */
  junitFile: string;
  manifestsFile?: string;
}

export interface RunSubject {
  origin: SubjectOrigin;
  source: string;
  /** What the run replaced or created in the user's objects, one line each. */
  changes: string[];
  groups: SubjectGroup[];
  credentials: Record<string, RunCredential>;
  certificates: IssuedCert[];
  trust: HostTrust;
  hostTrust: Record<string, HostTrust>;
  /**
   * host -> the SHA-256 of the one certificate it serves, where the run made it and no other
   * names the host: the probe pins it besides the trust of the host (probe.ts).
   */
  serverPins?: Record<string, string>;
  /**
   * host -> the SHA-256 (base64) of the public key of a pinned certificate that does not name the
   * host (helpers/run/inventory-step.ts): curl's second opinion pins it as the probe pins the certificate.
   */
  serverKeyPins?: Record<string, string>;
  policies: ReturnType<typeof policyEvidence>;
  ingresses: IngressPlan[];
  caBundleSha256: string;
  crlSha256: string | null;
  /** The objects at a lifecycle stage (the catalogue's lifecycle suite). */
  atStage?: (base: Manifests, stage: string) => Manifests;
  /**
   * Decides the checks marked decidedAfterProbes (the guide's commands, run beside the probes);
   * returns them decided. The same Check objects as in `groups`.
   */
  decideLater?: () => Promise<Check[]>;
  /** The impostor CA's certificate, for the foreign-ca-trusted mutant. */
  foreignCaPem?: string;
  /** No echo backend answers (a live endpoint without --echo). */
  noEcho?: boolean;
  acceptAnyEcho?: boolean;
  /** Per host with client auth: what ingress-nginx enforces there (a live successor's expected classes are read off it). */
  hostFacts?: Record<string, HostFacts>;
  /** What is in force: trust anchors, CRLs, server certificates, the production checks (helpers/inventory). */
  inventory?: Inventory;
  /**
   * The objects the inventory is built from, where the run judges it (every input but the
   * catalogue, whose fixtures are broken on purpose): built once the target is up, its production
   * checks become checks of the run (helpers/run/inventory-step.ts).
   */
  inventoryInput?: InventoryInput;
  /** A live deployment: each host's presented chain replaces the declared one in the inventory. */
  surveyServers?: boolean;
  /** Writes the run's certificates (and, where asked, keys) for the report. */
  writeFiles(dirs: PkiDirs): Promise<string[]>;
  /** The PKI of the catalogue subject (tests reach into it). */
  pki?: Pki;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const runCredential = (m: MintedCredential): RunCredential => ({ certChainPem: m.chainPem, keyPem: m.keyPem, leafSha256: m.leafSha256 });

/**
 * The policies the scenarios use or name as SNI, plus every policy sharing a host with one of them
 * (a host's behaviour depends on all its Ingresses).
 */
export function policiesOf(catalogue: Catalogue, list: Scenario[]): Policy[] {
  const used = catalogue.policies.filter((p) => list.some((s) => s.policy === p.name || s.request?.servername === p.host));
  return catalogue.policies.filter((p) => used.some((u) => u.name === p.name || (u.host === p.host && p.sharedHost)));
}

export async function catalogueSubject(input: {
  catalogue: Catalogue;
  scenarios: Scenario[];
  namespace: string;
  isolate: boolean;
  alterManifests?: (m: Manifests) => Manifests;
  /** The class the controller under test serves: the catalogue's Ingresses name it. */
  ingressClass?: string;
  /** The successor the checks expect (default: ingress-nginx, the catalogue as written). */
  successor?: ProfileChoice;
  /** Suites that get a data plane of their own beside the rest (see SubjectGroup.deployments). */
  ownDeployment?: string[];
  expiryWarningDays?: number;
}): Promise<RunSubject> {
  const { catalogue, scenarios, namespace } = input;
  const policies = policiesOf(catalogue, scenarios);
  // The guide's commands, run as written (openssl, and curl against the nginx target serving its
  // Ingress), begin at once: their RSA-4096 keys are made while the run's PKI is.
  // They decide only static checks, so the probes do not wait for them: those checks are decided
  // when they end (decideLater), and the run's probes and reloads use the cores meanwhile.
  const guideCommands = scenarios.some((s) => s.lint && (GUIDE_COMMAND_RULES as readonly string[]).includes(s.lint)) ? guideCommandsRun() : undefined;
  guideCommands?.catch(() => undefined);
  const pki = await buildPki({ serverHosts: [...new Set(policies.map((p) => p.host))] });
  const lint = scenarios.some((s) => s.lint) ? lintObjects(await guideAsWritten(pki)) : {};
  const pending = new Set<string>(guideCommands ? GUIDE_COMMAND_RULES : []);
  const suites = [...new Set(scenarios.map((s) => s.suite))];
  const split = input.isolate ? suites.map((suite) => ({ name: suite, scenarios: scenarios.filter((s) => s.suite === suite) })) : [{ name: "all", scenarios }];
  const manifestsFor = (list: Scenario[]): Manifests => {
    const built = buildManifests({ namespace, policies: policiesOf(catalogue, list), pki, ingressClass: input.ingressClass });
    return input.alterManifests ? input.alterManifests(structuredClone(built)) : built;
  };
  const groups = split.map((g): SubjectGroup => {
    const whole = manifestsFor(g.scenarios);
    const own = (input.ownDeployment ?? []).filter((suite) => g.scenarios.some((s) => s.suite === suite));
    const rest = [...new Set(g.scenarios.map((s) => s.suite))].filter((suite) => !own.includes(suite));
    // Each deployment holds the objects its suites' policies need, taken from the group's (as
    // altered); anything else in the group's objects goes with the rest of the suites.
    const names = (suites: string[]) => buildManifests({ namespace, policies: policiesOf(catalogue, g.scenarios.filter((s) => suites.includes(s.suite))), pki, ingressClass: input.ingressClass });
    const ownNames = own.map((suite) => names([suite]));
    const deployments =
      own.length && rest.length
        ? [
            { name: "", suites: rest, manifests: subsetOf(whole, names(rest), ownNames) },
            ...own.map((suite, i) => ({ name: suite, suites: [suite], manifests: subsetOf(whole, ownNames[i]!) })),
          ]
        : undefined;
    return {
      name: g.name,
      checks: checksFromCatalogue(catalogue, g.scenarios, namespace, lint, input.successor, pending),
      manifests: whole,
      ...(deployments ? { deployments } : {}),
      junitFile: input.isolate ? `junit-${g.name}.xml` : "junit.xml",
      manifestsFile: input.isolate ? `manifests-${g.name}.yaml` : "manifests.yaml",
    };
  });
  return {
    origin: "catalogue",
    source: "the catalogue's own Ingresses (fixtures/catalogue.ts)",
    changes: [],
    groups,
    credentials: Object.fromEntries(Object.values(pki.credentials).map((c) => [c.name, { certChainPem: chainPem(c), keyPem: c.leaf.keyPem, leafSha256: c.leaf.sha256 }])),
    certificates: allCertificates(pki),
    trust: { caPem: pki.ca.certPem, serverSha256: pki.server.sha256 },
    hostTrust: {},
    ...(() => {
      const all = buildManifests({ namespace, policies, pki });
      return { policies: policyEvidence(policies, all), inventory: buildInventory({ ingresses: all.ingresses, secrets: all.secrets.map(secretView), ingressClass: input.ingressClass ?? "nginx", serverAnchors: pki.ca.certPem, expiryWarningDays: input.expiryWarningDays }) };
    })(),
    ingresses: [],
    caBundleSha256: sha256(pki.ca.certPem + "\n"),
    crlSha256: null,
    atStage: (base, stage) => manifestsAtStage(base, pki, stage),
    ...(guideCommands
      ? {
          decideLater: async () => {
            const results = (await guideCommands.catch((error: Error) => ({ lint: {} as Record<string, undefined>, error }))).lint;
            const later = groups.flatMap((g) => g.checks).filter((c) => c.decidedAfterProbes);
            const rule = (c: Check) => scenarios.find((s) => s.id === c.id)!.lint!;
            return later.map((c) => decideLint(c, rule(c), results[rule(c) as keyof typeof results]));
          },
        }
      : {}),
    foreignCaPem: pki.others.find((c) => c.name === "other-ca")!.certPem,
    writeFiles: (dirs) => writePki(pki, dirs),
    pki,
  };
}

/**
 * The objects of `whole` that `names` also holds (by kind, namespace and name), and, where `others`
 * is given, those that none of the others holds either.
 */
function subsetOf(whole: Manifests, names: Manifests, others: Manifests[] = []): Manifests {
  const key = (o: { kind?: string; metadata?: { namespace?: string; name?: string } }) => `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`;
  const keys = (m: Manifests) => [...m.secrets, ...m.ingresses, ...m.workloads].map(key);
  const wanted = new Set(keys(names));
  const elsewhere = new Set(others.flatMap(keys));
  const keep = (o: Parameters<typeof key>[0]) => wanted.has(key(o)) || (others.length > 0 && !elsewhere.has(key(o)));
  return { ...whole, secrets: whole.secrets.filter(keep), ingresses: whole.ingresses.filter(keep), workloads: whole.workloads.filter(keep) };
}

interface DeclaredInput {
  origin: Exclude<SubjectOrigin, "catalogue">;
  source: string;
  ingresses: DeclaredObjects["ingresses"];
  /** The Secrets as the controller will see them. */
  secrets: SecretView[];
  /** The user's Secrets as written (the lint looks for CA keys there). */
  declared: SecretView[];
  factory: CredentialFactory;
  caFor: (ref: string) => string | undefined;
  revokedFor: (ca: string) => string | undefined;
  clients: DeclaredObjects["clients"];
  trust: HostTrust;
  hostTrust: (hosts: HostPolicy[]) => Record<string, HostTrust>;
  /** host -> the SHA-256 of the certificate it serves, where the run knows it (RunSubject.serverPins). */
  serverPins?: (hosts: HostPolicy[]) => Record<string, string>;
  ignoreClass: boolean;
  ingressClass?: string;
  manifests?: Manifests;
  extraCertificates: IssuedCert[];
  changes: string[];
  only?: string;
  noEcho?: boolean;
  acceptAnyEcho?: boolean;
  /** PEM of the CA the hosts' server certificates lead to (a live deployment's --server-ca). */
  serverAnchors?: string;
  expiryWarningDays?: number;
}

/** Checks generated from the declared Ingresses, their credentials made, their expectations computed. */
async function generatedSubject(input: DeclaredInput): Promise<RunSubject> {
  const lookup = (ns: string, name: string) => input.secrets.find((s) => s.namespace === ns && s.name === name);
  const resolveOptions = { ignoreClass: input.ignoreClass, ingressClass: input.ingressClass };
  const { hosts, ingresses } = resolveHosts(input.ingresses, lookup, resolveOptions);
  for (const [host, c] of Object.entries(input.clients)) input.factory.addGiven({ id: host, certFile: c.certFile, keyFile: c.keyFile, description: `the client certificate given for ${host === "*" ? "every host" : host} (${c.certFile})` });
  const { planned, statics, ingresses: plans } = planChecks({
    hosts,
    ingresses,
    caFor: input.caFor,
    factory: input.factory,
    givenFor: (host) => (input.factory.hasGiven(host) ? host : input.factory.hasGiven("*") ? "*" : undefined),
    revokedFor: input.revokedFor,
    secrets: lookup,
    resolveOptions,
    declared: (ns, name) => input.declared.find((s) => s.namespace === ns && s.name === name),
  });
  const minted = await input.factory.mint();
  let checks = [...statics, ...completeChecks(planned, minted)];
  if (input.only) {
    const matches = globMatcher(input.only);
    checks = checks.filter((c) => matches(c.id, c.name, c.suite, c.group));
  }
  // In the order of the Ingresses, static checks first within each.
  const order = new Map(plans.map((p, i) => [p.id, i]));
  checks.sort((a, b) => (order.get(a.group) ?? 0) - (order.get(b.group) ?? 0));
  const certificates = [...(await input.factory.certificates(minted)), ...input.extraCertificates];
  const trustedCas = hosts.flatMap((h) => h.clientAuth?.trusted ?? []);
  const crl = hosts.find((h) => h.clientAuth?.crl)?.clientAuth?.crl;
  return {
    origin: input.origin,
    source: input.source,
    changes: input.changes,
    groups: [{ name: "all", checks, manifests: input.manifests, junitFile: "junit.xml", manifestsFile: input.manifests ? "manifests.yaml" : undefined }],
    credentials: Object.fromEntries([...minted].map(([k, m]) => [k, runCredential(m)])),
    certificates,
    trust: input.trust,
    hostTrust: input.hostTrust(hosts),
    ...(input.serverPins ? { serverPins: input.serverPins(hosts) } : {}),
    policies: [],
    ingresses: plans,
    caBundleSha256: sha256([...new Set(trustedCas.map((t) => t.sha256))].sort().join("\n")),
    crlSha256: crl?.sha256 ?? null,
    noEcho: input.noEcho,
    acceptAnyEcho: input.acceptAnyEcho,
    // The user's objects as written (their CA, not the run's stand-in), or what the cluster holds.
    // Built once the target is up (a live one's hosts are read first): helpers/run/inventory-step.ts.
    inventoryInput: {
      ingresses: input.ingresses,
      secrets: input.declared.length ? input.declared : input.secrets,
      ingressClass: input.ingressClass,
      ignoreClass: input.ignoreClass,
      ...(input.serverAnchors ? { serverAnchors: input.serverAnchors } : {}),
      ...(input.expiryWarningDays !== undefined ? { expiryWarningDays: input.expiryWarningDays } : {}),
    },
    surveyServers: input.origin !== "manifests",
    hostFacts: Object.fromEntries(hosts.flatMap((h) => {
      const facts = h.clientAuth ? hostFacts(h, ingresses, h.clientAuth.governing) : undefined;
      return facts ? [[h.host, facts]] : [];
    })),
    writeFiles: (dirs) => writeIssued(certificates, [...minted.values()].map((m) => ({ key: m.key, chainPem: m.chainPem, keyPem: m.keyPem })), dirs),
  };
}

/**
 * `--manifests`: the user's objects, prepared for deployment, then the generated checks. The
 * objects are known before the checks are: the run deploys them while the credentials are made.
 */
export async function manifestsSubject(input: { user: UserObjects; only?: string; ingressClass?: string; expiryWarningDays?: number }): Promise<{ manifests: Manifests; finish(): Promise<RunSubject> }> {
  const { prepareUserObjects } = await import("../manifests/user-manifests.ts");
  const factory = new CredentialFactory();
  const prepared: PreparedObjects = await prepareUserObjects(input.user, factory);
  const deployed = prepared.manifests.secrets.map(secretView);
  return { manifests: prepared.manifests, finish: () => generatedSubject({
    origin: "manifests",
    source: input.user.source,
    ingresses: prepared.manifests.ingresses,
    secrets: deployed,
    declared: prepared.declared,
    factory,
    caFor: (ref) => prepared.caIds.get(ref),
    revokedFor: (ca) => prepared.revoked.get(ca),
    clients: {},
    trust: { caPem: prepared.serverCa.certPem },
    // Hosts without a certificate are served with the controller's fake one: probes cannot verify
    // it. Where one certificate of the run names a host, that is the one it serves: the probe pins
    // it (as the catalogue pins its server's), which says more than the chain and the name, and
    // costs the client less (probe.ts).
    hostTrust: (hosts) =>
      Object.fromEntries(hosts.filter((h) => !h.certificate).map((h) => [h.host, { insecure: true, why: "no tls: entry: the controller serves its fake certificate" }])),
    serverPins: (hosts) => Object.fromEntries(hosts.filter((h) => h.certificate && prepared.onlyCertificate.has(h.host)).map((h) => [h.host, prepared.onlyCertificate.get(h.host)!])),
    ignoreClass: false,
    ingressClass: input.ingressClass,
    manifests: prepared.manifests,
    extraCertificates: [prepared.serverCa],
    changes: prepared.changes,
    only: input.only,
    expiryWarningDays: input.expiryWarningDays,
  }) };
}

/** A live endpoint or an audited cluster: the declared objects, found deployed. */
export async function foundSubject(input: { found: DeclaredObjects; only?: string; ingressClass?: string; expiryWarningDays?: number }): Promise<RunSubject> {
  const { found } = input;
  const factory = new CredentialFactory();
  const caFor = new Map<string, string>();
  for (const ca of found.cas) {
    const cert = ca.keyPem
      ? await importCa(ca.certPem, ca.keyPem)
      : (() => {
          const c = new x509.X509Certificate(ca.certPem);
          return { name: ca.id, cert: c, certPem: c.toString("pem"), sha256: createHash("sha256").update(Buffer.from(c.rawData)).digest("hex") };
        })();
    factory.addCa({ id: ca.id, cert, description: ca.keyPem ? `${ca.id} (its key given)` : `${ca.id} (certificate only)` });
    for (const ref of ca.refs) caFor.set(ref, ca.id);
  }
  return generatedSubject({
    origin: found.origin,
    source: found.source,
    ingresses: found.ingresses,
    secrets: found.secrets,
    declared: found.secrets,
    factory,
    caFor: (ref) => caFor.get(ref),
    revokedFor: () => undefined,
    clients: found.clients,
    trust: found.trust,
    hostTrust: () => ({}),
    ignoreClass: found.ignoreClass,
    ingressClass: input.ingressClass,
    extraCertificates: [],
    changes: [],
    only: input.only,
    noEcho: !found.echo,
    acceptAnyEcho: found.echo,
    ...(found.trust.caPem ? { serverAnchors: found.trust.caPem } : {}),
    expiryWarningDays: input.expiryWarningDays,
  });
}

/** The guide's commands run once per process (RSA-4096 keys and an nginx each time otherwise), in a scratch directory removed afterwards. */
let guideCommandsOnce: ReturnType<typeof runGuideCommands> | undefined;
function guideCommandsRun(): ReturnType<typeof runGuideCommands> {
  // Its openssl commands may have started with the process (bin/mtls-conformance.ts); if not, now.
  const early = startGuideOpenssl() && takeStartedGuideOpenssl();
  guideCommandsOnce ??= (async () => {
    const dir = early?.root ?? (await mkdtemp(join(tmpdir(), "guide-commands-")));
    try {
      return await runGuideCommands(dir, early);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return guideCommandsOnce;
}
