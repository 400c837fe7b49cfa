"""Segmentation engine at scale on PostgreSQL, each figure beside hand-written SQL on raw tables.

Builds one tenant with --profiles (default 1,000,000) profiles, --events (default 10,000,000)
events over the past 365 days and about 3 orders per buyer (bench/segment_load.py), with
planted cohorts that make correctness exact (bench/segment_data.py): background profiles can
never match either segment, so the compiled result must equal the planted member set.

  A "spent over $500 in 90 days AND no order in 60 days AND opened an email in 30 days"
    background: profiles with real (non machine) opens in the last 30 days are the id % 10 in
    (0, 1) class, whose orders are under $240 and at least 46 days apart (at most $480 in any
    90 days); every other profile's recent opens are machine opens.
  B "custom.account_type = medical AND performed Product Viewed at least 3 times in 30 days"
    background: medical profiles (id % 10 in (0, 3)) have no Product Viewed in the last 30 days.

Measures (bench/segment_measure.py; the segments and their hand-written SQL are in
bench/segment_queries.py): full compute of A and of B (count of the compiled query as the
builder's live count runs it, and recompute_segment), RFM scoring, folding a 10,000-event
batch for about 5,000 profiles, and insert-event-then-fold latency. Prints one JSON line, with
the 1-minute load average at start and end (other work on the same cores skews timings);
--explain writes EXPLAIN ANALYZE of the compiled and hand-written queries to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--profiles", type=int, default=1_000_000)
parser.add_argument("--events", type=int, default=10_000_000)
parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE to stderr")
ARGS = parser.parse_args()
if ARGS.profiles < 5_000:
    sys.exit("segment_bench: --profiles must be at least 5,000")

from common import drop_database, use_fresh_database

DB_URL = use_fresh_database("mk_bench_segment")
if not DB_URL.startswith("postgresql"):
    sys.exit("segment_bench: needs PostgreSQL (DATABASE_URL=postgresql+psycopg://...)")

import orjson
import psycopg
from segment_data import Plan
from segment_load import load
from segment_measure import Run, fold, full_compute, latency, rfm
from segment_queries import SEGMENT_A, SEGMENT_B, hand_a, hand_b
from sqlmodel import Session

from marketing_app.cli import migrate
from marketing_app.db import get_engine
from marketing_app.services.segment_sql_parts import SEGMENT_WORK_MEM
from marketing_app.services.segments import create_segment
from marketing_app.services.tenants import create_tenant

PG_URL = DB_URL.replace("postgresql+psycopg", "postgresql")
TARGETS_S = {"segment_a": 2.0, "rfm": 3.0, "fold": 0.5, "latency_p95": 10.0}


def create_tenant_and_segments() -> tuple:
    with Session(get_engine(), expire_on_commit=False) as session:
        tenant = create_tenant(session=session, name="Bench", slug="bench")
        a = create_segment(
            session=session,
            tenant_id=tenant.id,
            name="Big spenders gone quiet, still reading",
            definition=SEGMENT_A,
        )
        b = create_segment(
            session=session, tenant_id=tenant.id, name="Medical browsers", definition=SEGMENT_B
        )
        session.commit()
    return tenant.id, (a, b)


def measure(tenant_id, plan: Plan, segments: tuple) -> dict:
    """Every measurement, in order: they build on each other's writes."""
    with (
        Session(get_engine(), expire_on_commit=False) as session,
        psycopg.connect(PG_URL, autocommit=True) as conn,
    ):
        server_work_mem = conn.execute("SHOW work_mem").fetchone()[0]
        conn.execute(f"SET work_mem = '{SEGMENT_WORK_MEM}'")  # as our segment transactions
        run = Run(session, conn, tenant_id, plan, explain=ARGS.explain)
        a = full_compute(run, segments[0], hand_a(), set(plan.ids["a_member"]))
        b = full_compute(run, segments[1], hand_b(), set(plan.ids["b_member"]))
        return {
            "work_mem": {"server": server_work_mem, "segments_and_hand_sql": SEGMENT_WORK_MEM},
            "segment_a_3_conditions": a,
            "segment_b_trait_event_count": b,
            "rfm": rfm(run),
            "fold_batch": fold(run, segments),
            "event_to_membership": latency(run, segments[0]),
        }


def targets(results: dict) -> dict:
    a, rfm_result = results["segment_a_3_conditions"], results["rfm"]
    return {
        "segment_a_count_2s": a["count_s"] <= TARGETS_S["segment_a"],
        "segment_a_recompute_2s": a["recompute_s"] <= TARGETS_S["segment_a"],
        "rfm_3s": rfm_result["s"] <= TARGETS_S["rfm"],
        "fold_0_5s": results["fold_batch"]["s"] <= TARGETS_S["fold"],
        "latency_p95_10s": results["event_to_membership"]["p95_s"] <= TARGETS_S["latency_p95"],
    }


def main() -> None:
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    migrate()
    plan = Plan(ARGS.profiles)
    tenant_id, segments = create_tenant_and_segments()
    loaded = load(PG_URL, plan, tenant_id, ARGS.events)
    load_s = time.perf_counter() - started
    results = measure(tenant_id, plan, segments)
    checks = [r["correct"] for r in results.values() if isinstance(r, dict) and "correct" in r]
    report = {
        "benchmark": "segmentation",
        "database": "postgresql",
        "profiles": ARGS.profiles,
        "events": loaded["events"],
        "orders": loaded["orders"],
        "machine_open_share": loaded["machine_open_share"],
        "load_s": round(load_s, 1),
        "load_phases_s": loaded["phases_s"],
        "schema_indexes_restored": loaded["indexes_restored"],
        **results,
        "targets_met": targets(results),
        "all_correct": all(checks) and loaded["indexes_restored"],
        "total_s": round(time.perf_counter() - started, 1),
        "loadavg_start_end": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(orjson.dumps(report).decode())


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_database(DB_URL)
