"""When loyalty work runs: crediting follows tracked orders; expiry and birthdays run daily."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from marketing_app.models import Event, JobRun, Tenant
from marketing_app.models.base import utcnow
from marketing_app.models.loyalty import LoyaltyProgram
from marketing_app.services import job_runs
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.tracked_orders import ORDER_EVENTS

DAILY_KINDS = {
    "loyalty_expire_points": "Expire inactive loyalty points",
    "loyalty_birthday_bonuses": "Give loyalty birthday bonuses",
}


def has_program(session: Session, tenant_id: uuid.UUID) -> bool:
    found = select(LoyaltyProgram.id).where(LoyaltyProgram.tenant_id == tenant_id)
    return session.exec(found).first() is not None


def credit_recent_orders(*, session: Session, tenant_id: uuid.UUID, since: datetime) -> int:
    """Credit the orders of profiles whose order events were attached since `since`."""
    if not has_program(session, tenant_id):
        return 0
    buyers = session.exec(
        select(Event.contact_id)
        .where(
            Event.tenant_id == tenant_id,
            col(Event.processed_at) >= since,
            col(Event.name).in_(ORDER_EVENTS),
            col(Event.contact_id).is_not(None),
        )
        .distinct()
    ).all()
    return sum(
        credit_orders(session=session, tenant_id=tenant_id, contact_id=buyer).orders_credited
        for buyer in buyers
    )


def schedule_daily_loyalty(*, session: Session, now: datetime | None = None) -> int:
    """One expiry and one birthday job per tenant with a program per local day; returns count."""
    now = now or utcnow()
    created = 0
    rows = session.exec(
        select(Tenant)
        .join(LoyaltyProgram, col(LoyaltyProgram.tenant_id) == col(Tenant.id))
        .where(col(Tenant.is_active).is_(True))
    ).all()
    for tenant in rows:
        day = now.astimezone(ZoneInfo(tenant.time_zone)).date().isoformat()
        for kind, label in DAILY_KINDS.items():
            if not _done_or_queued(session, tenant.id, kind, day):
                job_runs.create_job_run(
                    session=session,
                    tenant_id=tenant.id,
                    kind=kind,
                    label=label,
                    params={"day": day},
                )
                created += 1
    return created


def _done_or_queued(session: Session, tenant_id: uuid.UUID, kind: str, day: str) -> bool:
    jobs = session.exec(
        select(JobRun.params).where(JobRun.tenant_id == tenant_id, JobRun.kind == kind)
    ).all()
    return any((params or {}).get("day") == day for params in jobs)
