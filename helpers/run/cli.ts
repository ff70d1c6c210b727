// mtls-conformance: run the per-Ingress mTLS conformance catalogue against a target.
//   run  [--target auto|nginx] [--report-dir DIR] [--only PATTERN]
//   list
// Exit codes: 0 all scenarios passed, 1 a scenario failed (or nothing was checked), 2 bad arguments or
// configuration, 3 the suite broke (a fault of the harness: no verdict on the Ingresses).
import { Command, CommanderError, Option } from "commander";
import { writeFile } from "node:fs/promises";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_K3S_IMAGE } from "../targets/defaults.ts";
import type { EndpointTargetOptions } from "../targets/endpoint-target.ts";
import { catalogue } from "../../fixtures/catalogue.ts";
import { controlCoverage, selectScenarios } from "../catalogue/catalogue.ts";
import { runAllCleanups } from "../support/cleanup.ts";
import { ConfigError } from "../support/errors.ts";
import { DEFAULT_CONTROLLER_VERSION, parseControllerVersion, resolveControllerManifest } from "../targets/controller-manifest.ts";
import { runConformance, TOOL } from "./run.ts";
import { TARGET_NAMES } from "../targets/registry.ts";
import { CONTROLLER_NAMES, DEFAULT_CONTROLLER_NAME, parseControllerName } from "../targets/controllers.ts";
import { parseShard } from "./shard.ts";

function defaultReportDir(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  // Where the command runs (a clone's root with `npm run conformance`, a CI job's workspace with npx).
  return join(process.cwd(), "reports", stamp);
}

const program = new Command()
  .name("mtls-conformance")
  .description("Proves with real TLS handshakes that an ingress enforces per-Ingress client-certificate auth as configured.")
  .version(TOOL.version)
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

// The endpoint target's flags map one to one onto its options.
interface RunCliOptions extends EndpointTargetOptions {
  target: string;
  profile?: string;
  profileVersion?: string;
  strict?: boolean;
  manifests?: string;
  audit?: boolean;
  ingressClass?: string;
  concurrency?: string;
  expiryWarningDays?: string;
  reportDir?: string;
  only?: string;
  namespace?: string;
  controllerVersion?: string;
  controllerManifest?: string;
  k3sImage?: string;
  preloadImages?: boolean;
  preloadImage?: string[];
  registryMirror?: string[];
  kubeconfig?: string;
  context?: string;
  installController?: boolean;
  ingressAddress?: string;
  controllerNamespace?: string;
  controllerSelector?: string;
  controllerService?: string;
  controller?: string;
  isolate?: boolean;
  keysDir?: string;
  signingKey?: string;
  browser?: boolean;
  crossCheck?: "curl";
  shard?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function concurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new ConfigError(`--concurrency ${value}: a whole number from 1 to 256`);
  return n;
}

function warningDays(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const days = Number(value);
  if (!Number.isInteger(days) || days < 0) throw new ConfigError(`--expiry-warning-days ${value}: a whole number of days`);
  return days;
}

function endpointOptions(o: EndpointTargetOptions): EndpointTargetOptions {
  const { url, ingress, caCert, caKey, clientCert, clientKey, clients, serverCa, insecureServer, echo } = o;
  return { url, ingress, caCert, caKey, clientCert, clientKey, clients, serverCa, insecureServer, echo };
}

