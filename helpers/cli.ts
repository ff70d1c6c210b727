// mtls-conformance: run the per-Ingress mTLS conformance catalogue against a target.
//   run  [--target auto|nginx] [--report-dir DIR] [--only PATTERN]
//   list
// Exit codes: 0 all scenarios passed, 1 a scenario failed, 2 bad arguments or configuration.
import { Command, CommanderError, Option } from "commander";
import { join } from "node:path";
import { catalogue } from "../fixtures/catalogue.ts";
import { selectScenarios } from "./catalogue.ts";
import { runAllCleanups } from "./cleanup.ts";
import { ConfigError } from "./errors.ts";
import { ROOT, runConformance, TOOL } from "./run.ts";
import { TARGET_NAMES } from "./targets/registry.ts";

function defaultReportDir(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return join(ROOT, "reports", stamp);
}

const program = new Command()
  .name("mtls-conformance")
  .description("Proves with real TLS handshakes that an ingress enforces per-Ingress client-certificate auth as configured.")
  .version(TOOL.version)
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program
  .command("run", { isDefault: true })
  .description("run the conformance catalogue and write junit.xml and evidence.json")
  .addOption(new Option("--target <kind>", "where the Ingress objects run").choices([...TARGET_NAMES]).default("auto"))
  .option("--report-dir <dir>", "where reports go (default: a new directory under reports/)")
  .option("--only <pattern>", "comma-separated globs over scenario id, name or suite, e.g. 'MTLS-CLIENT-*,guide'")
  .action(async (opts: { target: string; reportDir?: string; only?: string }) => {
    const outcome = await runConformance({
      target: opts.target,
      reportDir: opts.reportDir ?? defaultReportDir(),
      only: opts.only,
      command: ["mtls-conformance", ...process.argv.slice(2)].join(" "),
    });
    process.exitCode = outcome.exitCode;
  });

program
  .command("list")
  .description("print the scenario catalogue")
  .option("--only <pattern>", "filter as for run")
  .option("--json", "machine-readable output")
  .action((opts: { only?: string; json?: boolean }) => {
    const scenarios = selectScenarios(catalogue.scenarios, opts.only);
    if (opts.json) {
      process.stdout.write(JSON.stringify({ policies: catalogue.policies, scenarios }, null, 2) + "\n");
      return;
    }
    for (const s of scenarios) {
      process.stdout.write(`${s.id}  ${s.suite.padEnd(16)} ${s.name}\n    ${s.must}\n`);
    }
    process.stdout.write(`${scenarios.length} scenario(s)\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof ConfigError) {
    process.stderr.write(`mtls-conformance: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`mtls-conformance: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
} finally {
  await runAllCleanups();
}
