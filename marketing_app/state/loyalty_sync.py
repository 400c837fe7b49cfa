"""The Loyalty page's sync tab: per provider the last sync, last error and counts, the recent
provider calls, and "Sync now" with a progress bar that follows the job."""

from __future__ import annotations

import reflex as rx

from jobs.dispatch import enqueue_job_run
from marketing_app.db import session_scope
from marketing_app.models import Role
from marketing_app.services.job_runs import ACTIVE_STATUSES
from marketing_app.services.loyalty_sync_runs import request_sync
from marketing_app.services.loyalty_sync_status import (
    ProviderSyncStatus,
    SyncJobStatus,
    sync_status,
)
from marketing_app.services.provider_calls import recent_calls
from marketing_app.state.segments_common import JobView, job_view, poll_while_active, when
from marketing_app.state.session import SessionState

CALLS_SHOWN = 50
PROVIDER_NAMES = {"alleaves": "Alleaves POS", "alpineiq": "Alpine IQ"}


def _counts(counts: dict[str, int]) -> str:
    shown = [f"{value:,} {name.replace('_', ' ')}" for name, value in counts.items() if value]
    return " · ".join(shown) or "—"


def _provider_row(status: ProviderSyncStatus) -> dict[str, str]:
    return {
        "provider": PROVIDER_NAMES.get(status.provider, status.provider),
        "connected": "connected" if status.configured else "not connected",
        "last_synced": when(status.last_synced_at),
        "last_attempt": when(status.last_attempt_at),
        "error": status.last_error or "",
        "counts": _counts(status.counts),
        "skipped": "; ".join(status.skip_reasons[:3]),
    }


def _job(job: SyncJobStatus) -> JobView:
    return JobView(
        id=str(job.id),
        label=f"Sync started {when(job.created_at)}",
        status=job.status,
        percent=job.percent,
        message=job.message,
        error=job.error,
        active=job.status in ACTIVE_STATUSES,
    )


class LoyaltySyncState(SessionState):
    sync_loaded: bool = False
    configured: bool = False
    providers: list[dict[str, str]] = []
    calls: list[dict[str, str]] = []
    job: JobView = JobView()
    watching: bool = False

    @rx.var
    def has_job(self) -> bool:
        return self.job.id != ""

    @rx.event
    def load(self):
        self.sync_loaded = False
        if self.page_error or not self.tenant_role:
            return
        self.job = JobView()
        running = self._refresh()
        self.sync_loaded = True
        if running:
            return LoyaltySyncState.watch

    def _refresh(self) -> bool:
        """Re-read the status and the calls; True while a sync runs."""
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            status = sync_status(session=session, tenant_id=tenant.id)
            calls = recent_calls(session=session, tenant_id=tenant.id, limit=CALLS_SHOWN)
        self.configured = status.configured
        self.providers = [_provider_row(status.pos), _provider_row(status.alpineiq)]
        self.calls = [
            {
                "when": when(c.created_at),
                "provider": PROVIDER_NAMES.get(c.provider, c.provider),
                "call": f"{c.method} {c.route}",
                "status": "—" if c.status_code is None else str(c.status_code),
                "ms": f"{c.duration_ms:,}",
                "outcome": c.outcome,
                "detail": c.detail,
            }
            for c in calls
        ]
        if status.job is not None:
            self.job = _job(status.job)
        return status.running

    @rx.event(background=True)
    async def watch(self):
        await poll_while_active(self, "watching", "_refresh")

    @rx.event
    def sync_now(self):
        created: list[bool] = []

        def change(session, tenant):
            job, is_new = request_sync(session=session, tenant_id=tenant.id, enqueue_now=True)
            created.append(is_new)
            return job

        job, error = self._change_as(Role.MARKETER, "loyalty.sync", "job", change)
        if error:
            return rx.toast.error(error.message)
        if created[0]:
            enqueue_job_run(job.id)
        self.job = job_view(job)
        return [rx.toast.info("Syncing in the background."), LoyaltySyncState.watch]
