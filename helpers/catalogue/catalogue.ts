// Types of the scenario catalogue and the registry over it. The data lives in fixtures/.
import picomatch from "picomatch";
import type { CredentialName } from "../pki/pki.ts";

export const ANNOTATION_PREFIX = "nginx.ingress.kubernetes.io/";

/** A policy is one Ingress (and so one host: ingress-nginx applies client auth per server block). */
export interface Policy {
  /** Short stable name, used in ids and host names. */
  name: string;
  /** Ingress metadata.name. */
  ingressName: string;
  host: string;
  /** Annotations without the prefix; `$(NAMESPACE)` is replaced by the deploy namespace. */
  annotations: Record<string, string>;
  description: string;
  /**
   * An extra CA secret this policy's auth-tls-secret names (ca.crt = the run's CA, plus ca.crl);
   * without it the policy uses the guide's ca-secret.
   */
  caSecret?: {
    name: string;
    crl?: "crl-revoking" | "crl-expired";
    /** The CA in ca.crt: the run's (default) or its second CA. */
    ca?: "ca" | "ca-2";
    /** Content the controller cannot use, on purpose. */
    broken?: "garbage-ca-beside-key-pair" | "crl-wrong-label" | "crl-unparsable";
  };
  /** false: the Ingress has no `tls:` section (no ssl-redirect on port 80). Default true. */
  tls?: boolean;
  /** The Ingress's path (Prefix); default "/". */
  path?: string;
  /**
   * This Ingress deliberately shares its host with other policies that say so too: the
   * per-host behaviour (one server block, the oldest resolvable CA wins) is what is tested.
   */
  sharedHost?: boolean;
}

export const SUITES = ["guide", "client-auth", "upstream-headers", "modes", "error-page", "match-cn", "crl", "transport", "spoofing", "isolation", "admission", "secrets", "lifecycle", "guide-lint"] as const;
export type SuiteName = (typeof SUITES)[number];

export interface UpstreamExpectation {
  /** Headers the backend must receive with exactly these values (names compare case-insensitively). */
  headers?: Record<string, string>;
  /** Headers the backend must not receive. */
  absent?: string[];
  /** Headers whose value must start with the given text (e.g. `FAILED:`). */
  prefixes?: Record<string, string>;
  /** `ssl-client-cert` must percent-decode to exactly the presented leaf (SHA-256 compared). */
  clientCertIsPresentedLeaf?: boolean;
}

export interface Expectation {
  /** The status, or the statuses any of which is acceptable (where nginx versions differ); none for lint checks. */
  status?: number | number[];
  /** A marker the response body must contain. */
  bodyIncludes?: string;
  /** The whole response body, exactly. */
  bodyEquals?: string;
  /** Response headers with exact values (names lower-case), e.g. location. */
  responseHeaders?: Record<string, string>;
  /**
   * `reached`: the request must arrive at the echo backend (checked on its JSON answer);
   * `not-reached`: nginx must answer itself, the backend must not see the request.
   */
  upstream: "reached" | "not-reached";
  upstreamHeaders?: UpstreamExpectation;
  /**
   * `tls-rejected`: the handshake is refused: no HTTP response at all and the backend not reached,
   * as successors written in Go reject (Traefik, Gateway API conformance). The TLS alert is
   * recorded, never asserted: it depends on the TLS stack, its version and TLS 1.2 or 1.3.
   * `connection-closed`: the server closes the connection with neither a TLS alert nor an HTTP
   * response: Traefik's brokenTLSRouter for TLS options that do not build (closed after the
   * ClientHello), NGINX Gateway Fabric's `return 444` (closed after the request). A reset any
   * server can do for any reason, so a run that expects one also reads the data plane's health.
   * `host-not-served`: the host's own server certificate is not presented (a default one is), so
   * a client that trusts only the host's refuses the connection: the data plane does not serve
   * the host at all (HAProxy Ingress, F5 NGINX Ingress: a configuration the data plane could not load).
   */
  transport?: "tls-rejected" | "connection-closed" | "host-not-served";
  /**
   * How DN headers (ssl-client-subject-dn, ssl-client-issuer-dn) compare: `exact` strings (the
   * default: nginx prints RFC 2253), or `rdn-set`: the same type=value attributes in any order
   * (Go's pkix.Name.String prints its own fixed order).
   */
  dnCompare?: "exact" | "rdn-set";
}

export interface Scenario {
  /** Stable id, never reused: MTLS-<AREA>-NNN. */
  id: string;
  /** Short kebab-case name. */
  name: string;
  suite: SuiteName;
  /** One sentence with MUST, as in Kubernetes' conformance.yaml. */
  must: string;
  policy: string;
  credential: CredentialName;
  expect: Expectation;
  /** Control ids this scenario gives evidence for. */
  controls: string[];
  /** Why the scenario exists, when the MUST alone does not say (guide claims, folklore). */
  note?: string;
  /**
   * Documented controller behaviour that weakens mTLS. `expect` describes that behaviour; when it
   * is observed the verdict is `finding` (not a failure, exit code 0), when not, `fail`.
   */
  finding?: { id: string; statement: string };
  /** How the request differs from a plain GET / over HTTPS with SNI = Host. */
  request?: ProbeOptions;
  /** Lifecycle stage (fixtures/lifecycle.ts) the deployed objects must be in before the probe. */
  stage?: string;
  /** The stage's change must not take effect: a controller that applies changes eventually is given time first. */
  stageKeepsPrevious?: boolean;
  /** A static check of the guide's own objects (helpers/lint.ts) instead of a probe. */
  lint?: "ca-key-in-secret" | "server-cert-without-san" | "deprecated-ingress-class-annotation"
    // decided by running the guide's own commands (helpers/checks/guide-commands.ts)
    | "guide-server-cert-not-from-ca" | "guide-browser-bundle-not-made" | "guide-stated-curl-output";
}

