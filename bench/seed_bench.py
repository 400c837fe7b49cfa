"""Bulk write path of the demo generator vs a raw executemany of the same rows.

Prints one JSON line: rows/s through our path (insert-or-ignore in chunks, contact facts
refreshed) and rows/s of a bare INSERT of identical rows into a scratch table.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]
from common import drop_database, use_fresh_database

DB_URL = use_fresh_database("mk_bench_seed")

from sqlalchemy import text
from sqlmodel import Session, select

from marketing_app.cli import migrate
from marketing_app.db import get_engine
from marketing_app.models import Event
from marketing_app.services.demo_data import generate_business_data
from marketing_app.services.tenants import create_tenant

SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))


def bare_insert_rate(session: Session, tenant_id) -> float:
    rows = [
        dict(r._mapping)
        for r in session.execute(
            select(
                Event.contact_id, Event.message_id, Event.type, Event.name, Event.occurred_at
            ).where(Event.tenant_id == tenant_id)
        )
    ]
    session.execute(
        text(
            "CREATE TEMP TABLE bare_events (contact_id bigint, message_id varchar(100), "
            "type varchar(20), name varchar(200), occurred_at timestamp)"
        )
    )
    started = time.perf_counter()
    session.execute(
        text(
            "INSERT INTO bare_events VALUES (:contact_id, :message_id, :type, :name, :occurred_at)"
        ),
        rows,
    )
    session.commit()
    return len(rows) / (time.perf_counter() - started)


def main() -> None:
    migrate()
    with Session(get_engine()) as session:
        tenant = create_tenant(session=session, name=f"Bench {time.time_ns()}")
        session.commit()
        started = time.perf_counter()
        summary = generate_business_data(
            session=session,
            tenant_id=tenant.id,
            kind="dispensary",
            scale=SCALE,
            email_domain="bench.example.com",
        )
        session.commit()
        elapsed = time.perf_counter() - started
        rows = summary.contacts + summary.orders + summary.order_items + summary.events
        bare = bare_insert_rate(session, tenant.id)
    print(
        json.dumps(
            {
                "benchmark": "demo_data_bulk_write",
                "database": get_engine().dialect.name,
                "rows": rows,
                "our_rows_per_s": round(rows / elapsed),
                "bare_insert_rows_per_s": round(bare),
                "ratio_to_bare": round((rows / elapsed) / bare, 2),
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_database(DB_URL)
