// NGINX Gateway Fabric (nginx/nginx-gateway-fabric@v2.6.7) on the run's Ingresses: first the
// Gateway API translation a migrating user writes (helpers/migration/gateway-api.ts: a Gateway per
// host with client auth, spec.tls.frontend naming the CA, an HTTPRoute per Ingress, an HTTP
// listener that redirects), then the nginx configuration NGF renders for those Gateways. NGF runs a
// data plane per Gateway; here each Gateway gets its own pair of ports on one nginx, so frontend
// validation stays per port as in NGF. What NGF renders, each cited at v2.6.7:
//  - internal/controller/nginx/config/servers_template.go:7-57 the default SSL server of a port:
//    `ssl_reject_handshake on` (no certificate for an unknown or absent SNI);
//  - :84-125 the host's server: ssl_certificate, then for AllowValidOnly `ssl_client_certificate`,
//    `ssl_verify_client on`, `ssl_verify_depth 4`, `error_page 495 496 = @frontend_tls_verify_failed`
//    and that location's `return 444`; for AllowInsecureFallback `ssl_verify_client optional_no_ca`
//    without a CA (internal/controller/state/dataplane/configuration.go:606-630);
//  - :121-125 and maps.go:227-290 the 421 when $ssl_server_name and $host resolve to different listeners;
//  - a location per HTTPRoute match (PathPrefix /x: `location /x/` and `location = /x`), the
//    RequestHeaderModifier's removals as `proxy_set_header NAME ""`, the HTTP listener's
//    RequestRedirect as `return 301 https://$host$request_uri`.
// `http2 on;` (base_http_config_template.go:5) is left out: nginx 1.22 does not know it.
import type { V1Ingress, V1Secret, V1Service } from "@kubernetes/client-node";
import { resolveHosts } from "../../model/hosts.ts";
import { secretView } from "../../model/secrets.ts";
import { translateToGatewayApi } from "../../migration/gateway-api.ts";
import { nginxPreamble } from "../nginx-process.ts";

export const NGF_RELEASE = "nginx/nginx-gateway-fabric@v2.6.7";
/** worker_processes of the rendering: a reload is done once this many new workers accept. */
export const NGF_WORKER_PROCESSES = 2;

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface NgfRenderInput {
  ingresses: V1Ingress[];
  secrets: V1Secret[];
  services?: V1Service[];
  ingressClass?: string;
  prefix: string;
  listenAddress: string;
  /** The ports of the Gateway of a host (https, http): stable across updates, as the probes' endpoints are. */
  portsFor: (host: string) => { https: number; http: number };
  /** The ports of hosts no Gateway serves (only default servers listen there). */
  unserved: { https: number; http: number };
  /** Every host that has ports of its own: one no Gateway serves (now) keeps only its default servers. */
  hosts: string[];
  backend: string;
  generation: number;
  /** Where nginx answers the generation it loaded. */
  controlPort: number;
}

export interface NgfGatewayRendered {
  name: string;
  host: string;
  https: number;
  http: number;
  /** AllowValidOnly, AllowInsecureFallback, or none (verify-client off). */
  validation: string;
  /** Why NGF would not serve the listener (an invalid CA reference): the port then rejects every handshake. */
  invalid?: string;
}

export interface NgfRendered {
  config: string;
  files: Array<{ path: string; content: string; mode: number }>;
  gateways: NgfGatewayRendered[];
  /** The port pair of hosts no Gateway serves (only default servers listen there). */
  unserved: { https: number; http: number };
  /** The translation's YAML, kept in the report. */
  translation: string;
  skipped: string[];
}

const pemCount = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;

/** NGF's own check of a CA reference (graph/...validation): ca.crt must hold a certificate. */
function caProblem(pem: string | undefined): string | undefined {
  if (!pem) return "NoValidCACertificate: the ConfigMap has no ca.crt";
  if (!pemCount(pem) || !/-----END CERTIFICATE-----/.test(pem)) return "InvalidCACertificateRef: ca.crt holds no PEM certificate";
  return undefined;
}

