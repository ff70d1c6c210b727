// Which target runs, built from the command line's options. `auto` prefers the real controller
// (k3s) where a container engine answers and can get the images, else the local nginx data plane.
// The k3s and cluster targets pull in testcontainers and @kubernetes/client-node, which take
// about a second to load: they are imported only when chosen.
import { CONTROLLERS } from "../controllers/index.ts";
import { ConfigError } from "../support/errors.ts";
import { canInstallPackages, ensureTools } from "../support/ensure-tools.ts";
import { parseControllerVersion } from "./controller-manifest.ts";
import type { ClusterTargetOptions } from "./cluster-target.ts";
import { containerEngine } from "./engine.ts";
import type { K3sTarget, K3sTargetOptions } from "./k3s-target.ts";
import { NginxTarget, type NginxTargetOptions } from "../controllers/ingress-nginx/nginx-target.ts";
import { EndpointTarget, type EndpointTargetOptions } from "./endpoint-target.ts";
import type { Target } from "./target.ts";

export const TARGET_NAMES = ["auto", "local", "nginx", "k3s", "cluster", "endpoint"] as const;

export type TargetOptions = K3sTargetOptions &
  ClusterTargetOptions &
  EndpointTargetOptions & {
    /** --target cluster: audit what is deployed instead of deploying the run's objects. */
    audit?: boolean;
    auditNamespace?: string;
    /** The nginx target's own options (the project's tests make it run short with workerConnections). */
    nginx?: NginxTargetOptions;
  };

export interface TargetChoice {
  target: Target;
  /** Shown on the first line of a run and recorded in the evidence. */
  why: string;
}

async function nginxChoice(why: string, options?: NginxTargetOptions): Promise<TargetChoice> {
  const nginx = new NginxTarget(options);
  let availability = await nginx.check();
  // Only the nginx target needs nginx: install it now, when that is possible (root on Debian).
  if (!availability.available && !process.env.NGINX_BIN && canInstallPackages() && ensureTools(["nginx"]) === 0) {
    availability = await nginx.check();
  }
  if (!availability.available) throw new ConfigError(availability.reason);
  return { target: nginx, why: `${why}; ${availability.reason}` };
}

/** Controllers the project renders here but never installs. */
export const RENDERED_ONLY: readonly string[] = ["nginx-gateway-fabric", "haproxy-ingress", "f5-nginx-ingress"];

export async function chooseTarget(name: string, options: TargetOptions = {}): Promise<TargetChoice> {
  if (!(TARGET_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown target "${name}": choose one of ${TARGET_NAMES.join(", ")}`);
  }
  if (options.controllerVersion) parseControllerVersion(options.controllerVersion);
  if (options.audit && name !== "cluster") throw new ConfigError("--audit applies to --target cluster");
  // The nginx target emulates ingress-nginx: it cannot stand in for Traefik, and auto may not fall back to it.
  const traefik = options.controller === "traefik";
  // The successors this project does not install: their renderings here (local), or a live deployment
  // of them checked as it is (endpoint, cluster --audit). The k3s and cluster paths install only
  // ingress-nginx and Traefik.
  if (options.controller && RENDERED_ONLY.includes(options.controller) && !(name === "local" || name === "endpoint" || (name === "cluster" && options.audit))) {
    throw new ConfigError(`--controller ${options.controller} runs on --target local (its rendering on this machine), or checks a live deployment of it: --target endpoint, or --target cluster --audit`);
  }
  if (traefik && name === "nginx") throw new ConfigError("--controller traefik: the nginx target emulates ingress-nginx; use --target local (Traefik's rendering on a Go data plane), k3s, cluster or endpoint");
  if (traefik && (options.controllerVersion || options.controllerManifest)) {
    throw new ConfigError("--controller-version and --controller-manifest name an ingress-nginx release; --controller traefik runs the pinned Traefik");
  }

  switch (name) {
    case "local": {
      // The controller's data plane on loopback (helpers/controllers/index.ts); ingress-nginx's is the nginx target.
      const controller = options.controller ?? "ingress-nginx";
      const entry = CONTROLLERS[controller];
      if (!entry.local) return nginxChoice("requested with --target local (ingress-nginx's data plane is nginx)", options.nginx);
      const local = await entry.local();
      let availability = await local.check();
      if (!availability.available && entry.localTools?.length && canInstallPackages() && ensureTools(entry.localTools) === 0) availability = await local.check();
      if (!availability.available) throw new ConfigError(availability.reason);
      return { target: local, why: `requested with --target local --controller ${controller}; ${availability.reason}` };
    }
    case "nginx":
      return nginxChoice("requested with --target nginx", options.nginx);
    case "endpoint": {
      const endpoint = new EndpointTarget(options);
      endpoint.validate();
      return { target: endpoint, why: `requested with --target endpoint; ${(await endpoint.check()).reason}` };
    }
    case "cluster": {
      if (options.audit) {
        const { ClusterAuditTarget } = await import("./cluster-audit.ts");
        const audit = new ClusterAuditTarget(options);
        audit.validate();
        return { target: audit, why: `requested with --target cluster --audit; ${(await audit.check()).reason}` };
      }
      const { ClusterTarget } = await import("./cluster-target.ts");
      const cluster = new ClusterTarget(options);
      cluster.validate();
      return { target: cluster, why: `requested with --target cluster; ${(await cluster.check()).reason}` };
    }
    case "k3s": {
      const { K3sTarget } = await import("./k3s-target.ts");
      const k3s = new K3sTarget(options);
      const availability = await k3s.check();
      if (!availability.available) throw new ConfigError(availability.reason);
      // Everything else it needs, at once: the manifest, the images, the registries.
      const problems = await k3s.preflight();
      if (problems.length) throw new ConfigError((await import("./k3s-preflight.ts")).formatProblems(problems, { controller: options.controller }));
      return { target: k3s, why: `requested with --target k3s; ${availability.reason}, image ${k3s.image}` };
    }
    default: {
      const engine = await containerEngine();
      if (traefik && !engine.answers) throw new ConfigError(`--controller traefik needs k3s (or --target cluster/endpoint), and ${engine.detail}`);
      if (!engine.answers) return nginxChoice(`auto: ${engine.detail}, so the local nginx data plane runs`, options.nginx);
      const { K3sTarget } = await import("./k3s-target.ts");
      const k3s = new K3sTarget(options);
      const problems = await k3s.preflight().catch((error: Error) => [{ what: "the k3s target's preflight", why: error.message, remedy: "" }]);
      if (problems.length === 0) return { target: k3s, why: `auto: ${engine.detail}, and everything the k3s target needs is at hand` };
      if (traefik) throw new ConfigError((await import("./k3s-preflight.ts")).formatProblems(problems, { controller: "traefik" }));
      const first = problems[0]!;
      return nginxChoice(`auto: ${engine.detail}, but the k3s target lacks ${problems.length} thing(s) (${first.what}: ${first.why}${problems.length > 1 ? "; --target k3s lists them all" : ""}), so the local nginx data plane runs`, options.nginx);
    }
  }
}
