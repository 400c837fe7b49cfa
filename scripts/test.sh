#!/usr/bin/env bash
# make test: lint, layer contracts, the service/API/worker suite, then the browser suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
BIN=.venv/bin
echo "== ruff"; $BIN/ruff check . && $BIN/ruff format --check .
echo "== import-linter"; $BIN/lint-imports
echo "== unit, service, API and worker tests"
$BIN/pytest -q -m "not browser" -p no:cacheprovider
echo "== browser tests (built app in Chromium)"
# A separate process: the browser suite builds and serves the app itself. The timeout only
# stops a hung suite: 4-5 min as a rule, it took over 15 with the VM's host taking 17-48% of
# its CPU (steal time).
timeout 1200 $BIN/pytest -q -m browser -p no:cacheprovider tests/e2e
