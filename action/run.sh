#!/usr/bin/env bash
# The action's run step: `mtls-conformance run` with the inputs (the run itself appends summary.md to
# $GITHUB_STEP_SUMMARY: helpers/reports/write-reports.ts), then the outputs read from evidence.json. The step itself succeeds whatever the verdict,
# so the report is uploaded; the action's last step exits with the run's code.
#   MTLS_CONFORMANCE_BIN  the command to run instead of npx (the tests: an installed package's bin)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
report_dir="${INPUT_REPORT_DIR:-mtls-conformance-report}"
package="${INPUT_PACKAGE:-}"
if [ -z "$package" ]; then
  # The npm version of the package this action's own package.json names.
  package="mtls-conformance@$(node -p 'require(process.argv[1]).version' "$here/../package.json")"
fi
args=(run --target "${INPUT_TARGET:-nginx}" --controller "${INPUT_CONTROLLER:-ingress-nginx}" --report-dir "$report_dir")
[ -n "${INPUT_MANIFESTS:-}" ] && args+=(--manifests "$INPUT_MANIFESTS")
[ -n "${INPUT_KUBECONFIG:-}" ] && args+=(--kubeconfig "$INPUT_KUBECONFIG")
[ -n "${INPUT_ONLY:-}" ] && args+=(--only "$INPUT_ONLY")
[ "${INPUT_STRICT:-false}" = "true" ] && args+=(--strict)
# Extra arguments: split on spaces, as a shell would without quotes (no globbing).
if [ -n "${INPUT_ARGS:-}" ]; then set -f; read -r -a extra <<<"$INPUT_ARGS"; set +f; args+=("${extra[@]}"); fi

if [ -n "${MTLS_CONFORMANCE_BIN:-}" ]; then
  "$MTLS_CONFORMANCE_BIN" "${args[@]}"
else
  npx --yes "$package" "${args[@]}"
fi
code=$?

out="${GITHUB_OUTPUT:-/dev/null}"
echo "exit-code=$code" >>"$out"
if [ -f "$report_dir/evidence.json" ]; then
  echo "report-dir=$report_dir" >>"$out"
  node "$here/outputs.mjs" "$report_dir/evidence.json" "$code" >>"$out"
else
  echo "verdict=error" >>"$out"
  echo "::error::mtls-conformance wrote no evidence (exit $code): see the step's log"
fi
exit 0