program
  .command("run", { isDefault: true })
  .description("check Ingresses (the catalogue's, or yours) and write junit.xml, evidence.json and report.html")
  .addOption(new Option("--target <kind>", "where the Ingress objects run").choices([...TARGET_NAMES]).default("auto"))
  .option("--manifests <path>", "your own Ingresses (a YAML file or a folder): deploy them and check what they declare (nginx, k3s, cluster)")
  .option("--audit", "--target cluster: check every auth-tls Ingress already deployed; create and change nothing")
  .option("--ingress-class <name>", "the IngressClass the controller under test serves", "nginx")
  .option("--report-dir <dir>", "where reports go (default: a new directory under reports/)")
  .option("--only <pattern>", "comma-separated globs over check id, name, suite or Ingress, e.g. 'MTLS-CLIENT-*,guide' or 'prod/*'")
  .option("--namespace <name>", "namespace of the run's objects (k3s/cluster default: mtls-conformance; with --manifests the namespace of objects that name none; with --audit the only namespace audited)")
  .option("--concurrency <n>", "probes in flight at once", String(24))
  .option("--expiry-warning-days <days>", "the inventory's production checks: a certificate or CRL in force ending within this many days is a finding", "30")
  .option("--controller-version <versions>", "ingress-nginx release(s), e.g. v1.15.1 or v1.13.9,v1.15.1 (one report per version)")
  .option("--controller-manifest <file>", "a local copy of the release manifest instead of the download (air-gapped)")
  .option("--k3s-image <image>", "k3s image for --target k3s (default: a k3s of the newest Kubernetes the controller release supports)")
  .option("--preload-images", "copy the run's images from the host's Docker into k3s before it pulls")
  .option("--preload-image <ref>", "one more image to preload (repeatable), e.g. k3s system images", collect)
  .option("--registry-mirror <[registry=]url>", "k3s pulls through this mirror: a URL for every registry the run uses, or REGISTRY=URL for one (repeatable)", collect)
  .option("--profile <name>", "the catalogue's checks expect this successor's behaviour: ingress-nginx (default), traefik, gateway-api, nginx-gateway-fabric, haproxy-ingress or f5-nginx-ingress (see `list --profile`)")
  .option("--profile-version <version>", "the successor's version row, e.g. v3.7.1 (default: the profile's newest)")
  .option("--strict", "a guarantee the successor loses fails the run (exit 1) instead of being reported like a finding")
  .option("--signing-key <file>", "Ed25519 private key (PKCS#8 PEM) that signs the report (default: a key made for the run)")
  .option("--keys-dir <dir>", "also write the run's private keys and client.p12 here (outside the report directory)")
  .option("--browser", "also run the guide's browser step in headless Chromium (MTLS-BROWSER-001..004: client.p12 in its NSS database; needs chromium and libnss3-tools)")
  .option("--isolate", "a target (a k3s cluster) per suite instead of one shared by all suites")
  .option("--shard <i/n>", "run slice I of N of the input (whole Ingresses, those sharing a host together; the catalogue by suite); join the slices with `mtls-conformance merge`")
  .addOption(new Option("--cross-check <client>", "also make every probe's request with this client and fail a check where the two disagree").choices(["curl"]))
  .option("--url <url>", "--target endpoint: the live deployment's HTTPS address, e.g. https://203.0.113.10:443")
  .option("--ingress <file>", "--target endpoint: the Ingress(es) deployed there (their hosts and auth-tls annotations are the declared policy)")
  .option("--ca-cert <file>", "--target endpoint: the CA the deployment trusts for client certificates")
  .option("--ca-key <file>", "--target endpoint: that CA's private key, to issue the run's client credentials")
  .option("--client-cert <file>", "--target endpoint: a client certificate the deployment accepts (instead of --ca-key), chain after the leaf")
  .option("--client-key <file>", "--target endpoint: its private key")
  .option("--clients <file>", "endpoint or --audit: YAML mapping host -> { cert: FILE, key: FILE }, a client per host")
  .option("--server-ca <file>", "endpoint or --audit: the CA of the server certificates")
  .option("--insecure-server", "endpoint or --audit: do not verify the server certificates")
  .option("--echo", "endpoint or --audit: the upstream answers with the headers it received ({\"headers\":{…}})")
  .option("--kubeconfig <file>", "kubeconfig of an existing cluster (--target cluster)")
  .option("--context <name>", "kubeconfig context")
  .option("--install-controller", "install ingress-nginx in the existing cluster first")
  .option("--ingress-address <host:port>", "where the controller's HTTPS listener is reached")
  .option("--controller-namespace <name>", "cluster: the namespace the controller runs in (default ingress-nginx)")
  .option("--controller-selector <labels>", "cluster: the label selector of the controller's pods (default: the release manifest's)")
  .option("--controller-service <name>", "cluster: the controller's Service, whose load-balancer address is probed (default ingress-nginx-controller)")
  .addOption(new Option("--controller <name>", "what serves the Ingresses: ingress-nginx, traefik (its kubernetesIngressNGINX provider; local, k3s, cluster, endpoint), nginx-gateway-fabric (the Ingresses translated to Gateway API), haproxy-ingress (jcmoraisjr, the same annotations on HAProxy) or f5-nginx-ingress (a Policy per Ingress); the last three: local, endpoint, cluster --audit").choices([...CONTROLLER_NAMES]).default(DEFAULT_CONTROLLER_NAME))
  .action(async (opts: RunCliOptions) => {
    const versions = (opts.controllerVersion ?? "").split(",").map((v) => v.trim()).filter(Boolean);
    // Every version is checked before the first run starts.
    versions.forEach(parseControllerVersion);
    const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
    if (opts.target === "nginx" && (versions.length || opts.controllerManifest)) {
      throw new ConfigError("--controller-version and --controller-manifest apply to the k3s and cluster targets, not nginx");
    }
    const reportDir = opts.reportDir ?? defaultReportDir();
    const command = ["mtls-conformance", ...process.argv.slice(2)].join(" ");
    const runOnce = (controllerVersion: string | undefined, dir: string) =>
      runConformance({
        target: opts.target,
        reportDir: dir,
        only: opts.only,
        namespace: opts.namespace,
        manifests: opts.manifests,
        controller: parseControllerName(opts.controller),
        ingressClass: opts.ingressClass,
        concurrency: concurrency(opts.concurrency),
        expiryWarningDays: warningDays(opts.expiryWarningDays),
        isolate: opts.isolate,
        keysDir: opts.keysDir,
        signingKey: opts.signingKey,
        browser: opts.browser,
        crossCheck: opts.crossCheck,
        profile: opts.profile,
        profileVersion: opts.profileVersion,
        strict: opts.strict,
        ...(shard ? { shard } : {}),
        command,
        targetOptions: {
          controllerVersion,
          controllerManifest: opts.controllerManifest,
          image: opts.k3sImage,
          preloadImages: opts.preloadImages,
          extraPreloadImages: opts.preloadImage,
          registryMirrors: opts.registryMirror,
          kubeconfig: opts.kubeconfig,
          context: opts.context,
          installController: opts.installController,
          ingressAddress: opts.ingressAddress,
          controllerNamespace: opts.controllerNamespace,
          controllerSelector: opts.controllerSelector,
          controllerService: opts.controllerService,
          audit: opts.audit,
          auditNamespace: opts.audit ? opts.namespace : undefined,
          ...endpointOptions(opts),
        },
      });
    if (versions.length <= 1) {
      process.exitCode = (await runOnce(versions[0], reportDir)).exitCode;
      return;
    }
    // Upgrade validation: the same catalogue per controller version, one report directory each.
    if (opts.controllerManifest) throw new ConfigError("--controller-manifest names one file: use it with a single --controller-version");
    let worst = 0;
    for (const [i, version] of versions.entries()) {
      process.stdout.write(`== ingress-nginx ${version} ==\n`);
      worst = Math.max(worst, (await runOnce(version, join(reportDir, version))).exitCode);
      if (i > 0) {
        // What changed between consecutive versions: the upgrade's effect on mTLS behaviour.
        const { diffReportDirs, formatDiffMarkdown, formatDiffText } = await import("../reports/diff.ts");
        const d = await diffReportDirs(join(reportDir, versions[i - 1]!), join(reportDir, version));
        await writeFile(join(reportDir, `diff-${versions[i - 1]}-${version}.md`), formatDiffMarkdown(d));
        process.stdout.write(formatDiffText(d) + "\n");
      }
    }
    process.exitCode = worst;
  });

