// Target `endpoint`: a live deployment, checked as it is. Its declaration (--ingress: one or more
// Ingresses, any hosts, any auth-tls settings) is what the checks are generated from; --ca-cert is
// the CA its auth-tls secrets hold. With --ca-key the run issues its clients from that CA; with
// --client-cert/--client-key (or --clients per host) it presents the given client for the positive
// checks and mints the negative ones from CAs of its own. Nothing is deployed or changed.
import type { V1Ingress } from "@kubernetes/client-node";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, resolve } from "node:path";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { annotationOf } from "../model/annotations.ts";
import { filesUnder } from "../manifests/user-manifests.ts";
import { checkKeyPair } from "../pki/pki.ts";
import { ConfigError } from "../support/errors.ts";
import type { DeclaredObjects, DeployInput, Endpoint, StartedTarget, Target, TargetAvailability } from "./target.ts";

export interface EndpointTargetOptions {
  url?: string;
  ingress?: string;
  caCert?: string;
  caKey?: string;
  /** A client certificate the deployment accepts (PEM, leaf first, chain after it), and its key. */
  clientCert?: string;
  clientKey?: string;
  /** YAML mapping host -> { cert, key }: clients per host (paths relative to the file). */
  clients?: string;
  /** CA that signed the endpoint's server certificate. */
  serverCa?: string;
  /** Do not verify the endpoint's server certificate (only when no CA is at hand). */
  insecureServer?: boolean;
  /** The upstream answers with the echo JSON ({"headers":{…}}): header expectations can be checked. */
  echo?: boolean;
}

const read = (file: string, what: string): string => {
  if (!existsSync(file)) throw new ConfigError(`${what} ${file}: no such file`);
  return readFileSync(file, "utf8");
};

/** --clients FILE: `host: { cert: FILE, key: FILE }`, paths relative to FILE; checked to exist. */
export function readClients(file: string): Record<string, { certFile: string; keyFile: string }> {
  const doc = parseYaml(read(file, "--clients")) as Record<string, { cert?: string; key?: string }> | null;
  if (!doc || typeof doc !== "object") throw new ConfigError(`--clients ${file}: expected a mapping host -> { cert, key }`);
  const out: Record<string, { certFile: string; keyFile: string }> = {};
  for (const [host, entry] of Object.entries(doc)) {
    if (!entry?.cert || !entry.key) throw new ConfigError(`--clients ${file}: ${host} needs cert and key`);
    const certFile = resolve(dirname(file), entry.cert);
    const keyFile = resolve(dirname(file), entry.key);
    read(certFile, `--clients ${host} cert`);
    read(keyFile, `--clients ${host} key`);
    out[host] = { certFile, keyFile };
  }
  return out;
}

/** Ingress objects of a YAML file or folder (several documents, Lists); objects without a namespace are in "default". */
export function readIngresses(path: string, flag: string): V1Ingress[] {
  let files: string[];
  try {
    files = filesUnder(path);
  } catch {
    throw new ConfigError(`${flag} ${path}: no such file or folder`);
  }
  const docs = files.flatMap((file) =>
    parseAllDocuments(read(file, flag)).map((d) => {
      if (d.errors.length) throw new ConfigError(`${flag} ${file}: ${d.errors[0]!.message.split("\n")[0]}`);
      return d.toJS() as { kind?: string; items?: unknown[] } | null;
    }),
  );
  const objects = docs.flatMap((d) => (d?.kind === "List" && Array.isArray(d.items) ? (d.items as Array<{ kind?: string }>) : [d]));
  const ingresses = objects.filter((d): d is V1Ingress => d?.kind === "Ingress");
  for (const i of ingresses) {
    i.metadata ??= {};
    i.metadata.namespace ??= "default";
  }
  return ingresses;
}

export class EndpointTarget implements Target {
  readonly kind = "endpoint" as const;
  private readonly options: EndpointTargetOptions;

  constructor(options: EndpointTargetOptions) {
    this.options = options;
  }

