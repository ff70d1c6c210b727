import type { Guarantee, MigrationClass } from "../profiles/profile.ts";
// What the run hands to the suites (as JSON from its control server, whose address vitest's
// provide/inject carries): serializable data only.
import type { Observation } from "../probe/probe.ts";
import type { Endpoint, HostTrust, TargetKind } from "../targets/target.ts";

export type { HostTrust };
import type { Expectation } from "../catalogue/catalogue.ts";
import type { Check } from "../checks/check.ts";

export interface RunCredential {
  certChainPem: string;
  keyPem: string;
  leafSha256: string;
}

export interface RunContext {
  runId: string;
  target: { kind: TargetKind; description: string };
  /** The checks of this group, in order. */
  checks: Check[];
  /** host -> where to connect. */
  endpoints: Record<string, Endpoint>;
  /** host -> where plain HTTP reaches it (port 80), when the target has such a listener. */
  httpEndpoints: Record<string, Endpoint>;
  /** Server certificate trust for hosts not in `hostTrust`. */
  trust: HostTrust;
  hostTrust: Record<string, HostTrust>;
  /** host -> the SHA-256 of the certificate it serves, where the run knows it: the probe pins it. */
  serverPins?: Record<string, string>;
  /** host -> SHA-256 (base64) of the public key of a pinned certificate that does not name the host: curl pins it (--pinnedpubkey). */
  serverKeyPins?: Record<string, string>;
  /** The upstream is someone else's echo: any JSON with a headers object counts as the echo. */
  acceptAnyEcho?: boolean;
  /** No echo backend answers (a live endpoint without --echo): "reached" is judged by the absence of nginx's rejections. */
  noEcho?: boolean;
  credentials: Record<string, RunCredential>;
  /** Set when the target did not come up: every check fails with this reason. */
  deployError?: string;
  /** POST {controlUrl}/stage/<name> moves the deployed objects to a lifecycle stage. */
  controlUrl?: string;
  /** How long a lifecycle change may take to show on this target. */
  settleMs: number;
  /**
   * The test timeout of a check that moves to a stage: the update, then the settle window, then a
   * last probe, so that a change that never shows ends as expected-vs-observed, not a timeout.
   */
  stageTimeoutMs: number;
  /** At most this many probes at once. */
  concurrency: number;
  /** The report directory, where the browser suite writes its screenshots. */
  reportDir?: string;
  /** --cross-check curl: every probing check is also made with curl, and a disagreement fails it. */
  crossCheck?: "curl";
  /** The curl executable (default: curl on PATH). */
  curlBinary?: string;
  /** The run's scratch directory where the cross-check writes the files its commands name (keys 0600); never the report directory. */
  curlDir?: string;
  /** Credential key -> the files its curl command names: as in pki/ (the chain) and --keys-dir (the key). */
  curlCredentialFiles?: Record<string, { cert: string; key: string }>;
  /**
   * The target is the successor the checks' profile describes (Traefik's data plane for the traefik
   * profile): each observation is also judged against ingress-nginx's expectation, which classifies it.
   */
  observesSuccessor?: boolean;
  /** Every observation is classified against the check's (ingress-nginx's) expectation instead of failing it. */
  compare?: {
    profile: string;
    versions: string;
    /**
     * A live deployment of the successor (endpoint, cluster --audit): each observation's class is held
     * to the class the successor's guarantee row gives for the host (helpers/profiles/guarantees.ts):
     * a loss or a refusal the row does not predict fails the check.
     */
    expected?: Record<string, Partial<Record<Guarantee, { class: MigrationClass; reason: string }>>>;
    live?: boolean;
  };
  /** Suites served by a data plane of their own (SubjectGroup.deployments): where their checks connect instead. */
  bySuite?: Record<string, SuiteDeployment>;
}

/** What differs for the suites of a deployment of their own. */
export type SuiteDeployment = Pick<RunContext, "target" | "endpoints" | "httpEndpoints" | "deployError" | "settleMs" | "stageTimeoutMs" | "controlUrl">;

