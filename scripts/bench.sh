#!/usr/bin/env bash
# make bench: each benchmark prints one JSON line. Each run makes its own database on the
# server in DATABASE_URL (default: the local PostgreSQL); REDIS_URL is used when set.
# The segmentation benchmark's size: BENCH_PROFILES (default 1,000,000 profiles) and
# BENCH_SEGMENT_EVENTS (default 10,000,000 events). The loyalty sync benchmark's (local fake
# Alleaves and Alpine IQ at 100 ms): BENCH_LOYALTY_SYNC_CUSTOMERS (1,000) and _ORDERS (3,000).
# The email campaign benchmark (real workers, needs Redis: REDIS_URL or the local one):
# BENCH_RECIPIENTS (100,000) for SMTP and SendGrid, BENCH_SES_RECIPIENTS (3,000) at 50/s.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
for bench in bench/*_bench.py; do
  args=()
  if [[ $bench == bench/segment_bench.py ]]; then
    args=(--profiles "${BENCH_PROFILES:-1000000}" --events "${BENCH_SEGMENT_EVENTS:-10000000}")
  elif [[ $bench == bench/campaign_bench.py ]]; then
    args=(--recipients "${BENCH_RECIPIENTS:-100000}" --ses-recipients "${BENCH_SES_RECIPIENTS:-3000}")
  elif [[ $bench == bench/loyalty_sync_bench.py ]]; then
    args=(--customers "${BENCH_LOYALTY_SYNC_CUSTOMERS:-1000}" --orders "${BENCH_LOYALTY_SYNC_ORDERS:-3000}")
  fi
  [[ $bench == bench/loyalty_reconcile_bench.py ]] && args=(--customers "${BENCH_LOYALTY_CUSTOMERS:-1000000}")
  .venv/bin/python "$bench" "${args[@]}" 2>/dev/null | grep '^{'
done
