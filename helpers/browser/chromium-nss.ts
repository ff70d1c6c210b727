// The guide's browser step, done by a browser: a fresh Chromium profile whose NSS database trusts the
// run's CA (`certutil -A -t "C,,"`) and holds a client.p12 imported as a person would
// (`pk12util -i client.p12 -W <password>`), the certificate chosen by Chromium itself for the host.
//
// How the certificate is chosen: Chromium's own client-certificate selection over NSS (the
// ClientCertStoreNSS of the profile's $HOME/.pki/nssdb), auto-selected by the profile's content
// setting `auto_select_certificate` for https://<host>:443 with an issuer-CN filter: the same
// content setting (and filter syntax) that the managed policy AutoSelectCertificateForUrls feeds.
// It is written to the fresh profile's Default/Preferences before launch, so nothing is written
// under /etc/chromium/policies (Chromium reads managed policies only from there on Linux; the
// `--policy` switch is ignored by release builds, tried on Chromium 156). Headless (new headless,
// the full browser) selects a certificate this way; without a selection it would wait on the
// certificate dialog. Playwright's `clientCertificates` option is NOT used: it would bypass NSS.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const CHROMIUM = process.env.MTLS_CHROMIUM ?? "/usr/bin/chromium";

/** How the certificate was selected, as the evidence states it. */
export const SELECTION =
  "Chromium's own client-certificate selection from the profile's NSS database ($HOME/.pki/nssdb; CA imported with certutil -A -t C,,, client.p12 with pk12util -i -W), auto-selected by the profile content setting auto_select_certificate (the setting the AutoSelectCertificateForUrls policy feeds) for the host with filter ISSUER.CN; headless=new; not Playwright's clientCertificates";

const onPath = async (cmd: string) => run("sh", ["-c", `command -v ${cmd}`]).then(() => true, () => false);

/** Why the browser check cannot run here, or undefined when it can. */
export async function browserUnavailable(): Promise<string | undefined> {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  const missing = [];
  for (const tool of ["certutil", "pk12util"]) if (!(await onPath(tool))) missing.push(tool);
  if (missing.length) return `${missing.join(" and ")} not found (apt-get install -y libnss3-tools)`;
  try {
    await import("playwright-core");
  } catch {
    return "playwright-core is not installed (npm ci)";
  }
  return undefined;
}

export interface BrowserProfileInput {
  /** The CA the server certificate chains to (PEM): trusted as a root for TLS servers. */
  serverCaPem: string;
  /** The CA name the selection filter names (the issuer CN of the client certificate). */
  clientIssuerCn: string;
  /** client.p12 to import, with its password; absent: a profile without any identity. */
  p12?: { bytes: Uint8Array; password: string };
  host: string;
}

export interface BrowserProfile {
  home: string;
  userDataDir: string;
  /** `certutil -L` of the profile's NSS database: what the browser holds. */
  nssListing: string;
  remove(): Promise<void>;
}

/** A fresh HOME (NSS database) and user-data-dir for one launch. */
export async function makeProfile(input: BrowserProfileInput): Promise<BrowserProfile> {
  const root = await mkdtemp(join(tmpdir(), "mtls-browser-"));
  const home = join(root, "home");
  const nssdb = join(home, ".pki", "nssdb");
  const userDataDir = join(root, "profile");
  await mkdir(nssdb, { recursive: true });
  await mkdir(join(userDataDir, "Default"), { recursive: true });
  const db = `sql:${nssdb}`;
  try {
    await run("certutil", ["-N", "-d", db, "--empty-password"]);
    await writeFile(join(root, "ca.crt"), input.serverCaPem);
    await run("certutil", ["-A", "-d", db, "-n", "mtls-conformance run CA", "-t", "C,,", "-i", join(root, "ca.crt")]);
    if (input.p12) {
      await writeFile(join(root, "client.p12"), input.p12.bytes, { mode: 0o600 });
      // As a person imports it: the file and its password. pk12util refuses what NSS cannot read.
      await run("pk12util", ["-i", join(root, "client.p12"), "-d", db, "-W", input.p12.password]);
    }
    const setting = { filters: [{ ISSUER: { CN: input.clientIssuerCn } }] };
    const prefs = { profile: { content_settings: { exceptions: { auto_select_certificate: { [`https://${input.host}:443,*`]: { last_modified: "13300000000000000", setting } } } } } };
    await writeFile(join(userDataDir, "Default", "Preferences"), JSON.stringify(prefs));
    const { stdout } = await run("certutil", ["-L", "-d", db]);
    return { home, userDataDir, nssListing: stdout.trim(), remove: () => rm(root, { recursive: true, force: true }) };
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    const e = error as Error & { stderr?: string };
    throw new Error(`preparing the browser profile failed: ${e.stderr?.trim() || e.message}`);
  }
}

export interface BrowserVisit {
  status?: number;
  headers: Record<string, string>;
  body?: string;
  /** Navigation error (no HTTP response), e.g. net::ERR_BAD_SSL_CLIENT_AUTH_CERT. */
  error?: string;
  durationMs: number;
}

/** Opens https://<host>/ in headless Chromium on the profile, <host>:443 mapped to the endpoint, and screenshots it. */
export async function visit(profile: BrowserProfile, host: string, endpoint: { address: string; port: number }, screenshotPath: string): Promise<BrowserVisit> {
  const { chromium } = await import("playwright-core");
  const t0 = performance.now();
  const target = endpoint.address.includes(":") ? `[${endpoint.address}]:${endpoint.port}` : `${endpoint.address}:${endpoint.port}`;
  const context = await chromium.launchPersistentContext(profile.userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    env: { ...process.env, HOME: profile.home } as Record<string, string>,
    viewport: { width: 1000, height: 600 },
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--host-resolver-rules=MAP ${host} ${target}, EXCLUDE localhost`,
    ],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    let result: Omit<BrowserVisit, "durationMs">;
    try {
      const response = await page.goto(`https://${host}/`, { timeout: 20_000, waitUntil: "load" });
      result = { status: response?.status(), headers: response ? await response.allHeaders() : {}, body: response ? await response.text() : undefined };
    } catch (error) {
      result = { headers: {}, error: (error as Error).message.split("\n")[0] };
    }
    await mkdir(join(screenshotPath, ".."), { recursive: true });
    await page.screenshot({ path: screenshotPath });
    return { ...result, durationMs: Math.round(performance.now() - t0) };
  } finally {
    await context.close();
  }
}