program
  .command("verify <report-dir>")
  .description("check a report directory's signature and the SHA-256 of every file in it")
  .option("--public-key <file>", "the Ed25519 public key (PEM) you trust; default: the one in the report, which proves integrity but not origin")
  .action(async (dir: string, opts: { publicKey?: string }) => {
    const { verifyReportDir } = await import("../reports/attestation.ts");
    const v = await verifyReportDir(dir, opts.publicKey);
    if (!v.ok) {
      process.stderr.write(`verify FAILED: ${v.problems[0]}\n`);
      for (const p of v.problems.slice(1)) process.stderr.write(`  also: ${p}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`verified: ${v.checkedFiles} files match the signed manifest; signed by Ed25519 key sha256:${v.fingerprint}\n`);
    if (v.keyFromReport) process.stdout.write("note: checked with the key stored in the report; pass --public-key to check it came from a key you trust\n");
  });

program
  .command("merge <report-dirs...>")
  .description("join the reports of `run --shard I/N` (every shard, each verified first) into one report, judged as a whole, signed afresh; exit as a run's")
  .requiredOption("--report-dir <dir>", "where the merged report goes (a new or empty directory); the shards are copied under shards/<I>-of-<N>/")
  .option("--public-key <file>", "the Ed25519 public key (PEM) every shard must be signed with; default: each shard's own, which proves integrity but not origin")
  .option("--signing-key <file>", "Ed25519 private key (PKCS#8 PEM) that signs the merged report (default: a key made for the merge)")
  .action(async (dirs: string[], opts: { reportDir: string; publicKey?: string; signingKey?: string }) => {
    const { mergeShards } = await import("../reports/merge.ts");
    const command = ["mtls-conformance", ...process.argv.slice(2)].join(" ");
    process.exitCode = (await mergeShards({ dirs, reportDir: opts.reportDir, publicKey: opts.publicKey, signingKey: opts.signingKey, command, tool: TOOL })).exitCode;
  });

program
  .command("diff <report-dir-a> <report-dir-b>")
  .description("what changed between two runs (e.g. before and after an upgrade); exit 1 when a verdict regressed")
  .option("--markdown", "Markdown instead of text")
  .action(async (a: string, b: string, opts: { markdown?: boolean }) => {
    const { diffReportDirs, formatDiffMarkdown, formatDiffText } = await import("../reports/diff.ts");
    const d = await diffReportDirs(a, b);
    process.stdout.write((opts.markdown ? formatDiffMarkdown(d) : formatDiffText(d)) + "\n");
    process.exitCode = d.regressed ? 1 : 0;
  });

program
  .command("images")
  .description("print the container images a k3s run needs (pull or load them before air-gapped runs)")
  .option("--controller-version <version>", "ingress-nginx release", DEFAULT_CONTROLLER_VERSION)
  .option("--controller-manifest <file>", "a local copy of the release manifest")
  .option("--k3s-image <image>", "k3s image (default: a k3s of the newest Kubernetes the release supports)")
  .addOption(new Option("--controller <name>", "what serves the Ingresses (traefik: k3s's packaged Traefik, pinned)").choices([...CONTROLLER_NAMES]).default(DEFAULT_CONTROLLER_NAME))
  .action(async (opts: { controllerVersion: string; controllerManifest?: string; k3sImage?: string; controller?: string }, cmd: Command) => {
    const controller = parseControllerName(opts.controller);
    if (controller !== "traefik" && controller !== "ingress-nginx") throw new ConfigError(`--controller ${controller} is not installed by this project (its rendering runs on --target local): it needs no image`);
    if (parseControllerName(opts.controller) === "traefik") {
      if (opts.controllerManifest || cmd.getOptionValueSource("controllerVersion") === "cli") {
        throw new ConfigError("--controller-version and --controller-manifest name an ingress-nginx release; --controller traefik runs the pinned Traefik");
      }
      const [{ imagesForTraefikRun }, { TRAEFIK_K3S_IMAGE }] = await Promise.all([import("../targets/k3s-target.ts"), import("../targets/traefik-controller.ts")]);
      const system = await systemImagesOf(opts.k3sImage ?? TRAEFIK_K3S_IMAGE);
      process.stdout.write(imagesForTraefikRun(opts.k3sImage, [], system).join("\n") + "\n");
      return;
    }
    const manifest = await resolveControllerManifest({
      version: opts.controllerVersion,
      file: opts.controllerManifest,
      log: (l) => process.stderr.write(l + "\n"),
    });
    const { imagesForRun } = await import("../targets/k3s-target.ts");
    const { k3sImageFor } = await import("../targets/compatibility.ts");
    const k3sImage = opts.k3sImage ?? k3sImageFor(manifest.version, DEFAULT_K3S_IMAGE);
    process.stdout.write(imagesForRun(k3sImage, manifest, [], await systemImagesOf(k3sImage)).join("\n") + "\n");
  });

/** k3s's own system images of the release, said on stderr where they come from (or why there are none). */
async function systemImagesOf(k3sImage: string): Promise<string[]> {
  const { k3sSystemImages } = await import("../targets/k3s-system-images.ts");
  const system = await k3sSystemImages(k3sImage);
  process.stderr.write(system.images.length ? `k3s's own system images: ${system.from}\n` : `k3s's own system images not listed (${system.from}): k3s pulls them itself\n`);
  return system.images;
}

program
  .command("migration")
  .description("will my mTLS survive the move? per Ingress and host, the guarantees it relies on and what Traefik and Gateway API make of each (from source reading); exit 1 when one is lost")
  .option("--manifests <path>", "your Ingresses and their CA Secrets (a YAML file or a folder)")
  .option("--to <profiles>", "successor profiles, comma-separated: traefik, gateway-api, nginx-gateway-fabric, haproxy-ingress, f5-nginx-ingress", "traefik,gateway-api")
  .option("--json", "the report as JSON")
  .option("--markdown", "the report as Markdown (the default)")
  .option("--out <dir>", "write migration.json, migration.md and gateway-api/*.yaml there")
  .option("--gateway-yaml", "print the Gateway API translation instead of the report")
  .option("--gateway-class <name>", "gatewayClassName of the translated Gateways", "replace-me")
  .option("--namespace <name>", "namespace of objects that name none", "default")
  .option("--observe", "also serve your Ingresses on each successor that runs here (traefik: its rendering on Go's crypto/tls) and classify what each check observes against ingress-nginx's expectation")
  .action(async (opts: import("../migration/migration-command.ts").MigrationCliOptions) => {
    const { migrationCommand } = await import("../migration/migration-command.ts");
    process.exitCode = await migrationCommand(opts);
  });

program
  .command("inventory")
  .description("what is in force: the trust anchors, CRLs and server certificates (as presented, on a live deployment) and the guide's production checks (expiry, weak keys and signatures, names, chains); read-only, no client credential; exit 1 when a certificate or CRL in force is expired or inside the warning window")
  .option("--manifests <path>", "a YAML file or folder of your Ingresses and their Secrets (default input: the catalogue's own objects)")
  .addOption(new Option("--target <kind>", "a live input instead: endpoint (--url, --ingress, --ca-cert) or cluster --audit").choices(["endpoint", "cluster"]))
  .option("--audit", "--target cluster: read what is deployed (the only way inventory reads a cluster)")
  .option("--namespace <ns>", "namespace for objects that name none (--manifests); the only namespace read (--audit)")
  .option("--ingress-class <name>", "the IngressClass the controller serves (default: every Ingress of a --manifests input; nginx for a live one)")
  .option("--expiry-warning-days <days>", "a certificate or CRL ending within this many days is a finding that fails", "30")
  .option("--json", "machine-readable output")
  .option("--url <url>", "--target endpoint: the live deployment's HTTPS address")
  .option("--ingress <file>", "--target endpoint: the Ingress(es) deployed there")
  .option("--ca-cert <file>", "--target endpoint: the CA the deployment trusts for client certificates")
  .option("--server-ca <file>", "endpoint or --audit: the CA of the server certificates (their chains are judged against it)")
  .option("--insecure-server", "endpoint or --audit: no server CA (chains are judged against the roots Node trusts, or not at all)")
  .option("--kubeconfig <file>", "--audit: kubeconfig of the cluster")
  .option("--context <name>", "--audit: kubeconfig context")
  .option("--ingress-address <host:port>", "--audit: where the controller's HTTPS listener is reached")
  .option("--controller-namespace <name>", "--audit: the namespace the controller runs in")
  .option("--controller-service <name>", "--audit: the controller's Service")
  .action(async (opts: { manifests?: string; target?: "endpoint" | "cluster"; audit?: boolean; namespace?: string; ingressClass?: string; expiryWarningDays: string; json?: boolean } & EndpointTargetOptions & { kubeconfig?: string; context?: string; ingressAddress?: string; controllerNamespace?: string; controllerService?: string }) => {
    const days = warningDays(opts.expiryWarningDays)!;
    if (opts.audit && opts.target !== "cluster") throw new ConfigError("--audit applies to --target cluster");
    const { inventoryCommand } = await import("../inventory/inventory-command.ts");
    process.exitCode = await inventoryCommand({
      target: opts.target,
      manifests: opts.manifests,
      namespace: opts.target ? undefined : opts.namespace,
      ingressClass: opts.ingressClass ?? (opts.target ? "nginx" : undefined),
      expiryWarningDays: days,
      json: opts.json,
      log: (l) => process.stderr.write(`${l}\n`),
      targetOptions: {
        ...endpointOptions(opts),
        audit: opts.audit,
        auditNamespace: opts.audit ? opts.namespace : undefined,
        kubeconfig: opts.kubeconfig,
        context: opts.context,
        ingressAddress: opts.ingressAddress,
        controllerNamespace: opts.controllerNamespace,
        controllerService: opts.controllerService,
      },
    });
  });

program
  .command("successors")
  .description("which successor keeps what: per guarantee, the classes the catalogue's checks showed on each successor's data plane here")
  .option("--observe", "run the catalogue on each successor's local data plane now (about a minute) instead of reading the classes the last observed runs kept")
  .option("--json", "machine-readable output")
  .option("--readme <file>", "write the table into the file's generated block (README.md)")
  .action(async (opts: { observe?: boolean; json?: boolean; readme?: string }) => {
    const { observedSuccessorClasses } = await import("../profiles/successor-observe.ts");
    const { renderSuccessorTable, replaceReadmeBlock, successorTable } = await import("../profiles/successor-table.ts");
    const { classes, source, failed } = await observedSuccessorClasses({ observe: !!opts.observe, log: (l) => process.stderr.write(`${l}\n`) });
    const table = successorTable(catalogue, classes, source);
    const text = renderSuccessorTable(table);
    if (opts.readme) {
      writeFileSync(opts.readme, replaceReadmeBlock(readFileSync(opts.readme, "utf8"), text));
      process.stderr.write(`wrote the table into ${opts.readme}\n`);
    } else process.stdout.write(opts.json ? JSON.stringify(table, null, 2) + "\n" : text);
    if (failed.length) {
      process.stderr.write(`not every check held on: ${failed.join(", ")} (the table shows what was observed)\n`);
      process.exitCode = 1;
    }
  });

program
  .command("list")
  .description("print the scenario catalogue")
  .option("--only <pattern>", "filter as for run")
  .option("--json", "machine-readable output")
  .option("--controls", "the controls and the scenarios that evidence each")
  .option("--rules", "the checks generated for any Ingress (--manifests, endpoint, --audit) and the lint rules")
  .option("--profile <name>", "every scenario's class on a successor: ingress-nginx, traefik, gateway-api, nginx-gateway-fabric, haproxy-ingress or f5-nginx-ingress")
  .option("--profile-version <version>", "with --profile: the successor's version row (e.g. v3.6.24 for Traefik before 3.7)")
  .action(async (opts: { only?: string; json?: boolean; controls?: boolean; rules?: boolean; profile?: string; profileVersion?: string }) => {
    if (opts.profile) {
      const { profileListing, renderProfileListing } = await import("../profiles/profile-listing.ts");
      const listing = profileListing(catalogue, opts.profile, opts.profileVersion, selectScenarios(catalogue.scenarios, opts.only));
      process.stdout.write(opts.json ? JSON.stringify(listing, null, 2) + "\n" : renderProfileListing(listing));
      return;
    }
    if (opts.rules) {
      const [{ RULES }, { USER_LINT_RULES }] = await Promise.all([import("../checks/rules.ts"), import("../checks/user-lint.ts")]);
      const rules = [
        ...RULES.map((r) => ({ name: r.name, what: r.title, controls: r.controls })),
        { name: "governing-policy", what: "on a host shared by several Ingresses: does this Ingress's own declaration govern its path? (a finding when not)", controls: [] as string[] },
        { name: "host-denied", what: "a host another Ingress's unusable auth-tls secret denies (403 on every path)", controls: [] as string[] },
        ...USER_LINT_RULES.map((r) => ({ name: `lint ${r.rule}`, what: r.must, controls: r.controls })),
      ];
      if (opts.json) process.stdout.write(JSON.stringify(rules, null, 2) + "\n");
      else for (const r of rules) process.stdout.write(`${r.name.padEnd(30)} ${r.what}\n`);
      return;
    }
    const scenarios = selectScenarios(catalogue.scenarios, opts.only);
    if (opts.controls) {
      const coverage = controlCoverage(catalogue, scenarios);
      if (opts.json) process.stdout.write(JSON.stringify(coverage, null, 2) + "\n");
      else for (const c of coverage) process.stdout.write(`${c.id}  ${c.title}\n    ${c.scenarios.join(" ") || "(no scenario)"}\n`);
      return;
    }
    if (opts.json) {
      process.stdout.write(JSON.stringify({ policies: catalogue.policies, scenarios }, null, 2) + "\n");
      return;
    }
    for (const s of scenarios) {
      const marks = [s.finding ? "finding" : "", s.stage ? `stage ${s.stage}` : "", s.lint ? "lint" : ""].filter(Boolean).join(", ");
      process.stdout.write(`${s.id}  ${s.suite.padEnd(16)} ${s.name}${marks ? `  (${marks})` : ""}\n    ${s.must}\n    controls: ${s.controls.join(", ")}\n`);
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
