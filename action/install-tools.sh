#!/usr/bin/env bash
# The action's first step: the system tools the run's target needs (helpers/support/ensure-tools.ts
# names the same packages), installed with apt-get where they are missing. A runner is not root:
# sudo is used when there is one; without either the step says what to install and goes on (the
# run then exits 2 with the same words).
set -euo pipefail
target="${INPUT_TARGET:-nginx}"
controller="${INPUT_CONTROLLER:-ingress-nginx}"
need=()
want() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || need+=("$2"); }
want openssl openssl
case "$target" in
  nginx|auto) want nginx nginx-light ;;
  local)
    case "$controller" in
      traefik) { command -v go >/dev/null 2>&1 || [ -x /usr/lib/go/bin/go ]; } || need+=(golang-go) ;;
      haproxy-ingress) want haproxy haproxy ;;
      *) want nginx nginx-light ;;
    esac ;;
esac
if [ ${#need[@]} -eq 0 ]; then
  echo "mtls-conformance: the tools for --target $target are there"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "::warning::mtls-conformance: install ${need[*]} (apt-get install -y ${need[*]}); neither root nor sudo here"
  exit 0
fi
echo "mtls-conformance: installing ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
