#!/usr/bin/env bash
# End-to-end check of CLI-driven Pulumi runs: the `pulumi` binary from scripts/pulumi-cli.sh with the
# Node.js language host and the dynamic-provider script beside it, a local file:// backend, a passphrase
# secrets provider, no network.
#
#   scripts/check-pulumi-cli.sh            check the JavaScript and TypeScript programs
#   CLI_CHECK_LANGS=js scripts/check-pulumi-cli.sh   only one of them
#
# Programs: test/fixtures/cli-check/{js,ts} (a dynamic resource, plain and secret stack config, outputs).
# Each is copied to a temporary folder *inside* the repository (test/fixtures/cli-check/.run-*), because the
# program and the dynamic-provider process resolve @pulumi/pulumi from their working directory. Pulumi home
# and state go to a temporary folder outside it. Everything is removed at exit.
# Steps per program: stack init, config set (plain + --secret), up --yes, outputs and secrecy checks,
# preview --expect-no-changes, refresh --yes --expect-no-changes, destroy --yes, empty-state check, stack rm.
# Exits non-zero if any step fails.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fixtures=$here/test/fixtures/cli-check
langs=${CLI_CHECK_LANGS:-js ts}
step_timeout=${CLI_CHECK_TIMEOUT:-300}

say() { echo "check-pulumi-cli: $*"; }
now_ms() { date +%s%3N; }

t0=$(now_ms)
if ! out=$(bash "$here/scripts/pulumi-cli.sh" --print-path); then
  say "FAIL: scripts/pulumi-cli.sh could not provide pulumi"
  say "0 passed, 1 failed"
  exit 1
fi
pulumi=$(printf '%s\n' "$out" | tail -n 1)
bindir=$(dirname "$pulumi")
for f in pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs; do
  if [ ! -x "$bindir/$f" ]; then
    say "FAIL: $bindir/$f is missing"
    say "0 passed, 1 failed"
    exit 1
  fi
done

tmp=$(mktemp -d)
runs=()
cleanup() {
  rm -rf "$tmp"
  for r in "${runs[@]}"; do rm -rf "$r"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# An isolated, offline Pulumi.
export PATH="$bindir:$PATH"
export PULUMI_HOME=$tmp/home
export PULUMI_BACKEND_URL=file://$tmp/state
export PULUMI_CONFIG_PASSPHRASE=cli-check-passphrase
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
unset PULUMI_CONFIG_PASSPHRASE_FILE PULUMI_ACCESS_TOKEN PULUMI_DEBUG_LANGUAGES
mkdir -p "$tmp/home" "$tmp/state"

say "pulumi $("$pulumi" version) at $bindir (ready in $(( $(now_ms) - t0 ))ms);" \
  "language host $("$bindir/pulumi-language-nodejs" -version 2>/dev/null | head -n 1); node $(node --version)"

passed=0
failed=0
log=$tmp/step.log

# step LABEL CMD...: runs CMD with a timeout, prints ok/FAIL with its duration; on failure shows the output's end.
step() {
  local label=$1; shift
  local s; s=$(now_ms)
  if timeout "$step_timeout" "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    say "ok   $lang: $label ($(( $(now_ms) - s ))ms)"
    return 0
  fi
  local rc=$?
  failed=$((failed + 1))
  say "FAIL $lang: $label (exit $rc after $(( $(now_ms) - s ))ms); last lines of output:"
  tail -n 40 "$log" | sed 's/^/    | /'
  return 1
}

# check_json LABEL JS_CONDITION CMD...: runs CMD (JSON on stdout) and evaluates JS_CONDITION on `j` with node.
check_json() {
  local label=$1 cond=$2; shift 2
  step "$label" bash -c '
    cond=$1; shift
    json=$("$@") || exit 1
    printf "%s" "$json" | node -e "
      const j = JSON.parse(require(\"fs\").readFileSync(0, \"utf8\"));
      const ok = (function (j) { return $cond; })(j);
      if (!ok) { console.error(\"condition failed: \" + process.argv[1]); console.error(JSON.stringify(j, null, 2).slice(0, 4000)); process.exit(1); }
    " "$cond"' _ "$cond" "$@"
}

# check_program LANG: the whole cycle for one fixture; stops at the first failing step.
check_program() {
  local work name token
  work=$(mktemp -d "$fixtures/.run-$lang-XXXXXX")
  runs+=("$work")
  cp -R "$fixtures/$lang/." "$work/"
  name=check$RANDOM
  token=tok-$RANDOM$RANDOM-secret
  local P=("$pulumi" --cwd "$work" --non-interactive --color never)
  step "stack init" "${P[@]}" stack init check || return 1
  step "config set name" "${P[@]}" config set name "$name" || return 1
  step "config set --secret token" "${P[@]}" config set --secret token "$token" || return 1
  step "up --yes" "${P[@]}" up --yes || return 1
  check_json "stack outputs" \
    "j.thingId === 'thing-$name' && j.thingLength === ${#name} && j.secretLength === ${#token}" \
    "${P[@]}" stack output --json --show-secrets || return 1
  check_json "secret output stays secret" "j.secretLength === '[secret]'" "${P[@]}" stack output --json || return 1
  step "no plaintext secret in state" \
    bash -c 'token=$1; shift; state=$("$@" stack export) || exit 1; ! grep -qF -- "$token" <<<"$state"' \
    _ "$token" "${P[@]}" || return 1
  step "preview --expect-no-changes" "${P[@]}" preview --expect-no-changes || return 1
  step "refresh --yes --expect-no-changes" "${P[@]}" refresh --yes --expect-no-changes || return 1
  step "destroy --yes" "${P[@]}" destroy --yes || return 1
  check_json "state empty after destroy" "(j.deployment.resources || []).length === 0" \
    "${P[@]}" stack export || return 1
  step "stack rm" "${P[@]}" stack rm --yes check || return 1
}

for lang in $langs; do
  if [ ! -f "$fixtures/$lang/Pulumi.yaml" ]; then
    say "FAIL $lang: no fixture at $fixtures/$lang"
    failed=$((failed + 1))
    continue
  fi
  start=$(now_ms)
  if check_program; then
    say "$lang: all steps passed in $(( $(now_ms) - start ))ms"
  else
    say "$lang: FAILED after $(( $(now_ms) - start ))ms"
  fi
done

say "$passed passed, $failed failed"
[ "$failed" = 0 ]
