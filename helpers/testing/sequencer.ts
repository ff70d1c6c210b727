// The order test files start in: the long ones first, so that the workers finish together instead
// of one running a long file alone at the end. vitest orders by the last run's durations when it
// has them all (node_modules/.vite, kept here too), and otherwise (a fresh clone, CI) by file size,
// which says nothing here: the mutation self-test, one of the longest files, is one of the smallest.
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The longest files, longest first (measured on a 2-core machine; each runs whole conformance runs
 * or the CLI as a subprocess). A file missing here only starts later; a stale entry is harmless.
 */
export const LONGEST_FIRST = [
  "bin/cli-refusals.test.ts",
  "helpers/run/mutation.test.ts",
  "bin/cli-config-errors.test.ts",
  "helpers/run/run.test.ts",
  "bin/mtls-conformance.test.ts",
  "helpers/run/controller-option.test.ts",
  "helpers/reports/report-html.test.ts",
  "helpers/reports/merge.test.ts",
  "helpers/controllers/ingress-nginx/nginx-scale.test.ts",
  "helpers/run/cross-check.test.ts",
  "helpers/run/manifests-run.test.ts",
  "helpers/controllers/ingress-nginx/nginx-render.test.ts",
  "helpers/reports/write-reports.test.ts",
  "helpers/reports/diff.test.ts",
  "bin/cli-signed-reports.test.ts",
  "helpers/targets/endpoint-target.test.ts",
  "helpers/run/run-profile.test.ts",
  "helpers/targets/kube.test.ts",
  "helpers/browser/browser.test.ts",
  "helpers/migration/migration-report.test.ts",
];

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    // Where the last run measured every file, its durations are the better guide.
    if (files.every((spec) => this.ctx.cache.getTestSpecificationResult(spec))) return base;
    const rank = (spec: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((f) => spec.moduleId.endsWith(`/${f}`));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keep vitest's own order.
    return base.sort((a, b) => rank(a) - rank(b));
  }
}
