"""What the scheduler keeps current: segment recomputes, RFM scores, folds after new events."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from marketing_app.models import Event, JobRun, LoyaltyLedgerEntry, Segment, Tenant
from marketing_app.models.base import utcnow
from marketing_app.models.segments import SegmentKind
from marketing_app.services import job_runs, rfm
from marketing_app.services.job_runs import ACTIVE_STATUSES
from marketing_app.services.segment_membership import MembershipChange, fold_contacts
from marketing_app.services.segments import recompute_job


def fold_recent_activity(
    *, session: Session, tenant_id: uuid.UUID, since: datetime
) -> MembershipChange:
    """Fold every profile whose events were attached since `since` into segment membership."""
    touched = session.exec(
        select(Event.contact_id)
        .where(
            Event.tenant_id == tenant_id,
            col(Event.processed_at) >= since,
            col(Event.contact_id).is_not(None),
        )
        .distinct()
    ).all()
    return fold_contacts(session=session, tenant_id=tenant_id, contact_ids=touched)


FOLD_LIMIT = 50_000  # more profiles than this: the scheduled full refresh is the cheaper path


def fold_recent_loyalty(
    *, session: Session, tenant_id: uuid.UUID, since: datetime
) -> MembershipChange | None:
    """Fold the profiles whose points changed since `since` (loyalty conditions: tier,
    balance) into segment membership; None when so many changed that the scheduled refresh
    is the better way."""
    touched = session.exec(
        select(LoyaltyLedgerEntry.contact_id)
        .where(
            LoyaltyLedgerEntry.tenant_id == tenant_id,
            col(LoyaltyLedgerEntry.created_at) >= since,
        )
        .distinct()
        .limit(FOLD_LIMIT + 1)
    ).all()
    if len(touched) > FOLD_LIMIT:
        return None
    return fold_contacts(session=session, tenant_id=tenant_id, contact_ids=touched)


def _has_active_job(session: Session, tenant_id: uuid.UUID, kind: str, key: str, value) -> bool:
    jobs = session.exec(
        select(JobRun).where(
            JobRun.tenant_id == tenant_id,
            JobRun.kind == kind,
            col(JobRun.status).in_(ACTIVE_STATUSES),
        )
    ).all()
    return any(job.params.get(key) == value for job in jobs)


def schedule_due_refreshes(
    *, session: Session, segment_every: timedelta, rfm_every: timedelta
) -> int:
    """Create recompute jobs for stale dynamic segments and RFM; returns how many."""
    now = utcnow()
    created = 0
    stale = session.exec(
        select(Segment)
        .join(Tenant, col(Tenant.id) == col(Segment.tenant_id))
        .where(
            col(Tenant.is_active).is_(True),
            Segment.kind == SegmentKind.DYNAMIC,
            or_(col(Segment.computed_at).is_(None), col(Segment.computed_at) < now - segment_every),
        )
    ).all()
    for segment in stale:
        if not _has_active_job(
            session, segment.tenant_id, "segment_recompute", "segment_id", segment.id
        ):
            recompute_job(session=session, segment=segment, enqueue_now=False)
            created += 1
    for tenant in session.exec(select(Tenant).where(col(Tenant.is_active).is_(True))).all():
        last = rfm.last_computed(session=session, tenant_id=tenant.id)
        if (last is None or last < now - rfm_every) and not _has_active_job(
            session, tenant.id, "rfm_compute", "tenant", "all"
        ):
            rfm_job(session=session, tenant_id=tenant.id, enqueue_now=False)
            created += 1
    return created


def rfm_job(*, session: Session, tenant_id: uuid.UUID, enqueue_now: bool = True) -> JobRun:
    return job_runs.create_job_run(
        session=session,
        tenant_id=tenant_id,
        kind="rfm_compute",
        label="Recalculate RFM scores",
        params={"tenant": "all"},
        enqueue_now=enqueue_now,
    )
