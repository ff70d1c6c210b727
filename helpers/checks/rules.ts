// The checks generated for any Ingress, one rule each: which credential and request a rule
// sends to the Ingress's path. The expected outcome is never written here: the policy model
// (helpers/model/outcome.ts) computes it from the host as the controller configures it.
// Adding a check means adding one rule to RULES.
import type * as x509 from "@peculiar/x509";
import type { Expectation, ProbeOptions } from "../catalogue/catalogue.ts";
import { auth, IA3_1, IA5_2, PCI_421, SC8 } from "../../fixtures/expectations.ts";
import type { HostPolicy, ResolvedIngress } from "../model/hosts.ts";
import { jsonName } from "../model/distinguished-name.ts";
import type { CredentialSpec } from "../pki/credentials.ts";
import type { MatchCnSubjects } from "./match-cn-subjects.ts";

export interface RuleContext {
  host: HostPolicy;
  ingress: ResolvedIngress;
  /** The request path that reaches this Ingress's backend on the host. */
  path: string;
  /** The CA the host trusts, as the run's credential factory knows it. */
  ca?: string;
  /** The run holds that CA's key and can issue clients from it. */
  canIssue: boolean;
  /** A client certificate someone gave for this host. */
  given?: string;
  /** A subject the host accepts (it matches match-cn when one is set and a subject could be derived). */
  subject: x509.JsonName | string;
  matchCn?: MatchCnSubjects;
  /** A client of the host's CA that its CRL revokes (the run deployed that CRL). */
  revoked?: string;
  /** The deepest chain the run builds. */
  maxIntermediates: number;
}

export interface RulePlan {
  /** Distinguishes several checks of one rule. */
  variant?: string;
  credential?: CredentialSpec;
  /** A credential made before planning (the revoked client). */
  credentialKey?: string;
  /** The credential and request, in words: "a client certificate that expired yesterday". */
  phrase: string;
  request?: ProbeOptions;
  /** Whether the expected behaviour, once known, is a documented weakness. */
  finding?: (expect: Expectation, ctx: RuleContext) => { id: string; statement: string } | undefined;
}

export interface CheckRule {
  name: string;
  title: string;
  controls: string[];
  /** The probes, or why the rule cannot run for this Ingress. */
  plan(ctx: RuleContext): RulePlan[] | string;
}

/** A valid client of the host's CA (issued by the run), else the client given for it. */
function validClient(ctx: RuleContext): CredentialSpec | undefined {
  if (ctx.ca && ctx.canIssue) return { kind: "issued", ca: ctx.ca, subject: ctx.subject };
  if (ctx.given) return { kind: "given", id: ctx.given };
  return undefined;
}

const NO_KEY = (ctx: RuleContext) =>
  ctx.ca ? `needs a client issued by the host's CA: the run holds no key for it (give --ca-key, or only --client-cert checks what a given client can)` : "the host has no client-certificate CA";

/** Issued by the host's CA when the run can; else from the run's own impostor of it, whose clients are untrusted anyway. */
function negative(ctx: RuleContext, validity: "expired" | "not-yet-valid"): CredentialSpec | undefined {
  if (!ctx.ca) return undefined;
  if (ctx.canIssue) return { kind: "issued", ca: ctx.ca, subject: ctx.subject, validity };
  return { kind: "impostor", ca: ctx.ca, subject: ctx.subject, validity };
}

/** A certificate outside its validity window: of the host's CA when the run can issue, else of its impostor. */
function validityRule(validity: "expired" | "not-yet-valid", title: string, when: string): CheckRule {
  return {
    name: validity,
    title,
    controls: auth,
    plan: (ctx) => {
      const credential = negative(ctx, validity);
      if (!credential) return "the host has no client-certificate CA";
      const phrase = credential.kind === "issued" ? `a client certificate of the host's CA ${when}` : `a client certificate ${when}, from an untrusted CA (the run holds no key for the host's CA)`;
      return [{ credential, phrase }];
    },
  };
}

const FORGED = { "ssl-client-verify": "SUCCESS", "ssl-client-subject-dn": "CN=admin,O=forged", "ssl-client-issuer-dn": "CN=forged CA" };

