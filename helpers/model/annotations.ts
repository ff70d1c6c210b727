// One Ingress's auth-tls annotations as the controller parses them (authtls/main.go Parse, in its
// order): which values reject the whole Ingress at admission, which deny its hosts (403), which
// fall back silently, and what the rest mean. Values are read with Go's semantics.
import type { V1Ingress } from "@kubernetes/client-node";
import { RE2JS } from "re2js";
import { goAtoi, goParseBool, normalizeString, validateRegex } from "./go-values.ts";
import { classifySecret, type SecretUse, type SecretView } from "./secrets.ts";
import { SOURCES } from "./sources.ts";

export const ANNOTATION_PREFIX = "nginx.ingress.kubernetes.io/";
export const AUTH_TLS_KEYS = [
  "auth-tls-secret",
  "auth-tls-verify-client",
  "auth-tls-verify-depth",
  "auth-tls-error-page",
  "auth-tls-pass-certificate-to-upstream",
  "auth-tls-match-cn",
] as const;

export type VerifyClient = "on" | "off" | "optional" | "optional_no_ca";

// authtls/main.go:43-46 and parser/validators.go:45,68.
const VERIFY_CLIENT = /^(on|off|optional|optional_no_ca)$/;
const REDIRECT = /^(@[A-Za-z0-9_-]+|((https?:\/\/)?[A-Za-z0-9\-.]+(:\d+)?)?(\/[A-Za-z0-9\-_.]+)*\/?)$/;
const BASIC_CHARS = /^[/\-._~a-zA-Z0-9/:]*$/;

export interface AuthTlsSettings {
  verifyClient: VerifyClient;
  verifyDepth: number;
  passCertificateToUpstream: boolean;
  errorPage?: string;
  /** The whole value, "CN=" included: that is the regex nginx matches against the subject DN. */
  matchCn?: string;
}

/** What the controller makes of one Ingress's auth-tls annotations. */
export interface ParsedAuthTls {
  /** The auth-tls-* annotations as written, without the prefix. */
  declared: Record<string, string>;
  /** The admission webhook refuses the whole Ingress (without it, the store skips the object). */
  rejected?: { annotation: string; message: string; source: string };
  /** The annotation is accepted but the Ingress's hosts answer 403 to everything. */
  denied?: { reason: string; source: string };
  /** namespace/name the secret reference resolves to. */
  secretRef?: string;
  /** The secret as the controller uses it (when the reference itself is fine). */
  secret?: SecretUse;
  settings: AuthTlsSettings;
  /** Values the controller replaced silently, for reports: "auth-tls-verify-depth \"0\" is used as 1". */
  fallbacks: string[];
  sources: string[];
}

export interface ParseOptions {
  /** The controller's allow-cross-namespace-resources (default false). */
  allowCrossNamespace?: boolean;
  now?: Date;
}

export type SecretLookup = (namespace: string, name: string) => SecretView | undefined;

export function ingressId(ing: V1Ingress): string {
  return `${ing.metadata?.namespace ?? "default"}/${ing.metadata?.name ?? ""}`;
}

export function annotationOf(ing: V1Ingress, key: string): string | undefined {
  return ing.metadata?.annotations?.[ANNOTATION_PREFIX + key];
}

const DEFAULTS: AuthTlsSettings = { verifyClient: "on", verifyDepth: 1, passCertificateToUpstream: false };

