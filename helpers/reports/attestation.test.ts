// Signing and verifying a real report directory; OpenSSL checks the Ed25519 signature and the key
// fingerprint independently of this code.
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";


import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

import { ENVELOPE_FILE, listArtifacts, MANIFEST_FILE, pae, PUBLIC_KEY_FILE, signReportDir, TEST_RESULT_PREDICATE, verifyReportDir, type DsseEnvelope } from "./attestation.ts";
import { ConfigError } from "../support/errors.ts";
import { totals, type Evidence } from "./evidence.ts";
import { runConformance } from "../run/run.ts";
import { tempDirs } from "../testing/temp-dirs.ts";

const tempDir = tempDirs();

let dir: string;
let evidence: Evidence;
beforeAll(async () => {
  dir = tempDir("attest-");
  // A real run's report directory (the run itself signs it; sign again here to test the pieces).
  evidence = (await runConformance({ target: "nginx", reportDir: dir, only: "guide,MTLS-CLIENT-00?", command: "test", log: () => undefined })).evidence;
});

const copyOf = (from: string) => {
  const to = tempDir("attest-copy-");
  cpSync(from, to, { recursive: true });
  return to;
};

describe("signing", () => {
  it("signs every artifact; verify passes; OpenSSL agrees on the key fingerprint and the signature", async () => {
    const signed = await signReportDir(dir, evidence);
    const v = await verifyReportDir(dir);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.fingerprint).toBe(signed.fingerprint);
    expect(v.checkedFiles).toBe((await listArtifacts(dir)).length);

    const der = execFileSync("openssl", ["pkey", "-pubin", "-in", join(dir, PUBLIC_KEY_FILE), "-outform", "DER"]);
    expect(execFileSync("sha256sum", { input: der, encoding: "utf8" }).split(" ")[0]).toBe(signed.fingerprint);

    const envelope = JSON.parse(readFileSync(join(dir, ENVELOPE_FILE), "utf8")) as DsseEnvelope;
    const work = tempDir("dsse-");
    writeFileSync(join(work, "pae.bin"), pae(envelope.payloadType, Buffer.from(envelope.payload, "base64")));
    writeFileSync(join(work, "sig.bin"), Buffer.from(envelope.signatures[0]!.sig, "base64"));
    const out = execFileSync("openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", join(dir, PUBLIC_KEY_FILE), "-rawin", "-in", join(work, "pae.bin"), "-sigfile", join(work, "sig.bin")], { encoding: "utf8" });
    expect(out).toContain("Signature Verified Successfully");
  });

  it("the envelope carries an in-toto test-result statement over every artifact, with the run's verdicts", () => {
    const envelope = JSON.parse(readFileSync(join(dir, ENVELOPE_FILE), "utf8")) as DsseEnvelope;
    expect(envelope.payloadType).toBe("application/vnd.in-toto+json");
    const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8"));
    expect(statement._type).toBe("https://in-toto.io/Statement/v1");
    expect(statement.predicateType).toBe(TEST_RESULT_PREDICATE);
    expect(statement.predicate.result).toBe("PASSED");
    expect(statement.predicate.passedTests).toEqual(evidence.scenarios.map((s) => s.id));
    expect(statement.subject.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(["evidence.json", "junit.xml", MANIFEST_FILE]));
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8"));
    const evidenceEntry = manifest.files.find((f: { path: string }) => f.path === "evidence.json");
    expect(evidenceEntry.sha256).toBe(execFileSync("sha256sum", [join(dir, "evidence.json")], { encoding: "utf8" }).split(" ")[0]);
  });

  it("findings are warned, never passed: WARNED with findings (alone or with skips), FAILED once anything failed", async () => {
    /** Signs a copy of the report directory holding `ev` as its evidence, verifies it, returns the signed predicate. */
    const predicateOf = async (ev: Evidence) => {
      const copy = copyOf(dir);
      writeFileSync(join(copy, "evidence.json"), JSON.stringify(ev, null, 2) + "\n");
      await signReportDir(copy, ev);
      expect((await verifyReportDir(copy)).problems).toEqual([]);
      const envelope = JSON.parse(readFileSync(join(copy, ENVELOPE_FILE), "utf8")) as DsseEnvelope;
      return JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")).predicate as {
        result: string;
        passedTests: string[];
        warnedTests: string[];
        failedTests: string[];
      };
    };
    /** A synthetic copy of the real run with the given verdicts, totals adjusted. */
    const variant = (verdicts: Record<string, "finding" | "skip" | "fail" | "error">) => {
      const ev = structuredClone(evidence);
      for (const [id, verdict] of Object.entries(verdicts)) {
        const s = ev.scenarios.find((x) => x.id === id)!;
        s.verdict = verdict;
        if (verdict === "finding") s.finding = { id: "x", statement: "Plain HTTP on port 80 reaches the backend without any client-certificate check." };
        if (verdict === "skip") s.skipReason = "not supported by this target";
        if (verdict === "error") {
          s.mismatches = ["harness fault: nginx error.log: 1024 worker_connections are not enough: this failure is not evidence against the Ingress"];
          ev.harnessFaults = [{ source: "nginx error.log", message: "1024 worker_connections are not enough", at: "2026-12-02T19:40:01Z" }];
          ev.runErrors = ["harness fault: nginx error.log: 1024 worker_connections are not enough (first at 2026-12-02T19:40:01Z)"];
        }
      }
      ev.totals = totals(ev.scenarios);
      return ev;
    };
    const all = evidence.scenarios.map((s) => s.id);
    const without = (...ids: string[]) => all.filter((id) => !ids.includes(id));

    const finding = variant({ "MTLS-CLIENT-002": "finding" });
    expect(finding.totals).toMatchObject({ pass: all.length - 1, fail: 0, skip: 0, finding: 1, total: all.length });
    expect(await predicateOf(finding)).toEqual({
      result: "WARNED",
      configuration: expect.any(Array),
      passedTests: without("MTLS-CLIENT-002"),
      warnedTests: ["MTLS-CLIENT-002"],
      failedTests: [],
    });

    // With a skip: both warned, in scenario order.
    const withSkip = await predicateOf(variant({ "MTLS-CLIENT-004": "finding", "MTLS-GUIDE-001": "skip" }));
    expect(withSkip).toMatchObject({ result: "WARNED", warnedTests: ["MTLS-GUIDE-001", "MTLS-CLIENT-004"], failedTests: [] });
    expect(withSkip.passedTests).toEqual(without("MTLS-GUIDE-001", "MTLS-CLIENT-004"));

    // With a failure: FAILED, the finding still warned.
    const withFail = await predicateOf(variant({ "MTLS-CLIENT-002": "finding", "MTLS-CLIENT-003": "fail" }));
    expect(withFail).toMatchObject({ result: "FAILED", warnedTests: ["MTLS-CLIENT-002"], failedTests: ["MTLS-CLIENT-003"] });
    expect(withFail.passedTests).toEqual(without("MTLS-CLIENT-002", "MTLS-CLIENT-003"));

    // The harness was at fault: FAILED though nothing failed (its passes were seen through a broken
    // harness), the erred check among the failed, never the passed, and the faults said in the statement.
    const predicateAndConfig = async (ev: Evidence) => {
      const copy = copyOf(dir);
      writeFileSync(join(copy, "evidence.json"), JSON.stringify(ev, null, 2) + "\n");
      await signReportDir(copy, ev);
      expect((await verifyReportDir(copy)).problems).toEqual([]);
      const envelope = JSON.parse(readFileSync(join(copy, ENVELOPE_FILE), "utf8")) as DsseEnvelope;
      return JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")).predicate;
    };
    const erred = await predicateAndConfig(variant({ "MTLS-CLIENT-003": "error" }));
    expect(erred).toMatchObject({ result: "FAILED", warnedTests: [], failedTests: ["MTLS-CLIENT-003"] });
    expect(erred.passedTests).toEqual(without("MTLS-CLIENT-003"));
    expect(erred.configuration).toContainEqual({
      name: "harness-faults",
      annotations: {
        harnessFaults: [{ source: "nginx error.log", message: "1024 worker_connections are not enough", at: "2026-12-02T19:40:01Z", count: 1 }],
        runErrors: ["harness fault: nginx error.log: 1024 worker_connections are not enough (first at 2026-12-02T19:40:01Z)"],
        erredTests: ["MTLS-CLIENT-003"],
      },
    });
    // A run error alone (a suite that did not load) is FAILED too; a clean run has no such entry.
    const broken = structuredClone(evidence);
    broken.runErrors = ["suites/crl.conformance.ts: the suite did not load"];
    expect((await predicateAndConfig(broken)).result).toBe("FAILED");
    expect((await predicateAndConfig(evidence)).configuration.map((c: { name: string }) => c.name)).not.toContain("harness-faults");

    // The real run has neither: PASSED, nothing warned.
    expect(await predicateOf(evidence)).toMatchObject({ result: "PASSED", passedTests: all, warnedTests: [], failedTests: [] });
  });

  it("a single changed byte in any artifact fails verify, naming that file first", async () => {
    const files = [...(await listArtifacts(dir)), ENVELOPE_FILE, PUBLIC_KEY_FILE];
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const copy = copyOf(dir);
      const bytes = readFileSync(join(copy, file));
      const at = Math.floor(bytes.length / 2);
      bytes[at] = bytes[at]! ^ 0x01;
      writeFileSync(join(copy, file), bytes);
      const v = await verifyReportDir(copy);
      expect(v.ok, file).toBe(false);
      expect(v.problems[0], file).toContain(file);
    }
  });

  it("a file added after signing, or one removed, fails verify", async () => {
    const added = copyOf(dir);
    writeFileSync(join(added, "notes.txt"), "added later");
    expect((await verifyReportDir(added)).problems).toEqual(["notes.txt: not in the signed manifest"]);
    const removed = copyOf(dir);
    execFileSync("rm", [join(removed, "junit.xml")]);
    expect((await verifyReportDir(removed)).problems).toEqual(["junit.xml: missing"]);
  });

  it("--signing-key signs with the team's key; verify with that key passes, with another key fails", async () => {
    const keys = tempDir("keys-");
    execFileSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", join(keys, "team.pem")]);
    execFileSync("openssl", ["pkey", "-in", join(keys, "team.pem"), "-pubout", "-out", join(keys, "team.pub.pem")]);
    execFileSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", join(keys, "other.pem")]);
    execFileSync("openssl", ["pkey", "-in", join(keys, "other.pem"), "-pubout", "-out", join(keys, "other.pub.pem")]);
    const copy = copyOf(dir);
    const signed = await signReportDir(copy, evidence, join(keys, "team.pem"));
    expect(signed.generatedKey).toBe(false);
    const good = await verifyReportDir(copy, join(keys, "team.pub.pem"));
    expect(good.ok).toBe(true);
    expect(good.keyFromReport).toBe(false);
    const bad = await verifyReportDir(copy, join(keys, "other.pub.pem"));
    expect(bad.problems[0]).toMatch(/attestation\.dsse\.json: signed by key [0-9a-f]{64}, not by the given --public-key/);
  });

  it("a signing key that is not Ed25519 is a configuration error", async () => {
    const keys = tempDir("keys-");
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", join(keys, "ec.pem")]);
    await expect(signReportDir(copyOf(dir), evidence, join(keys, "ec.pem"))).rejects.toThrow(ConfigError);
  });
});
