// What the run hands to the suites (through vitest's provide/inject): serializable data only.
import type { Observation } from "../probe/probe.ts";
import type { Endpoint, TargetKind } from "../targets/target.ts";
import type { Expectation } from "../catalogue/catalogue.ts";
import type { LintResult } from "../checks/lint.ts";

export interface RunCredential {
  certChainPem: string;
  keyPem: string;
  leafSha256: string;
}

export interface RunContext {
  runId: string;
  target: { kind: TargetKind; description: string };
  /** host -> where to connect. */
  endpoints: Record<string, Endpoint>;
  /** host -> where plain HTTP reaches it (port 80), when the target has such a listener. */
  httpEndpoints: Record<string, Endpoint>;
  /** CA of the server certificate; absent with an unverified live endpoint (--insecure-server). */
  caPem?: string;
  /** The server certificate the run deployed (pinned); absent for live endpoints. */
  serverSha256?: string;
  insecureServer?: boolean;
  /** Scenario id -> why it does not apply to this target (the endpoint target). */
  skips: Record<string, string>;
  /** Policy name -> host answering it, where a target serves it on another host. */
  hosts: Record<string, string>;
  /** The upstream is someone else's echo: any JSON with a headers object counts as the echo. */
  acceptAnyEcho?: boolean;
  credentials: Record<string, RunCredential>;
  /** Ids of the scenarios this run executes (after --only). */
  scenarioIds: string[];
  /** Set when the target did not come up: every scenario fails with this reason. */
  deployError?: string;
  /** POST {controlUrl}/stage/<name> moves the deployed objects to a lifecycle stage. */
  controlUrl?: string;
  /** How long a lifecycle change may take to show on this target. */
  settleMs: number;
  /** Results of the lint rules over the guide's objects as written. */
  lint: Record<string, LintResult>;
}

/** What a scenario test leaves on its task (task.meta.mtls) for the reporters. */
export interface ScenarioRecord {
  id: string;
  credentialSha256?: string;
  expected: Expectation;
  observed: ObservedSummary;
  mismatches: string[];
  durationMs: number;
  /** The scenario documents a weakness and observed it: verdict `finding`. */
  finding?: boolean;
  findingStatement?: string;
}

/** An observation as it goes into evidence: headers kept, bodies shortened, the cert header reduced to its fingerprint. */
export interface ObservedSummary {
  status?: number;
  bodyExcerpt?: string;
  upstreamReached: boolean;
  upstreamHeaders?: Record<string, string>;
  upstreamClientCert?: { sha256?: string; certificates: number };
  error?: { code: string; message: string };
  serverCertSha256?: string;
  /** For lint scenarios: what the rule found. */
  lint?: LintResult;
}

export const RUN_CONTEXT_KEY = "mtlsRun";

declare module "vitest" {
  export interface ProvidedContext {
    mtlsRun: RunContext;
  }
  export interface TaskMeta {
    mtls?: ScenarioRecord;
  }
}

export function summarize(o: Observation, decodedCert?: { sha256?: string; certificates: number }): ObservedSummary {
  const headers = o.echo ? { ...o.echo.headers } : undefined;
  if (headers?.["ssl-client-cert"] !== undefined) headers["ssl-client-cert"] = `<${headers["ssl-client-cert"].length} characters, see upstreamClientCert>`;
  return {
    status: o.status,
    bodyExcerpt: o.echo ? undefined : o.body?.replace(/\s+/g, " ").trim().slice(0, 300),
    upstreamReached: o.echo !== undefined,
    upstreamHeaders: headers,
    upstreamClientCert: decodedCert,
    error: o.error,
    serverCertSha256: o.serverCertSha256,
  };
}
