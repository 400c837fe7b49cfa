"""The provider call log: one `ProviderCall` row per HTTP attempt a sync made, and its reads.

`CallLog` is the clients' `on_call` callback. Clients call it from their paging threads, so it
only buffers (under a lock); the sync writes the buffer with `flush(session)` on its own thread
at page boundaries and at the end, in one set-based INSERT. A row keeps the route template
("/api/v2/loyalty/lookup/{pii}"), never the filled-in path, and its detail passes through
`scrub`, so no phone number, email address or key reaches the log.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from marketing_app.models import ProviderCall
from marketing_app.models.base import utcnow
from marketing_app.providers.http import ProviderCall as HttpCall
from marketing_app.services.bulk import insert_ignoring_duplicates

RETENTION_DAYS = 30  # calls older than this are pruned by the daily schedule
DETAIL_LENGTH = 200  # characters of detail kept per call
# Calls a sync buffers before a page writes them (three round trips a write); the rest at its end.
FLUSH_EVERY = 50
MAX_LIMIT = 500  # rows one read returns at most
_EMAIL = re.compile(r"[^\s@'\"<>()]+@[^\s@'\"<>()]+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")  # 7+ digits, however punctuated
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,}")  # API keys, bearer tokens, long ids


def scrub(text: str | None, length: int = DETAIL_LENGTH) -> str:
    """`text` without email addresses, phone-like numbers or key-like tokens, shortened."""
    if not text:
        return ""
    text = _EMAIL.sub("<email>", text)
    text = _PHONE.sub("<number>", text)
    text = _TOKEN.sub("<redacted>", text)
    return text[:length]


class CallLog:
    """Buffers the calls of one sync run (tenant, job) until `flush` writes them; `forward`
    (another recorder, e.g. a benchmark's counter) sees each call too."""

    def __init__(
        self,
        *,
        tenant_id: uuid.UUID,
        job_id: uuid.UUID | None = None,
        forward: Callable[[HttpCall], None] | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.job_id = job_id
        self.forward = forward
        self.calls = 0  # attempts seen, retries included
        self.rate_limited = 0  # of which the provider answered 429
        self._rows: list[dict] = []
        self._lock = threading.Lock()

    def __call__(self, call: HttpCall) -> None:
        detail = scrub(call.error)
        if call.attempt > 1:
            detail = f"attempt {call.attempt}" + (f": {detail}" if detail else "")
        row = {
            "tenant_id": self.tenant_id,
            "provider": call.provider[:40],
            "job_id": self.job_id,
            "method": call.method[:10],
            "route": call.route[:200],
            "status_code": call.status,
            "duration_ms": round(call.duration_ms),
            "outcome": str(call.outcome)[:40],
            "detail": detail,
            "created_at": utcnow(),
        }
        with self._lock:
            self._rows.append(row)
            self.calls += 1
            self.rate_limited += call.status == 429
        if self.forward is not None:
            self.forward(call)

    def flush(self, session: Session, *, at_least: int = 1) -> int:
        """Write the buffered calls in the caller's transaction once there are `at_least`;
        returns how many were written."""
        with self._lock:
            if len(self._rows) < at_least:
                return 0
            rows, self._rows = self._rows, []
        insert_ignoring_duplicates(session=session, model=ProviderCall, rows=rows, copy_key="route")
        return len(rows)


@dataclass(frozen=True)
class CallLine:
    """One logged call, as the sync status page and the API show it."""

    id: int
    provider: str
    job_id: uuid.UUID | None
    method: str
    route: str
    status_code: int | None
    duration_ms: int
    outcome: str
    detail: str
    created_at: datetime


def recent_calls(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    provider: str | None = None,
    job_id: uuid.UUID | None = None,
    limit: int = 50,
) -> list[CallLine]:
    """The tenant's latest calls, newest first (of one provider and/or sync run)."""
    query = select(ProviderCall).where(ProviderCall.tenant_id == tenant_id)
    if provider is not None:
        query = query.where(ProviderCall.provider == provider)
    if job_id is not None:
        query = query.where(ProviderCall.job_id == job_id)
    limit = min(max(int(limit), 1), MAX_LIMIT)
    rows = session.exec(query.order_by(col(ProviderCall.id).desc()).limit(limit))
    return [
        CallLine(
            id=row.id,
            provider=row.provider,
            job_id=row.job_id,
            method=row.method,
            route=row.route,
            status_code=row.status_code,
            duration_ms=row.duration_ms,
            outcome=row.outcome,
            detail=row.detail,
            created_at=row.created_at,
        )
        for row in rows
    ]


def prune_calls(
    *, session: Session, older_than: timedelta = timedelta(days=RETENTION_DAYS), now=None
) -> int:
    """Delete every tenant's calls older than `older_than`; returns how many went."""
    cutoff = (now or utcnow()) - older_than
    result = session.exec(delete(ProviderCall).where(col(ProviderCall.created_at) < cutoff))
    return result.rowcount or 0
