// Which controller serves the run's Ingresses (`--controller`). Light on purpose: the CLI reads it
// before any target's dependencies are loaded.
import { ConfigError } from "../support/errors.ts";

/**
 * `ingress-nginx`: the controller itself (its release manifest on k3s, --install-controller on a
 * cluster). `traefik`: Traefik's kubernetesIngressNGINX provider, which reads the same
 * `nginx.ingress.kubernetes.io/*` annotations (traefik-controller.ts). `nginx-gateway-fabric`,
 * `haproxy-ingress`, `f5-nginx-ingress`: their renderings on this machine's nginx or HAProxy (--target
 * local), or a live deployment of them (endpoint, cluster --audit).
 */
export const CONTROLLER_NAMES = ["ingress-nginx", "traefik", "nginx-gateway-fabric", "haproxy-ingress", "f5-nginx-ingress"] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];
export const DEFAULT_CONTROLLER_NAME: ControllerName = "ingress-nginx";

/** The name, or a ConfigError (exit 2) naming the choices; undefined is the default. */
export function parseControllerName(value: string | undefined): ControllerName {
  if (value === undefined) return DEFAULT_CONTROLLER_NAME;
  if ((CONTROLLER_NAMES as readonly string[]).includes(value)) return value as ControllerName;
  throw new ConfigError(`unknown controller "${value}": choose one of ${CONTROLLER_NAMES.join(", ")}`);
}