/** What a scenario test leaves on its task (task.meta.mtls) for the reporters. */
export interface ScenarioRecord {
  id: string;
  credentialSha256?: string;
  expected: Expectation;
  observed: ObservedSummary;
  mismatches: string[];
  durationMs: number;
  /** When the probe's last attempt ended (epoch ms): set against the time of a harness fault. */
  finishedAtMs?: number;
  /** The scenario documents a weakness and observed it: verdict `finding`. */
  finding?: boolean;
  findingStatement?: string;
  /** Run under a successor profile, the scenario observed the weaker behaviour its row expects: verdict `guarantee-lost`. */
  guaranteeLost?: boolean;
  guaranteeStatement?: string;
  /**
   * Run on the successor itself: the class its observation shows: `same` when it also meets
   * ingress-nginx's expectation, else the row's class (the row's expectation met, the baseline's not).
   */
  observedClass?: MigrationClass;
  /** RunContext.compare: how the observation compares with ingress-nginx's expectation. */
  comparison?: { profile: string; versions: string; class: MigrationClass; guarantee: Guarantee; why: string; differences: string[] };
  /** The curl command that makes the same request (files named relative to where it runs; see README "--cross-check"). */
  curl?: string;
  /** --cross-check curl: what curl observed, and where it disagreed with the probe (a disagreement fails the check). */
  crossCheck?: CrossCheckRecord;
}

export interface CrossCheckRecord {
  client: "curl";
  exitCode: number;
  observed: ObservedSummary;
  disagreements: string[];
  /** What the command does differently from the probe (e.g. no server certificate pin). */
  notes?: string[];
}

/** An observation as it goes into evidence: headers kept, bodies shortened, the cert header reduced to its fingerprint. */
export interface ObservedSummary {
  status?: number;
  /** The Location of a redirect. */
  location?: string;
  bodyExcerpt?: string;
  upstreamReached: boolean;
  upstreamHeaders?: Record<string, string>;
  upstreamClientCert?: { sha256?: string; certificates: number };
  error?: { code: string; message: string };
  /** The TLS alert of a refused handshake, as recorded (never asserted). */
  tlsAlert?: Observation["tlsAlert"];
  /** What the TLS exchange showed (HTTPS probes): why a connection that ended counted as a refusal or not. */
  tls?: Observation["tls"];
  serverCertSha256?: string;
  /** The SNI the probe sent (null: none). */
  sni?: string | null;
  /** For static checks: what the rule found. */
  static?: { rule: string; detail: string };
  /** For the browser suite: how the certificate was chosen, the screenshot (report-relative), the NSS database's entries. */
  browser?: { selection: string; screenshot: string; nssDatabase: string[]; navigationError?: string };
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's control server: GET /context gives the RunContext (helpers/run/control-server.ts). */
    mtlsControl: string;
  }
  export interface TaskMeta {
    mtls?: ScenarioRecord;
    /** The check a test runs, set first thing so skips and failures are attributed. */
    mtlsCheckId?: string;
    /** Its suite, for the run's spans. */
    mtlsSuite?: string;
  }
}

/** The record of a static check (decided from the objects, no probe): its verdict was decided when it was planned. */
export function staticRecord(c: Check & { static: NonNullable<Check["static"]> }): ScenarioRecord {
  return {
    id: c.id,
    expected: c.expect,
    observed: { upstreamReached: false, static: { rule: c.static.rule, detail: c.static.detail } },
    mismatches: c.static.verdict === "fail" ? [c.static.detail] : [],
    durationMs: 0,
    ...(c.static.verdict === "finding" ? { finding: true, findingStatement: c.finding?.statement ?? c.static.detail } : {}),
  };
}

export function summarize(o: Observation, decodedCert?: { sha256?: string; certificates: number }): ObservedSummary {
  const headers = o.echo ? { ...o.echo.headers } : undefined;
  if (headers?.["ssl-client-cert"] !== undefined) headers["ssl-client-cert"] = `<${headers["ssl-client-cert"].length} characters, see upstreamClientCert>`;
  return {
    status: o.status,
    ...(o.responseHeaders?.location !== undefined ? { location: o.responseHeaders.location } : {}),
    bodyExcerpt: o.echo ? undefined : o.body?.replace(/\s+/g, " ").trim().slice(0, 300),
    upstreamReached: o.echo !== undefined,
    upstreamHeaders: headers,
    upstreamClientCert: decodedCert,
    error: o.error,
    ...(o.tlsAlert ? { tlsAlert: o.tlsAlert } : {}),
    ...(o.tls ? { tls: { ...o.tls } } : {}),
    serverCertSha256: o.serverCertSha256,
    sni: o.sni,
  };
}
