#!/usr/bin/env bash
# make bench: each benchmark prints one JSON line. Uses DATABASE_URL (PostgreSQL recommended).
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in bench/*_bench.py; do
  .venv/bin/python "$bench"
done
