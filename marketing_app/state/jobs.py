"""Background jobs of a tenant: start sample-data generation and watch progress bars move."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from jobs.dispatch import enqueue_job_run
from marketing_app.db import session_scope
from marketing_app.domain.errors import DomainError
from marketing_app.models import Role
from marketing_app.services import job_runs
from marketing_app.services.audit import record_audit
from marketing_app.services.demo_profiles import PROFILES
from marketing_app.state.session import SessionState

POLL_SECONDS = 1.0
MAX_WATCH_SECONDS = 900  # stop polling a tab left open; reloading the page resumes it
SAMPLE_SCALES = {"small": 0.1, "medium": 0.5, "full": 1.0}


class JobsState(SessionState):
    jobs: list[dict[str, Any]] = []
    watching: bool = False
    business_kinds: list[str] = sorted(PROFILES)

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
        kind = str(form.get("kind", "")) or "dispensary"
        scale = SAMPLE_SCALES.get(str(form.get("size", "small")), 0.1)
        try:
            user, tenant = self._authorize(Role.OWNER)
            if kind not in PROFILES:
                raise DomainError("Choose a business kind.")
            with session_scope() as session:
                job = job_runs.create_job_run(
                    session=session,
                    tenant_id=tenant.id,
                    kind="demo_data",
                    label=f"Sample data: {kind}, {form.get('size', 'small')}",
                    params={
                        "kind": kind,
                        "scale": scale,
                        "email_domain": f"{tenant.slug}.sample.example.com",
                    },
                    enqueue_now=True,
                )
                record_audit(
                    session=session,
                    tenant_id=tenant.id,
                    actor_user_id=user.id,
                    actor_label=user.email,
                    action="job.start",
                    target_type="job",
                    target_id=str(job.id),
                )
        except DomainError as exc:
            return rx.toast.error(exc.message)
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