function locations(route: Obj, backend: string): string[] {
  const out: string[] = [];
  for (const rule of route.spec.rules as Obj[]) {
    const removes: string[] = ((rule.filters ?? []) as Obj[]).flatMap((f: Obj) => (f.type === "RequestHeaderModifier" ? (f.requestHeaderModifier.remove ?? []) : []));
    const body = [
      ...removes.map((h) => `        proxy_set_header ${h} "";`),
      `        proxy_set_header Host $host;`,
      `        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`,
      `        proxy_http_version 1.1;`,
      `        proxy_pass http://${backend};`,
    ].join("\n");
    for (const m of rule.matches as Obj[]) {
      const { type, value } = m.path as { type: string; value: string };
      if (type === "Exact") out.push(`    location = ${value} {\n${body}\n    }`);
      else if (value === "/") out.push(`    location / {\n${body}\n    }`);
      else {
        const p = value.replace(/\/$/, "");
        out.push(`    location ${p}/ {\n${body}\n    }`, `    location = ${p} {\n${body}\n    }`);
      }
    }
  }
  return out;
}

export function renderNgfConfig(input: NgfRenderInput): NgfRendered {
  const views = input.secrets.map(secretView);
  const lookup = (ns: string, name: string) => views.find((s) => s.namespace === ns && s.name === name);
  const model = resolveHosts(input.ingresses, lookup, { ingressClass: input.ingressClass });
  const translation = translateToGatewayApi({ hosts: model.hosts, ingresses: model.ingresses, secrets: views, services: input.services ?? [], gatewayClass: "nginx" });
  const files: NgfRendered["files"] = [];
  const servers: string[] = [];
  const maps: string[] = [];
  const gateways: NgfGatewayRendered[] = [];
  const configMaps = new Map<string, Obj>();
  for (const f of translation.files) for (const o of f.objects as Obj[]) if (o.kind === "ConfigMap") configMaps.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
  const defaultServers = (p: { https: number; http: number }) =>
    `    server {\n        listen ${input.listenAddress}:${p.https} ssl default_server;\n        ssl_reject_handshake on;\n    }\n    server {\n        listen ${input.listenAddress}:${p.http} default_server;\n        default_type text/html;\n        return 404;\n    }`;

  let index = 0;
  for (const f of translation.files) {
    const gw = (f.objects as Obj[]).find((o) => o.kind === "Gateway");
    if (!gw) continue;
    index++;
    const https = (gw.spec.listeners as Obj[]).find((l) => l.protocol === "HTTPS")!;
    const host = https.hostname as string;
    const ports = input.portsFor(host);
    const ns = gw.metadata.namespace as string;
    const routes = (f.objects as Obj[]).filter((o) => o.kind === "HTTPRoute");
    const httpsRoutes = routes.filter((r) => (r.spec.parentRefs as Obj[]).some((p) => p.sectionName === "https"));
    const redirect = routes.some((r) => (r.spec.parentRefs as Obj[]).some((p) => p.sectionName === "http"));
    // The HTTP listener is programmed on its own, whatever becomes of the HTTPS one.
    if (redirect) servers.push(`    server {\n        listen ${input.listenAddress}:${ports.http};\n        server_name ${host};\n        location / {\n            return 301 https://$host$request_uri;\n        }\n    }`);
    // No tls: in the Ingress, so ingress-nginx serves port 80 too: the same routes on an HTTP
    // listener, as ingress2gateway translates such an Ingress (no validation there: the finding stands).
    else servers.push(`    server {\n        listen ${input.listenAddress}:${ports.http};\n        server_name ${host};\n${httpsRoutes.flatMap((r) => locations(r, input.backend)).join("\n")}\n    }`);
    const validation = gw.spec.tls?.frontend?.default?.validation as Obj | undefined;
    const entry: NgfGatewayRendered = { name: `${ns}/${gw.metadata.name}`, host, https: ports.https, http: ports.http, validation: validation?.mode ?? "none" };
    gateways.push(entry);
    servers.push(defaultServers(ports));
    // The listener's certificate.
    const certRef = https.tls.certificateRefs[0] as Obj;
    const tls = lookup(certRef.namespace ?? ns, certRef.name);
    const keyPair = tls?.data["tls.crt"] && tls.data["tls.key"] ? `${tls.data["tls.crt"].trim()}\n${tls.data["tls.key"].trim()}\n` : undefined;
    if (!keyPair) {
      entry.invalid = `the listener's certificate Secret ${certRef.namespace ?? ns}/${certRef.name} has no key pair`;
      continue;
    }
    const id = `${index}`;
    const certFile = `${input.prefix}/ssl/gw-${id}.pem`;
    files.push({ path: certFile, content: keyPair, mode: 0o600 });
    const ssl = [`        ssl_certificate ${certFile};`, `        ssl_certificate_key ${certFile};`];
    if (validation?.mode === "AllowInsecureFallback") ssl.push("        ssl_verify_client optional_no_ca;");
    else if (validation) {
      const ref = validation.caCertificateRefs[0] as Obj;
      const cm = configMaps.get(`${ref.namespace ?? ns}/${ref.name}`);
      // A reference to another namespace needs a ReferenceGrant, which the translation does not write.
      const problem = ref.namespace && ref.namespace !== ns ? `RefNotPermitted: the CA ConfigMap ${ref.namespace}/${ref.name} is in another namespace and no ReferenceGrant allows it` : caProblem(cm?.data?.["ca.crt"]);
      if (problem) {
        // The listener is not programmed: only the port's default server answers, refusing every handshake.
        entry.invalid = problem;
        continue;
      }
      const bundle = `${input.prefix}/ssl/ca-${id}.crt`;
      files.push({ path: bundle, content: cm!.data["ca.crt"], mode: 0o644 });
      ssl.push(
        `        ssl_client_certificate ${bundle};`,
        "        ssl_verify_client on;",
        "        ssl_verify_depth 4;",
        "        error_page 495 496 = @frontend_tls_verify_failed;",
        "        location @frontend_tls_verify_failed {\n            return 444;\n        }",
      );
    }
    const sni = `$ngf_sni_${ports.https}`;
    const hostVar = `$ngf_host_${ports.https}`;
    maps.push(`    map $ssl_server_name ${sni} {\n        hostnames;\n        ${host} 1;\n        default 0;\n    }`, `    map $host ${hostVar} {\n        hostnames;\n        ${host} 1;\n        default 0;\n    }`);
    servers.push(
      `    server {\n        listen ${input.listenAddress}:${ports.https} ssl;\n${ssl.join("\n")}\n        if (${sni} != ${hostVar}) {\n            return 421;\n        }\n        server_name ${host};\n${httpsRoutes.flatMap((r) => locations(r, input.backend)).join("\n")}\n    }`,
    );
  }
  // Hosts without client auth: plain routing, which ingress2gateway translates (the mTLS
  // translation leaves them out): an HTTPS listener with the host's certificate, no validation.
  for (const h of model.hosts) {
    if (h.clientAuth || h.denied || gateways.some((g) => g.host === h.host) || !h.certificate) continue;
    const ports = input.portsFor(h.host);
    const [cns, cname] = h.certificate.secret.split("/") as [string, string];
    const tls = lookup(cns, cname);
    if (!tls?.data["tls.crt"] || !tls.data["tls.key"]) continue;
    const certFile = `${input.prefix}/ssl/plain-${ports.https}.pem`;
    files.push({ path: certFile, content: `${tls.data["tls.crt"].trim()}\n${tls.data["tls.key"].trim()}\n`, mode: 0o600 });
    gateways.push({ name: `(plain) ${h.host}`, host: h.host, https: ports.https, http: ports.http, validation: "none" });
    const route = { spec: { rules: h.ingresses.flatMap((i) => i.paths.map((p) => ({ matches: [{ path: { type: p.pathType === "Exact" ? "Exact" : "PathPrefix", value: p.path } }] }))) } };
    servers.push(defaultServers(ports));
    servers.push(`    server {\n        listen ${input.listenAddress}:${ports.https} ssl;\n        ssl_certificate ${certFile};\n        ssl_certificate_key ${certFile};\n        server_name ${h.host};\n${locations(route, input.backend).join("\n")}\n    }`);
    servers.push(`    server {\n        listen ${input.listenAddress}:${ports.http};\n        server_name ${h.host};\n        location / {\n            return 301 https://$host$request_uri;\n        }\n    }`);
  }
  const unserved = input.unserved;
  servers.push(defaultServers(unserved));
  const served = new Set(gateways.map((g) => g.host));
  for (const h of input.hosts) if (!served.has(h)) servers.push(defaultServers(input.portsFor(h)));

  const config = `${nginxPreamble({ release: `${NGF_RELEASE} for the translated Gateways`, generation: input.generation, prefix: input.prefix, workers: NGF_WORKER_PROCESSES, errorLevel: "warn", workerConnections: 16384 })}
    server_names_hash_bucket_size 128;
    map_hash_bucket_size 128;
${maps.join("\n")}
    server {
        listen ${input.listenAddress}:${input.controlPort};
        location = /generation { return 200 "${input.generation}"; }
    }
${servers.join("\n")}
}
`;
  return { config, files, gateways, unserved, translation: translation.files.map((x) => `# ${x.path}\n${x.yaml}`).join("---\n"), skipped: translation.skipped };
}
