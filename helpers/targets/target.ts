// What every target implements. Everything but deploying is shared: the catalogue, PKI,
// manifests, probes, verdicts and reports are the same whatever runs the Ingress objects.
import type { Manifests } from "../manifests/manifests.ts";
import type { Mutation } from "./mutants.ts";

export type TargetKind = "nginx" | "k3s" | "cluster" | "endpoint";

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
  manifests: Manifests;
  /** Private scratch directory of this run (removed afterwards). */
  workDir: string;
  /** Report directory: targets save their logs and rendered configuration here. */
  reportDir: string;
  log: (line: string) => void;
  /** A deliberately broken data plane (nginx target, mutation self-test only). */
  mutation?: Mutation;
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
  /** Saves what helps explain a failure into the report directory; returns the files written. */
  collectDiagnostics(): Promise<string[]>;
  /** Stops and removes everything the target started; safe to call twice. */
  stop(): Promise<void>;
}

export interface Target {
  kind: TargetKind;
  /** Namespace the run's objects go to unless --namespace says otherwise. */
  defaultNamespace?: string;
  check(): Promise<TargetAvailability>;
  start(input: DeployInput): Promise<StartedTarget>;
}
