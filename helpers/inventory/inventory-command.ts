// `mtls-conformance inventory`: what is in force and the guide's production checks alone, with the
// inputs `run` takes (the catalogue's objects, --manifests, a live endpoint, a cluster audit).
// Read-only: nothing is deployed, no client credential is made or presented; on a live deployment
// one handshake per host reads the chain it presents. Fast enough for an hourly job.
import { ConfigError } from "../support/errors.ts";
import type { TargetOptions } from "../targets/registry.ts";
import { buildInventory, hostsWithCertificate, renderInventory, type Inventory, type InventoryInput } from "./inventory.ts";
import { surveyedInventory } from "./server-survey.ts";

export interface InventoryCommandOptions {
  /** Where the objects come from: none (the catalogue's), --manifests, or a live target. */
  target?: "endpoint" | "cluster";
  manifests?: string;
  namespace?: string;
  ingressClass?: string;
  expiryWarningDays: number;
  json?: boolean;
  targetOptions?: TargetOptions;
  log?: (line: string) => void;
}

/** The inventory of the chosen input; a live one also reads what each host presents. */
export async function takeInventory(o: InventoryCommandOptions): Promise<Inventory> {
  const log = o.log ?? (() => undefined);
  const days = o.expiryWarningDays;
  if (o.target && o.manifests) throw new ConfigError("inventory: --manifests or --target endpoint|cluster --audit, not both");
  if (o.manifests) {
    const [{ loadUserManifests }, { secretView }] = await Promise.all([import("../manifests/user-manifests.ts"), import("../model/secrets.ts")]);
    const user = loadUserManifests(o.manifests, o.namespace ?? "default");
    return buildInventory({ ingresses: user.ingresses, secrets: user.secrets.map(secretView), ingressClass: o.ingressClass, expiryWarningDays: days });
  }
  if (o.target) return liveInventory(o, log);
  // The catalogue's own objects (its fixtures: some are broken on purpose, e.g. an expired CRL).
  const [{ catalogue }, { buildPki }, { buildManifests }, { secretView }] = await Promise.all([import("../../fixtures/catalogue.ts"), import("../pki/pki.ts"), import("../manifests/manifests.ts"), import("../model/secrets.ts")]);
  const pki = await buildPki({ serverHosts: [...new Set(catalogue.policies.map((p) => p.host))] });
  const all = buildManifests({ namespace: o.namespace ?? "default", policies: catalogue.policies, pki });
  log("inventory of the catalogue's own objects (made now; pass --manifests or a live target for yours)");
  return buildInventory({ ingresses: all.ingresses, secrets: all.secrets.map(secretView), ingressClass: "nginx", expiryWarningDays: days, serverAnchors: pki.ca.certPem });
}

async function liveInventory(o: InventoryCommandOptions, log: (line: string) => void): Promise<Inventory> {
  // The target run would check, validated as run validates it (an endpoint, or a cluster --audit).
  if (o.target === "cluster" && !o.targetOptions?.audit) throw new ConfigError("inventory --target cluster reads what is deployed: add --audit");
  const { chooseTarget } = await import("../targets/registry.ts");
  const { target } = await chooseTarget(o.target!, o.targetOptions);
  if (!target.discover) throw new Error(`the ${o.target} target finds nothing deployed to read`);
  const found = await target.discover(log);
  const input: InventoryInput = { ingresses: found.ingresses, secrets: found.secrets, ignoreClass: found.ignoreClass, ingressClass: o.ingressClass, expiryWarningDays: o.expiryWarningDays, ...(found.trust.caPem ? { serverAnchors: found.trust.caPem } : {}) };
  const started = await target.start({ hosts: hostsWithCertificate(input), log, workDir: "", reportDir: "" });
  try {
    const live = await surveyedInventory(input, (h) => started.endpointFor(h));
    log(`read the chain ${live.surveyed} of ${live.hosts} host(s) present`);
    return live.inventory;
  } finally {
    await started.stop();
  }
}

/** Prints the inventory; exit 1 when a certificate or CRL in force is expired or inside the warning window. */
export async function inventoryCommand(o: InventoryCommandOptions): Promise<number> {
  const inventory = await takeInventory(o);
  process.stdout.write(o.json ? JSON.stringify(inventory, null, 2) + "\n" : renderInventory(inventory));
  return inventory.findings.some((f) => f.blocking) ? 1 : 0;
}
