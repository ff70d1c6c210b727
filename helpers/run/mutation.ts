// Mutation self-test: the whole catalogue against each deliberately broken data plane. A mutant is
// killed when at least one scenario fails on it; the score is killed / all. Run: npm run mutation.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runConformance } from "./run.ts";
import { MUTANTS, type MutantName } from "../controllers/ingress-nginx/mutants.ts";

export interface MutantResult {
  mutant: MutantName;
  description: string;
  exitCode: number;
  /** Scenarios that failed on the mutant: they kill it. */
  killedBy: string[];
}

export async function runMutants(names: MutantName[] = Object.keys(MUTANTS) as MutantName[], log: (line: string) => void = () => undefined): Promise<MutantResult[]> {
  const results: MutantResult[] = [];
  for (const mutant of names) {
    const reportDir = mkdtempSync(join(tmpdir(), `mutant-${mutant}-`));
    try {
      const outcome = await runConformance({ target: "nginx", reportDir, mutant, command: `mutation ${mutant}`, log: () => undefined });
      const killedBy = outcome.evidence.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id);
      results.push({ mutant, description: MUTANTS[mutant], exitCode: outcome.exitCode, killedBy });
      log(`${killedBy.length ? "killed  " : "SURVIVED"} ${mutant.padEnd(28)} ${killedBy.length ? killedBy.join(" ") : "(no scenario failed)"}`);
    } finally {
      rmSync(reportDir, { recursive: true, force: true });
    }
  }
  return results;
}

export function score(results: MutantResult[]): { killed: number; total: number; percent: number } {
  const killed = results.filter((r) => r.killedBy.length > 0).length;
  return { killed, total: results.length, percent: results.length ? Math.round((killed / results.length) * 1000) / 10 : 0 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const write = (l: string) => process.stdout.write(l + "\n");
  write(`mutation self-test: the catalogue against ${Object.keys(MUTANTS).length} broken nginx data planes`);
  const results = await runMutants(undefined, write);
  const s = score(results);
  write(`mutation score: ${s.killed}/${s.total} killed (${s.percent}%)`);
  mkdirSync(join(ROOT, "reports"), { recursive: true });
  writeFileSync(join(ROOT, "reports", "mutation.json"), JSON.stringify({ date: new Date().toISOString(), score: s, results }, null, 2) + "\n");
  process.exitCode = s.killed === s.total ? 0 : 1;
}
