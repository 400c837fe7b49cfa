"""Segmentation benchmark: generate and load one tenant's profiles, orders and events.

Background rows come from INSERT ... SELECT generate_series (two server connections for the
events, one per core), planted rows from COPY; never ORM objects. Contact facts agree with the
orders. Secondary indexes and unique constraints of the loaded tables are dropped for the load
and rebuilt from their own definitions (pg_indexes.indexdef, partial WHERE and INCLUDE
included); the load checks that the rebuilt set equals the schema's.
"""

from __future__ import annotations

import threading
import time

import psycopg
from segment_data import NOW, Plan, Rows, ago, planted_rows

LOADED_TABLES = ("contacts", "orders", "events")

BACKGROUND_ORDERS = """
WITH buyers AS MATERIALIZED (
  SELECT id, k, 365.0 / k AS slot, random() * 46 AS start
  FROM (SELECT id, 1 + floor(random() * 5)::int AS k
        FROM generate_series(1, %(background)s) id WHERE random() < 0.5) b
)
INSERT INTO orders (tenant_id, contact_id, source, external_id, total_cents, item_count,
                    placed_at)
SELECT %(t)s, b.id, 'pos', 'o' || b.id || '-' || j,
  CASE WHEN mod(b.id, 10) IN (0, 1) THEN 1500 + floor(random() * 22499)::int
       ELSE 1500 + floor(random() ^ 2 * 60000)::int END,
  1 + floor(random() * 4)::int,
  %(now)s - make_interval(secs => 86400 * (365 - b.start - j * b.slot
                                           - random() * (b.slot - 46)))
FROM buyers b, generate_series(0, b.k - 1) j
"""
# Class (0, 1) by id % 10 buys under $240 at least 46 days apart: at most $480 in 90 days.
BACKGROUND_CONTACTS = """
INSERT INTO contacts (id, tenant_id, user_id, email, first_name, last_name, traits,
  email_consent, sms_consent, email_consent_source, sms_consent_source, created_at,
  order_count, total_spent_cents, last_order_at, first_seen_at, last_seen_at)
SELECT g, %(t)s, 'u' || g, 'p' || g || '@bench.example', 'Pat', 'Doe ' || g,
  (CASE WHEN mod(g, 10) IN (0, 3) THEN '{"account_type": "medical", "tier": "gold"}'
        WHEN mod(g, 10) = 9 THEN '{"tier": "silver"}'
        ELSE '{"account_type": "recreational", "tier": "silver"}' END)::jsonb,
  mod(g, 4) <> 0, false, 'import', '', %(now)s - interval '400 days',
  coalesce(f.n, 0), coalesce(f.total, 0), f.last,
  %(now)s - interval '400 days', %(now)s - interval '1 day'
FROM generate_series(1, %(background)s) g
LEFT JOIN (SELECT contact_id, count(*) AS n, sum(total_cents) AS total, max(placed_at) AS last
           FROM orders GROUP BY contact_id) f ON f.contact_id = g
"""
# Time-ordered like a real append-only log; a few profiles are very active (random()^2).
# Rules that keep the background out of both segments: recent Email Opened of profiles outside
# class (0, 1) is a machine open; recent Product Viewed of medical profiles is a page view.
BACKGROUND_EVENTS = """
INSERT INTO events (tenant_id, contact_id, message_id, type, name, properties, occurred_at,
                    received_at, processed_at)
SELECT %(t)s, c, 'e' || i, CASE WHEN name = 'Page Viewed' THEN 'page' ELSE 'track' END, name,
  (CASE name
     WHEN 'Page Viewed' THEN '{"url": "https://shop.example/p/' || mod(i, 1000) || '"}'
     WHEN 'Product Viewed' THEN '{"product_id": "sku-' || mod(i, 500) || '", "price": '
                                || (10 + mod(i, 90)) || '}'
     WHEN 'Email Opened' THEN '{"campaign_id": "cmp-' || mod(i, 40) || '", "machine_open": '
                              || machine || '}'
     WHEN 'Email Delivered' THEN '{"campaign_id": "cmp-' || mod(i, 40) || '"}'
     WHEN 'Email Link Clicked' THEN '{"campaign_id": "cmp-' || mod(i, 40) || '"}'
     ELSE '{"cart_id": "cart-' || mod(i, 9999) || '"}' END)::json,
  at, at, at
FROM (
  SELECT i, c, at,
    CASE WHEN base = 'Product Viewed' AND mod(c, 10) IN (0, 3) AND at >= %(d30)s
         THEN 'Page Viewed' ELSE base END AS name,
    CASE WHEN at >= %(d30)s AND mod(c, 10) NOT IN (0, 1) THEN 'true'
         WHEN r2 < 0.09 THEN 'true' ELSE 'false' END AS machine
  FROM (
    SELECT i, c, at, r2,
      CASE WHEN r < 0.30 THEN 'Page Viewed' WHEN r < 0.55 THEN 'Product Viewed'
           WHEN r < 0.75 THEN 'Email Delivered' WHEN r < 0.87 THEN 'Email Opened'
           WHEN r < 0.90 THEN 'Email Link Clicked' WHEN r < 0.96 THEN 'Product Added'
           ELSE 'Checkout Started' END AS base
    FROM (
      SELECT i, 1 + floor(%(background)s * random() ^ 2)::bigint AS c, random() AS r,
        random() AS r2,
        %(start)s + make_interval(secs => (i - 0.5) * %(step)s) AS at
      FROM generate_series(%(first)s, %(last)s) i
    ) raw
  ) named
) e
"""
ORDER_EVENTS = """
INSERT INTO events (tenant_id, contact_id, message_id, type, name, properties, occurred_at,
                    received_at, processed_at)
SELECT tenant_id, contact_id, 'oc-' || id, 'track', 'Order Completed',
  ('{"order_id": "' || external_id || '", "revenue": ' || (total_cents / 100.0) || '}')::json,
  placed_at, placed_at, placed_at
FROM orders ORDER BY placed_at
"""

