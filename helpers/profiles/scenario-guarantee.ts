// Which guarantee each catalogue scenario gives evidence for: the words a migration is judged in.
// Suite defaults, then the scenarios whose subject is another guarantee than their suite's.
import type { SuiteName } from "../catalogue/catalogue.ts";
import { GENERATED_SUITE } from "../checks/check.ts";
import type { Guarantee } from "./profile.ts";

const BY_SUITE: Record<SuiteName, Guarantee> = {
  guide: "client-cert-required",
  "client-auth": "client-cert-required",
  "upstream-headers": "headers",
  modes: "optional-mode",
  "error-page": "error-page",
  "match-cn": "match-cn",
  crl: "crl",
  transport: "host-isolation",
  spoofing: "headers",
  isolation: "host-isolation",
  admission: "client-cert-required",
  secrets: "trust-anchor",
  lifecycle: "trust-anchor",
  "guide-lint": "trust-anchor",
};

const BY_CREDENTIAL: Array<[RegExp, Guarantee]> = [
  [/^client-via-\d-intermediates?$/, "verify-depth"],
  [/^client-(other-ca|self-signed|missing-intermediate|server-auth-only)$/, "trust-anchor"],
  [/^client-(expired|not-yet-valid)$/, "validity"],
];

const BY_ID: Record<string, Guarantee> = {
  "MTLS-GUIDE-002": "headers",
  // optional_no_ca: what these prove is the FAILED verdict the backend is told.
  "MTLS-MODE-008": "headers",
  "MTLS-MODE-009": "headers",
  "MTLS-MODE-010": "headers",
  "MTLS-MODE-011": "validity",
  "MTLS-MODE-012": "client-cert-required",
  "MTLS-MODE-013": "client-cert-required",
  "MTLS-MODE-014": "client-cert-required",
  "MTLS-MATCHCN-007": "validity",
  "MTLS-TRANSPORT-003": "client-cert-required",
  "MTLS-TRANSPORT-008": "client-cert-required",
  "MTLS-TRANSPORT-004": "client-cert-required",
  "MTLS-ADMISSION-001": "headers",
  "MTLS-ADMISSION-002": "error-page",
  "MTLS-ADMISSION-003": "match-cn",
  "MTLS-ADMISSION-004": "match-cn",
  "MTLS-ADMISSION-005": "trust-anchor",
  "MTLS-ADMISSION-006": "optional-mode",
  "MTLS-ADMISSION-007": "verify-depth",
  "MTLS-ADMISSION-008": "verify-depth",
  "MTLS-ADMISSION-009": "headers",
  "MTLS-ADMISSION-010": "headers",
  "MTLS-SECRETS-002": "crl",
  "MTLS-SECRETS-003": "crl",
  "MTLS-SECRETS-004": "host-isolation",
  "MTLS-LIFECYCLE-003": "client-cert-required",
  "MTLS-LIFECYCLE-006": "optional-mode",
  "MTLS-LIFECYCLE-010": "headers",
  "MTLS-LIFECYCLE-011": "verify-depth",
  "MTLS-LIFECYCLE-012": "verify-depth",
};

/** A scenario (or its evidence, whose suite is a plain string) and its guarantee. */
export function guaranteeOf(s: { id: string; suite: string; credential: string }): Guarantee {
  if (BY_ID[s.id]) return BY_ID[s.id]!;
  if (s.suite === "client-auth" || s.suite === "guide") {
    for (const [pattern, g] of BY_CREDENTIAL) if (pattern.test(s.credential)) return g;
  }
  return BY_SUITE[s.suite as SuiteName] ?? "client-cert-required";
}

/** A check generated for a user's Ingress (helpers/checks/rules.ts) and its guarantee, by its rule. */
const BY_RULE: Array<[RegExp, Guarantee]> = [
  [/^(impostor-ca|self-signed|missing-intermediate|server-auth-only)/, "trust-anchor"],
  [/^(expired|not-yet-valid)/, "validity"],
  [/^depth-limit/, "verify-depth"],
  [/^match-cn/, "match-cn"],
  [/^revoked/, "crl"],
  [/^(spoofed-headers|valid-client)/, "headers"],
  [/^(governing-policy|host-denied)/, "host-isolation"],
  [/^(no-client-cert|plain-http)/, "client-cert-required"],
];

export function guaranteeOfGenerated(check: { name: string; expect: { status?: number | number[] } }): Guarantee {
  // Whatever the rule, a refusal ingress-nginx turns into its error page is that page's guarantee.
  if ([check.expect.status].flat()[0] === 302) return "error-page";
  return BY_RULE.find(([pattern]) => pattern.test(check.name))?.[1] ?? "client-cert-required";
}

/** Any check's guarantee: a catalogue scenario's by its suite, id and credential; a generated one's by its rule. */
export function guaranteeOfCheck(check: { id: string; name: string; suite: string; credential?: string; expect: { status?: number | number[] } }): Guarantee {
  return check.suite === GENERATED_SUITE ? guaranteeOfGenerated(check) : guaranteeOf({ id: check.id, suite: check.suite, credential: check.credential ?? "none" });
}
