#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, builds, lints, then runs every test:
# unit tests, the vault against the moto S3/KMS server, and end-to-end tests under the real
# `pulumi` CLI. Extra arguments go to jest (e.g. `npm test -- test/store`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh ${APPSIGNING_SETUP_FLAGS:-}
t0=$SECONDS
echo "==> build"
npx tsc -p tsconfig.json
echo "    build: $((SECONDS - t0))s"
t0=$SECONDS
echo "==> lint and type-check the examples"
npx eslint .
for example in examples/*/; do npx tsc -p "$example" --noEmit; done
echo "    lint: $((SECONDS - t0))s"
t0=$SECONDS
echo "==> tests"
summary=$(mktemp)
status=0
npx jest --json --outputFile="$summary" "$@" || status=$?
echo "    tests: $((SECONDS - t0))s"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' "$summary" 2>/dev/null || echo "tests: no summary (jest wrote none)"
rm -f "$summary"
exit $status
