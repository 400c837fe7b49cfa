"""Pieces the segment pages share: job views, polling while jobs run, names of the tenant's
locations, staff and segments, and display formats."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from marketing_app.models import JobRun, Location, StaffMember
from marketing_app.models.segments import SegmentKind
from marketing_app.services import job_runs, segments

POLL_SECONDS = 1.0
MAX_WATCH_SECONDS = 1800  # a tab left open stops polling; reloading the page resumes it
SEGMENT_JOB_KINDS = ("segment_recompute", "csv_import")


@dataclasses.dataclass
class JobView:
    """What the shared progress bar shows of a job run."""

    id: str = ""
    label: str = ""
    status: str = ""
    percent: int = 0
    message: str = ""
    error: str = ""
    active: bool = False


@dataclasses.dataclass
class Choice:
    value: str = ""
    label: str = ""


def job_view(job: JobRun | None) -> JobView:
    if job is None:
        return JobView()
    return JobView(
        id=str(job.id),
        label=job.label,
        status=job.status,
        percent=job_runs.progress_percent(job),
        message=job.message,
        error=job.error,
        active=job.status in job_runs.ACTIVE_STATUSES,
    )


def latest_jobs_by_segment(session: Session, tenant_id: uuid.UUID) -> dict[int, JobRun]:
    """The newest recompute or list-import job of each segment, among the recent jobs."""
    latest: dict[int, JobRun] = {}
    for job in job_runs.list_job_runs(session=session, tenant_id=tenant_id, limit=100):
        key = job.params.get("segment_id") or job.params.get("list_id")
        if job.kind in SEGMENT_JOB_KINDS and key and int(key) not in latest:
            latest[int(key)] = job
    return latest


def when(value: datetime | None, never: str = "never") -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else never


def money(value: float) -> str:
    return f"${value:,.2f}"


def member_row(row: dict[str, Any]) -> dict[str, str]:
    """A segments-service profile row as table cells."""
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "email": row["email"] or row["phone"] or "—",
        "orders": str(row["order_count"]),
        "orders_text": f"{row['order_count']} order{'' if row['order_count'] == 1 else 's'}",
        "spent": money(row["total_spent"]),
        "last_order": row["last_order_at"][:10] or "—",
    }


def place_choices(session: Session, tenant_id: uuid.UUID) -> tuple[list[Choice], list[Choice]]:
    """The tenant's locations and staff members, as (id, name) choices."""
    locations = session.exec(
        select(Location).where(Location.tenant_id == tenant_id).order_by(Location.name)
    )
    staff = session.exec(
        select(StaffMember).where(StaffMember.tenant_id == tenant_id).order_by(StaffMember.name)
    )
    return (
        [Choice(str(loc.id), loc.name) for loc in locations],
        [Choice(str(s.id), f"{s.name} ({s.role.replace('_', ' ')})") for s in staff],
    )


def segment_choices(
    session: Session, tenant_id: uuid.UUID, exclude: int | None = None
) -> list[Choice]:
    return [
        Choice(str(s.id), s.name + (" (static list)" if s.kind == SegmentKind.STATIC else ""))
        for s in segments.list_segments(session=session, tenant_id=tenant_id)
        if s.id != exclude
    ]


def id_names(session: Session, tenant_id: uuid.UUID) -> dict[str, dict[str, str]]:
    """Ids to names for telling a definition in words."""
    locations, staff = place_choices(session, tenant_id)
    return {
        "location": {c.value: c.label for c in locations},
        "staff": {c.value: c.label for c in staff},
        "segment": {c.value: c.label for c in segment_choices(session, tenant_id)},
    }


async def poll_while_active(state: Any, flag: str, refresh: str) -> None:
    """Call the state's method `refresh` (under the state lock) every second until it answers
    False (nothing running). `flag` names a bool var that keeps a second loop from starting.

    Names, not bound methods: each `async with` of a background task may hand in a fresh
    copy of the state, so the method is looked up again every time."""
    async with state:
        if getattr(state, flag):
            return
        setattr(state, flag, True)
    try:
        for _ in range(int(MAX_WATCH_SECONDS / POLL_SECONDS)):
            await asyncio.sleep(POLL_SECONDS)
            async with state:
                if not getattr(state, refresh)():
                    break
    finally:
        async with state:
            setattr(state, flag, False)
