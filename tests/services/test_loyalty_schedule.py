"""Loyalty follows tracked orders within the event-processing task; daily jobs queue once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from marketing_app.models import Contact, JobRun
from marketing_app.services.event_processing import process_pending_events
from marketing_app.services.ingestion import ingest_messages
from marketing_app.services.loyalty_programs import preset_settings, save_program
from marketing_app.services.loyalty_reports import account_summary
from marketing_app.services.loyalty_schedule import credit_recent_orders, schedule_daily_loyalty

BEFORE = datetime(2000, 1, 1, tzinfo=UTC)


def _buy(session, tenant, order_id: str) -> int:
    ingest_messages(
        session=session,
        tenant_id=tenant.id,
        messages=[
            {
                "type": "track",
                "userId": "buyer-1",
                "event": "Order Completed",
                "messageId": f"msg-{order_id}",
                "properties": {"order_id": order_id, "revenue": 42.50},
            }
        ],
    )
    session.commit()
    process_pending_events(session=session, tenant_id=tenant.id)
    return session.exec(select(Contact.id).where(Contact.tenant_id == tenant.id)).one()


def test_tracked_orders_are_credited_once_for_tenants_with_a_program(session, tenant, other_tenant):
    save_program(session=session, tenant_id=tenant.id, settings=preset_settings("metals"))
    session.commit()
    buyer = _buy(session, tenant, "A-1")
    assert credit_recent_orders(session=session, tenant_id=tenant.id, since=BEFORE) == 1
    assert credit_recent_orders(session=session, tenant_id=tenant.id, since=BEFORE) == 0
    session.commit()
    card = account_summary(session=session, tenant_id=tenant.id, contact_id=buyer)
    assert card.balance > 0
    _buy(session, other_tenant, "A-1")  # no program: nothing to credit, no error
    assert credit_recent_orders(session=session, tenant_id=other_tenant.id, since=BEFORE) == 0


def test_daily_jobs_are_queued_once_per_local_day(session, tenant, other_tenant):
    save_program(session=session, tenant_id=tenant.id, settings=preset_settings("alpineiq"))
    session.commit()
    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    schedule_daily_loyalty(session=session, now=now)
    schedule_daily_loyalty(session=session, now=now)
    session.commit()
    mine = session.exec(select(JobRun.kind).where(JobRun.tenant_id == tenant.id)).all()
    assert sorted(mine) == ["loyalty_birthday_bonuses", "loyalty_expire_points"]
    theirs = session.exec(select(JobRun.kind).where(JobRun.tenant_id == other_tenant.id)).all()
    assert theirs == []
    schedule_daily_loyalty(session=session, now=datetime(2026, 11, 22, 12, tzinfo=UTC))
    session.commit()
    assert len(session.exec(select(JobRun).where(JobRun.tenant_id == tenant.id)).all()) == 4
