// The controllers, one entry each: what its checks expect (its profile, at the version this project
// renders or deploys), and its data plane on this machine (`--target local`). Adding a controller is
// a folder under helpers/controllers/ and a line here; the CLI's choices come from
// helpers/targets/controllers.ts, and a name without an entry here does not compile.
import type { ControllerName } from "../targets/controllers.ts";
import type { ProfileName } from "../profiles/profile.ts";
import type { Target } from "../targets/target.ts";
import { TRAEFIK_VERSION } from "../targets/traefik-controller.ts";

export interface ControllerEntry {
  /** The profile the checks expect when this controller serves the Ingresses. */
  profile: ProfileName;
  /** The version the emulation follows (the profile row it selects). */
  version: string;
  /** Its data plane on loopback; absent: --target local runs the nginx target (ingress-nginx's). */
  local?: () => Promise<Target>;
  /** Tools the local data plane needs (ensure-tools names), installed when missing and possible. */
  localTools?: string[];
}

export const CONTROLLERS: Record<ControllerName, ControllerEntry> = {
  "ingress-nginx": { profile: "ingress-nginx", version: "v1.15.1" },
  traefik: {
    profile: "traefik",
    version: TRAEFIK_VERSION,
    local: async () => new (await import("./traefik/local-target.ts")).TraefikLocalTarget(),
    localTools: ["go"],
  },
  "nginx-gateway-fabric": {
    profile: "nginx-gateway-fabric",
    version: "v2.6.7",
    local: async () => new (await import("./nginx-gateway-fabric/local-target.ts")).NgfLocalTarget(),
    localTools: ["nginx"],
  },
  "haproxy-ingress": {
    profile: "haproxy-ingress",
    version: "v0.15.4",
    local: async () => new (await import("./haproxy-ingress/local-target.ts")).HaproxyIngressLocalTarget(),
    localTools: ["haproxy", "openssl"],
  },
  "f5-nginx-ingress": {
    profile: "f5-nginx-ingress",
    version: "v5.5.4",
    local: async () => new (await import("./f5-nginx-ingress/local-target.ts")).F5LocalTarget(),
    localTools: ["nginx", "openssl"],
  },
};
