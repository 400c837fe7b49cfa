"""Loyalty reconciliation at scale on PostgreSQL, beside a bare ledger-against-accounts aggregate.

One tenant with --customers (default 1,000,000; BENCH_LOYALTY_CUSTOMERS in scripts/bench.sh)
profiles, each with an account, two credited orders and a third ledger entry (a sign-up bonus
or a redemption), and an Alpine IQ balance for 95% of them. Every row is generated on the
server (INSERT ... SELECT generate_series, secondary indexes dropped for the load and rebuilt
from their own definitions, as bench/segment_load.py does). Planted by id % --every (default
100: one customer in 100 of each class, 5% disagreeing), so the result is checked exactly:
  0 Alpine IQ shows 7 points more than our orders give            -> missing_visits
  1 a 25-point grant after Alpine IQ's snapshot                    -> sync_lag
  2 Alpine IQ earns 2 points per dollar (we earn 1)                -> configuration
  3 the account's balance drifted 5 points from its ledger         -> unknown
  4 an order not credited yet                                      -> sync_lag
Everyone else agrees. Times `reconcile()` (first run: every discrepancy new; second run: the
same figures, every open one marked seen again) and, in the same run, the bare limit: a plain
aggregate of the ledger per contact joined to the accounts (count of mismatches), with the
same work_mem and no JIT, as reconcile() runs. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--customers", type=int, default=1_000_000)
parser.add_argument(
    "--every", type=int, default=100, help="one customer in EVERY of each class (100: 5%% disagree)"
)
ARGS = parser.parse_args()
if ARGS.customers < 1_000 or not 20 <= ARGS.every <= ARGS.customers:
    sys.exit("loyalty_reconcile_bench: --customers >= 1,000 and 20 <= --every <= --customers")

from common import drop_database, use_fresh_database

DB_URL = use_fresh_database("mk_bench_loyalty")
if not DB_URL.startswith("postgresql"):
    sys.exit("loyalty_reconcile_bench: needs PostgreSQL (DATABASE_URL=postgresql+psycopg://...)")

import orjson
import psycopg
from segment_load import BACKGROUND_CONTACTS, drop_secondary_indexes, secondary_indexes
from sqlmodel import Session

from marketing_app.cli import migrate
from marketing_app.db import get_engine
from marketing_app.models import Tenant
from marketing_app.services.loyalty_programs import save_program
from marketing_app.services.loyalty_reconciliation import RECONCILE_WORK_MEM, reconcile
from marketing_app.services.tenants import create_tenant

PG_URL = DB_URL.replace("postgresql+psycopg", "postgresql")
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SNAPSHOT = NOW - timedelta(hours=1)  # when Alpine IQ reported its balances
TARGET_S = 10.0
TABLES = (
    "contacts",
    "orders",
    "loyalty_ledger_entries",
    "loyalty_accounts",
    "loyalty_external_balances",
)
EXPECTED = {  # id % every -> class
    0: "missing_visits",
    1: "sync_lag",
    2: "configuration",
    3: "unknown",
    4: "sync_lag",
}

ORDERS = """
INSERT INTO orders (id, tenant_id, contact_id, source, external_id, total_cents, item_count,
                    placed_at)
SELECT 2 * g - 1 + j, %(t)s, g, 'pos', 'o' || g || '-' || j,
  2000 + mod(g * 37 + j * 101, 18000), 1, %(now)s - make_interval(days => 10 + mod(g + 7 * j, 300))
FROM generate_series(1, %(n)s) g, generate_series(0, 1) j;
INSERT INTO orders (id, tenant_id, contact_id, source, external_id, total_cents, item_count,
                    placed_at)
