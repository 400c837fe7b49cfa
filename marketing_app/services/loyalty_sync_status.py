"""What the sync status page shows: per provider whether it is connected, when it last synced,
its last error and counts; and the running (else the last) whole-tenant sync job."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from marketing_app.models import JobRun
from marketing_app.services.job_runs import ACTIVE_STATUSES, progress_percent
from marketing_app.services.loyalty_aiq_account import PROVIDER as ALPINEIQ
from marketing_app.services.loyalty_sync_runs import SYNC_JOB_KIND, configured_providers
from marketing_app.services.loyalty_sync_state import ALLEAVES, sync_state

RECENT_JOBS = 20  # sync jobs looked at to find the last whole-tenant one


@dataclass(frozen=True)
class ProviderSyncStatus:
    provider: str
    configured: bool
    last_synced_at: datetime | None  # the start of the last successful sync
    last_attempt_at: datetime | None
    last_error: str | None  # of the last attempt; None when it succeeded
    counts: dict[str, int] = field(default_factory=dict)
    skip_reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SyncJobStatus:
    id: uuid.UUID
    status: str
    percent: int
    done: int
    total: int
    message: str
    error: str
    created_at: datetime
    finished_at: datetime | None
    result: dict[str, Any]


@dataclass(frozen=True)
class LoyaltySyncStatus:
    pos: ProviderSyncStatus
    alpineiq: ProviderSyncStatus
    alpineiq_program: dict[str, Any] | None  # Alpine IQ's settings as last read
    alpineiq_program_error: str | None
    job: SyncJobStatus | None  # the running whole-tenant sync, else the last one
    running: bool

    @property
    def configured(self) -> bool:
        return self.pos.configured or self.alpineiq.configured


def _time(raw: Any) -> datetime | None:
    return datetime.fromisoformat(raw) if isinstance(raw, str) and raw else None


def _provider(provider: str, configured: bool, state: dict[str, Any]) -> ProviderSyncStatus:
    return ProviderSyncStatus(
        provider=provider,
        configured=configured,
        last_synced_at=_time(state.get("last_synced_at")),
        last_attempt_at=_time(state.get("last_attempt_at")),
        last_error=state.get("last_error"),
        counts=dict(state.get("counts") or {}),
        skip_reasons=list(state.get("skip_reasons") or []),
    )


def _job(session: Session, tenant_id: uuid.UUID) -> JobRun | None:
    jobs = session.exec(
        select(JobRun)
        .where(JobRun.tenant_id == tenant_id, JobRun.kind == SYNC_JOB_KIND)
        .order_by(col(JobRun.created_at).desc())
        .limit(RECENT_JOBS)
    ).all()
    tenant_wide = [job for job in jobs if not (job.params or {}).get("contact_id")]
    running = [job for job in tenant_wide if job.status in ACTIVE_STATUSES]
    return (running or tenant_wide or [None])[0]


def _job_status(job: JobRun) -> SyncJobStatus:
    return SyncJobStatus(
        id=job.id,
        status=job.status,
        percent=progress_percent(job),
        done=job.done,
        total=job.total,
        message=job.message,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        result=dict(job.result or {}),
    )


def sync_status(*, session: Session, tenant_id: uuid.UUID) -> LoyaltySyncStatus:
    """The tenant's loyalty sync as the status page shows it."""
    state = sync_state(session=session, tenant_id=tenant_id)
    aiq = dict(state.get(ALPINEIQ) or {})
    configured = configured_providers(session=session, tenant_id=tenant_id)
    job = _job(session, tenant_id)
    return LoyaltySyncStatus(
        pos=_provider(ALLEAVES, ALLEAVES in configured, state),
        alpineiq=_provider(ALPINEIQ, ALPINEIQ in configured, aiq),
        alpineiq_program=aiq.get("program"),
        alpineiq_program_error=aiq.get("program_error"),
        job=_job_status(job) if job is not None else None,
        running=job is not None and job.status in ACTIVE_STATUSES,
    )