CONTACT_COLUMNS = (
    "id, tenant_id, user_id, email, first_name, last_name, traits, email_consent, sms_consent,"
    " email_consent_source, sms_consent_source, created_at, order_count, total_spent_cents,"
    " last_order_at, first_seen_at, last_seen_at"
)
ORDER_COLUMNS = "tenant_id, contact_id, source, external_id, total_cents, item_count, placed_at"
EVENT_COLUMNS = (
    "tenant_id, contact_id, message_id, type, name, properties, occurred_at, received_at,"
    " processed_at"
)


def copy_rows(conn: psycopg.Connection, table: str, columns: str, rows: list) -> None:
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def copy_all(conn: psycopg.Connection, rows: Rows) -> None:
    """COPY the contacts, orders and events of `rows` (contacts first: the others refer to them)."""
    copy_rows(conn, "contacts", CONTACT_COLUMNS, rows.contacts)
    copy_rows(conn, "orders", ORDER_COLUMNS, rows.orders)
    copy_rows(conn, "events", EVENT_COLUMNS, rows.events)


# --- secondary indexes -----------------------------------------------------------------------

UNIQUE_CONSTRAINTS = """
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = %(table)s::regclass AND contype = 'u' ORDER BY conname
"""
# Every index but the primary key's, as the schema made it (unique constraints' too).
SECONDARY_INDEXES = """
SELECT indexname, indexdef FROM pg_indexes
WHERE schemaname = current_schema() AND tablename = %(table)s
  AND indexname NOT IN (SELECT conname FROM pg_constraint
                        WHERE conrelid = %(table)s::regclass AND contype = 'p')
ORDER BY indexname
"""


def secondary_indexes(conn: psycopg.Connection, tables=LOADED_TABLES) -> dict[str, str]:
    """Index name to its pg_indexes.indexdef, for the secondary indexes of `tables`."""
    found = {}
    for table in tables:
        found |= dict(conn.execute(SECONDARY_INDEXES, {"table": table}).fetchall())
    return found


