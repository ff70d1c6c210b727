// Deliberately broken data planes for the mutation self-test: each mutant is one kind of mTLS
// misconfiguration or controller bug. A suite that lets one pass unnoticed would stay green on a
// broken ingress; `npm run mutation` shows which scenarios kill each one.
export const MUTANTS = {
  "verify-off": "ssl_verify_client off where the Ingress says on",
  "optional-instead-of-on": "ssl_verify_client optional where the Ingress says on",
  "depth-raised": "ssl_verify_depth one higher than the annotation",
  "foreign-ca-trusted": "the CA bundle also trusts a foreign CA (with the trusted CA's very name)",
  "crl-not-loaded": "ca.crl is ignored (no ssl_crl)",
  "cert-header-dropped": "ssl-client-cert is not forwarded even with pass-certificate-to-upstream true",
  "cert-header-unescaped": "ssl-client-cert forwarded from $ssl_client_raw_cert, not escaped",
  "cert-header-wrong-variable": "ssl-client-cert forwarded from the wrong variable ($ssl_client_fingerprint)",
  "spoofable-headers": "ssl-client-verify / -subject-dn / -issuer-dn are not set, so client-sent copies pass through",
  "error-page-dropped": "auth-tls-error-page is ignored",
  "match-cn-dropped": "auth-tls-match-cn is ignored",
  "rejected-ingress-served": "an Ingress the admission webhook rejects is served anyway (its invalid value dropped)",
  "broken-secret-ignored": "an auth-tls secret the controller cannot use leaves the host open instead of denied (403)",
  "newest-ca-wins": "on a host with several CA Ingresses, the last one in the controller's order governs instead of the first",
  "match-cn-needs-ca": "match-cn is rendered only where a CA is configured",
  "updates-applied-blindly": "object updates the controller refuses (an invalid Ingress, unusable Secret content) are applied anyway",
  "redirect-keeps-trailing-slash": "port 80's redirect keeps the trailing slash the controller's Lua removes",
} as const;

export type MutantName = keyof typeof MUTANTS;

export interface Mutation {
  name: MutantName;
  /** PEM of the foreign CA, for `foreign-ca-trusted`. */
  foreignCaPem?: string;
}

export function isMutantName(name: string): name is MutantName {
  return Object.hasOwn(MUTANTS, name);
}
