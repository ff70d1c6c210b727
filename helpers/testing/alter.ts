// For the project's own tests: break a deployed Ingress on purpose (runConformance's alterManifests).
import { ANNOTATION_PREFIX } from "../catalogue/catalogue.ts";
import type { Manifests } from "../manifests/manifests.ts";

export function setAnnotation(ingressName: string, key: string, value: string): (m: Manifests) => Manifests {
  return (m) => {
    const ing = m.ingresses.find((i) => i.metadata?.name === ingressName);
    if (!ing?.metadata?.annotations) throw new Error(`no Ingress ${ingressName} with annotations in the run`);
    ing.metadata.annotations[ANNOTATION_PREFIX + key] = value;
    return m;
  };
}