SELECT 2 * %(n)s + g, %(t)s, g, 'pos', 'o' || g || '-new', 3300, 1, %(now)s - interval '1 day'
FROM generate_series(1, %(n)s) g WHERE mod(g, %(every)s) = 4;
SELECT setval(pg_get_serial_sequence('orders', 'id'), max(id)) FROM orders;
"""
LEDGER = """
INSERT INTO loyalty_ledger_entries (tenant_id, contact_id, kind, source, source_key, points,
  earned, shortfall, order_id, amount_cents, reason, occurred_at, created_at)
SELECT %(t)s, contact_id, 'earn', 'order', id::text, total_cents / 100, total_cents / 100, 0, id,
  total_cents, '', placed_at, placed_at + interval '1 minute'
FROM orders WHERE id <= 2 * %(n)s;
INSERT INTO loyalty_ledger_entries (tenant_id, contact_id, kind, source, source_key, points,
  earned, shortfall, order_id, amount_cents, reason, occurred_at, created_at)
SELECT %(t)s, g, CASE WHEN mod(g, 2) = 0 THEN 'redeem' ELSE 'earn' END,
  CASE WHEN mod(g, 2) = 0 THEN 'redemption' ELSE 'signup' END, 'b' || g,
  CASE WHEN mod(g, 2) = 0 THEN -10 ELSE 50 END, CASE WHEN mod(g, 2) = 0 THEN 0 ELSE 50 END,
  0, NULL, NULL, '', %(now)s - interval '5 days', %(now)s - interval '5 days'
FROM generate_series(1, %(n)s) g;
INSERT INTO loyalty_ledger_entries (tenant_id, contact_id, kind, source, source_key, points,
  earned, shortfall, order_id, amount_cents, reason, occurred_at, created_at)
SELECT %(t)s, g, 'earn', 'grant', 'late-' || g, 25, 25, 0, NULL, NULL, 'survey',
  %(now)s - interval '10 minutes', %(now)s - interval '10 minutes'
FROM generate_series(1, %(n)s) g WHERE mod(g, %(every)s) = 1;
"""
ACCOUNTS = """
INSERT INTO loyalty_accounts (tenant_id, contact_id, balance, lifetime_earned, tier,
  last_activity_at, created_at, updated_at)
SELECT %(t)s, contact_id, sum(points) + CASE WHEN mod(contact_id, %(every)s) = 3 THEN 5 ELSE 0 END,
  sum(earned), '', max(occurred_at), %(now)s - interval '400 days', %(now)s
FROM loyalty_ledger_entries GROUP BY contact_id
"""
EXTERNAL = """
INSERT INTO loyalty_external_balances (tenant_id, provider, contact_id, external_id, points,
  synced_at)
SELECT %(t)s, 'alpineiq', contact_id, 'aiq-' || contact_id,
  CASE mod(contact_id, %(every)s) WHEN 0 THEN net + 7 WHEN 1 THEN net - 25
    WHEN 2 THEN order_cents * 2 / 100 + other ELSE net END,
  %(snapshot)s
FROM (SELECT contact_id, sum(points) AS net,
        sum(amount_cents) FILTER (WHERE source = 'order') AS order_cents,
        sum(points) FILTER (WHERE source <> 'order') AS other
      FROM loyalty_ledger_entries GROUP BY contact_id) l
WHERE mod(contact_id, 20) <> 19
"""
# The bare limit: what any reconciliation must at least do (ledger per contact vs accounts).
BARE = """
SELECT count(*) FROM (SELECT contact_id, sum(points) AS net FROM loyalty_ledger_entries
                      WHERE tenant_id = %(t)s GROUP BY contact_id) l
