// The guide's browser step as checks (issue 13, item 1): MTLS-BROWSER-001..004, run by the
// `browser` suite (suites/browser.conformance.ts) in headless Chromium with the identity in its
// NSS database. Outside the catalogue: the catalogue's scenarios are probes the policy model
// predicts for any client, these are the same requests made by one browser, added with --browser.
import type { Check } from "../checks/check.ts";
import { accepted, CERT_ERROR_BODY, CLIENT_DN, IA3_1, IA5_2, NO_CERT_BODY, rejectedBadCert, rejectedNoCert } from "../../fixtures/expectations.ts";

export const BROWSER_SUITE = "browser";
/** The guide's host, served by the guide's Ingress. */
export const BROWSER_HOST = "test.localdev.me";

const base = { suite: BROWSER_SUITE, group: BROWSER_SUITE, host: BROWSER_HOST, controls: [IA3_1, IA5_2] };

export function browserChecks(skip?: string): Check[] {
  const checks: Check[] = [
    {
      ...base,
      id: "MTLS-BROWSER-001",
      name: "browser-client-p12",
      must: `Chromium holding the run's client.p12 (imported with pk12util) and trusting the run's CA MUST select that certificate for https://${BROWSER_HOST} and be shown the backend's page, which MUST see the subject ${CLIENT_DN}.`,
      credential: "client",
      credentialDescription: "client.p12 (the guide's client certificate and the CA, as --keys-dir writes it) imported into Chromium's NSS database",
      expect: accepted({ "ssl-client-subject-dn": CLIENT_DN }),
      note: "The guide's last step: import ca.crt and client.p12 into the browser, open the site, pick the certificate.",
    },
    {
      ...base,
      id: "MTLS-BROWSER-002",
      name: "browser-no-identity",
      must: `Chromium holding no client certificate MUST be shown nginx's 400 page "${NO_CERT_BODY}" for https://${BROWSER_HOST}.`,
      credentialDescription: "none: the browser's NSS database holds only the trusted CA",
      expect: rejectedNoCert,
    },
    {
      ...base,
      id: "MTLS-BROWSER-003",
      name: "browser-expired-identity",
      must: `Chromium holding only an expired client certificate of the trusted CA MUST NOT reach the backend of https://${BROWSER_HOST}: it does not offer an expired certificate, so it MUST be shown nginx's 400 page "${NO_CERT_BODY}".`,
      credential: "client-expired",
      credentialDescription: "client-expired as a .p12 (the client.p12 format) imported into Chromium's NSS database",
      expect: rejectedNoCert,
      note: "Observed on Chromium 156: its NSS certificate store leaves expired certificates out of the selection, so nginx never sees this certificate and answers as for none; nginx's own answer to an expired certificate (\"The SSL certificate error\") is MTLS-CLIENT-004, probed directly.",
    },
    {
      ...base,
      id: "MTLS-BROWSER-004",
      name: "browser-impostor-identity",
      must: `Chromium holding only a client certificate from a different CA with the trusted CA's exact name MUST present it for https://${BROWSER_HOST} and be shown nginx's 400 page "${CERT_ERROR_BODY}".`,
      credential: "client-other-ca",
      credentialDescription: "client-other-ca as a .p12 (the client.p12 format) imported into Chromium's NSS database",
      expect: rejectedBadCert,
      note: "The invalid certificate a browser does offer (valid dates, issuer name matching the server's request and the selection filter): the guide's 'invalid certificate → 400'.",
    },
  ];
  return skip ? checks.map((c) => ({ ...c, skip })) : checks;
}

export const BROWSER_BODIES = { accepted: undefined, noCert: NO_CERT_BODY, certError: CERT_ERROR_BODY };
