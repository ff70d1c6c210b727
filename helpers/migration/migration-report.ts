// "Will my mTLS survive the move?": the static migration report. From a folder of manifests, the
// policy model resolves what ingress-nginx does with each Ingress on each host; guarantees.ts says
// which guarantees that relies on and what each successor profile makes of them; the Gateway API
// translation is written beside it. Rendered as JSON and Markdown. Nothing is deployed or probed:
// the rows rest on source reading, not on a live controller.
import type { V1Ingress } from "@kubernetes/client-node";
import { ingressId, annotationOf } from "../model/annotations.ts";
import { CLASS_ANNOTATION, DEFAULT_INGRESS_CLASS, resolveHosts, type ResolvedIngress } from "../model/hosts.ts";
import { secretView, type SecretView } from "../model/secrets.ts";
import { loadUserManifests } from "../manifests/user-manifests.ts";
import { DAY, generateKeys, issue } from "../pki/pki.ts";
import { ConfigError } from "../support/errors.ts";
import { ingressGuarantees, MIGRATION_PROFILES, PROFILE_INFO, type GuaranteeRow, type IngressGuarantees, type MigrationProfile } from "../profiles/guarantees.ts";
import { CLASSES, type Citation, type MigrationClass } from "../profiles/profile.ts";
import { translateToF5 } from "../controllers/f5-nginx-ingress/translate.ts";
import { translateToGatewayApi, type GatewayTranslation } from "./gateway-api.ts";

export const BASIS_STATEMENT =
  "These rows rest on source reading of Traefik v3.7.9 and Gateway API v1.5 (code, doc and inferred; a few facts reproduced locally with stand-ins: test), not on a live controller: nothing here was observed on a running Traefik or Gateway API implementation. Rows marked inferred in particular need a live run before you rely on them.";

export const OBSERVED_BASIS_STATEMENT =
  "With --observe, each successor that runs here served these Ingresses and every check generated for them was judged against ingress-nginx's expectation: a row marked observed rests on those checks (the class source reading gave is kept as sourceClass where they differ); rows marked source rest on reading Traefik v3.7.9 and Gateway API v1.5 (code, doc, inferred), as without --observe.";

export interface ProfileSummary {
  title: string;
  versions: string;
  note: string;
  counts: Record<MigrationClass, number>;
  lost: number;
  sources: Citation[];
  /** `migration --observe`: what ran, and how many checks observed it. */
  observed?: { target: string; checks: number; reportDir?: string };
}

/** One Ingress and host, as guarantees.ts reads it, with each profile's rows and how many are lost. */
export interface MigrationEntry extends Omit<IngressGuarantees, "profiles"> {
  profiles: Partial<Record<MigrationProfile, { guarantees: GuaranteeRow[]; lost: number }>>;
  /** The file of the host's Gateway in the translation (gateway-api only). */
  gatewayApi?: string;
}

export interface MigrationReport {
  source: string;
  basis: string;
  profiles: Partial<Record<MigrationProfile, ProfileSummary>>;
  ingresses: MigrationEntry[];
  /** The translation's files and the hosts it did not translate (gateway-api only). */
  gatewayApi?: { files: string[]; skipped: string[] };
}

export interface MigrationOptions {
  profiles: readonly MigrationProfile[];
  gatewayClass?: string;
  namespace?: string;
}

/** "traefik,gateway-api" -> the profiles, or a ConfigError naming what is wrong. */
export function parseProfiles(value: string): MigrationProfile[] {
  const names = value.split(",").map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new ConfigError(`--to: name one or more of ${MIGRATION_PROFILES.join(", ")}`);
  for (const n of names) {
    if (n === "ingress-nginx") throw new ConfigError("--to ingress-nginx: that is the baseline the report compares against; name a successor (" + MIGRATION_PROFILES.join(", ") + ")");
    if (!(MIGRATION_PROFILES as readonly string[]).includes(n)) throw new ConfigError(`--to ${n}: unknown profile (known: ${MIGRATION_PROFILES.join(", ")})`);
  }
  return [...new Set(names)] as MigrationProfile[];
}

/** The class an Ingress names explicitly, when it is not the one ingress-nginx serves. */
function otherClass(ing: V1Ingress): string | undefined {
  const name = ing.spec?.ingressClassName ?? ing.metadata?.annotations?.[CLASS_ANNOTATION];
  return name !== undefined && name !== null && name !== DEFAULT_INGRESS_CLASS ? name : undefined;
}

/** Same-namespace auth-tls Secrets the Ingresses name and the manifests do not hold. */
function missingCaSecrets(ingresses: V1Ingress[], secrets: SecretView[]): string[] {
  const out = new Set<string>();
  for (const ing of ingresses) {
    const parts = annotationOf(ing, "auth-tls-secret")?.replace(/\s/g, "").split("/");
    if (!parts || parts.length !== 2 || !parts[1]) continue;
    const ns = parts[0] || (ing.metadata?.namespace ?? "default");
    if (ns !== (ing.metadata?.namespace ?? "default")) continue;
    if (!secrets.some((s) => s.namespace === ns && s.name === parts[1])) out.add(`${ns}/${parts[1]}`);
  }
  return [...out].sort();
}

