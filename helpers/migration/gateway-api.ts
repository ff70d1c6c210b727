// The Gateway API translation written beside the migration report: per
// host whose Ingresses ingress-nginx serves with client auth, a Gateway of its own (so hosts that
// need other client auth, or none, are not affected: validation is per port) with
// spec.tls.frontend.default.validation naming a ConfigMap that holds the CA Secret's ca.crt (Core
// support), an HTTPS listener for the host with the TLS Secret, and an HTTPRoute per Ingress with
// a rule per path to the same Service and port. What core cannot say becomes comments. Every
// object is validated with the Gateway API models (@kubernetes-models/gateway-api, generated from
// sigs.k8s.io/gateway-api v1.5.1) or kubernetes-models for the ConfigMap.
import type { V1Service } from "@kubernetes/client-node";
import { Gateway } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Document, isMap, isScalar, type Pair, type Scalar } from "yaml";
import type { HostPolicy, IngressPath, ResolvedIngress } from "../model/hosts.ts";
import type { SecretView } from "../model/secrets.ts";

export const GATEWAY_API = "gateway.networking.k8s.io/v1";
/** The headers ingress-nginx sets (or clears) for the backend; the routes remove client-sent ones. */
export const CLIENT_CERT_HEADERS = ["ssl-client-cert", "ssl-client-verify", "ssl-client-subject-dn", "ssl-client-issuer-dn"];
const MAX_RULES = 16; // HTTPRouteSpec.rules maxItems

export interface GatewayFile {
  /** Relative to the output folder: gateway-api/<name>.yaml */
  path: string;
  objects: Array<Record<string, unknown>>;
  yaml: string;
}

export interface GatewayTranslation {
  files: GatewayFile[];
  /** host -> the file holding its Gateway. */
  byHost: Record<string, string>;
  /** Hosts not translated, with the reason. */
  skipped: string[];
}

export interface TranslationInput {
  hosts: HostPolicy[];
  ingresses: ResolvedIngress[];
  /** The Secrets the manifests hold (for ca.crt). */
  secrets: SecretView[];
  services: V1Service[];
  gatewayClass: string;
}

type Obj = Record<string, unknown>;

