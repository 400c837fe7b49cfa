"""When loyalty work runs: crediting follows tracked orders; expiry and birthdays run daily;
connected tenants sync with their POS and Alpine IQ every LOYALTY_SYNC_MINUTES; the provider
call log is pruned daily."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from marketing_app.models import Event, JobRun, ProviderCredential, Tenant
from marketing_app.models.base import utcnow
from marketing_app.models.loyalty import LoyaltyProgram
from marketing_app.services import job_runs
from marketing_app.services.job_runs import ACTIVE_STATUSES
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_sync_runs import (
    PROVIDERS,
    SYNC_JOB_KIND,
    configured_providers,
    request_sync,
)
from marketing_app.services.tracked_orders import ORDER_EVENTS

DAILY_KINDS = {
    "loyalty_expire_points": "Expire inactive loyalty points",
    "loyalty_birthday_bonuses": "Give loyalty birthday bonuses",
}
PRUNE_CALLS_KIND = "loyalty_prune_calls"  # every tenant's provider calls past retention


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
    return created + schedule_call_pruning(session=session, now=now)


def schedule_call_pruning(*, session: Session, now: datetime | None = None) -> int:
    """One pruning of the provider call log per UTC day (a job of no tenant); returns 0 or 1."""
    day = (now or utcnow()).date().isoformat()
    jobs = session.exec(
        select(JobRun.params).where(
            col(JobRun.tenant_id).is_(None), JobRun.kind == PRUNE_CALLS_KIND
        )
    ).all()
    if any((params or {}).get("day") == day for params in jobs):
        return 0
    job_runs.create_job_run(
        session=session,
        tenant_id=None,
        kind=PRUNE_CALLS_KIND,
        label="Prune the provider call log",
        params={"day": day},
    )
    return 1


def _connected_tenants(session: Session) -> list[uuid.UUID]:
    """Active tenants with usable Alleaves or Alpine IQ credentials."""
    candidates = session.exec(
        select(ProviderCredential.tenant_id)
        .join(Tenant, col(Tenant.id) == col(ProviderCredential.tenant_id))
        .where(col(Tenant.is_active).is_(True), col(ProviderCredential.provider).in_(PROVIDERS))
        .distinct()
    ).all()
    return [
        tenant_id
        for tenant_id in candidates
        if configured_providers(session=session, tenant_id=tenant_id)
    ]


def schedule_loyalty_syncs(
    *, session: Session, every: timedelta, now: datetime | None = None
) -> int:
    """A loyalty sync job for every connected tenant whose last sync job (scheduled or manual)
    was created `every` ago or more; never while one is pending or running. Returns how many."""
    now = now or utcnow()
    tenants = _connected_tenants(session)
    if not tenants:
        return 0
    syncs = select(JobRun.tenant_id).where(
        JobRun.kind == SYNC_JOB_KIND, col(JobRun.tenant_id).in_(tenants)
    )
    busy = set(session.exec(syncs.where(col(JobRun.status).in_(ACTIVE_STATUSES))).all())
    last = dict(
        session.exec(
            select(JobRun.tenant_id, func.max(JobRun.created_at))
            .where(JobRun.kind == SYNC_JOB_KIND, col(JobRun.tenant_id).in_(tenants))
            .group_by(JobRun.tenant_id)
        ).all()
    )
    created = 0
    for tenant_id in tenants:
        if tenant_id in busy or (tenant_id in last and last[tenant_id] > now - every):
            continue
        request_sync(session=session, tenant_id=tenant_id, enqueue_now=False)
        created += 1
    return created


def _done_or_queued(session: Session, tenant_id: uuid.UUID, kind: str, day: str) -> bool:
    jobs = session.exec(
        select(JobRun.params).where(JobRun.tenant_id == tenant_id, JobRun.kind == kind)
    ).all()
    return any((params or {}).get("day") == day for params in jobs)