export interface BuiltMigration {
  report: MigrationReport;
  gateway?: GatewayTranslation;
  /** F5 NGINX Ingress: the Policies, nginx.org/ca Secrets and annotated Ingresses to apply (YAML). */
  f5?: { yaml: string; problems: string[] };
}

export async function buildMigrationReport(path: string, options: MigrationOptions): Promise<BuiltMigration> {
  let user;
  try {
    user = loadUserManifests(path, options.namespace ?? "default");
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`--manifests ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  const declared = user.secrets.map(secretView);
  // A CA Secret kept out of the manifests (made by another tool) is taken as holding a CA: a
  // stand-in certificate lets the model read the Ingress's other annotations; the report says so.
  const missing = missingCaSecrets(user.ingresses, declared);
  const standIns: SecretView[] = [];
  if (missing.length) {
    const now = new Date();
    const ca = await issue({ name: "stand-in", subject: "CN=stand-in for a CA Secret not in the manifests", keys: await generateKeys("p256"), notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + DAY), ca: true });
    for (const ref of missing) {
      const [namespace, name] = ref.split("/") as [string, string];
      standIns.push({ namespace, name, data: { "ca.crt": ca.certPem } });
    }
  }
  const views = [...declared, ...standIns];
  const lookup = (namespace: string, name: string) => views.find((s) => s.namespace === namespace && s.name === name);

  const served = user.ingresses.filter((i) => !otherClass(i));
  // Ingresses naming no class are taken as the default class's (the cluster's default IngressClass).
  const model = resolveHosts(served, lookup, { ignoreClass: true });
  const others: ResolvedIngress[] = user.ingresses
    .filter((i) => otherClass(i))
    .map((ing) => ({
      id: ingressId(ing),
      ingress: ing,
      hosts: [...new Set((ing.spec?.rules ?? []).filter((r) => r.host && r.http).map((r) => r.host!))],
      notServed: `it names IngressClass "${otherClass(ing)}", not "${DEFAULT_INGRESS_CLASS}"`,
      notes: [],
    }));
  // Declaration order reads best: the order of the files.
  const all = [...model.ingresses, ...others];
  const order = new Map(user.ingresses.map((i, n) => [ingressId(i), n]));
  all.sort((a, b) => order.get(a.id)! - order.get(b.id)!);

  const assumedSecrets = new Set(missing);
  const first = (h: (typeof model.hosts)[number]) => Math.min(...h.ingresses.map((i) => order.get(i.id) ?? Infinity));
  const hosts = [...model.hosts].sort((a, b) => first(a) - first(b));
  const gateway = (options.profiles.includes("gateway-api") || options.profiles.includes("nginx-gateway-fabric"))
    ? translateToGatewayApi({ hosts, ingresses: model.ingresses, secrets: declared, services: user.services, gatewayClass: options.gatewayClass ?? "replace-me" })
    : undefined;

  const entries: MigrationEntry[] = all.flatMap((ing) =>
    ingressGuarantees(ing, model.hosts, model.ingresses, { profiles: options.profiles, assumedSecrets }).map((g: IngressGuarantees) => {
      const profiles: MigrationEntry["profiles"] = {};
      for (const p of options.profiles) {
        const rows = g.profiles[p] ?? [];
        profiles[p] = { guarantees: rows, lost: rows.filter((r) => r.class === "lost").length };
      }
      const file = gateway?.byHost[g.host];
      return { namespace: g.namespace, name: g.name, host: g.host, status: g.status, baseline: g.baseline, relies: g.relies, notes: g.notes, profiles, ...(file ? { gatewayApi: file } : {}) };
    }),
  );

  const summaries: MigrationReport["profiles"] = {};
  for (const p of options.profiles) {
    const counts = Object.fromEntries(CLASSES.map((c) => [c, 0])) as Record<MigrationClass, number>;
    for (const e of entries) for (const r of e.profiles[p]?.guarantees ?? []) counts[r.class]++;
    const info = PROFILE_INFO[p];
    summaries[p] = { title: info.title, versions: info.versions, note: info.note, counts, lost: counts.lost, sources: info.sources };
  }
  const report: MigrationReport = {
    source: path,
    basis: BASIS_STATEMENT,
    profiles: summaries,
    ingresses: entries,
    ...(gateway ? { gatewayApi: { files: gateway.files.map((f) => f.path), skipped: gateway.skipped } } : {}),
  };
  const f5 = options.profiles.includes("f5-nginx-ingress") ? translateToF5({ ingresses: served, secrets: user.secrets, ignoreClass: true }) : undefined;
  return { report, ...(gateway ? { gateway } : {}), ...(f5 ? { f5: { yaml: f5.yaml, problems: f5.problems } } : {}) };
}

/** 1 when any guarantee is lost on any profile of the report, else 0. */
export function migrationExitCode(report: MigrationReport): 0 | 1 {
  return Object.values(report.profiles).some((p) => p.lost > 0) ? 1 : 0;
}

export function renderJson(report: MigrationReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const bases = (sources: Citation[]) => [...new Set(sources.map((s) => s.basis))].join(", ");

/** A guarantee's cell: the class, why, and what it rests on (an observation names its checks). */
function rowCell(r: GuaranteeRow): string {
  if (r.basis === "observed" && r.observed?.length) {
    const first = r.observed.find((c) => c.class === r.class) ?? r.observed[0]!;
    const was = r.sourceClass ? `; source reading said ${r.sourceClass}` : "";
    return `**${r.class}** _(observed: ${r.observed.length} check(s), e.g. ${first.id}: ${cell(first.observed)}${was})_: ${cell(first.why)}`;
  }
  return `**${r.class}**: ${cell(r.reason)} _(${bases(r.sources)}${r.basis === "source" ? "; not observed" : ""})_`;
}

/** One line per profile: "traefik (...): N same, N equivalent, N lost, N not-expressible, N stricter". */
export function summaryLines(report: MigrationReport): string[] {
  return Object.entries(report.profiles).map(
    ([name, p]) =>
      `${name} (${p.title} ${p.versions}): ${p.counts.same} same, ${p.counts.equivalent} equivalent, ${p.counts.lost} lost, ${p.counts["not-expressible"]} not-expressible, ${p.counts.stricter} stricter` +
      (p.observed ? `; observed: ${p.observed.checks} check(s) on ${p.observed.target}` : ""),
  );
}

export function renderMarkdown(report: MigrationReport): string {
  const profiles = Object.keys(report.profiles) as MigrationProfile[];
  const out: string[] = ["# Will my mTLS survive the move?", ""];
  out.push(`Manifests: \`${report.source}\`, ${new Set(report.ingresses.map((e) => `${e.namespace}/${e.name}`)).size} Ingress(es), ${report.ingresses.length} Ingress/host entries.`, "");
  out.push(`> ${report.basis}`, "");
  out.push("## Summary", "");
  for (const line of summaryLines(report)) out.push(`- ${line}`);
  out.push("");
  for (const p of profiles) out.push(`${p}: ${report.profiles[p]!.note}`, "");
  const lost = report.ingresses.filter((e) => profiles.some((p) => (e.profiles[p]?.lost ?? 0) > 0));
  out.push(lost.length ? `Guarantees are lost for ${lost.length} of ${report.ingresses.length} entries (exit code 1).` : "No guarantee is lost on the profiles asked for (exit code 0).", "");

  for (const e of report.ingresses) {
    out.push(`## ${e.namespace}/${e.name} on ${e.host}`, "");
    out.push(`ingress-nginx today: ${e.baseline}${e.baseline.endsWith(".") ? "" : "."}`, "");
    if (e.relies.length) {
      out.push(`| guarantee | ${profiles.join(" | ")} |`, `|---|${profiles.map(() => "---").join("|")}|`);
      for (const g of e.relies) {
        const cells = profiles.map((p) => {
          const r = e.profiles[p]?.guarantees.find((x) => x.guarantee === g);
          return r ? rowCell(r) : "";
        });
        out.push(`| ${g} | ${cells.join(" | ")} |`);
      }
      // Guarantees only an observation found (not relied on as read): after the declared ones.
      const extra = [...new Set(profiles.flatMap((p) => (e.profiles[p]?.guarantees ?? []).map((r) => r.guarantee)))].filter((g) => !e.relies.includes(g));
      for (const g of extra) out.push(`| ${g} (observed) | ${profiles.map((p) => { const r = e.profiles[p]?.guarantees.find((x) => x.guarantee === g); return r ? rowCell(r) : ""; }).join(" | ")} |`);
      out.push("");
    } else out.push(`Relies on no mTLS guarantee (status: ${e.status}).`, "");
    for (const n of e.notes) out.push(`- ${n}`);
    if (e.gatewayApi) out.push(`- Gateway API translation: \`${e.gatewayApi}\``);
    if (e.notes.length || e.gatewayApi) out.push("");
  }
  if (report.gatewayApi?.skipped.length) {
    out.push("## Not translated to Gateway API", "");
    for (const s of report.gatewayApi.skipped) out.push(`- ${s}`);
    out.push("");
  }

  const cited = new Map<string, Citation>();
  for (const e of report.ingresses) for (const p of profiles) for (const r of e.profiles[p]?.guarantees ?? []) for (const s of r.sources) cited.set(s.ref, s);
  for (const p of profiles) for (const s of report.profiles[p]!.sources) cited.set(s.ref, s);
  if (cited.size) {
    out.push("## Sources", "", "Read at the tags named; the basis in brackets: code read in source, doc the project's documentation, test reproduced locally with a stand-in, inferred from code no test ran, observed on the successor's data plane here.", "");
    for (const s of cited.values()) out.push(`- [${s.basis}] ${s.ref}`);
    out.push("");
  }
  return out.join("\n");
}