JOIN loyalty_accounts a ON a.tenant_id = %(t)s AND a.contact_id = l.contact_id
WHERE a.balance <> l.net
"""


def create_tenant_and_program():
    with Session(get_engine(), expire_on_commit=False) as session:
        tenant = create_tenant(session=session, name="Bench", slug="bench")
        save_program(session=session, tenant_id=tenant.id, settings={})
        tenant = session.get(Tenant, tenant.id)
        tenant.settings = {"loyalty_sync": {"alpineiq": {"points_per_dollar": 2}}}
        session.add(tenant)
        session.commit()
        return tenant.id


def load(tenant_id, customers: int) -> dict:
    """Every row, generated on the server; seconds of the load and whether indexes came back."""
    params = {"t": tenant_id, "n": customers, "now": NOW, "snapshot": SNAPSHOT, "every": ARGS.every}
    started = time.perf_counter()
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # rows are consistent by design
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '256MB'")
        schema_indexes = secondary_indexes(conn, TABLES)
        restore = [s for table in TABLES for s in drop_secondary_indexes(conn, table)]
        with conn.transaction():
            for statement in ORDERS.split(";")[:-1] + LEDGER.split(";")[:-1]:
                conn.execute(statement, params)
            conn.execute(BACKGROUND_CONTACTS, params | {"background": customers})
            conn.execute(ACCOUNTS, params)
            conn.execute(EXTERNAL, params)
        for statement in restore:
            conn.execute(statement)
        conn.execute("VACUUM ANALYZE")
        entries = conn.execute("SELECT count(*) FROM loyalty_ledger_entries").fetchone()[0]
        restored = secondary_indexes(conn, TABLES) == schema_indexes
    return {
        "ledger_entries": entries,
        "load_s": round(time.perf_counter() - started, 1),
        "indexes_restored": restored,
    }


def bare_limit(tenant_id) -> tuple[float, int]:
    with psycopg.connect(PG_URL) as conn:
        conn.execute(f"SET work_mem = '{RECONCILE_WORK_MEM}'")  # what reconcile() runs with
        conn.execute("SET jit = off")
        started = time.perf_counter()
        mismatches = conn.execute(BARE, {"t": tenant_id}).fetchone()[0]
        return time.perf_counter() - started, mismatches


def timed_reconcile(tenant_id) -> tuple[float, object]:
    with Session(get_engine(), expire_on_commit=False) as session:
        started = time.perf_counter()
        result = reconcile(session=session, tenant_id=tenant_id, now=NOW)
        session.commit()
        return time.perf_counter() - started, result


def expected_kinds(customers: int, every: int) -> dict[str, int]:
    counts = dict.fromkeys(EXPECTED.values(), 0)
    for remainder, kind in EXPECTED.items():
        counts[kind] += len(range(remainder or every, customers + 1, every))
    return counts


def main() -> None:
    load_start = os.getloadavg()[0]
    try:
        migrate()
        tenant_id = create_tenant_and_program()
        loaded = load(tenant_id, ARGS.customers)
        bare_s, mismatches = bare_limit(tenant_id)
        first_s, first = timed_reconcile(tenant_id)
        second_s, second = timed_reconcile(tenant_id)
        bare_again_s, _ = bare_limit(tenant_id)
        wanted = {**dict.fromkeys(first.by_kind, 0), **expected_kinds(ARGS.customers, ARGS.every)}
        figures = {
            "benchmark": "loyalty_reconcile",
            "customers": ARGS.customers,
            "every": ARGS.every,
            **loaded,
            "seconds": round(first_s, 2),
            "seconds_rerun": round(second_s, 2),
            "phases_s": [first.summary()["phase_seconds"], second.summary()["phase_seconds"]],
            "target_s": TARGET_S,
            "met": max(first_s, second_s) < TARGET_S,
            "compared": first.compared,
            "discrepancies": first.discrepancies,
            "by_kind": first.by_kind,
            "correct": first.by_kind == wanted and second.by_kind == wanted,
            "new_then": [first.new, second.new],
            "over_threshold": first.over_threshold,
            "bare_limit_s": [round(bare_s, 2), round(bare_again_s, 2)],
            "bare_mismatches": mismatches,
            "loadavg": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        }
        print(orjson.dumps(figures).decode(), flush=True)
    finally:
        drop_database(DB_URL)


if __name__ == "__main__":
    main()
