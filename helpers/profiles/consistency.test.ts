// Two independent readings of the same sources must agree: the static migration report (per
// Ingress and guarantee, helpers/profiles/guarantees.ts) and the scenario rows (per probe,
// traefik.ts and gateway-api.ts). Fed the catalogue's own Ingresses, a guarantee the report calls
// lost has a lost scenario row on that Ingress, and one it keeps has none, wherever the
// catalogue probes that guarantee on that Ingress.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { catalogue } from "../../fixtures/catalogue.ts";
import { buildManifests, manifestsYaml } from "../manifests/manifests.ts";
import { buildMigrationReport } from "../migration/migration-report.ts";
import { buildPki } from "../pki/pki.ts";
import { MIGRATION_PROFILES } from "./guarantees.ts";
import { classifyCatalogue, profileByName } from "./registry.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

// Every temp folder this file makes, removed after its last test.
const tempDir = tempDirs();

const POLICIES = ["guide", "depth-2", "no-pass-cert", "verify-off", "verify-optional", "verify-optional-no-ca", "error-page", "match-cn-anchored", "crl"];

describe("the migration report and the scenario rows agree", async () => {
  const policies = catalogue.policies.filter((p) => POLICIES.includes(p.name));
  const pki = await buildPki({ serverHosts: policies.map((p) => p.host) });
  const dir = tempDir("consistency-");
  writeFileSync(join(dir, "catalogue.yaml"), manifestsYaml(buildManifests({ namespace: "mtls-conformance", policies, pki })));
  const { report } = await buildMigrationReport(dir, { profiles: MIGRATION_PROFILES });

  for (const profile of MIGRATION_PROFILES) {
    it(profile, () => {
      const rows = classifyCatalogue(catalogue, profileByName(profile));
      const disagreements: string[] = [];
      let compared = 0;
      for (const p of policies) {
        const entry = report.ingresses.find((e) => e.name === p.ingressName)!;
        for (const g of entry.profiles[profile]?.guarantees ?? []) {
          // Plain probes of this Ingress (no SNI/Host games, no stages) that prove this guarantee.
          const probes = rows.filter((r) => {
            const s = catalogue.scenarios.find((x) => x.id === r.id)!;
            return s.policy === p.name && !s.request && !s.stage && !s.lint && r.guarantee === g.guarantee;
          });
          if (!probes.length) continue;
          compared++;
          const lost = probes.filter((r) => r.class === "lost").map((r) => r.id);
          if ((g.class === "lost") !== lost.length > 0) disagreements.push(`${p.ingressName} ${g.guarantee}: report ${g.class}, scenarios ${probes.map((r) => `${r.id} ${r.class}`).join(", ")}`);
        }
      }
      expect(disagreements).toEqual([]);
      expect(compared).toBeGreaterThan(10);
    });
  }
});