def drop_secondary_indexes(conn: psycopg.Connection, table: str) -> list[str]:
    """Drop a table's unique constraints and secondary indexes; the statements that restore them.

    Constraints first (their indexes go with them), then the plain indexes, re-created from
    pg_indexes.indexdef: partial WHERE clauses and INCLUDE columns come back as they were.
    """
    restore = []
    for name, definition in conn.execute(UNIQUE_CONSTRAINTS, {"table": table}).fetchall():
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        restore.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for name, definition in conn.execute(SECONDARY_INDEXES, {"table": table}).fetchall():
        conn.execute(f"DROP INDEX {name}")
        restore.append(definition)
    return restore


# --- loading ---------------------------------------------------------------------------------


def _orders_and_contacts(conn: psycopg.Connection, params: dict, planted: Rows) -> int:
    """Background orders, then contacts with facts from them; the planted ones. Order count."""
    with conn.transaction():
        conn.execute("SELECT setseed(0.42)")
        conn.execute(BACKGROUND_ORDERS, params)
        conn.execute(BACKGROUND_CONTACTS, params)
        copy_rows(conn, "contacts", CONTACT_COLUMNS, planted.contacts)
        copy_rows(conn, "orders", ORDER_COLUMNS, planted.orders)
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('contacts', 'id'), max(id)) FROM contacts"
        )
    return conn.execute("SELECT count(*) FROM orders").fetchone()[0]


def _background_events(conn: psycopg.Connection, pg_url: str, params: dict, count: int) -> None:
    """`count` events over the past year, half on `conn`, half on a second connection."""
    step, middle = 365 * 86400 / count, count // 2
    with psycopg.connect(pg_url, autocommit=True) as other:
        other.execute("SET session_replication_role = replica")
        jobs = []
        for n, (link, first, last) in enumerate(((conn, 1, middle), (other, middle + 1, count))):
            link.execute("SELECT setseed(%s)", (0.1 + n / 10,))
            window = {"first": first, "last": last, "start": ago(365), "step": step}
            jobs.append((link, BACKGROUND_EVENTS, params | window))
        _run_parallel(jobs)


def _run_parallel(jobs: list) -> None:
    errors: list[BaseException] = []

    def run(conn, sql, params) -> None:
        try:
            conn.execute(sql, params)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _stats(conn: psycopg.Connection) -> tuple[int, float]:
    total, opens, machine = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE name = 'Email Opened'),"
        " count(*) FILTER (WHERE name = 'Email Opened'"
        "   AND properties ->> 'machine_open' = 'true') FROM events"
    ).fetchone()
    return total, round(machine / max(1, opens), 3)


class Phases:
    """Seconds per load phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._started = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[f"{name}_s"] = round(now - self._started, 1)
        self._started = now


def load(pg_url: str, plan: Plan, tenant_id, total_events: int) -> dict:
    """Generate everything; returns counts, seconds per phase and whether indexes came back."""
    params = {"t": tenant_id, "now": NOW, "background": plan.background, "d30": ago(30)}
    planted = planted_rows(plan, tenant_id)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # rows are consistent by design
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '256MB'")
        schema_indexes = secondary_indexes(conn)
        restore = [s for table in LOADED_TABLES for s in drop_secondary_indexes(conn, table)]
        phases = Phases()
        n_orders = _orders_and_contacts(conn, params, planted)
        phases.done("orders_contacts")
        background = total_events - n_orders - len(planted.events)
        if background < 0:
            raise SystemExit(f"segment_bench: --events must exceed {total_events - background}")
        _background_events(conn, pg_url, params, background)
        conn.execute(ORDER_EVENTS)
        copy_rows(conn, "events", EVENT_COLUMNS, planted.events)
        phases.done("events")
        for statement in restore:
            conn.execute(statement)
        phases.done("indexes")
        conn.execute("VACUUM ANALYZE")  # index-only scans need the visibility map
        phases.done("vacuum_analyze")
        events, machine_share = _stats(conn)
        restored = secondary_indexes(conn) == schema_indexes
    return {
        "events": events,
        "orders": n_orders,
        "machine_open_share": machine_share,
        "phases_s": phases.seconds,
        "indexes_restored": restored,
        "indexes": len(schema_indexes),
    }
