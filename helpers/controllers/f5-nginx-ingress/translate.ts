// What someone migrating from ingress-nginx writes for F5 NGINX Ingress Controller v5.5.4
// (nginx/kubernetes-ingress@v5.5.4): per Ingress with auth-tls-secret, an ingressMTLS Policy in the
// CA Secret's namespace (the controller looks the secret up in the Policy's namespace,
// internal/k8s/controller.go:3513), the Ingress naming it in `nginx.org/policies` without its
// auth-tls-* annotations, and the CA Secret re-created with type nginx.org/ca (the only type an
// ingressMTLS Policy accepts, internal/configs/policy.go:480-483). Upstream example:
// examples/ingress-resources/ingress-mtls/ingress-mtls-policy.yaml:1-9 and cafe-ingress.yaml:5-12.
// What F5 cannot express (headers to the backend, an error page, a CN match) is listed per Ingress.
import type { V1Ingress, V1Secret } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { ANNOTATION_PREFIX, annotationOf } from "../../model/annotations.ts";
import { goAtoi, goParseBool, normalizeString, validateRegex } from "../../model/go-values.ts";
import { resolveHosts } from "../../model/hosts.ts";
import { secretView, type SecretView } from "../../model/secrets.ts";
import { controllerValidationErrors, crdSchemaErrors, isDns1123Subdomain } from "./policy-schema.ts";

export const F5_RELEASE = "nginx/kubernetes-ingress@v5.5.4";
/** internal/configs/annotations.go:15 */
export const POLICIES_ANNOTATION = "nginx.org/policies";
/** internal/k8s/secrets/validation.go:26 */
export const CA_SECRET_TYPE = "nginx.org/ca";

export interface F5IngressMTLS {
  clientCertSecret: string;
  verifyClient: string;
  verifyDepth: number;
  crlFileName?: string;
}

export interface F5Policy {
  apiVersion: "k8s.nginx.org/v1";
  kind: "Policy";
  metadata: { name: string; namespace: string };
  spec: { ingressClassName?: string; ingressMTLS: F5IngressMTLS };
}

export type F5Object = V1Ingress | V1Secret | F5Policy;

export interface F5TranslateInput {
  ingresses: V1Ingress[];
  secrets: V1Secret[];
  ingressClass?: string;
  /** Take Ingresses naming no class as the controller's (the migration report reads them so). */
  ignoreClass?: boolean;
}

export interface F5Translation {
  /** Policies, nginx.org/ca Secrets and Ingresses, per Ingress in the controller's order. */
  objects: F5Object[];
  /** Every object as YAML documents, each Ingress's group preceded by a comment listing its notes. */
  yaml: string;
  /** Per Ingress ("namespace/name"): what cannot be carried over, or what F5 will do differently. */
  notes: Record<string, string[]>;
  /** Objects the translation wrote that F5 will not accept (a Policy the controller rejects...). */
  problems: string[];
}

const VERIFY_CLIENT = /^(on|off|optional|optional_no_ca)$/;

/**
 * The verify-client/verify-depth ingress-nginx derives from the annotations (authtls/main.go, as
 * parseAuthTls steps 2-3), for an Ingress whose parse stopped before them (its secret is unusable,
 * so ingress-nginx denies its hosts): what the user asked for is still what the Policy carries.
 */
function intendedSettings(ing: V1Ingress): { verifyClient: string; verifyDepth: number; fallbacks: string[] } {
  const out = { verifyClient: "on", verifyDepth: 1, fallbacks: [] as string[] };
  const rawVerify = annotationOf(ing, "auth-tls-verify-client");
  if (rawVerify !== undefined) {
    const value = normalizeString(rawVerify);
    if (rawVerify !== "" && validateRegex(VERIFY_CLIENT, rawVerify, true) && VERIFY_CLIENT.test(value)) out.verifyClient = value;
    else out.fallbacks.push(`auth-tls-verify-client ${JSON.stringify(rawVerify)} is not one of on, off, optional, optional_no_ca: the controller uses "on"`);
  }
  const rawDepth = annotationOf(ing, "auth-tls-verify-depth");
  if (rawDepth !== undefined) {
    const depth = goAtoi(rawDepth);
    if (depth === undefined || depth === 0) out.fallbacks.push(`auth-tls-verify-depth ${JSON.stringify(rawDepth)} ${depth === 0 ? "is 0" : "is not a Go integer"}: the controller uses 1`);
    else out.verifyDepth = depth;
  }
  return out;
}

