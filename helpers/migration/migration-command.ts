// `mtls-conformance migration`: the static migration report on the command line.
//   migration --manifests PATH [--to traefik,gateway-api] [--json | --markdown] [--out DIR] [--gateway-yaml]
// With --out: migration.json, migration.md, gateway-api/*.yaml (gateway-api, nginx-gateway-fabric in --to),
// f5-nginx-ingress/objects.yaml (f5-nginx-ingress in --to).
// Exit codes: 0 nothing lost, 1 a guarantee is lost on a profile asked for, 2 bad arguments.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ConfigError } from "../support/errors.ts";
import { gatewayYamlStream } from "./gateway-api.ts";
import { mergeObservations, OBSERVABLE, observeSuccessor } from "./observe.ts";
import { OBSERVED_BASIS_STATEMENT, buildMigrationReport, migrationExitCode, parseProfiles, renderJson, renderMarkdown, summaryLines, type MigrationReport } from "./migration-report.ts";
import type { MigrationProfile } from "../profiles/guarantees.ts";

export interface MigrationCliOptions {
  manifests?: string;
  to: string;
  json?: boolean;
  markdown?: boolean;
  out?: string;
  gatewayYaml?: boolean;
  gatewayClass?: string;
  namespace?: string;
  /** Serve the Ingresses on each successor that runs here and merge what its checks observe. */
  observe?: boolean;
}

export async function migrationCommand(opts: MigrationCliOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const profiles = parseProfiles(opts.to);
  if (!opts.manifests) throw new ConfigError("migration: --manifests PATH is required (a YAML file or a folder of your Ingresses)");
  const formats = [opts.json && "--json", opts.markdown && "--markdown", opts.gatewayYaml && "--gateway-yaml"].filter(Boolean);
  if (formats.length > 1) throw new ConfigError(`migration: ${formats.join(" and ")} exclude each other`);
  if (opts.gatewayYaml && !profiles.includes("gateway-api") && !profiles.includes("nginx-gateway-fabric")) throw new ConfigError("migration: --gateway-yaml needs gateway-api (or nginx-gateway-fabric) in --to");
  const { report, gateway, f5 } = await buildMigrationReport(opts.manifests, { profiles, gatewayClass: opts.gatewayClass, namespace: opts.namespace });
  if (opts.observe) await observe(report, profiles, opts);

  if (opts.out) {
    const written: string[] = [];
    const put = (rel: string, text: string) => {
      const file = join(opts.out!, rel);
      try {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
      } catch (error) {
        throw new ConfigError(`--out ${opts.out}: ${(error as Error).message}`);
      }
      written.push(file);
    };
    put("migration.json", renderJson(report));
    put("migration.md", renderMarkdown(report));
    for (const f of gateway?.files ?? []) put(f.path, f.yaml);
    // The objects F5 NGINX Ingress needs instead of the auth-tls annotations, checked against the Policy CRD's schema and the controller's rules.
    if (f5) put("f5-nginx-ingress/objects.yaml", f5.yaml);
    if (!opts.json && !opts.markdown && !opts.gatewayYaml) {
      write(summaryLines(report).join("\n") + "\n");
      write(`wrote ${written.length} file(s) to ${opts.out}: ${written.map((f) => f.slice(opts.out!.length).replace(/^\//, "")).join(", ")}\n`);
    }
  }
  if (opts.json) write(renderJson(report));
  else if (opts.gatewayYaml) write(gatewayYamlStream(gateway!));
  else if (opts.markdown || !opts.out) write(renderMarkdown(report));
  return migrationExitCode(report);
}

/** --observe: each successor that runs here serves the Ingresses; what its checks observe replaces what was read. */
async function observe(report: MigrationReport, profiles: MigrationProfile[], opts: MigrationCliOptions): Promise<void> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  for (const p of profiles) {
    const how = OBSERVABLE[p];
    if (!how) {
      report.profiles[p]!.note += ` Not observed: no ${p} data plane runs here yet; these rows rest on source reading.`;
      continue;
    }
    say(`observing ${p}: ${how.what}`);
    const run = await observeSuccessor(p, opts.manifests!, { ...(opts.out ? { reportDir: join(opts.out, `observed-${p}`) } : {}), ...(opts.namespace ? { namespace: opts.namespace } : {}) });
    if (run.exitCode !== 0 && run.exitCode !== 1) throw new Error(`the ${p} run ended with exit ${run.exitCode}: ${run.reportDir ? `see ${run.reportDir}` : "run it with --out to keep its reports"}`);
    mergeObservations(report, run);
    say(`  ${run.scenarios.filter((s) => s.migration?.observed).length} check(s) observed${run.reportDir ? `, signed reports in ${run.reportDir}` : ""}`);
  }
  report.basis = OBSERVED_BASIS_STATEMENT;
}
