"""Background jobs of a tenant: start sample-data generation and watch progress bars move."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from jobs.dispatch import enqueue_job_run
from marketing_app.db import session_scope
from marketing_app.models import Role
from marketing_app.services import job_runs, sample_data
from marketing_app.state.session import SessionState

POLL_SECONDS = 1.0
MAX_WATCH_SECONDS = 900  # stop polling a tab left open; reloading the page resumes it


class JobsState(SessionState):
    jobs: list[dict[str, Any]] = []
    watching: bool = False
    business_kinds: list[str] = sample_data.BUSINESS_KINDS

    def _refresh(self) -> bool:
        """Reload recent jobs; True while any is still active."""
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            rows = job_runs.list_job_runs(session=session, tenant_id=tenant.id, limit=10)
        self.jobs = [
            {
                "id": str(j.id),
                "label": j.label,
                "status": j.status,
                "percent": job_runs.progress_percent(j),
                "done": j.done,
                "total": j.total,
                "message": j.message,
                "error": j.error,
            }
            for j in rows
        ]
        return any(j.status in job_runs.ACTIVE_STATUSES for j in rows)

    @rx.event
    def load(self):
        if self.page_error or not self.tenant_role:
            return
        if self._refresh():
            return JobsState.watch

    @rx.event
    def start_sample_data(self, form: dict[str, Any]):
        job, error = self._change_as(
            Role.OWNER,
            "job.start",
            "job",
            lambda session, tenant: sample_data.request_sample_data(
                session=session,
                tenant_id=tenant.id,
                tenant_slug=tenant.slug,
                kind=str(form.get("kind", "")),
                size=str(form.get("size", "")),
            ),
        )
        if error:
            return rx.toast.error(error.message)
        enqueue_job_run(job.id)
        self._refresh()
        return [rx.toast.info("Generating sample data in the background."), JobsState.watch]

    @rx.event(background=True)
    async def watch(self):
        async with self:
            if self.watching:
                return
            self.watching = True
        try:
            for _ in range(int(MAX_WATCH_SECONDS / POLL_SECONDS)):
                await asyncio.sleep(POLL_SECONDS)
                async with self:
                    if not self._refresh():
                        break
        finally:
            async with self:
                self.watching = False