export interface ProbeOptions {
  /** SNI different from the Host header; null sends none. */
  servername?: string | null;
  /** The server answering may present any certificate (the default server's fake one, when SNI names no host). */
  anyServerCertificate?: boolean;
  /** Extra request headers (spoofing attempts). */
  headers?: Record<string, string>;
  /** Plain HTTP to the target's port 80 instead of HTTPS. */
  scheme?: "https" | "http";
  path?: string;
}

export interface Catalogue {
  policies: Policy[];
  scenarios: Scenario[];
  /** Known control ids with their titles. */
  controls: Array<{ id: string; title: string }>;
}

const ID_PATTERN = /^MTLS-[A-Z]+-\d{3}$/;

/** Structural checks that keep the catalogue honest: unique ids, known policies. */
export function validateCatalogue(catalogue: Catalogue): string[] {
  const problems: string[] = [];
  const policyNames = new Set<string>();
  const hosts = new Set<string>();
  for (const p of catalogue.policies) {
    if (policyNames.has(p.name)) problems.push(`policy ${p.name} is defined twice`);
    const sharing = catalogue.policies.filter((q) => q.host === p.host);
    if (hosts.has(p.host) && !sharing.every((q) => q.sharedHost)) {
      problems.push(`host ${p.host} is used by two policies; client auth is per host (mark both sharedHost to test exactly that)`);
    }
    policyNames.add(p.name);
    hosts.add(p.host);
  }
  const ids = new Set<string>();
  const names = new Set<string>();
  for (const s of catalogue.scenarios) {
    if (!ID_PATTERN.test(s.id)) problems.push(`${s.id}: id does not match ${ID_PATTERN}`);
    if (ids.has(s.id)) problems.push(`${s.id}: duplicate id`);
    if (names.has(s.name)) problems.push(`${s.id}: duplicate name ${s.name}`);
    ids.add(s.id);
    names.add(s.name);
    if (!policyNames.has(s.policy)) problems.push(`${s.id}: unknown policy ${s.policy}`);
    if (!/\bMUST\b/.test(s.must)) problems.push(`${s.id}: MUST statement lacks "MUST"`);
    if (s.controls.length === 0) problems.push(`${s.id}: maps to no control`);
    for (const c of s.controls) if (!catalogue.controls.some((k) => k.id === c)) problems.push(`${s.id}: unknown control ${c}`);
    if (s.lint && !s.finding) problems.push(`${s.id}: a lint scenario reports a finding and needs one`);
    if (!s.lint && s.expect.status === undefined) problems.push(`${s.id}: expects no status`);
    if (s.expect.upstreamHeaders && s.expect.upstream !== "reached") {
      problems.push(`${s.id}: upstream header expectations need upstream "reached"`);
    }
  }
  return problems;
}

/**
 * `--only`: a comma-separated list of globs (picomatch: `*`, `?`, `[0-2]`, `{a,b}`), case-insensitive;
 * true when any glob matches any of `fields`. A star matches across `/` too (bash mode), so
 * `*api*` finds the generated `bank/api#no-client-cert`.
 */
export function globMatcher(pattern: string): (...fields: Array<string | undefined>) => boolean {
  const matchers = splitOutsideBraces(pattern)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => picomatch(p, { nocase: true, dot: true, bash: true }));
  return (...fields) => matchers.some((m) => fields.some((f) => f !== undefined && m(f)));
}

/** The commas that separate globs, not those of a `{a,b}` inside one. */
function splitOutsideBraces(pattern: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of pattern) {
    if (ch === "{") depth++;
    else if (ch === "}") depth = Math.max(0, depth - 1);
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  return [...parts, current];
}

/** `--only`: a comma-separated list of globs over id, name or suite (`MTLS-CLIENT-*`, `guide`). */
export function selectScenarios(scenarios: Scenario[], pattern: string | undefined): Scenario[] {
  if (!pattern) return scenarios;
  const matches = globMatcher(pattern);
  return scenarios.filter((s) => matches(s.id, s.name, s.suite));
}

export function policyByName(catalogue: Catalogue, name: string): Policy {
  const policy = catalogue.policies.find((p) => p.name === name);
  if (!policy) throw new Error(`unknown policy ${name}`);
  return policy;
}

/** Control id -> the scenarios that give evidence for it, in catalogue order. */
export function controlCoverage(catalogue: Catalogue, scenarios: Scenario[] = catalogue.scenarios): Array<{ id: string; title: string; scenarios: string[] }> {
  return catalogue.controls.map((c) => ({ ...c, scenarios: scenarios.filter((s) => s.controls.includes(c.id)).map((s) => s.id) }));
}
