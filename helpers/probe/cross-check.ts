// --cross-check curl inside a check: the curl command of its request (always, for the evidence),
// the files that command names written once per run to the run's scratch directory (keys 0600,
// never the report directory), curl run, and its observation compared with the probe's.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Check } from "../checks/check.ts";
import { summarize, type CrossCheckRecord, type RunContext } from "../run/run-context.ts";
import { crossCheckDisagreements, curlCommand, runCurl, type CurlCommand } from "./curl-command.ts";
import { decodeClientCertHeader } from "./oracle.ts";
import type { Observation, ProbeRequest } from "./probe.ts";

const safe = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, "_");

/** The server CA file a host's command names: ca.crt (the run's server trust), ca-<host>.crt for a host trusted apart. */
export const caFileFor = (run: Pick<RunContext, "hostTrust">, host: string) => (run.hostTrust[host] ? `ca-${safe(host)}.crt` : "ca.crt");

/** The credential's files: the run's names (pki/ and --keys-dir) when known, else <key>.crt and <key>.key. */
export const credentialFilesFor = (run: Pick<RunContext, "curlCredentialFiles">, key: string) => run.curlCredentialFiles?.[key] ?? { cert: `${safe(key)}.crt`, key: `${safe(key)}.key` };

export function curlFor(run: RunContext, c: Check, request: ProbeRequest): CurlCommand {
  const files = c.credential ? credentialFilesFor(run, c.credential) : undefined;
  return curlCommand(request, { caFile: caFileFor(run, c.host), certFile: files?.cert, keyFile: files?.key });
}

// One write of the files per run (and scratch directory) in this worker.
const written = new Map<string, Promise<void>>();
function writeCurlFiles(run: RunContext, dir: string): Promise<void> {
  const key = `${run.runId}\0${dir}`;
  let done = written.get(key);
  if (!done) {
    done = (async () => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const puts: Array<Promise<void>> = [];
      if (run.trust.caPem) puts.push(writeFile(join(dir, "ca.crt"), run.trust.caPem, { mode: 0o644 }));
      for (const [host, t] of Object.entries(run.hostTrust)) if (t.caPem) puts.push(writeFile(join(dir, caFileFor(run, host)), t.caPem, { mode: 0o644 }));
      for (const [k, cred] of Object.entries(run.credentials)) {
        const f = credentialFilesFor(run, k);
        puts.push(writeFile(join(dir, f.cert), cred.certChainPem, { mode: 0o644 }));
        puts.push(writeFile(join(dir, f.key), cred.keyPem.trim() + "\n", { mode: 0o600 }));
      }
      await Promise.all(puts);
    })();
    written.set(key, done);
  }
  return done;
}

export async function crossCheckCurl(run: RunContext, c: Check, command: CurlCommand, request: ProbeRequest, probed: Observation): Promise<CrossCheckRecord> {
  if (!run.curlDir) throw new Error("--cross-check curl: the run gave no scratch directory for curl's files");
  await writeCurlFiles(run, run.curlDir);
  const sni = request.scheme === "http" ? null : request.servername === null ? null : (request.servername ?? request.host);
  const curled = await runCurl(command, { cwd: run.curlDir, binary: run.curlBinary, sni, acceptAnyEcho: request.acceptAnyEcho });
  const certHeader = curled.echo?.headers["ssl-client-cert"];
  return {
    client: "curl",
    exitCode: curled.exitCode,
    observed: summarize(curled, certHeader === undefined ? undefined : decodeClientCertHeader(certHeader)),
    disagreements: crossCheckDisagreements(c.expect, probed, curled),
    ...(command.notes.length ? { notes: command.notes } : {}),
  };
}
