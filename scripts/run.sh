#!/usr/bin/env bash
# make run: migrate, seed an empty database, then serve the app with a worker and beat beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
PY=.venv/bin/python
mkdir -p data
$PY -m marketing_app.cli migrate
$PY -m marketing_app.cli seed --if-empty
# One worker with an embedded beat is the zero-setup default; production runs them apart.
.venv/bin/celery -A jobs.celery_app worker --beat --loglevel=INFO --concurrency=2 \
  >data/worker.log 2>&1 &
WORKER_PID=$!
trap 'kill -TERM $WORKER_PID 2>/dev/null || true' EXIT INT TERM
echo "worker and beat running (pid $WORKER_PID, log data/worker.log)"
echo "serving on http://localhost:${APP_PORT:-8000}  (first build takes about a minute)"
.venv/bin/reflex run --env prod
