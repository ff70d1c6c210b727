// Tamper evidence for a report directory: manifest.json lists every artifact's SHA-256, and an
// in-toto Statement (test-result predicate) over the same artifacts is signed with Ed25519 in a
// DSSE envelope, so standard attestation tooling can verify it without this project.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify as verifySignature, type KeyObject } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { ConfigError } from "../support/errors.ts";
import { distinctFaults, suiteFaulted, type Evidence } from "./evidence.ts";

export const MANIFEST_FILE = "manifest.json";
export const ENVELOPE_FILE = "attestation.dsse.json";
export const PUBLIC_KEY_FILE = "signing-key.pub.pem";
/** Files the signature cannot cover because they carry it. */
const SIGNATURE_FILES = new Set([ENVELOPE_FILE, PUBLIC_KEY_FILE]);

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const TEST_RESULT_PREDICATE = "https://in-toto.io/attestation/test-result/v0.1";
export const DSSE_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

interface Statement {
  _type: string;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: string;
  predicate: {
    result: "PASSED" | "WARNED" | "FAILED";
    configuration: Array<{ name: string; uri?: string; digest?: Record<string, string>; annotations?: Record<string, unknown> }>;
    passedTests: string[];
    warnedTests: string[];
    failedTests: string[];
  };
}

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

/** DSSE pre-authentication encoding: what is actually signed. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** SHA-256 of the key's SubjectPublicKeyInfo (DER), hex: its fingerprint and DSSE keyid. */
export function keyFingerprint(publicKey: KeyObject): string {
  return sha256(publicKey.export({ type: "spki", format: "der" }));
}

/** Every file under `dir` (relative, `/`-separated, sorted), except the signature's own files. */
export async function listArtifacts(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .filter((p) => !SIGNATURE_FILES.has(p))
    .sort();
}

/** Throws ConfigError unless `file` holds an Ed25519 private key: checked before a run starts. */
export async function checkSigningKey(file: string): Promise<void> {
  await loadSigningKey(file);
}

