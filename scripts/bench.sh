#!/usr/bin/env bash
# make bench: each benchmark prints one JSON line. Each run makes its own database on the
# server in DATABASE_URL (default: the local PostgreSQL); REDIS_URL is used when set.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
for bench in bench/*_bench.py; do
  .venv/bin/python "$bench" 2>/dev/null | grep '^{'
done