/** Validates one emitted object with its model; returns the model's message, or undefined when valid. */
export function validateGatewayApiObject(obj: Obj): string | undefined {
  const key = `${String(obj.apiVersion)}/${String(obj.kind)}`;
  try {
    if (key === `${GATEWAY_API}/Gateway`) new Gateway(obj as ConstructorParameters<typeof Gateway>[0]).validate();
    else if (key === `${GATEWAY_API}/HTTPRoute`) new HTTPRoute(obj as ConstructorParameters<typeof HTTPRoute>[0]).validate();
    else if (key === "v1/ConfigMap") new ConfigMap(obj as ConstructorParameters<typeof ConfigMap>[0]).validate();
    else return `no model for ${key}`;
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const slug = (host: string) => host.replace(/^\*\./, "wildcard.").replace(/[^a-z0-9.-]/gi, "-").replace(/\./g, "-").toLowerCase();

function splitRef(ref: string): [string, string] {
  const [ns, name] = ref.split("/") as [string, string];
  return [ns, name];
}

function pathMatch(p: IngressPath): { match: Obj; note?: string } {
  if (p.pathType === "Exact") return { match: { path: { type: "Exact", value: p.path } } };
  if (p.pathType === "Prefix") return { match: { path: { type: "PathPrefix", value: p.path } } };
  return {
    match: { path: { type: "PathPrefix", value: p.path.startsWith("/") ? p.path : `/${p.path}` } },
    note: `path ${p.path} is ImplementationSpecific: ingress-nginx matches it as a prefix (without use-regex), written as PathPrefix`,
  };
}

function backendPort(svc: string, port: number | string, namespace: string, services: V1Service[]): { port?: number; note?: string } {
  if (typeof port === "number") return { port };
  const found = services.find((s) => s.metadata?.name === svc && (s.metadata?.namespace ?? "default") === namespace)?.spec?.ports?.find((p) => p.name === port);
  if (found) return { port: found.port };
  return { note: `Service ${namespace}/${svc} port "${port}" is a name and the manifests do not hold the Service: set backendRefs[].port to its number` };
}

function document(obj: Obj, comment: string[], annotate?: (doc: Document) => void): Document {
  const doc = new Document(obj);
  if (comment.length) doc.commentBefore = comment.map((l) => ` ${l}`).join("\n");
  annotate?.(doc);
  return doc;
}

function commentOnKey(doc: Document, path: string[], key: string, comment: string): void {
  const node = doc.getIn(path, true);
  if (!isMap(node)) return;
  const pair = node.items.find((p) => (isScalar(p.key) ? (p.key as Scalar).value : p.key) === key) as Pair<Scalar, Scalar> | undefined;
  if (pair && isScalar(pair.value)) pair.value.comment = ` ${comment}`;
}

export function translateToGatewayApi(input: TranslationInput): GatewayTranslation {
  const files: GatewayFile[] = [];
  const byHost: Record<string, string> = {};
  const skipped: string[] = [];
  const configMaps = new Map<string, GatewayFile>();
  const byId = new Map(input.ingresses.map((i) => [i.id, i]));

  for (const host of input.hosts) {
    const auth = host.clientAuth;
    if (host.denied) {
      skipped.push(`${host.host}: ingress-nginx answers 403 to everything there (${host.denied.reason})`);
      continue;
    }
    if (!auth) continue; // no client auth: nothing of mTLS to translate (ingress2gateway covers plain routing)
    const governing = byId.get(auth.governing)!;
    const namespace = governing.ingress.metadata?.namespace ?? "default";
    const s = auth.settings;
    const [caNs, caName] = splitRef(auth.secretRef);
    const cmName = `${caName}-ca`;

    // The CA, as Core wants it: a ConfigMap with ca.crt, once per CA Secret.
    const cmKey = `${caNs}/${cmName}`;
    if (s.verifyClient !== "off" && !configMaps.has(cmKey)) {
      const written = input.secrets.find((x) => x.namespace === caNs && x.name === caName);
      const pem = written?.data["ca.crt"];
      const comment = [`The CA of Secret ${auth.secretRef} (its ca.crt), as Gateway API core frontend validation takes it: a ConfigMap with the key ca.crt.`];
      if (!pem) comment.push(`The manifests do not hold Secret ${auth.secretRef}: copy its ca.crt here. Until then every HTTPS request fails (NoValidCACertificate), which fails closed.`);
      if (pem && (pem.match(/BEGIN CERTIFICATE/g)?.length ?? 0) > 1) comment.push("ca.crt holds several certificates: a bundle in one reference is implementation-specific support, not Core.");
      if (written?.data["ca.crl"]) comment.push("Its ca.crl has no place in Gateway API core: revoked certificates will be accepted.");
      const cm: Obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: cmName, namespace: caNs }, data: { "ca.crt": pem ?? "" } };
      const path = `gateway-api/${caNs}-${cmName}.yaml`;
      const file: GatewayFile = { path, objects: [cm], yaml: document(cm, comment).toString({ lineWidth: 0 }) };
      configMaps.set(cmKey, file);
      files.push(file);
    }

    // What core cannot say, said where the reader looks.
    const lost: string[] = [];
    if (s.verifyClient === "optional") lost.push("verify-client optional (verify a certificate only if one is given) has no mode: AllowValidOnly is written, which also refuses clients without a certificate (stricter); AllowInsecureFallback would accept invalid certificates (weaker).");
    if (s.verifyClient !== "off") lost.push(`auth-tls-verify-depth ${s.verifyDepth}: no depth field; the maximum chain depth is implementation specific.`);
    if (s.errorPage) lost.push(`auth-tls-error-page ${s.errorPage}: no field; a refused client gets a failed TLS handshake, not a redirect.`);
    if (host.matchCn) lost.push(`auth-tls-match-cn ${host.matchCn}: no CN or SAN matching in core; any certificate the CA issued passes.`);
    if (auth.crl) lost.push("ca.crl: no CRL field; revoked certificates are accepted.");
    if (s.verifyClient !== "off") lost.push(`ssl-client-* headers: core forwards nothing about the client certificate; the HTTPRoutes remove client-sent ones.`);
    if (s.verifyClient === "optional_no_ca") lost.push("optional_no_ca: AllowInsecureFallback lets any certificate or none through, and the backend gets no verdict header (ssl-client-verify) to decide with.");
    const gwName = `mtls-${slug(host.host)}`;
    const routeNamespaces = [...new Set(host.ingresses.map((i) => byId.get(i.id)?.ingress.metadata?.namespace ?? "default"))];
    const listener: Obj = {
      name: "https",
      protocol: "HTTPS",
      port: 443,
      hostname: host.host,
      tls: {
        mode: "Terminate",
        certificateRefs: [
          host.certificate
            ? { group: "", kind: "Secret", name: splitRef(host.certificate.secret)[1], ...(splitRef(host.certificate.secret)[0] !== namespace ? { namespace: splitRef(host.certificate.secret)[0] } : {}) }
            : { group: "", kind: "Secret", name: `${slug(host.host)}-tls` },
        ],
      },
      allowedRoutes:
        routeNamespaces.length === 1 && routeNamespaces[0] === namespace
          ? { namespaces: { from: "Same" } }
          : { namespaces: { from: "Selector", selector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: routeNamespaces }] } } },
    };
    const gwComment = [
      `Host ${host.host}, translated from ingress-nginx: client auth of ${auth.governing} (verify-client ${s.verifyClient}, depth ${s.verifyDepth}) for every path of the host${host.ingresses.length > 1 ? ` (${host.ingresses.map((i) => i.id).join(", ")})` : ""}.`,
      "A Gateway of its own: frontend validation applies to a whole port, so hosts with other client auth (or none) must not share this one.",
    ];
    if (s.verifyClient !== "off") gwComment.push(`gatewayClassName: a GatewayClass whose implementation supports GatewayFrontendClientCertificateValidation${s.verifyClient === "optional_no_ca" ? " and ...InsecureFallback" : ""} (Traefik's Gateway provider does not).`);
    if (lost.length) gwComment.push("Not expressible in Gateway API core, left out:", ...lost.map((l) => `  - ${l}`));
    if (!host.certificate) gwComment.push(`No tls: entry names ${host.host} (ingress-nginx serves its default certificate): ${slug(host.host)}-tls is a placeholder for a TLS Secret.`);
    if (host.certificate && splitRef(host.certificate.secret)[0] !== namespace) gwComment.push(`The TLS Secret ${host.certificate.secret} is in another namespace: it needs a ReferenceGrant there.`);
    // ingress-nginx redirects plain HTTP to HTTPS where the Ingress has tls: (308); the nearest
    // Core redirect is 301 (HTTPRequestRedirectFilter statusCode, Core: 301 and 302).
    const redirectsHttp = host.ingresses.some((i) => i.redirectsHttp);
    if (redirectsHttp) gwComment.push("Port 80: an HTTP listener whose only route redirects to https (301; ingress-nginx answers 308), so plain HTTP never reaches the backend.");
    const httpListener: Obj = { name: "http", protocol: "HTTP", port: 80, hostname: host.host, allowedRoutes: { namespaces: { from: "Same" } } };
    const spec: Obj = { gatewayClassName: input.gatewayClass, listeners: redirectsHttp ? [listener, httpListener] : [listener] };
    if (s.verifyClient !== "off") {
      spec.tls = {
        frontend: {
          default: {
            validation: {
              caCertificateRefs: [{ group: "", kind: "ConfigMap", name: cmName, ...(caNs !== namespace ? { namespace: caNs } : {}) }],
              mode: s.verifyClient === "optional_no_ca" ? "AllowInsecureFallback" : "AllowValidOnly",
            },
          },
        },
      };
    } else gwComment.push("verify-client off: no frontend validation (ingress-nginx asks for no certificate).");
    const gateway: Obj = { apiVersion: GATEWAY_API, kind: "Gateway", metadata: { name: gwName, namespace }, spec };
    const modeNote =
      s.verifyClient === "optional"
        ? "ingress-nginx: optional (not expressible; this refuses clients without a certificate)"
        : s.verifyClient === "optional_no_ca"
          ? "ingress-nginx: optional_no_ca (the Gateway reports InsecureFrontendValidationMode=True)"
          : "ingress-nginx: on";
    const docs = [document(gateway, gwComment, (d) => commentOnKey(d, ["spec", "tls", "frontend", "default", "validation"], "mode", modeNote))];
    const objects: Obj[] = [gateway];

    // An HTTPRoute per Ingress on the host, a rule per path, the same Service and port.
    for (const on of host.ingresses) {
      const ing = byId.get(on.id)!;
      const ns = ing.ingress.metadata?.namespace ?? "default";
      const notes: string[] = [];
      const rules = on.paths.map((p) => {
        const { match, note } = pathMatch(p);
        if (note) notes.push(note);
        const filters = [{ type: "RequestHeaderModifier", requestHeaderModifier: { remove: [...CLIENT_CERT_HEADERS] } }];
        if (!p.service) {
          notes.push(`path ${p.path} has a resource backend, not a Service: replace-me stands for what serves it`);
          return { matches: [match], filters, backendRefs: [{ name: "replace-me" }] };
        }
        const { port, note: portNote } = backendPort(p.service, p.port, ns, input.services);
        if (portNote) notes.push(portNote);
        return { matches: [match], filters, backendRefs: [{ name: p.service, ...(port !== undefined ? { port } : {}) }] };
      });
      const base = ing.hosts.length > 1 ? `${ing.ingress.metadata?.name}-${slug(host.host)}` : `${ing.ingress.metadata?.name}`;
      for (let i = 0; i < rules.length; i += MAX_RULES) {
        const route: Obj = {
          apiVersion: GATEWAY_API,
          kind: "HTTPRoute",
          metadata: { name: i === 0 ? base : `${base}-${i / MAX_RULES + 1}`, namespace: ns },
          spec: {
            parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: gwName, ...(ns !== namespace ? { namespace } : {}), sectionName: "https" }],
            hostnames: [host.host],
            rules: rules.slice(i, i + MAX_RULES),
          },
        };
        const comment = [`From Ingress ${on.id}, host ${host.host}. Every rule removes client-sent ssl-client-* headers: ingress-nginx always replaces them, and core forwards none.`, ...notes];
        docs.push(document(route, i === 0 ? comment : []));
        objects.push(route);
      }
    }
    if (redirectsHttp) {
      const redirect: Obj = {
        apiVersion: GATEWAY_API,
        kind: "HTTPRoute",
        metadata: { name: `${gwName}-http-redirect`, namespace },
        spec: {
          parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: gwName, sectionName: "http" }],
          hostnames: [host.host],
          rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
        },
      };
      docs.push(document(redirect, [`Plain HTTP on ${host.host} is redirected to https, as ingress-nginx does for an Ingress with tls:.`]));
      objects.push(redirect);
    }
    const path = `gateway-api/${namespace}-${slug(host.host)}.yaml`;
    files.push({ path, objects, yaml: docs.map((d) => d.toString({ lineWidth: 0 })).join("---\n") });
    byHost[host.host] = path;
  }

  for (const file of files) {
    for (const obj of file.objects) {
      const problem = validateGatewayApiObject(obj);
      if (problem) throw new Error(`the Gateway API translation wrote an invalid object in ${file.path} (${String(obj.kind)} ${JSON.stringify((obj.metadata as Obj | undefined)?.name)}): ${problem}`);
    }
  }
  return { files, byHost, skipped };
}

/** Every file's YAML, one stream, for --gateway-yaml. */
export function gatewayYamlStream(t: GatewayTranslation): string {
  return t.files.map((f) => `# ${f.path}\n${f.yaml}`).join("---\n");
}