/** The Ingress as a person re-applies it: identity, labels, annotations and spec; server-set fields dropped. */
function copyIngress(ing: V1Ingress): V1Ingress {
  const { name, namespace, labels, annotations } = ing.metadata ?? {};
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace: namespace ?? "default", ...(labels ? { labels: { ...labels } } : {}), annotations: { ...(annotations ?? {}) } },
    spec: structuredClone(ing.spec ?? {}),
  };
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

function caSecret(view: SecretView): V1Secret {
  const data: Record<string, string> = {};
  // secrets/validation.go:17 (ca.crt) and configs/configurator.go:75 (ca.crl): the keys F5 reads.
  for (const key of ["ca.crt", "ca.crl"]) if (view.data[key] !== undefined) data[key] = b64(view.data[key]!);
  return { apiVersion: "v1", kind: "Secret", metadata: { name: view.name, namespace: view.namespace }, type: CA_SECRET_TYPE, data };
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, " ");
const samePolicy = (a: F5Policy, b: F5Policy) => JSON.stringify(a.spec) === JSON.stringify(b.spec);

export function translateToF5(input: F5TranslateInput): F5Translation {
  const views = input.secrets.map(secretView);
  const lookup = (ns: string, name: string) => views.find((s) => s.namespace === ns && s.name === name);
  const model = resolveHosts(input.ingresses, lookup, { ingressClass: input.ingressClass, ignoreClass: input.ignoreClass });
  const notes: Record<string, string[]> = {};
  const problems: string[] = [];
  const objects: F5Object[] = [];
  const documents: string[] = [];
  const untranslated: string[] = [];
  const policies = new Map<string, F5Policy>();
  const secretsWritten = new Set<string>();
  // Secrets some Ingress serves its certificate from: replacing one by an nginx.org/ca Secret takes that away.
  const tlsSecrets = new Set(model.ingresses.filter((r) => !r.notServed).flatMap((r) => (r.ingress.spec?.tls ?? []).map((t) => `${r.ingress.metadata?.namespace ?? "default"}/${t.secretName}`)));

  for (const r of model.ingresses) {
    const id = r.id;
    const own: string[] = [];
    const group: F5Object[] = [];
    notes[id] = own;
    // ingress-nginx's admission webhook refusing it is ingress-nginx's own: F5 NIC has none, the
    // Ingress is translated and served. Another IngressClass is not served by either.
    if (r.auth?.rejected) own.push(`ingress-nginx's admission webhook refuses this Ingress (${oneLine(r.auth.rejected.message)}); F5 NIC has no such webhook: translated and served`);
    else if (r.notServed) {
      own.push(`not translated: ${r.notServed}`);
      untranslated.push(`#   - ${id}: ${oneLine(r.notServed)}`);
      continue;
    }
    const ing = copyIngress(r.ingress);
    const namespace = ing.metadata!.namespace!;
    const raw = annotationOf(r.ingress, "auth-tls-secret");
    if (raw !== undefined) {
      for (const key of Object.keys(ing.metadata!.annotations!)) if (key.startsWith(`${ANNOTATION_PREFIX}auth-tls-`)) delete ing.metadata!.annotations![key];
      if (!r.auth) own.push("auth-tls-secret is empty: ingress-nginx configures no client-certificate authentication, so no Policy is written");
    }
    if (raw !== undefined && r.auth) {
      const auth = r.auth;
      // "ns/name", or "name" for the Ingress's namespace (ingress-nginx itself wants ns/name).
      const ref = normalizeString(raw);
      const slash = ref.indexOf("/");
      const secretNamespace = slash < 0 ? namespace : ref.slice(0, slash) || namespace;
      const secretName = slash < 0 ? ref : ref.slice(slash + 1);
      const secretKey = `${secretNamespace}/${secretName}`;
      // ingress-nginx's effective settings; where it stopped before reading them (it denies the
      // hosts), the settings the annotations ask for.
      const settings: { verifyClient: string; verifyDepth: number; fallbacks: string[] } = auth.denied ? intendedSettings(r.ingress) : { ...auth.settings, fallbacks: auth.fallbacks };
      let policyName = `${ing.metadata!.name}-mtls`;
      const policy: F5Policy = {
        apiVersion: "k8s.nginx.org/v1",
        kind: "Policy",
        metadata: { name: policyName, namespace: secretNamespace },
        spec: { ingressMTLS: { clientCertSecret: secretName, verifyClient: settings.verifyClient, verifyDepth: settings.verifyDepth } },
      };
      const existing = policies.get(`${secretNamespace}/${policyName}`);
      let reused = false;
      if (existing && samePolicy(existing, policy)) reused = true;
      else if (existing) {
        // Two Ingresses of one name in different namespaces, whose CA Secrets share a namespace.
        policyName = `${ing.metadata!.name}-${namespace}-mtls`;
        policy.metadata.name = policyName;
        own.push(`the Policy is named ${policyName}: ${secretNamespace}/${ing.metadata!.name}-mtls is another Ingress's`);
      }
      const crdErrors = crdSchemaErrors(policy);
      if (crdErrors.length) throw new Error(`translation bug: the Policy for ${id} does not match the Policy CRD's schema: ${crdErrors.join("; ")}`);
      const invalid = controllerValidationErrors(policy);
      if (invalid.length) {
        const message = `Policy ${secretNamespace}/${policyName} is invalid and will be rejected by the controller (pkg/apis/configuration/validation/policy.go:364-374): ${invalid.join("; ")}; every host of ${id} answers 500`;
        problems.push(message);
        own.push(message);
      }
      if (!isDns1123Subdomain(secretNamespace)) {
        // A namespace must be a DNS label; nginx.org/policies needs a DNS subdomain (internal/k8s/validation.go:454-463).
        const message = `the CA Secret's namespace ${JSON.stringify(secretNamespace)} is not a valid namespace: the Policy cannot be created, and F5 rejects the Ingress's nginx.org/policies`;
        problems.push(`${id}: ${message}`);
        own.push(message);
      }
      if (!reused) {
        policies.set(`${secretNamespace}/${policyName}`, policy);
        group.push(policy);
      }
      const ref2 = `${secretNamespace}/${policyName}`;
      const current = ing.metadata!.annotations![POLICIES_ANNOTATION];
      ing.metadata!.annotations![POLICIES_ANNOTATION] = current ? `${current},${ref2}` : ref2;

      // The CA Secret as nginx.org/ca, once per Secret.
      const view = lookup(secretNamespace, secretName);
      const type = input.secrets.find((s) => (s.metadata?.namespace ?? "default") === secretNamespace && s.metadata?.name === secretName)?.type ?? "Opaque";
      if (!view) own.push(`no nginx.org/ca Secret is written: the manifests hold no Secret ${secretKey}; until one exists F5 answers 500 on every host of this Ingress (internal/configs/policy.go:484-487)`);
      else if (type === "kubernetes.io/tls" || tlsSecrets.has(secretKey)) {
        // Re-creating it as nginx.org/ca would take the certificate from the hosts it serves.
        own.push(`Secret ${secretKey} is not re-created as nginx.org/ca: it is a TLS Secret (${type === "kubernetes.io/tls" ? "type kubernetes.io/tls" : "an Ingress's spec.tls names it"}); F5 refuses it for the Policy (a wrong type, internal/configs/policy.go:480-483) and answers 500 on every host of this Ingress: the CA needs a Secret of its own`);
      } else if (!view.data["ca.crt"]) own.push(`Secret ${secretKey} has no ca.crt, so there is no CA to carry over: F5 answers 500 on every host of this Ingress`);
      else {
        if (!secretsWritten.has(secretKey)) group.push(caSecret(view));
        secretsWritten.add(secretKey);
        if (view.data["tls.crt"]) own.push(`Secret ${secretKey} also holds tls.crt, which ingress-nginx trusts beside ca.crt; F5 trusts only ca.crt`);
      }
      if (auth.denied) own.push(`ingress-nginx answers 403 on this Ingress's hosts (${auth.denied.reason}); F5 applies the Policy as written`);
      // ingress-nginx sends ssl-client-verify, -subject-dn, -issuer-dn (and -cert with pass-certificate) upstream.
      const passCertificate = auth.denied ? goParseBool(auth.declared["auth-tls-pass-certificate-to-upstream"] ?? "") === true : auth.settings.passCertificateToUpstream;
      const dropped = ["ssl-client-verify", "ssl-client-subject-dn", "ssl-client-issuer-dn", ...(passCertificate ? ["ssl-client-cert"] : [])];
      own.push(`F5 sends no ssl-client-* headers upstream (no $ssl_client_* variable in internal/configs/version1/nginx.ingress.tmpl): the backend no longer receives ${dropped.join(", ")}`);
      if (auth.declared["auth-tls-pass-certificate-to-upstream"] !== undefined) own.push(`auth-tls-pass-certificate-to-upstream ${JSON.stringify(auth.declared["auth-tls-pass-certificate-to-upstream"])} cannot be carried over: F5 has no way to pass the client certificate (nginx.org/proxy-set-headers rejects "$", internal/configs/version1/header_parsing_helper.go:40-42)`);
      if (auth.declared["auth-tls-error-page"] !== undefined) own.push(`auth-tls-error-page ${JSON.stringify(auth.declared["auth-tls-error-page"])} cannot be carried over: F5 renders no error_page for a failed verification; nginx answers 400 itself`);
      if (auth.declared["auth-tls-match-cn"] !== undefined) own.push(`auth-tls-match-cn ${JSON.stringify(auth.declared["auth-tls-match-cn"])} cannot be carried over: an ingressMTLS Policy has no subject check; any certificate the CA issued is accepted`);
      for (const f of settings.fallbacks) own.push(`ingress-nginx replaced a value, and the Policy carries the replacement: ${f}`);
      if (settings.verifyClient === "optional" || settings.verifyClient === "optional_no_ca")
        own.push(
          `verifyClient ${settings.verifyClient}: requests without a certificate${settings.verifyClient === "optional_no_ca" ? ", or with one the CA did not issue," : ""} are proxied, and the backend cannot tell them apart (F5 adds no check and no header)`,
        );
      if (!ing.spec?.tls?.length) own.push("the Ingress has no spec.tls: F5 requires TLS for an ingressMTLS Policy and answers 500 on every host of this Ingress (internal/configs/policy.go:459-463)");
      else {
        const tlsHosts = new Set(ing.spec.tls.flatMap((t) => t.hosts ?? []));
        for (const h of r.hosts) if (!tlsHosts.has(h)) own.push(`host ${h} is not in spec.tls: F5 ignores the ingressMTLS Policy there and serves it over plain HTTP without a client certificate (internal/configs/ingress.go:447-457)`);
      }
    }
    group.push(ing);
    objects.push(...group);
    const header = own.length ? `# ${id}:\n${own.map((n) => `#   - ${oneLine(n)}`).join("\n")}\n` : `# ${id}\n`;
    // YAML 1.1 quoting: kubectl's reader (YAML 1.1) takes a bare `on` for a boolean, which the CRD's
    // string type refuses; the upstream example quotes it too (ingress-mtls-policy.yaml:8).
    documents.push(header + group.map((o) => stringify(o, { lineWidth: 0, version: "1.1" })).join("---\n"));
  }
  const head = [`# ${F5_RELEASE}: the objects for the run's Ingresses, translated from ingress-nginx's auth-tls annotations`, ...(untranslated.length ? ["# Not translated (ingress-nginx does not serve them either):", ...untranslated] : [])];
  const yaml = `${head.join("\n")}\n${documents.join("---\n")}`;
  return { objects, yaml, notes, problems };
}
