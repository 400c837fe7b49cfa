"""CSV import from the Customers page: upload, watch the progress bar, read the report."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from jobs.dispatch import enqueue_job_run
from marketing_app.db import session_scope
from marketing_app.models import Role
from marketing_app.services import access, csv_import, job_runs
from marketing_app.state.session import SessionState

UPLOAD_ID = "customer-csv"
POLL_SECONDS = 1.0
MAX_WATCH_SECONDS = 1800


class CustomerImportState(SessionState):
    job: dict[str, Any] = {}
    rejected: list[dict[str, str]] = []
    rejected_count: int = 0
    watching: bool = False

    @rx.var
    def has_job(self) -> bool:
        return bool(self.job)

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        if not files:
            return rx.toast.error("Choose a CSV file first.")
        content = await files[0].read()
        filename = files[0].name or "customers.csv"
        job, error = self._change_as(
            Role.MARKETER,
            "customers.import",
            "job",
            lambda session, tenant: csv_import.start_customer_import(
                session=session, tenant_id=tenant.id, filename=filename, content=content
            ),
        )
        if error:
            return rx.toast.error(error.message)
        enqueue_job_run(job.id)
        self.rejected, self.rejected_count = [], 0
        self._show(job.id)
        return [rx.clear_selected_files(UPLOAD_ID), CustomerImportState.watch]

    def _show(self, job_id) -> bool:
        """Refresh the job's view; True while it is still running."""
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            job = job_runs.get_job_run(session=session, tenant_id=tenant.id, job_id=job_id)
        self.job = {
            "id": str(job.id),
            "label": job.label,
            "status": job.status,
            "percent": job_runs.progress_percent(job),
            "message": job.message,
            "error": job.error,
        }
        report = job.result or {}
        self.rejected = [
            {"line": str(r["line"]), "email": r.get("email", ""), "reason": r["reason"]}
            for r in report.get("rejected", [])
        ]
        self.rejected_count = int(report.get("rejected_count", 0))
        return job.status in job_runs.ACTIVE_STATUSES

    @rx.event(background=True)
    async def watch(self):
        async with self:
            if self.watching or not self.job:
                return
            self.watching = True
        try:
            for _ in range(int(MAX_WATCH_SECONDS / POLL_SECONDS)):
                await asyncio.sleep(POLL_SECONDS)
                async with self:
                    if not self._show(access.parse_id(self.job["id"])):
                        break
        finally:
            async with self:
                self.watching = False