/** The RE2 syntax check the controller's CommonNameAnnotationValidator makes (regexp.Compile). */
export function compilesAsRe2(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Parses like authtls.Parse. Returns undefined when the Ingress has no auth-tls (no secret
 * annotation, or an empty one: the controller then skips the whole feature).
 */
export function parseAuthTls(ing: V1Ingress, secrets: SecretLookup, options: ParseOptions = {}): ParsedAuthTls | undefined {
  const rawSecret = annotationOf(ing, "auth-tls-secret");
  if (rawSecret === undefined) return undefined;
  const declared: Record<string, string> = {};
  for (const key of AUTH_TLS_KEYS) {
    const v = annotationOf(ing, key);
    if (v !== undefined) declared[key] = v;
  }
  const namespace = ing.metadata?.namespace ?? "default";
  const out: ParsedAuthTls = { declared, settings: { ...DEFAULTS }, fallbacks: [], sources: [SOURCES.annotationDefaults] };
  const reject = (annotation: string, source: string): ParsedAuthTls => ({
    ...out,
    rejected: { annotation, message: `annotation ${ANNOTATION_PREFIX}${annotation} contains invalid value`, source },
    sources: [...out.sources, source],
  });

  // 1. The secret reference: validated (a bad value rejects the Ingress), then an empty value
  //    means no auth-tls at all (InvalidContent is skipped by the extractor).
  if (rawSecret !== "" && !validateRegex(BASIC_CHARS, rawSecret, true)) return reject("auth-tls-secret", SOURCES.secretValidation);
  const secretValue = normalizeString(rawSecret);
  if (secretValue === "") return undefined;
  const parts = secretValue.split("/");
  if (parts.length !== 2) {
    return { ...out, denied: { reason: `invalid format (namespace/name) found in '${secretValue}'`, source: SOURCES.secretReference }, sources: [...out.sources, SOURCES.secretReference] };
  }
  const secretNamespace = parts[0] || namespace;
  const secretName = parts[1]!;
  out.secretRef = `${secretNamespace}/${secretName}`;
  if (secretNamespace !== namespace && !options.allowCrossNamespace) {
    return { ...out, denied: { reason: "cross namespace secrets are not supported", source: SOURCES.secretReference }, sources: [...out.sources, SOURCES.secretReference] };
  }
  const secret = classifySecret(secrets(secretNamespace, secretName), out.secretRef, options.now);
  out.secret = secret;
  if (!secret.usable) {
    return { ...out, denied: { reason: `error obtaining certificate: ${secret.reason}`, source: SOURCES.secretContent }, sources: [...out.sources, SOURCES.secretContent] };
  }

  // 2. verify-client: anything invalid silently becomes "on".
  const rawVerify = declared["auth-tls-verify-client"];
  if (rawVerify !== undefined) {
    const valid = rawVerify !== "" && validateRegex(VERIFY_CLIENT, rawVerify, true);
    const value = normalizeString(rawVerify);
    if (valid && VERIFY_CLIENT.test(value)) out.settings.verifyClient = value as VerifyClient;
    else {
      out.fallbacks.push(`auth-tls-verify-client ${JSON.stringify(rawVerify)} is not one of on, off, optional, optional_no_ca: the controller uses "on"`);
      out.sources.push(SOURCES.verifyClientFallback);
    }
  }

  // 3. verify-depth: strconv.Atoi on the raw value; an error or 0 gives 1.
  const rawDepth = declared["auth-tls-verify-depth"];
  if (rawDepth !== undefined) {
    const depth = goAtoi(rawDepth);
    if (depth === undefined || depth === 0) {
      out.fallbacks.push(`auth-tls-verify-depth ${JSON.stringify(rawDepth)} ${depth === 0 ? "is 0" : "is not a Go integer"}: the controller uses 1`);
      out.sources.push(SOURCES.verifyDepthFallback);
    } else out.settings.verifyDepth = depth;
  }

  // 4. error-page: must match redirectRegex; an invalid value rejects the Ingress.
  const rawErrorPage = declared["auth-tls-error-page"];
  if (rawErrorPage !== undefined && rawErrorPage !== "") {
    if (!validateRegex(REDIRECT, rawErrorPage, true)) return reject("auth-tls-error-page", SOURCES.errorPageValidation);
    const value = normalizeString(rawErrorPage);
    if (value) out.settings.errorPage = value;
  }

  // 5. pass-certificate-to-upstream: strconv.ParseBool; not a bool rejects the Ingress.
  const rawPass = declared["auth-tls-pass-certificate-to-upstream"];
  if (rawPass !== undefined && rawPass !== "") {
    const value = goParseBool(rawPass);
    if (value === undefined) return reject("auth-tls-pass-certificate-to-upstream", SOURCES.passCertificateParse);
    out.settings.passCertificateToUpstream = value;
  }

  // 6. match-cn: "CN=" followed by a Go RE2 regex; anything else rejects the Ingress.
  const rawMatchCn = declared["auth-tls-match-cn"];
  if (rawMatchCn !== undefined && rawMatchCn !== "") {
    if (!rawMatchCn.startsWith("CN=") || compilesAsRe2(rawMatchCn.slice(3)) !== undefined) return reject("auth-tls-match-cn", SOURCES.matchCnValidation);
    const value = normalizeString(rawMatchCn);
    if (value) out.settings.matchCn = value;
  }
  return out;
}

/** One line per setting, for reports: what the controller will do with this Ingress. */
export function describeSettings(s: AuthTlsSettings): string {
  return [
    `verify-client ${s.verifyClient}`,
    `depth ${s.verifyDepth}`,
    `pass-certificate ${s.passCertificateToUpstream}`,
    ...(s.errorPage ? [`error-page ${s.errorPage}`] : []),
    ...(s.matchCn ? [`match-cn ${s.matchCn}`] : []),
  ].join(", ");
}
