#!/usr/bin/env bash
# Provides the `pulumi` CLI and its Node.js language host at the version that matches the
# @pulumi/pulumi dependency, without downloading anything but Go modules.
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

finish() {
  local dir=$1
  if [ -f "$script_src" ] && [ ! -x "$dir/pulumi-resource-pulumi-nodejs" ]; then
    cp "$script_src" "$dir/pulumi-resource-pulumi-nodejs" && chmod 0755 "$dir/pulumi-resource-pulumi-nodejs"
  fi
  # The Node.js language host: the Go one cannot be built here (its module has no tags and the
  # proxy refuses its pseudo-versions), so ours (scripts/pulumi-language-nodejs.js) stands in,
  # copied beside the binary on every run so it follows this checkout.
  if [ ! -e "$dir/pulumi-language-nodejs" ] || grep -q "appsigning-language-host" "$dir/pulumi-language-nodejs" 2>/dev/null; then
    cp "$here/scripts/pulumi-language-nodejs.js" "$dir/pulumi-language-nodejs.js"
    printf '%s\n' '#!/bin/sh' '# appsigning-language-host: see scripts/pulumi-language-nodejs.js' \
      'exec node "$(dirname "$(readlink -f "$0")")/pulumi-language-nodejs.js" "$@"' > "$dir/pulumi-language-nodejs"
    chmod 0755 "$dir/pulumi-language-nodejs"
  fi
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
ldf="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$V"
mkdir -p "$work/bin"
go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldf" -o "$work/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
mkdir -p "$cache"
rm -rf "$bin.tmp" && mv "$work/bin" "$bin.tmp" && rm -rf "$bin" && mv "$bin.tmp" "$bin"
log "built $("$bin/pulumi" version) in $(( $(date +%s) - start ))s into $bin"
finish "$bin"
