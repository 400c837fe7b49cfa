"""Campaign benchmark data: one tenant, its consented profiles, static lists and campaigns.

Profiles go in by COPY (bench/segment_load.copy_rows), list memberships by one INSERT ...
SELECT; the tenant, the lists, the provider settings and the campaigns go through the
services, as a marketer's clicks would. The template is the render benchmark's
(bench/email_render_bench.py): a greeting with a default, a trait, the store and rep, seven
tracked links; the pipeline adds the preheader, footer, open pixel and unsubscribe headers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import psycopg
from email_render_bench import HTML, PREHEADER, SUBJECT
from segment_load import copy_rows
from sqlmodel import Session

from jobs.dispatch import enqueue_campaign_start
from jobs.tasks import start_campaign  # noqa: F401  (imported now, not on the clock)
from marketing_app.db import get_engine
from marketing_app.services import campaign_lifecycle, campaigns, segments
from marketing_app.services.email_provider_config import (
    save_email_provider,
    set_email_provider_order,
)
from marketing_app.services.tenants import create_tenant

FIRST_NAMES = ("Ann", "Bo", "", "Chloé", "D'Angelo", "Eve", "Fa & Co", "Gus")
FAVORITES = ("Blue Dream", "Sour Diesel", "Gummies", "Pre-rolls", "")
CONTACT_COLUMNS = (
    "tenant_id, user_id, email, first_name, last_name, traits, email_consent,"
    " email_consent_source, email_consent_at, sms_consent, sms_consent_source, created_at,"
    " order_count, total_spent_cents"
)
FROM_EMAIL = "news@leaf.example.com"


def _profile_rows(tenant_id: uuid.UUID, count: int) -> list[tuple]:
    """`count` consented profiles; every third has no traits (the template's defaults)."""
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        traits: dict = {}
        if i % 3:
            traits = {"favorite": FAVORITES[i % len(FAVORITES)], "store": "Downtown"}
            if i % 7 == 0:
                traits["sales_rep"] = "Sam Carter"
        rows.append(
            (
                tenant_id, f"u{i}", f"r{i}@bench.example.com", FIRST_NAMES[i % len(FIRST_NAMES)],
                f"Last{i}", orjson.dumps(traits).decode(), True, "import", now, False, "", now,
                0, 0,
            )
        )  # fmt: skip
    return rows


def _add_members(conn: psycopg.Connection, list_id: int, tenant_id: uuid.UUID, count: int) -> None:
    """The tenant's first `count` profiles (by id) become members of a static list."""
    conn.execute(
        "INSERT INTO segment_members (segment_id, contact_id, tenant_id, entered_at)"
        " SELECT %(list)s, id, tenant_id, now() FROM contacts WHERE tenant_id = %(t)s"
        " ORDER BY id LIMIT %(n)s",
        {"list": list_id, "t": tenant_id, "n": count},
    )
    conn.execute(
        "UPDATE segments SET member_count = %(n)s, computed_at = now() WHERE id = %(list)s",
        {"list": list_id, "n": count},
    )


def create_audience(pg_url: str, recipients: int, sample: int) -> tuple[uuid.UUID, dict]:
    """A tenant with a postal address and `recipients` profiles; static lists "all" (every
    profile) and "sample" (the first `sample`). Returns the tenant id and the list ids."""
    with Session(get_engine(), expire_on_commit=False) as session:
        tenant = create_tenant(
            session=session,
            name="Leaf & Co",
            slug=f"bench-{uuid.uuid4().hex[:6]}",
            postal_address="12 Main St, Raleigh, NC 27601",
        )
        lists = {
            name: segments.create_segment(
                session=session, tenant_id=tenant.id, name=name, kind="static"
            ).id
            for name in ("all", "sample")
        }
        session.commit()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        copy_rows(conn, "contacts", CONTACT_COLUMNS, _profile_rows(tenant.id, recipients))
        _add_members(conn, lists["all"], tenant.id, recipients)
        _add_members(conn, lists["sample"], tenant.id, min(sample, recipients))
        conn.execute("ANALYZE contacts")
        conn.execute("ANALYZE segment_members")
    return tenant.id, lists


def use_provider(tenant_id: uuid.UUID, provider: str, secret: str, config: dict) -> None:
    """Save (and so test) the provider's settings; it becomes the tenant's only provider."""
    with Session(get_engine()) as session:
        save_email_provider(
            session=session, tenant_id=tenant_id, provider=provider, secret=secret, config=config
        )
        set_email_provider_order(session=session, tenant_id=tenant_id, order=[provider])
        session.commit()


def create_campaign(tenant_id: uuid.UUID, name: str, list_id: int) -> int:
    """A draft campaign to the list, with the benchmark template."""
    with Session(get_engine()) as session:
        campaign = campaigns.create_campaign(
            session=session,
            tenant_id=tenant_id,
            name=name,
            from_email=FROM_EMAIL,
            from_name="Leaf & Co",
            audience={"segment_ids": [list_id]},
            content={"variants": [{"subject": SUBJECT, "preheader": PREHEADER, "html": HTML}]},
        )
        session.commit()
        return campaign.id


def schedule_now(tenant_id: uuid.UUID, campaign_id: int) -> datetime:
    """Schedule the campaign to start now and hand its start to a worker (what "Send now"
    does); returns the moment."""
    with Session(get_engine()) as session:
        now = datetime.now(UTC)
        campaign_lifecycle.schedule_campaign(
            session=session, tenant_id=tenant_id, campaign_id=campaign_id, now=now
        )
        session.commit()
    enqueue_campaign_start(campaign_id)
    return now


DELIVERY_SQL = """
SELECT count(*), count(*) FILTER (WHERE status = 'sent'), count(DISTINCT contact_id),
  count(DISTINCT provider_message_id) FILTER (WHERE status = 'sent'),
  coalesce(max(attempts), 0), count(*) FILTER (WHERE attempts > 1),
  min(sent_at), max(sent_at)
FROM email_messages WHERE campaign_id = %s
"""


def vacuum_messages(pg_url: str) -> None:
    """Clean up after the previous target's send now: its 100,000 rows, each written three
    times, would otherwise be vacuumed by PostgreSQL in the middle of the next target's."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) email_messages")


def delivery_rows(pg_url: str, campaign_id: int) -> dict:
    """What the campaign's message rows say once it is done."""
    with psycopg.connect(pg_url) as conn:
        rows, sent, contacts, provider_ids, max_attempts, retried, first, last = conn.execute(
            DELIVERY_SQL, (campaign_id,)
        ).fetchone()
        status, started_at = conn.execute(
            "SELECT status, started_at FROM campaigns WHERE id = %s", (campaign_id,)
        ).fetchone()
    return {
        "rows": rows,
        "sent": sent,
        "distinct_contacts": contacts,
        "distinct_provider_ids": provider_ids,
        "max_attempts": max_attempts,
        "rows_claimed_more_than_once": retried,
        "first_sent_at": first,
        "last_sent_at": last,
        "status": status,
        "started_at": started_at,
    }
