// What every target implements. Everything but deploying is shared: the catalogue, PKI,
// manifests, probes, verdicts and reports are the same whatever runs the Ingress objects.
import type { V1Ingress } from "@kubernetes/client-node";
import type { Manifests } from "../manifests/manifests.ts";
import type { SecretView } from "../model/secrets.ts";
import type { Mutation } from "../controllers/ingress-nginx/mutants.ts";

/** How a probe verifies the server certificate of a host. */
export interface HostTrust {
  /** CA of the server certificate. */
  caPem?: string;
  /** The exact server certificate expected (the catalogue's, which the run deployed). */
  serverSha256?: string;
  /** No verification: a live endpoint without its CA, or a host served with the fake certificate. */
  insecure?: boolean;
  /** Why verification is off, for reports. */
  why?: string;
}

/** `local`: a successor's data plane on loopback (--target local --controller traefik); `nginx`: ingress-nginx's. */
export type TargetKind = "nginx" | "local" | "k3s" | "cluster" | "endpoint";

/** Where to open a TLS connection to reach a host (SNI and Host are the host's name). */
export interface Endpoint {
  address: string;
  port: number;
}

export interface TargetAvailability {
  available: boolean;
  /** Why (not): shown on the first line of a run and in errors. */
  reason: string;
}

export interface DeployInput {
  /** What to deploy; absent for targets that find the objects deployed (endpoint, audit). */
  manifests?: Manifests;
  /** Every host the run will probe (targets that find their objects deployed report them). */
  hosts?: string[];
  /** Private scratch directory of this run (removed afterwards). */
  workDir: string;
  /** Report directory: targets save their logs and rendered configuration here. */
  reportDir: string;
  log: (line: string) => void;
  /** A deliberately broken data plane (nginx target, mutation self-test only). */
  mutation?: Mutation;
  /** The IngressClass the controller serves (the nginx target emulates it). */
  ingressClass?: string;
  /** Names this deployment when a run starts several side by side (its diagnostics go to `<kind>-<instance>/`). */
  instance?: string;
}

/**
 * Something the harness itself ran short of or did wrong (the data plane out of connections, a
 * worker crashed): never a verdict on the Ingresses under test. A run with any ends in exit 3.
 */
export interface HarnessFault {
  /** Where it was seen, e.g. "nginx error.log". */
  source: string;
  /** What was seen, as the source says it (one line). */
  message: string;
  /** When it happened (ISO 8601), where the source says; checks that failed from then on are affected. */
  at?: string;
}

export interface StartedTarget {
  kind: TargetKind;
  /** One sentence for reports: what the system under test really is. */
  description: string;
  /** Versions of what answered the probes (nginx, OpenSSL, controller, Kubernetes...). */
  versions: Record<string, string>;
  /** Extra facts for the evidence (ports, files saved, emulation notes). */
  details: Record<string, unknown>;
  endpointFor(host: string): Endpoint;
  /** Where plain HTTP (the controller's port 80) reaches a host, when the target has such a listener. */
  httpEndpointFor?(host: string): Endpoint | undefined;
  /**
   * Applies changed objects to the running target (the lifecycle suite). Resolves once the change
   * is in effect, or, for controllers that apply it eventually, once it is submitted.
   */
  update?(manifests: Manifests): Promise<void>;
  /** How long a submitted update may take to show (0: `update` already waits for it). */
  settleMs?: number;
  /** How long `update` itself may take before the stage counts as not applied (default 60 s). */
  updateTimeoutMs?: number;
  /**
   * After the checks: the data plane's own account of faults of the harness (its logs read for
   * alerts, crashes, connection limits). Targets whose data plane is not the run's own have none.
   */
  health?(): Promise<HarnessFault[]>;
  /** Saves what helps explain a failure into the report directory; returns the files written. */
  collectDiagnostics(): Promise<string[]>;
  /** Stops and removes everything the target started; safe to call twice. */
  stop(): Promise<void>;
}

/** What a target that finds its objects deployed (a live endpoint, an audited cluster) says is there. */
export interface DeclaredObjects {
  origin: "endpoint" | "audit";
  /** Where the declaration came from (a file, a cluster context), for reports. */
  source: string;
  ingresses: V1Ingress[];
  /** The Secrets auth-tls-secret names, as far as they are known (a CA certificate, a CRL). */
  secrets: SecretView[];
  /** The CAs the run knows: their certificates, with the private key where one was given. */
  cas: Array<{ id: string; refs: string[]; certPem: string; keyPem?: string }>;
  /** host (or "*" for every host) -> a client certificate someone gave the run. */
  clients: Record<string, { certFile: string; keyFile: string }>;
  /** How probes verify the deployment's server certificates. */
  trust: HostTrust;
  /** Every declared Ingress counts as served, whatever its class (what answers is the deployment). */
  ignoreClass: boolean;
  /** The upstream answers with the headers it received: header expectations can be checked. */
  echo: boolean;
}

export interface Target {
  kind: TargetKind;
  /** Namespace the run's objects go to unless --namespace says otherwise. */
  defaultNamespace?: string;
  check(): Promise<TargetAvailability>;
  /** Targets that find the objects deployed: what is declared there. Deploying targets have none. */
  discover?(log: (line: string) => void): Promise<DeclaredObjects>;
  start(input: DeployInput): Promise<StartedTarget>;
}
