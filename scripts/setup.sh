#!/usr/bin/env bash
# Installs what the tests and the quickstart need, idempotently, and prints how long each phase took:
# Debian packages (keytool, apksigner, openssl), the moto S3/KMS server (PyPI), npm dependencies,
# and the Pulumi CLI built from the Go module proxy (cached after the first build).
#   scripts/setup.sh            everything
#   scripts/setup.sh --no-apt   skip Debian packages (no root)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

phase() {
  local name=$1; shift
  local t0=$SECONDS
  echo "==> $name"
  "$@"
  echo "    $name: $((SECONDS - t0))s"
}

apt_packages() {
  local need=()
  command -v keytool >/dev/null || need+=(openjdk-17-jdk-headless)
  command -v apksigner >/dev/null || need+=(apksigner)
  command -v openssl >/dev/null || need+=(openssl)
  if [ ${#need[@]} -eq 0 ]; then echo "    already installed"; return; fi
  if [ "$(id -u)" != 0 ]; then
    echo "    missing: ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
    return 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
}

python_packages() {
  local need=()
  python3 -c "import moto.server" 2>/dev/null || need+=('moto[server]==5.2.1')
  # The AWS CLI is used by the blob-recovery test (scripts/recover-blob.sh).
  command -v aws >/dev/null || need+=('awscli')
  if [ ${#need[@]} -eq 0 ]; then echo "    moto and awscli already installed"; return; fi
  python3 -m pip install --quiet --disable-pip-version-check "${need[@]}"
  hash -r
}

npm_packages() {
  if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] && [ -d dist ]; then
    echo "    node_modules up to date"
  else
    npm ci --no-audit --no-fund
  fi
  node scripts/link-self.js
}

pulumi_cli() {
  bash scripts/pulumi-cli.sh --print-path | tail -n 1
}

[ "${1:-}" = "--no-apt" ] || phase "Debian packages" apt_packages
phase "Python packages (moto)" python_packages
phase "npm packages" npm_packages
phase "Pulumi CLI" pulumi_cli
