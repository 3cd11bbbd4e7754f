#!/usr/bin/env bash
# Provides the `pulumi` CLI (built from Go modules) at the version that matches the @pulumi/pulumi
# dependency, with the two Node.js helpers beside it that CLI-driven runs (`pulumi up` in a
# `runtime: nodejs` folder) need: pulumi-resource-pulumi-nodejs (dynamic providers; copied from the npm
# package) and pulumi-language-nodejs (a wrapper around scripts/pulumi-language-nodejs.js, see below).
# Downloads nothing but Go modules. End-to-end check: scripts/check-pulumi-cli.sh.
#
#   scripts/pulumi-cli.sh               build if needed, print progress
#   scripts/pulumi-cli.sh --print-path  same; the last line is the absolute path of `pulumi`
#
# Order of preference: a `pulumi` on PATH whose version matches; the cache folder
# (${APPSIGNING_CACHE:-~/.cache/appsigning}/pulumi-vX.Y.Z/bin); a fresh build from the Go module proxy.
#
# Why a wrapper module: pulumi's pkg/go.mod carries `replace` directives, so `go install …@version`
# refuses it. A throwaway module that requires the published modules and repeats the one non-local
# replace (the clipboard fork) builds the same binaries.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
print_path=0
[ "${1:-}" = "--print-path" ] && print_path=1
log() { echo "pulumi-cli: $*" >&2; }

version=$(node -p "require('$here/node_modules/@pulumi/pulumi/package.json').version" 2>/dev/null || true)
if [ -z "$version" ]; then
  version=$(node -p "require('$here/package.json').dependencies['@pulumi/pulumi'].replace(/^[^0-9]*/, '')")
fi
V="v$version"


cache=${APPSIGNING_CACHE:-$HOME/.cache/appsigning}/pulumi-$V
bin=$cache/bin
script_src=$here/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs

# The Node.js language host. The Go one cannot be had here: its module
# (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) has no tags and the proxy answers
# 403 for its pseudo-versions; the last Go host the proxy serves (sdk/v3@v3.68.0, a package inside sdk/v3)
# builds and runs simple programs, but its monitor proxy predates resource hooks, stack transforms and
# package registration, and it ignores Pulumi.yaml runtime options and the root directory of CLI 3.248.
# So scripts/pulumi-language-nodejs.js stands in, launched by a `pulumi-language-nodejs` wrapper beside
# `pulumi`. Both are refreshed (atomically: other runs may be starting the host) whenever this checkout's
# copy differs. A pulumi-language-nodejs that is not ours (a real install) is left alone.
install_language_host() {
  local dir=$1 t0 changed=0
  t0=$(date +%s%N)
  local src=$here/scripts/pulumi-language-nodejs.js host=$dir/pulumi-language-nodejs
  if [ -e "$host" ] && ! grep -q "appsigning-language-host" "$host" 2>/dev/null; then
    log "keeping $host (not ours)"
    return 0
  fi
  [ -f "$src" ] || { log "missing $src: no Node.js language host installed"; return 0; }
  local wrapper
  wrapper=$(printf '%s\n' '#!/bin/sh' \
    '# appsigning-language-host: Node.js stand-in for the Go pulumi-language-nodejs (scripts/pulumi-language-nodejs.js).' \
    '# Resolves @pulumi/pulumi from the project folder, else from the checkout that installed it:' \
    "PULUMI_LANGUAGE_NODEJS_SDK_PATHS=\"\${PULUMI_LANGUAGE_NODEJS_SDK_PATHS:+\$PULUMI_LANGUAGE_NODEJS_SDK_PATHS:}$here\"" \
    'export PULUMI_LANGUAGE_NODEJS_SDK_PATHS' \
    'exec node "$(dirname "$(readlink -f "$0")")/pulumi-language-nodejs.js" "$@"')
  if ! cmp -s "$src" "$dir/pulumi-language-nodejs.js"; then
    cp "$src" "$dir/.pulumi-language-nodejs.js.$$" && mv -f "$dir/.pulumi-language-nodejs.js.$$" "$dir/pulumi-language-nodejs.js"
    changed=1
  fi
  if [ "$(cat "$host" 2>/dev/null)" != "$wrapper" ]; then
    printf '%s\n' "$wrapper" > "$dir/.pulumi-language-nodejs.$$" && chmod 0755 "$dir/.pulumi-language-nodejs.$$" \
      && mv -f "$dir/.pulumi-language-nodejs.$$" "$host"
    changed=1
  fi
  if [ $changed = 1 ]; then
    log "installed the Node.js language host into $dir in $(( ($(date +%s%N) - t0) / 1000000 ))ms"
  fi
}

finish() {
  local dir=$1
  if [ -f "$script_src" ] && [ ! -x "$dir/pulumi-resource-pulumi-nodejs" ]; then
    cp "$script_src" "$dir/pulumi-resource-pulumi-nodejs" && chmod 0755 "$dir/pulumi-resource-pulumi-nodejs"
  fi
  install_language_host "$dir"
  [ $print_path = 1 ] && echo "$dir/pulumi"
  exit 0
}

# 1. One on PATH at the same version, with its language host beside it.
if found=$(command -v pulumi 2>/dev/null); then
  found=$(readlink -f "$found")
  if [ "$("$found" version 2>/dev/null)" = "$V" ]; then
    log "using $found ($V)"
    if [ -w "$(dirname "$found")" ]; then finish "$(dirname "$found")"; fi
  fi
fi

# 2. The cache.
if [ -x "$bin/pulumi" ] && [ "$("$bin/pulumi" version 2>/dev/null)" = "$V" ]; then
  log "using cached $bin/pulumi ($V)"
  finish "$bin"
fi

# 3. Build.
command -v go >/dev/null || { log "Go is needed to build the Pulumi CLI $V (none on PATH)"; exit 1; }
log "building Pulumi CLI $V from the Go module proxy (first time only; several minutes)"
start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
go mod init local/pulumi-build >/dev/null 2>&1
go mod edit -replace=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
go get "github.com/pulumi/pulumi/pkg/v3@$V" "github.com/pulumi/pulumi/sdk/v3@$V" >&2
log "resolved and downloaded modules in $(( $(date +%s) - start ))s"
ldf="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$V"
mkdir -p "$work/bin"
t_build=$(date +%s)
go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldf" -o "$work/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
log "compiled pulumi in $(( $(date +%s) - t_build ))s"
mkdir -p "$cache"
rm -rf "$bin.tmp" && mv "$work/bin" "$bin.tmp" && rm -rf "$bin" && mv "$bin.tmp" "$bin"
log "built $("$bin/pulumi" version) in $(( $(date +%s) - start ))s into $bin"
finish "$bin"
