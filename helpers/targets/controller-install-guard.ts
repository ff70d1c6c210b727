// `--install-controller` on a cluster that already runs ingress-nginx: applying the release manifest
// over another install is refused before anything is applied. Server-side apply with force would
// take over the other install's objects (its IngressClass, ClusterRoles, webhook), and fail half way
// with 422 on fields that cannot change (a Helm Deployment's spec.selector, a Job's template).
// Re-applying the same release's manifest is fine: apply is idempotent.
import type { V1Deployment } from "@kubernetes/client-node";
import { ConfigError } from "../support/errors.ts";
import { imageTagVersion, labelVersion } from "./controller-version.ts";
import { apiError, CONTROLLER_SELECTOR, type Kube } from "./kube.ts";

/** A controller Deployment, as far as telling installs apart goes. */
export interface ControllerInstall {
  namespace: string;
  name: string;
  /** `v1.15.1`, from the version label or the image tag; undefined when neither says. */
  version?: string;
  /** `app.kubernetes.io/managed-by` (Helm sets it; the release manifests do not). */
  managedBy?: string;
  /** `helm.sh/chart`, when a chart made it. */
  chart?: string;
  selector: Record<string, string>;
}

type ManifestDeployment = { kind?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string> }; spec?: V1Deployment["spec"] };

export function describeInstall(d: ManifestDeployment | V1Deployment): ControllerInstall {
  const labels = d.metadata?.labels ?? {};
  const containers = d.spec?.template?.spec?.containers ?? [];
  const image = (containers.find((c) => c.name === "controller") ?? containers[0])?.image;
  return {
    namespace: d.metadata?.namespace ?? "default",
    name: d.metadata?.name ?? "",
    version: labelVersion(labels) ?? imageTagVersion(image),
    managedBy: labels["app.kubernetes.io/managed-by"],
    chart: labels["helm.sh/chart"],
    selector: d.spec?.selector?.matchLabels ?? {},
  };
}

/** The manifest's controller Deployment (ingress-nginx-controller), which the checks compare against. */
export function manifestInstall(objects: Array<Record<string, unknown>>, version: string): ControllerInstall | undefined {
  const d = objects.find((o) => o.kind === "Deployment" && (o as ManifestDeployment).metadata?.name === "ingress-nginx-controller") as ManifestDeployment | undefined;
  if (!d) return undefined;
  const install = describeInstall(d);
  return { ...install, version: install.version ?? version };
}

const sameLabels = (a: Record<string, string>, b: Record<string, string>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** What makes `found` another install than the one `manifest` makes; empty when it is the same. */
export function installDifferences(found: ControllerInstall, manifest: ControllerInstall): string[] {
  const reasons: string[] = [];
  if (found.namespace !== manifest.namespace || found.name !== manifest.name) {
    reasons.push(`it is another controller than the manifest's ${manifest.namespace}/${manifest.name}: both would serve the same IngressClass`);
  }
  if (found.version !== manifest.version) reasons.push(`it runs ${found.version ?? "an unknown version"}, the manifest ${manifest.version}`);
  if ((found.managedBy ?? "") !== (manifest.managedBy ?? "") || (found.chart ?? "") !== (manifest.chart ?? "")) {
    reasons.push(`it was installed by ${found.managedBy ?? "something else"}${found.chart ? ` (chart ${found.chart})` : ""}, not by the release manifest`);
  }
  if (!sameLabels(found.selector, manifest.selector)) reasons.push("its spec.selector differs from the manifest's, and a Deployment's selector cannot be changed");
  return reasons;
}

function describe(found: ControllerInstall): string {
  const facts = [`Deployment ${found.namespace}/${found.name}`, `version ${found.version ?? "unknown"}`, `app.kubernetes.io/managed-by: ${found.managedBy ?? "(none)"}`];
  if (found.chart) facts.push(`helm.sh/chart: ${found.chart}`);
  return facts.join(", ");
}

/** The refusal, naming what was found and what to do instead. */
export function installRefusal(found: ControllerInstall, reasons: string[], manifestVersion: string): string {
  return (
    `--install-controller: this cluster already runs ingress-nginx (${describe(found)}); ` +
    `applying the ${manifestVersion} release manifest over it would change another install: ${reasons.join("; ")}. ` +
    `Nothing was applied. Omit --install-controller to test the controller that is there` +
    `${found.namespace === "ingress-nginx" ? "" : ` (with --controller-namespace ${found.namespace})`}, or use another cluster.`
  );
}

/**
 * Every ingress-nginx controller Deployment the cluster has: those labelled as the release
 * manifest and the Helm chart label theirs, and the manifest's own name in its namespace. Without
 * the right to list every namespace, only the latter is looked at.
 */
async function existingInstalls(kube: Kube, manifest: ControllerInstall): Promise<ControllerInstall[]> {
  const found = new Map<string, ControllerInstall>();
  const add = (d: V1Deployment) => found.set(`${d.metadata?.namespace}/${d.metadata?.name}`, describeInstall(d));
  try {
    (await kube.apps.listDeploymentForAllNamespaces({ labelSelector: CONTROLLER_SELECTOR })).items.forEach(add);
  } catch (error) {
    if (apiError(error).code !== 403) throw error;
  }
  try {
    add(await kube.apps.readNamespacedDeployment({ namespace: manifest.namespace, name: manifest.name }));
  } catch (error) {
    if (apiError(error).code !== 404) throw error;
  }
  return [...found.values()];
}

/** Throws ConfigError (exit 2) when the cluster runs an ingress-nginx the manifest is not. */
export async function refuseForeignController(kube: Kube, manifest: { version: string; objects: Array<Record<string, unknown>> }): Promise<void> {
  const wanted = manifestInstall(manifest.objects, manifest.version);
  if (!wanted) return;
  for (const found of await existingInstalls(kube, wanted)) {
    const reasons = installDifferences(found, wanted);
    if (reasons.length) throw new ConfigError(installRefusal(found, reasons, manifest.version));
  }
}
