#!/usr/bin/env bash
# The main job: installs what is missing, then runs the quickstart stack (see README).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh ${APPSIGNING_SETUP_FLAGS:-}
npx tsc -p tsconfig.json
exec node dist/scripts/quickstart.js "$@"
