"""Job runs: due-time rows that the beat tick claims, and the progress pages show."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from marketing_app.domain.errors import NotFound
from marketing_app.models import JobRun, JobStatus
from marketing_app.models.base import utcnow

CLAIM_BATCH_SIZE = 100  # rows per tick; each becomes one Celery message
# An enqueued row not started after this long lost its message (broker or worker crash).
STALE_ENQUEUED_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 3
ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.ENQUEUED, JobStatus.RUNNING)


def create_job_run(
    *,
    session: Session,
    tenant_id: uuid.UUID | None,
    kind: str,
    label: str,
    params: dict[str, Any] | None = None,
    due_at: datetime | None = None,
    enqueue_now: bool = False,
) -> JobRun:
    """Write the row in the caller's transaction.

    With enqueue_now the row is born claimed, so the tick cannot race the caller's enqueue
    after commit; if that enqueue never happens the stale-claim rule hands it to the tick.
    """
    job = JobRun(tenant_id=tenant_id, kind=kind, label=label, params=params or {})
    if due_at is not None:
        job.due_at = due_at
    if enqueue_now:
        job.status, job.claimed_at = JobStatus.ENQUEUED, utcnow()
    session.add(job)
    session.flush()
    return job


def claim_due_job_runs(*, session: Session, limit: int = CLAIM_BATCH_SIZE) -> list[JobRun]:
    """Mark due rows as enqueued and return them. Two ticks never claim the same row."""
    now = utcnow()
    due = or_(
        and_(JobRun.status == JobStatus.PENDING, col(JobRun.due_at) <= now),
        and_(
            JobRun.status == JobStatus.ENQUEUED,
            col(JobRun.claimed_at) <= now - STALE_ENQUEUED_AFTER,
        ),
    )
    query = select(JobRun.id).where(due).order_by(JobRun.due_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.exec(query))
    if not ids:
        return []
    # The status re-check makes the claim safe on SQLite, which has no row locks.
    session.exec(
        update(JobRun)
        .where(col(JobRun.id).in_(ids), due)
        .values(status=JobStatus.ENQUEUED, claimed_at=now)
    )
    session.commit()
    claimed = select(JobRun).where(col(JobRun.id).in_(ids), JobRun.claimed_at == now)
    return list(session.exec(claimed))


def release_job_run(*, session: Session, job_id: uuid.UUID) -> None:
    """Hand a claimed row back to the tick (the enqueue failed)."""
    session.exec(
        update(JobRun)
        .where(col(JobRun.id) == job_id, JobRun.status == JobStatus.ENQUEUED)
        .values(status=JobStatus.PENDING, claimed_at=None)
    )
    session.commit()


def start_job_run(*, session: Session, job_id: uuid.UUID) -> JobRun | None:
    """Move the row to running; None when it already finished (a redelivered message)."""
    job = session.get(JobRun, job_id)
    if job is None or job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        return None
    job.status = JobStatus.RUNNING
    job.attempts += 1
    job.started_at = utcnow()
    job.error = ""
    session.add(job)
    session.commit()
    return job


def report_progress(
    *, session: Session, job_id: uuid.UUID, done: int, total: int, message: str = ""
) -> None:
    session.exec(
        update(JobRun)
        .where(col(JobRun.id) == job_id)
        .values(done=done, total=total, message=message[:500])
    )
    session.commit()


def store_result(*, session: Session, job_id: uuid.UUID, result: dict[str, Any]) -> None:
    session.exec(update(JobRun).where(col(JobRun.id) == job_id).values(result=result))
    session.commit()


def finish_job_run(*, session: Session, job_id: uuid.UUID, message: str = "Done") -> None:
    job = session.get(JobRun, job_id)
    if job is None:
        return
    job.status = JobStatus.SUCCEEDED
    job.done = max(job.done, job.total)
    job.message = message[:500]
    job.finished_at = utcnow()
    session.add(job)
    session.commit()


def fail_job_run(*, session: Session, job_id: uuid.UUID, error: str, retry: bool) -> None:
    """Record a failure; a retryable one goes back to pending until attempts run out."""
    session.rollback()
    job = session.get(JobRun, job_id)
    if job is None:
        return
    job.error = error[:2000]
    if retry and job.attempts < MAX_ATTEMPTS:
        job.status = JobStatus.PENDING
        job.due_at = utcnow() + timedelta(seconds=30 * job.attempts)
    else:
        job.status = JobStatus.FAILED
        job.finished_at = utcnow()
    session.add(job)
    session.commit()


def get_job_run(*, session: Session, tenant_id: uuid.UUID | None, job_id: uuid.UUID) -> JobRun:
    job = session.get(JobRun, job_id)
    if job is None or job.tenant_id != tenant_id:
        raise NotFound("Job not found.")
    return job


def list_job_runs(*, session: Session, tenant_id: uuid.UUID, limit: int = 20) -> list[JobRun]:
    query = select(JobRun).where(JobRun.tenant_id == tenant_id)
    return list(session.exec(query.order_by(col(JobRun.created_at).desc()).limit(limit)))


def progress_percent(job: JobRun) -> int:
    if job.status == JobStatus.SUCCEEDED:
        return 100
    if job.total <= 0:
        return 0
    return min(100, int(job.done * 100 / job.total))
