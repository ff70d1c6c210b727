// The action's outputs from a run's exit code and evidence.json, as `name=value` lines for
// $GITHUB_OUTPUT. Plain JavaScript for any Node a runner has. The verdict is the run's own, read off
// its exit code (helpers/reports/run-verdict.ts: 0 pass, 1 fail or nothing checked, 3 suite fault).
import { readFileSync } from "node:fs";

const [file, code] = process.argv.slice(2);
const t = JSON.parse(readFileSync(file, "utf8")).totals ?? {};
const verdict = code === "0" ? "pass" : code === "3" ? "suite-fault" : code === "1" ? (t.checked === 0 ? "nothing-checked" : "fail") : "error";
const lines = { verdict, passed: t.pass ?? 0, failed: t.fail ?? 0, findings: t.finding ?? 0, "guarantees-lost": t["guarantee-lost"] ?? 0, checked: t.checked ?? 0 };
for (const [k, v] of Object.entries(lines)) process.stdout.write(`${k}=${v}\n`);
