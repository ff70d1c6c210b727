// The inventory's production checks as checks of the run (every input but the catalogue, whose
// fixtures are broken on purpose: an expired CRL is one of its scenarios). On a live deployment the
// certificate each host presents is read first (one handshake, no client certificate) and judged
// instead of the declared one; a host whose certificate leads to the server CA but does not name
// the host gets a server-name verdict of its own, and its client-authentication checks are made
// against that certificate, pinned, so that they judge client authentication and say so.
import { globMatcher } from "../catalogue/catalogue.ts";
import type { Check } from "../checks/check.ts";
import { buildInventory, INVENTORY_CONTROLS, INVENTORY_SUITE, PRODUCTION_SOURCES, type ProductionCheck } from "../inventory/inventory.ts";
import { surveyedInventory } from "../inventory/server-survey.ts";
import type { StartedTarget } from "../targets/target.ts";
import type { RunSubject, SubjectGroup } from "./subject.ts";

/** A production check as a check of the run: decided by the run itself, never probed. */
export function inventoryCheck(p: ProductionCheck): Check {
  return {
    id: p.id,
    name: p.name,
    suite: INVENTORY_SUITE,
    group: INVENTORY_SUITE,
    must: p.must,
    host: p.host ?? "",
    expect: { upstream: "not-reached" },
    controls: INVENTORY_CONTROLS,
    note: p.subject,
    basis: PRODUCTION_SOURCES[p.name],
    ...(p.verdict === "finding" ? { finding: { id: `inventory-${p.rule}`, statement: `${p.subject}: ${p.detail}` } } : {}),
    ...(p.verdict === "skip" ? { skip: p.detail } : { static: { verdict: p.verdict, detail: p.detail, rule: p.rule ?? p.name } }),
    decidedAfterProbes: true,
  };
}

/**
 * Builds the inventory (on a live deployment from what the hosts present), pins what must be
 * pinned, and adds the production checks to `group` (those --only selects); returns them. Call
 * once the target is up and before the probes: the pins must reach them.
 */
export async function judgeInventory(input: { subject: RunSubject; group: SubjectGroup; started?: StartedTarget; only?: string; log: (line: string) => void }): Promise<Check[]> {
  const { subject, group, started } = input;
  const base = subject.inventoryInput;
  if (!base) return [];
  if (subject.surveyServers && started) {
    const live = await surveyedInventory(base, (h) => started.endpointFor(h), new Set(group.checks.map((c) => c.host)));
    subject.inventory = live.inventory;
    input.log(`inventory: read the certificate chain ${live.surveyed} of ${live.hosts} host(s) present (one handshake each, no client certificate)`);
    const pinned: string[] = [];
    for (const s of live.inventory.serverCertificates) {
      const trust = subject.hostTrust[s.host] ?? subject.trust;
      // Only a chain that reaches the server CA: a certificate the run could not trust stays refused.
      if (s.source !== "presented" || s.coversHost || s.chainComplete !== true || trust.insecure || trust.serverSha256) continue;
      subject.serverPins = { ...subject.serverPins, [s.host]: s.sha256 };
      subject.serverKeyPins = { ...subject.serverKeyPins, [s.host]: s.publicKeySha256 };
      pinned.push(s.host);
      const note = `Judged against the certificate ${s.host} presents (sha256 ${s.sha256.slice(0, 16)}…, pinned): it leads to the server CA but names ${s.sans.join(", ") || "no host"}, not ${s.host} (inventory/host/${s.host}#server-name fails on its own). This check judges client authentication only.`;
      for (const c of group.checks) if (c.host === s.host) c.note = c.note ? `${c.note} ${note}` : note;
    }
    if (pinned.length) input.log(`inventory: ${pinned.length} host(s) present a certificate that does not name them (${pinned.join(", ")}): their client-authentication checks run against it, pinned`);
  }
  const inventory = (subject.inventory ??= buildInventory(base));
  const matches = input.only ? globMatcher(input.only) : undefined;
  const checks = inventory.checks.map(inventoryCheck).filter((c) => !matches || matches(c.id, c.name, c.suite, c.group));
  group.checks.push(...checks);
  return checks;
}
