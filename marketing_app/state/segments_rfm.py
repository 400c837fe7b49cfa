"""RFM: customers per recency/frequency/monetary group, and recalculating the scores."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import reflex as rx

from jobs.dispatch import enqueue_job_run
from marketing_app.components.charts import rfm_groups_figure
from marketing_app.db import session_scope
from marketing_app.models import Role
from marketing_app.services import job_runs, rfm, segment_schedule
from marketing_app.state.segments_common import JobView, job_view, poll_while_active, when
from marketing_app.state.session import SessionState


class RfmState(SessionState):
    groups: list[dict[str, Any]] = []
    computed: str = ""  # "" until the first calculation
    scored: int = 0
    job: JobView = JobView()
    watching: bool = False
    loaded: bool = False

    @rx.var
    def figure(self) -> go.Figure:
        return rfm_groups_figure(self.groups)

    @rx.var
    def has_job(self) -> bool:
        return self.job.id != ""

    @rx.event
    def load(self):
        self.loaded = False
        if self.page_error or not self.tenant_role:
            return
        self.job = JobView()
        active = self._refresh()
        self.loaded = True
        if active:
            return RfmState.watch

    def _refresh(self) -> bool:
        """Reload the groups and the latest RFM job; True while it runs."""
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            summary = rfm.rfm_summary(session=session, tenant_id=tenant.id)
            self.computed = when(rfm.last_computed(session=session, tenant_id=tenant.id), "")
            recent = job_runs.list_job_runs(session=session, tenant_id=tenant.id, limit=50)
            job = next((j for j in recent if j.kind == "rfm_compute"), None)
        self.scored = sum(g["customers"] for g in summary)
        self.groups = [
            {
                **g,
                "count": f"{g['customers']:,}",
                "share": f"{100 * g['customers'] / self.scored:.0f}%" if self.scored else "0%",
            }
            for g in summary
        ]
        if job is not None:
            self.job = job_view(job)
        return self.job.active

    @rx.event(background=True)
    async def watch(self):
        await poll_while_active(self, "watching", "_refresh")

    @rx.event
    def recalculate(self):
        job, error = self._change_as(
            Role.MARKETER,
            "rfm.recalculate",
            "job",
            lambda session, tenant: segment_schedule.rfm_job(session=session, tenant_id=tenant.id),
        )
        if error:
            return rx.toast.error(error.message)
        enqueue_job_run(job.id)
        self.job = job_view(job)
        return RfmState.watch
