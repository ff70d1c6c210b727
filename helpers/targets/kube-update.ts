// A lifecycle stage on a real cluster: only what changed is sent, and what the stage no longer
// has is deleted. Re-applying every object at every stage would run the admission webhook (which
// renders the whole configuration and tests it with nginx) once per unchanged Ingress, and
// applying alone never deletes: a stage that removes a Secret would not happen at all.
import type { KubernetesObject } from "@kubernetes/client-node";
import { isDeepStrictEqual } from "node:util";
import type { Manifests } from "../manifests/manifests.ts";
import { apiError, KubeApiError, type AdmissionDenial, type Kube, type Timeouts } from "./kube.ts";

type Obj = KubernetesObject & { metadata?: { name?: string; namespace?: string } };

const identity = (o: Obj) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
const objects = (m: Manifests): Obj[] => [...m.workloads, ...m.secrets, ...m.ingresses] as Obj[];

export interface ObjectChanges {
  /** New or changed objects, in the groups `Kube.deploy` applies them in. */
  apply: Pick<Manifests, "workloads" | "secrets" | "ingresses">;
  /** Objects of `previous` that `next` no longer has: Ingresses first, so none names a Secret that is gone. */
  remove: Obj[];
}

export function objectChanges(previous: Manifests, next: Manifests): ObjectChanges {
  const before = new Map(objects(previous).map((o) => [identity(o), o]));
  const changed = (o: Obj) => !isDeepStrictEqual(before.get(identity(o)), o);
  const kept = new Set(objects(next).map(identity));
  const gone = objects(previous).filter((o) => !kept.has(identity(o)));
  return {
    apply: {
      workloads: next.workloads.filter((o) => changed(o as Obj)),
      secrets: next.secrets.filter((o) => changed(o as Obj)),
      ingresses: next.ingresses.filter((o) => changed(o as Obj)),
    },
    remove: [...gone.filter((o) => o.kind === "Ingress"), ...gone.filter((o) => o.kind !== "Ingress")],
  };
}

/** Applies `next` over `previous` on the cluster; returns the webhook's denials and what was done. */
export async function applyChanges(
  kube: Kube,
  previous: Manifests,
  next: Manifests,
  timeouts: Timeouts,
): Promise<{ denied: AdmissionDenial[]; applied: string[]; removed: string[] }> {
  const changes = objectChanges(previous, next);
  const removed: string[] = [];
  for (const o of changes.remove) {
    try {
      await kube.objects.delete(o);
    } catch (error) {
      const { code, message } = apiError(error);
      // Already gone is what was wanted.
      if (code !== 404) throw new KubeApiError(`deleting ${identity(o)}: ${code ? `HTTP ${code}: ` : ""}${message}`, code);
    }
    removed.push(identity(o));
  }
  const denied = await kube.deploy({ ...next, ...changes.apply }, timeouts);
  const applied = objects({ ...next, ...changes.apply }).map(identity);
  return { denied, applied, removed };
}