async function loadSigningKey(file: string | undefined): Promise<{ privateKey: KeyObject; publicKey: KeyObject; generated: boolean }> {
  if (!file) {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    return { privateKey, publicKey, generated: true };
  }
  if (!existsSync(file)) throw new ConfigError(`--signing-key ${file}: no such file`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(file));
  } catch (error) {
    throw new ConfigError(`--signing-key ${file}: not a private key (${(error as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new ConfigError(`--signing-key ${file}: an Ed25519 private key (PKCS#8 PEM) is needed, not ${privateKey.asymmetricKeyType}`);
  }
  return { privateKey, publicKey: createPublicKey(privateKey), generated: false };
}

export interface SignResult {
  fingerprint: string;
  generatedKey: boolean;
  files: number;
}

/**
 * Writes manifest.json, then the signed statement over every artifact (manifest.json included)
 * and the public key. Call last: a file written afterwards is reported by verify as unlisted.
 */
export async function signReportDir(dir: string, evidence: Evidence, signingKeyFile?: string): Promise<SignResult> {
  const { privateKey, publicKey, generated } = await loadSigningKey(signingKeyFile);
  const fingerprint = keyFingerprint(publicKey);

  const artifacts = (await listArtifacts(dir)).filter((p) => p !== MANIFEST_FILE);
  const files = await Promise.all(
    artifacts.map(async (path) => {
      const bytes = await readFile(join(dir, path));
      return { path, sha256: sha256(bytes), size: bytes.length };
    }),
  );
  const manifest = { schemaVersion: "1", runId: evidence.run.id, createdAt: new Date().toISOString(), files };
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
  const manifestBytes = await readFile(join(dir, MANIFEST_FILE));

  const byVerdict = (...v: string[]) => evidence.scenarios.filter((s) => v.includes(s.verdict)).map((s) => s.id);
  // The test-result predicate has no "errored": a check that erred (the harness was at fault) is
  // listed as failed, the one list that never reads as evidence the Ingress holds.
  const failedTests = byVerdict("fail", "error");
  // A skipped scenario proves nothing, and a finding observed a documented weakness: both are
  // reported as warned, never as passed.
  const warnedTests = byVerdict("skip", "finding", "guarantee-lost");
  const t = evidence.totals;
  // A run whose harness broke is FAILED even where no check failed: its passes were observed
  // through a broken harness and its errors are no verdict, so an auditor reading only `result`
  // must not take it as passed, or as merely warned.
  const faulted = suiteFaulted(evidence);
  // Never green on nothing: a run whose checks probed nothing is FAILED (it exits 1), and a shard
  // with no check at all (it exits 0; its merge judges the whole) is WARNED, never PASSED.
  const nothingChecked = t.total > 0 && t.checked === 0;
  const result =
    faulted || nothingChecked || t.fail > 0 || failedTests.length > 0 ? "FAILED" : t.total === 0 || t.skip + (t.finding ?? 0) > 0 || warnedTests.length > 0 ? "WARNED" : "PASSED";
  const statement: Statement = {
    _type: STATEMENT_TYPE,
    subject: [...files.map((f) => ({ name: f.path, digest: { sha256: f.sha256 } })), { name: MANIFEST_FILE, digest: { sha256: sha256(manifestBytes) } }],
    predicateType: TEST_RESULT_PREDICATE,
    predicate: {
      result,
      configuration: [
        {
          name: "command",
          annotations: { command: evidence.run.command, options: evidence.run.options, target: evidence.target.kind, versions: evidence.target.versions },
        },
        { name: "evidence.json", digest: { sha256: files.find((f) => f.path === "evidence.json")?.sha256 ?? "" } },
        // Why a run is FAILED with nothing failed: what broke, and which checks have no verdict.
        ...(faulted
          ? [{ name: "harness-faults", annotations: { harnessFaults: distinctFaults(evidence), runErrors: evidence.runErrors, erredTests: byVerdict("error") } }]
          : []),
      ],
      passedTests: byVerdict("pass"),
      warnedTests,
      failedTests,
    },
  };
  const payload = Buffer.from(JSON.stringify(statement), "utf8");
  const envelope: DsseEnvelope = {
    payloadType: DSSE_PAYLOAD_TYPE,
    payload: payload.toString("base64"),
    signatures: [{ keyid: fingerprint, sig: sign(null, pae(DSSE_PAYLOAD_TYPE, payload), privateKey).toString("base64") }],
  };
  await writeFile(join(dir, ENVELOPE_FILE), JSON.stringify(envelope, null, 2) + "\n");
  await writeFile(join(dir, PUBLIC_KEY_FILE), publicKey.export({ type: "spki", format: "pem" }));
  return { fingerprint, generatedKey: generated, files: statement.subject.length };
}

export interface VerifyResult {
  ok: boolean;
  /** Every problem found; the first is what the CLI names. */
  problems: string[];
  fingerprint?: string;
  /** True when the key came from the report directory itself (proves integrity, not origin). */
  keyFromReport: boolean;
  checkedFiles: number;
}

export async function verifyReportDir(dir: string, publicKeyFile?: string): Promise<VerifyResult> {
  const problems: string[] = [];
  const result = (fingerprint?: string, checkedFiles = 0): VerifyResult => ({
    ok: problems.length === 0,
    problems,
    fingerprint,
    keyFromReport: !publicKeyFile,
    checkedFiles,
  });

  let envelope: DsseEnvelope;
  try {
    envelope = JSON.parse(await readFile(join(dir, ENVELOPE_FILE), "utf8")) as DsseEnvelope;
  } catch (error) {
    problems.push(`${ENVELOPE_FILE}: cannot be read as a DSSE envelope (${(error as Error).message})`);
    return result();
  }
  let publicKey: KeyObject;
  const keyFile = publicKeyFile ?? join(dir, PUBLIC_KEY_FILE);
  try {
    publicKey = createPublicKey(await readFile(keyFile));
    if (publicKey.asymmetricKeyType !== "ed25519") throw new Error(`not an Ed25519 key (${publicKey.asymmetricKeyType})`);
  } catch (error) {
    problems.push(`${publicKeyFile ?? PUBLIC_KEY_FILE}: not a usable public key (${(error as Error).message})`);
    return result();
  }
  const fingerprint = keyFingerprint(publicKey);
  // The envelope names its signer's key: a mismatch says which side changed, or who signed.
  const keyids = (envelope.signatures ?? []).map((s) => s.keyid);
  if (!keyids.includes(fingerprint)) {
    problems.push(
      publicKeyFile
        ? `${ENVELOPE_FILE}: signed by key ${keyids.join(", ") || "(none)"}, not by the given --public-key ${fingerprint}`
        : `${PUBLIC_KEY_FILE}: changed (its key ${fingerprint} is not the signer's ${keyids.join(", ") || "(none)"})`,
    );
    return result(fingerprint);
  }

  const payload = Buffer.from(envelope.payload ?? "", "base64");
  const signed =
    envelope.payloadType === DSSE_PAYLOAD_TYPE &&
    (envelope.signatures ?? []).some((s) => {
      try {
        return verifySignature(null, pae(envelope.payloadType, payload), publicKey, Buffer.from(s.sig, "base64"));
      } catch {
        return false;
      }
    });
  if (!signed) {
    problems.push(`${ENVELOPE_FILE}: the signature does not verify with key ${fingerprint}`);
    return result(fingerprint);
  }

  const statement = JSON.parse(payload.toString("utf8")) as Statement;
  if (statement._type !== STATEMENT_TYPE || statement.predicateType !== TEST_RESULT_PREDICATE) {
    problems.push(`${ENVELOPE_FILE}: not an in-toto test-result statement`);
    return result(fingerprint);
  }
  for (const subject of statement.subject) {
    const path = join(dir, subject.name);
    if (!existsSync(path)) {
      problems.push(`${subject.name}: missing`);
      continue;
    }
    if (sha256(await readFile(path)) !== subject.digest.sha256) problems.push(`${subject.name}: changed (SHA-256 differs from the signed manifest)`);
  }
  const listed = new Set(statement.subject.map((s) => s.name));
  for (const path of await listArtifacts(dir)) if (!listed.has(path)) problems.push(`${path}: not in the signed manifest`);
  return result(fingerprint, statement.subject.length);
}
