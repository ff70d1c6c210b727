// What the controller keeps when objects change (and the nginx target emulates): an
// Ingress update the admission webhook refuses never reaches it, so the previous version stays
// (store.go:949-953; the webhook: annotations.go:191-195); a Secret updated to content it cannot
// use is not taken, so the previous content stays (backend_ssl.go:44-50); a deleted Secret is gone
// (store.go:665-705). And a configuration nginx refuses (a negative verify-depth) fails the reload:
// the previous configuration keeps serving, and no later change applies until one loads (nginx.go:703).
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { isDeepStrictEqual } from "node:util";
import type { Manifests } from "../manifests/manifests.ts";
import { ingressId, parseAuthTls } from "./annotations.ts";
import { resolveHosts } from "./hosts.ts";
import { classifySecret, secretView } from "./secrets.ts";

const key = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? "default"}/${o.metadata?.name ?? ""}`;

/**
 * The objects the controller holds after `next` is applied on top of what it held (`previous`).
 * `submitted`, the objects applied last time, makes re-applying an unchanged object the no-op it
 * is: the API server stores nothing new, so no event reaches the controller and no webhook runs.
 */
export function applyToStore(previous: Manifests, next: Manifests, submitted?: Manifests): { manifests: Manifests; notes: string[] } {
  const notes: string[] = [];
  const unchanged = <T extends V1Secret | V1Ingress>(o: T, last: T[] | undefined) => {
    const before = last?.find((p) => key(p) === key(o));
    return before !== undefined && isDeepStrictEqual(before, o);
  };
  const secrets: V1Secret[] = next.secrets.map((s) => {
    const before = previous.secrets.find((p) => key(p) === key(s));
    if (!before) return s;
    if (unchanged(s, submitted?.secrets)) return before;
    const now = classifySecret(secretView(s), key(s));
    const was = classifySecret(secretView(before), key(before));
    if (!now.usable && was.usable) {
      notes.push(`secret ${key(s)} updated to content the controller cannot use (${now.reason?.replace(`secret ${key(s)}: `, "")}): it keeps the previous content`);
      return before;
    }
    return s;
  });
  const lookup = (ns: string, name: string) => {
    const s = secrets.find((x) => key(x) === `${ns}/${name}`);
    return s ? secretView(s) : undefined;
  };
  const ingresses: V1Ingress[] = [];
  for (const ing of next.ingresses) {
    const rejected = parseAuthTls(ing, lookup)?.rejected;
    if (!rejected) {
      ingresses.push(ing);
      continue;
    }
    const before = previous.ingresses.find((p) => ingressId(p) === ingressId(ing));
    if (unchanged(ing, submitted?.ingresses)) {
      if (before) ingresses.push(before);
      continue;
    }
    notes.push(`the admission webhook rejects the update of Ingress ${ingressId(ing)} (${rejected.message}): ${before ? "the previous version stays" : "it is not created"}`);
    if (before) ingresses.push(before);
  }
  return { manifests: { ...next, secrets, ingresses }, notes };
}

/** Whether nginx loads the configuration of these objects: it refuses a negative ssl_verify_depth. */
export function configurationLoads(m: Manifests): { loads: boolean; why?: string } {
  const lookup = (ns: string, name: string) => {
    const s = m.secrets.find((x) => key(x) === `${ns}/${name}`);
    return s ? secretView(s) : undefined;
  };
  const bad = resolveHosts(m.ingresses, lookup).hosts.find((h) => h.clientAuth && h.clientAuth.settings.verifyDepth < 0);
  return bad ? { loads: false, why: `ssl_verify_depth ${bad.clientAuth!.settings.verifyDepth} on ${bad.host} (Ingress ${bad.clientAuth!.governing})` } : { loads: true };
}