  /** Everything checkable before the run: files, URL, Ingresses with hosts, credentials, server trust. */
  validate(): { url: URL; ingresses: V1Ingress[]; hosts: string[] } {
    const o = this.options;
    for (const [flag, value] of [["--url", o.url], ["--ingress", o.ingress], ["--ca-cert", o.caCert]] as const) {
      if (!value) throw new ConfigError(`--target endpoint needs ${flag}`);
    }
    let url: URL;
    try {
      url = new URL(o.url!);
    } catch {
      throw new ConfigError(`--url ${o.url} is not a URL`);
    }
    if (url.protocol !== "https:") throw new ConfigError(`--url ${o.url}: an https:// URL is needed`);
    const ingresses = readIngresses(o.ingress!, "--ingress");
    if (ingresses.length === 0) throw new ConfigError(`--ingress ${o.ingress}: no Ingress in it`);
    const hosts = [...new Set(ingresses.flatMap((i) => (i.spec?.rules ?? []).map((r) => r.host).filter((h): h is string => !!h)))];
    if (hosts.length === 0) throw new ConfigError(`--ingress ${o.ingress}: no Ingress has a host rule`);
    const caPem = read(o.caCert!, "--ca-cert");
    if (o.caKey) checkKeyPair(caPem, read(o.caKey, "--ca-key"), `--ca-key ${o.caKey} with --ca-cert ${o.caCert}`);
    if (!!o.clientCert !== !!o.clientKey) throw new ConfigError("--client-cert and --client-key go together");
    if (o.clientCert) checkKeyPair(read(o.clientCert, "--client-cert"), read(o.clientKey!, "--client-key"), `--client-key ${o.clientKey} with --client-cert ${o.clientCert}`);
    if (o.clients) for (const [host, c] of Object.entries(readClients(o.clients))) checkKeyPair(read(c.certFile, "--clients"), read(c.keyFile, "--clients"), `--clients ${host}: ${c.keyFile} with ${c.certFile}`);
    if (o.serverCa) read(o.serverCa, "--server-ca");
    else if (!o.insecureServer) throw new ConfigError("--target endpoint needs --server-ca FILE (the CA of the endpoint's server certificate) or --insecure-server");
    return { url, ingresses, hosts };
  }

  async check(): Promise<TargetAvailability> {
    try {
      const { url, hosts } = this.validate();
      return { available: true, reason: `${url.host} as ${hosts.join(", ")}` };
    } catch (error) {
      return { available: false, reason: (error as Error).message };
    }
  }

  async discover(): Promise<DeclaredObjects> {
    const o = this.options;
    const { ingresses } = this.validate();
    // Every auth-tls secret the declaration names is taken to hold --ca-cert (the live Secret is not ours to read).
    const refs = [
      ...new Set(
        ingresses.flatMap((i) => {
          const parts = annotationOf(i, "auth-tls-secret")?.trim().split("/");
          return parts?.length === 2 && parts[1] ? [`${parts[0] || i.metadata!.namespace}/${parts[1]}`] : [];
        }),
      ),
    ];
    const caPem = read(o.caCert!, "--ca-cert");
    const clients: DeclaredObjects["clients"] = o.clients ? readClients(o.clients) : {};
    if (o.clientCert) clients["*"] = { certFile: o.clientCert, keyFile: o.clientKey! };
    return {
      origin: "endpoint",
      source: o.ingress!,
      ingresses,
      secrets: refs.map((ref) => {
        const [namespace, name] = ref.split("/") as [string, string];
        return { namespace, name, data: { "ca.crt": caPem } };
      }),
      cas: [{ id: "declared-ca", refs, certPem: caPem, ...(o.caKey ? { keyPem: read(o.caKey, "--ca-key") } : {}) }],
      clients,
      trust: o.serverCa ? { caPem: read(o.serverCa, "--server-ca") } : { insecure: true, why: "--insecure-server" },
      ignoreClass: true,
      echo: o.echo === true,
    };
  }

  async start(input: DeployInput): Promise<StartedTarget> {
    const { url } = this.validate();
    const endpoint: Endpoint = { address: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 443) };
    // One clear line when nothing answers, instead of one connection error per check.
    const unreachable = await tcpProblem(endpoint, 5000);
    if (unreachable) throw new Error(`${url.host} ${unreachable}: is the deployment up, and is --url right?`);
    input.log(`checking the live deployment at ${url.host} as ${(input.hosts ?? []).join(", ")}; nothing is deployed or changed`);
    return {
      kind: "endpoint",
      description: `a live deployment at ${url.origin}, checked against the Ingress(es) declared in ${this.options.ingress}`,
      versions: {},
      details: {
        url: url.origin,
        hosts: input.hosts ?? [],
        serverVerification: this.options.serverCa ? `against ${this.options.serverCa}` : "off (--insecure-server)",
        clientsFrom: this.options.caKey ? "issued from --ca-key" : this.options.clientCert || this.options.clients ? "given (--client-cert / --clients)" : "none: positive checks skipped",
        echo: this.options.echo === true,
      },
      endpointFor: () => endpoint,
      collectDiagnostics: async () => [],
      stop: async () => undefined,
    };
  }
}

/** Why a TCP connection to `endpoint` cannot be made (refused, no route, timeout), or undefined when it can. */
export function tcpProblem(endpoint: Endpoint, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: endpoint.address, port: endpoint.port, timeout: timeoutMs });
    socket.once("connect", () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(`does not answer within ${timeoutMs / 1000} s`);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(error.code === "ECONNREFUSED" ? "refuses connections (ECONNREFUSED)" : `cannot be reached (${error.code ?? error.message})`);
    });
  });
}
