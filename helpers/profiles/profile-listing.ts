// `list --profile NAME`: every scenario's class on a successor, for people and for machines.
import type { Catalogue, Scenario } from "../catalogue/catalogue.ts";
import { CLASSES, type Basis, type MigrationClass } from "./profile.ts";
import { dataPlaneVersion } from "../controllers/observed.ts";
import { classifyCatalogue, observedFor, profileByName, profileRow, type ClassifiedScenario } from "./registry.ts";

export interface ProfileListing {
  profile: string;
  title: string;
  versions: string;
  /** Every other version row of the profile, for the reader who runs another version. */
  otherVersions: string[];
  totals: Record<MigrationClass, number>;
  /** How the rows are known: no row here has been observed on a live successor unless it says `observed`. */
  basis: Record<Basis, number>;
  scenarios: ClassifiedScenario[];
}

export function profileListing(catalogue: Catalogue, name: string, version: string | undefined, scenarios: Scenario[] = catalogue.scenarios): ProfileListing {
  const profile = profileByName(name);
  const row = profileRow(profile, version);
  // A row whose class an observation on the successor's data plane showed rests on that observation.
  const observed = observedFor(profile.name, row.versions);
  const rows = classifyCatalogue(catalogue, profile, row, scenarios).map((r) =>
    observed && observed.rows[r.id] === r.class ? { ...r, sources: [...r.sources, { ref: `observed: ${observed.dataPlane}, ${dataPlaneVersion(observed)} (\`${observed.command}\`)`, basis: "observed" as const }] } : r,
  );
  const totals = Object.fromEntries(CLASSES.map((c) => [c, rows.filter((r) => r.class === c).length])) as Record<MigrationClass, number>;
  const basis: Record<Basis, number> = { code: 0, doc: 0, test: 0, inferred: 0, observed: 0 };
  // An observed row is observed; otherwise a row is as strong as its weakest source (one inferred source makes it inferred).
  const rank: Basis[] = ["inferred", "test", "doc", "code"];
  for (const r of rows) basis[r.sources.some((s) => s.basis === "observed") ? "observed" : (rank.find((b) => r.sources.some((s) => s.basis === b)) ?? "code")]++;
  return { profile: profile.name, title: profile.title, versions: row.versions, otherVersions: profile.rows.map((r) => r.versions).filter((v) => v !== row.versions), totals, basis, scenarios: rows };
}

export function renderProfileListing(l: ProfileListing): string {
  const lines = [`${l.title} (${l.profile} ${l.versions})`];
  for (const s of l.scenarios) {
    lines.push(`${s.id}  ${s.class.padEnd(15)} ${s.guarantee.padEnd(20)} ${s.reason}`);
    for (const src of s.sources) lines.push(`    [${src.basis}] ${src.ref}`);
  }
  lines.push(CLASSES.map((c) => `${l.totals[c]} ${c}`).join(", ") + ` of ${l.scenarios.length} scenario(s)`);
  lines.push(`rows resting on: ${Object.entries(l.basis).map(([b, n]) => `${b} ${n}`).join(", ")} (observed: the class a run on the successor's data plane showed; the others rest on reading)`);
  if (l.otherVersions.length) lines.push(`other version rows: ${l.otherVersions.join(", ")} (--profile-version)`);
  return lines.join("\n") + "\n";
}
