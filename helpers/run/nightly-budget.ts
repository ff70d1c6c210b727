// The nightly's time budget, from the releases it is asked to prove: a job timeout that fits a
// three-release dispatch as well as the one-release schedule (a fixed 60 minutes killed the former
// mid-run, reported NOT PROVEN). Per release: a k3s start, the controller's install and the whole
// catalogue (README: 10-20 min each, unmeasured on GitHub's runners), plus the job's own setup.
//   node helpers/run/nightly-budget.ts v1.13.9,v1.15.1   -> prints `minutes=75` (for $GITHUB_OUTPUT)
// Plain Node, no dependency: the workflow runs it before `npm ci`.

/** Setup (checkout, npm ci, the image cache) and the report upload. */
export const SETUP_MINUTES = 15;
/** One release's k3s, install and catalogue, at the top of the README's estimate with a margin. */
export const PER_RELEASE_MINUTES = 20;
/** GitHub's limit for a job on its hosted runners. */
export const MAX_MINUTES = 360;

export function releasesOf(versions: string): string[] {
  return versions.split(",").map((v) => v.trim()).filter(Boolean);
}

export function nightlyBudgetMinutes(versions: string): number {
  const n = Math.max(1, releasesOf(versions).length);
  return Math.min(MAX_MINUTES, SETUP_MINUTES + PER_RELEASE_MINUTES * n);
}

if (import.meta.main) process.stdout.write(`minutes=${nightlyBudgetMinutes(process.argv[2] ?? "")}\n`);