export const RULES: CheckRule[] = [
  {
    name: "no-client-cert",
    title: "a request without a client certificate",
    controls: auth,
    plan: () => [{ phrase: "a request without a client certificate" }],
  },
  {
    name: "valid-client",
    title: "a client certificate the host's CA issued (or the one given for the host)",
    controls: [IA3_1, IA5_2, SC8],
    plan: (ctx) => {
      const credential = validClient(ctx);
      if (!credential) return NO_KEY(ctx);
      return [{ credential, phrase: credential.kind === "given" ? "the client certificate given for this host" : "a valid client certificate issued by the host's CA" }];
    },
  },
  {
    name: "impostor-ca",
    title: "a client of another CA that carries the trusted CA's exact name",
    controls: auth,
    plan: (ctx) => (ctx.ca ? [{ credential: { kind: "impostor", ca: ctx.ca, subject: ctx.subject }, phrase: "a client certificate signed by another CA carrying the trusted CA's exact name" }] : "the host has no client-certificate CA"),
  },
  validityRule("expired", "an expired client certificate", "that expired yesterday"),
  validityRule("not-yet-valid", "a client certificate valid only from tomorrow", "valid only from tomorrow"),
  {
    name: "self-signed",
    title: "a self-signed client certificate",
    controls: auth,
    plan: (ctx) => [{ credential: { kind: "self-signed", subject: ctx.subject }, phrase: "a self-signed client certificate" }],
  },
  {
    name: "missing-intermediate",
    title: "a leaf sent without the intermediate CA it needs",
    controls: auth,
    plan: (ctx) => (ctx.ca && ctx.canIssue ? [{ credential: { kind: "issued", ca: ctx.ca, subject: ctx.subject, intermediates: 1, omitIntermediates: true }, phrase: "a leaf of an intermediate CA, sent without that intermediate" }] : NO_KEY(ctx)),
  },
  {
    name: "server-auth-only",
    title: "a client certificate whose extended key usage is serverAuth only",
    controls: auth,
    plan: (ctx) => (ctx.ca && ctx.canIssue ? [{ credential: { kind: "issued", ca: ctx.ca, subject: ctx.subject, eku: "serverAuth" }, phrase: "a certificate of the host's CA whose extended key usage is serverAuth only" }] : NO_KEY(ctx)),
  },
  {
    name: "depth-limit",
    title: "chains at the declared verify-depth N: N intermediates accepted, N+1 rejected",
    controls: [IA5_2, PCI_421],
    plan: (ctx) => {
      const depth = ctx.host.clientAuth?.settings.verifyDepth ?? 1;
      if (!ctx.ca || !ctx.canIssue) return NO_KEY(ctx);
      if (depth < 0) return `verify-depth ${depth} is negative: nginx refuses the whole configuration`;
      if (depth + 1 > ctx.maxIntermediates) return `verify-depth ${depth}: the run builds chains of at most ${ctx.maxIntermediates} intermediate CAs`;
      return [depth, depth + 1].map((n) => ({
        variant: n === depth ? "at-limit" : "over-limit",
        credential: { kind: "issued", ca: ctx.ca!, subject: ctx.subject, intermediates: n },
        phrase: `a client certificate sent with ${n} intermediate CA(s) below the host's CA (verify-depth ${depth})`,
      }));
    },
  },
  {
    name: "match-cn",
    title: "match-cn: a subject the pattern matches, one it does not, and the substring trick",
    controls: [IA5_2],
    plan: (ctx) => {
      const pattern = ctx.host.clientAuth?.settings.matchCn;
      if (!pattern) return "no match-cn";
      if (!ctx.ca || !ctx.canIssue) return NO_KEY(ctx);
      const m = ctx.matchCn;
      const plans: RulePlan[] = [];
      if (m?.notMatching) plans.push({ variant: "not-matching", credential: { kind: "issued", ca: ctx.ca, subject: jsonName(m.notMatching) }, phrase: `a valid client certificate whose subject ${pattern} does not match` });
      if (m?.trick) {
        plans.push({
          variant: "substring-trick",
          credential: { kind: "issued", ca: ctx.ca, subject: jsonName(m.trick.rdns) },
          phrase: "a valid client certificate with another CN and the matching text hidden in O",
          finding: (expect) =>
            expect.upstream === "reached"
              ? {
                  id: "match-cn-whole-dn",
                  statement: `match-cn ${pattern} is a regex over the whole subject DN and cannot be anchored at its start (the value must begin with "CN="): a certificate of the trusted CA with CN=mtls-intruder and the matching text in O is accepted. It protects only as far as the CA controls every attribute of what it signs.`,
                }
              : undefined,
        });
      }
      return plans.length ? plans : `no subject could be derived from ${pattern}: ${m?.problems.join("; ")}`;
    },
  },
  {
    name: "revoked",
    title: "a client certificate the CA's CRL revokes",
    controls: [IA5_2, PCI_421],
    plan: (ctx) => {
      if (!ctx.host.clientAuth?.crl) return "the CA secret carries no ca.crl";
      if (!ctx.revoked) return "the run holds no key for the CA, so it cannot issue a client its CRL revokes";
      return [{ credentialKey: ctx.revoked, phrase: "a client certificate of the host's CA that its CRL revokes" }];
    },
  },
  {
    name: "spoofed-headers",
    title: "client-sent ssl-client-* headers",
    controls: [IA5_2],
    plan: (ctx) => {
      const credential = validClient(ctx);
      const who = credential ? "a valid client" : "a request without a certificate";
      return [
        { variant: "identity", credential, phrase: `${who} sending its own ssl-client-verify, ssl-client-subject-dn and ssl-client-issuer-dn`, request: { headers: FORGED } },
        {
          variant: "certificate",
          credential,
          phrase: `${who} sending its own ssl-client-cert`,
          request: { headers: { "ssl-client-cert": "forged-by-client" } },
          finding: (expect) =>
            expect.upstreamHeaders?.headers?.["ssl-client-cert"] === "forged-by-client"
              ? { id: "client-cert-header-spoofable", statement: "With pass-certificate-to-upstream false the controller does not set ssl-client-cert, so a value the client sends reaches the backend unchanged: the backend must not trust ssl-client-cert." }
              : undefined,
        },
      ];
    },
  },
  {
    name: "plain-http",
    title: "the same path over plain HTTP (port 80)",
    controls: [SC8],
    plan: () => [
      {
        phrase: "a plain-HTTP request on port 80",
        request: { scheme: "http" },
        finding: (expect, ctx) =>
          expect.upstream === "reached" && ctx.host.clientAuth
            ? { id: "http-bypasses-client-auth", statement: `${ctx.host.host} has no tls: entry (or ssl-redirect is off), so port 80 serves it without asking for a client certificate.` }
            : undefined,
      },
    ],
  },
];
