// Target `endpoint`: a live deployment, checked as it is. The Ingress file is what is deployed
// there (its host and auth-tls annotations are the declared policy); the CA pair is the one the
// endpoint trusts, used to mint the run's client credentials. Nothing is deployed or changed:
// scenarios for other policies, or that need to change the deployment, are skipped with a reason.
import type { V1Ingress } from "@kubernetes/client-node";
import { existsSync, readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { Catalogue, Policy, Scenario } from "../catalogue/catalogue.ts";
import { ANNOTATION_PREFIX } from "../catalogue/catalogue.ts";
import { ConfigError } from "../support/errors.ts";
import { parseAuthTls, type AuthTls } from "./nginx-render.ts";
import type { DeployInput, Endpoint, StartedTarget, Target, TargetAvailability } from "./target.ts";

export interface EndpointTargetOptions {
  url?: string;
  ingress?: string;
  caCert?: string;
  caKey?: string;
  /** CA that signed the endpoint's server certificate. */
  serverCa?: string;
  /** Do not verify the endpoint's server certificate (only when no CA is at hand). */
  insecureServer?: boolean;
  /** The upstream answers with the echo JSON ({"headers":{…}}): header scenarios can run. */
  echo?: boolean;
}

export interface Applicability {
  /** Scenario id -> why it does not apply to this deployment. */
  skips: Record<string, string>;
  /** Policy name -> the host that answers it here. */
  hosts: Record<string, string>;
}

const read = (file: string, what: string): string => {
  if (!existsSync(file)) throw new ConfigError(`${what} ${file}: no such file`);
  return readFileSync(file, "utf8");
};

/** The settings that decide behaviour, after the controller's fallbacks; the secret's name does not matter. */
function effective(auth: AuthTls | undefined): string {
  if (!auth) return "no auth-tls";
  return JSON.stringify({ v: auth.verifyClient, d: auth.verifyDepth, p: auth.passCertificateToUpstream, e: auth.errorPage ?? null, m: auth.matchCn ?? null });
}

function describePolicy(auth: AuthTls | undefined): string {
  if (!auth) return "no auth-tls";
  return [
    `verify-client ${auth.verifyClient}`,
    `depth ${auth.verifyDepth}`,
    `pass-certificate ${auth.passCertificateToUpstream}`,
    ...(auth.errorPage ? [`error-page ${auth.errorPage}`] : []),
    ...(auth.matchCn ? [`match-cn ${auth.matchCn}`] : []),
  ].join(", ");
}

/** The secret reference always resolves for the comparison: the live secret is not ours to read. */
function authOf(ing: V1Ingress): AuthTls | undefined {
  const auth = parseAuthTls(ing, []);
  return auth ? { ...auth, brokenReason: undefined, noCa: undefined } : undefined;
}

export class EndpointTarget implements Target {
  readonly kind = "endpoint" as const;
  private readonly options: EndpointTargetOptions;

  constructor(options: EndpointTargetOptions) {
    this.options = options;
  }

  /** Everything checkable before the run: files, URL, one Ingress with a host, server trust. */
  validate(): { url: URL; ingress: V1Ingress; host: string } {
    const o = this.options;
    for (const [flag, value] of [["--url", o.url], ["--ingress", o.ingress], ["--ca-cert", o.caCert], ["--ca-key", o.caKey]] as const) {
      if (!value) throw new ConfigError(`--target endpoint needs ${flag}`);
    }
    let url: URL;
    try {
      url = new URL(o.url!);
    } catch {
      throw new ConfigError(`--url ${o.url} is not a URL`);
    }
    if (url.protocol !== "https:") throw new ConfigError(`--url ${o.url}: an https:// URL is needed`);
    const docs = parseAllDocuments(read(o.ingress!, "--ingress")).map((d) => d.toJS() as V1Ingress | null);
    const ingresses = docs.filter((d): d is V1Ingress => d?.kind === "Ingress");
    if (ingresses.length !== 1) throw new ConfigError(`--ingress ${o.ingress}: exactly one Ingress is needed, found ${ingresses.length}`);
    const ingress = ingresses[0]!;
    const host = ingress.spec?.rules?.find((r) => r.host)?.host;
    if (!host) throw new ConfigError(`--ingress ${o.ingress}: the Ingress has no host rule`);
    read(o.caCert!, "--ca-cert");
    read(o.caKey!, "--ca-key");
    if (o.serverCa) read(o.serverCa, "--server-ca");
    else if (!o.insecureServer) throw new ConfigError("--target endpoint needs --server-ca FILE (the CA of the endpoint's server certificate) or --insecure-server");
    return { url, ingress, host };
  }

  async check(): Promise<TargetAvailability> {
    try {
      const { url, host } = this.validate();
      return { available: true, reason: `${url.host} as ${host}` };
    } catch (error) {
      return { available: false, reason: (error as Error).message };
    }
  }

  /** The CA the deployment trusts: the run's client credentials are issued from it. */
  issuingCa(): { certPem: string; keyPem: string } {
    return { certPem: read(this.options.caCert!, "--ca-cert"), keyPem: read(this.options.caKey!, "--ca-key") };
  }

  serverTrust(): { caPem?: string; insecure: boolean } {
    return this.options.serverCa ? { caPem: read(this.options.serverCa, "--server-ca"), insecure: false } : { insecure: true };
  }

  get echo(): boolean {
    return this.options.echo === true;
  }

  /** Which scenarios this deployment can answer, and on which host. */
  applicability(catalogue: Catalogue, caRfc2253: string): Applicability {
    const { ingress, host } = this.validate();
    const declared = authOf(ingress);
    const skips: Record<string, string> = {};
    const hosts: Record<string, string> = {};
    const policyAuth = (p: Policy) =>
      authOf({ metadata: { namespace: "default", annotations: Object.fromEntries(Object.entries(p.annotations).map(([k, v]) => [ANNOTATION_PREFIX + k, v.replaceAll("$(NAMESPACE)", "default")])) } });
    for (const p of catalogue.policies) if (!p.caSecret && !p.sharedHost && p.tls !== false && effective(policyAuth(p)) === effective(declared)) hosts[p.name] = host;

    const skip = (s: Scenario): string | undefined => {
      if (s.lint) return "checks the guide's own objects, not this deployment";
      if (s.stage) return "needs to change the deployment (lifecycle)";
      if (s.request?.scheme === "http") return "needs the deployment's plain-HTTP listener";
      if (s.request?.servername) return "needs another host on the same deployment";
      const policy = catalogue.policies.find((p) => p.name === s.policy)!;
      if (!hosts[s.policy]) {
        if (policy.caSecret) return `needs a CA secret with ${policy.caSecret.crl ?? "a CRL"}`;
        return `written for ${describePolicy(policyAuth(policy))}; the deployed Ingress declares ${describePolicy(declared)}`;
      }
      const headers = s.expect.upstreamHeaders;
      if (!this.echo && (s.expect.upstream === "reached" || headers)) return "needs --echo (an upstream that answers with the headers it received)";
      const issuer = headers?.headers?.["ssl-client-issuer-dn"];
      if (issuer && issuer.startsWith("O=MyOrganization,CN=My Certificate Authority") && caRfc2253 !== issuer) {
        return `expects the guide CA's name as issuer; this deployment's CA is ${caRfc2253}`;
      }
      return undefined;
    };
    for (const s of catalogue.scenarios) {
      const reason = skip(s);
      if (reason) skips[s.id] = reason;
    }
    return { skips, hosts };
  }

  async start(input: DeployInput): Promise<StartedTarget> {
    const { url, ingress, host } = this.validate();
    const endpoint: Endpoint = { address: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 443) };
    input.log(`checking the live deployment at ${url.host} as ${host}; nothing is deployed or changed`);
    return {
      kind: "endpoint",
      description: `a live deployment at ${url.origin}, checked against the Ingress ${ingress.metadata?.namespace ?? "default"}/${ingress.metadata?.name} declared in ${this.options.ingress}`,
      versions: {},
      details: {
        url: url.origin,
        host,
        declaredPolicy: describePolicy(authOf(ingress)),
        serverVerification: this.options.serverCa ? `against ${this.options.serverCa}` : "off (--insecure-server)",
        echo: this.echo,
      },
      endpointFor: () => endpoint,
      collectDiagnostics: async () => [],
      stop: async () => undefined,
    };
  }
}
