"""A segment's page and a static list's page: members, recalculation, export, delete."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import reflex as rx

from jobs.dispatch import enqueue_job_run
from marketing_app import routes
from marketing_app.db import session_scope
from marketing_app.domain.errors import NotFound
from marketing_app.models import Role
from marketing_app.models.segments import SegmentKind
from marketing_app.services import profiles, segments, static_lists
from marketing_app.state import segments_form_words as words
from marketing_app.state.segments_common import (
    JobView,
    id_names,
    job_view,
    latest_jobs_by_segment,
    member_row,
    poll_while_active,
    when,
)
from marketing_app.state.session import SessionState

PAGE_SIZE = 25
LIST_UPLOAD_ID = "list-csv"


def csv_filename(name: str) -> str:
    return (re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "segment") + ".csv"


class SegmentPageState(rx.State, mixin=True):
    """What a segment's page and a static list's page share. A mixin, so each page's state
    gets its own copy of these vars and handlers (an inherited handler would run on the
    parent state, which knows neither page); mixed into a SessionState subclass."""

    segment: dict[str, str] = {}
    members: list[dict[str, str]] = []
    page: int = 1
    total: int = 0
    job: JobView = JobView()
    watching: bool = False
    delete_open: bool = False
    delete_error: str = ""
    loaded: bool = False

    KIND: ClassVar[str] = SegmentKind.DYNAMIC
    PATH_INDEX: ClassVar[int] = 3  # where the id sits in the URL

    @rx.var
    def pages(self) -> int:
        return max(1, (self.total + PAGE_SIZE - 1) // PAGE_SIZE)

    @rx.var
    def has_job(self) -> bool:
        return self.job.id != ""

    @rx.var
    def job_active(self) -> bool:
        return self.job.active

    def _segment_id(self) -> int:
        return int(self.segment.get("id", "0"))

    @rx.event
    def load(self):
        self.loaded = False
        if self.page_error or not self.tenant_role:
            return
        self.page, self.delete_open, self.delete_error = 1, False, ""
        self.job = JobView()
        try:
            part = routes.path_part(self.router.url.path, self.PATH_INDEX)
            self.segment = {"id": str(int(part))}
            active = self._refresh()
        except (NotFound, ValueError):
            self.page_error = "not_found"
            return
        self.loaded = True
        if active:
            return type(self).watch

    def _describe(self, session, tenant_id, segment) -> dict[str, str]:
        return {
            "id": str(segment.id),
            "name": segment.name,
            "description": segment.description,
            "members": f"{segment.member_count:,}",
            "computed": when(segment.computed_at),
            "stale": (
                "never"
                if segment.computed_at is None
                else "changed"
                if segment.computed_version < segment.version
                else ""
            ),
        }

    def _refresh(self) -> bool:
        """Reload the segment, its members and its job; True while the job runs."""
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            segment = segments.get_segment(
                session=session, tenant_id=tenant.id, segment_id=self._segment_id()
            )
            if segment.kind != self.KIND:
                raise NotFound("Not this kind of segment.")
            self.segment = self._describe(session, tenant.id, segment)
            rows, self.total = segments.segment_members(
                session=session,
                tenant_id=tenant.id,
                segment_id=segment.id,
                limit=PAGE_SIZE,
                offset=(self.page - 1) * PAGE_SIZE,
            )
            self.members = [member_row(r) for r in rows]
            job = latest_jobs_by_segment(session, tenant.id).get(segment.id)
            if job is not None:
                self._show_job(job)
        return self.job.active

    def _show_job(self, job) -> None:
        self.job = job_view(job)

    @rx.event(background=True)
    async def watch(self):
        await poll_while_active(self, "watching", "_refresh")

    @rx.event
    def page_by(self, step: int):
        self.page = min(max(1, self.page + step), self.pages)
        self._refresh()

    @rx.event
    def export_csv(self):
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            data = static_lists.export_members_csv(
                session=session, tenant_id=tenant.id, segment_id=self._segment_id()
            )
        return rx.download(data=data, filename=csv_filename(self.segment.get("name", "")))

    @rx.event
    def set_delete_open(self, value: bool):
        self.delete_open, self.delete_error = value, ""

    @rx.event
    def delete(self):
        segment_id = self._segment_id()

        def change(session, tenant):
            segments.delete_segment(session=session, tenant_id=tenant.id, segment_id=segment_id)
            return segment_id

        _, error = self._change_as(Role.MARKETER, "segment.delete", "segment", change)
        if error:
            self.delete_error = error.message
            return
        self.delete_open = False
        return [
            rx.toast.success(f"Deleted {self.segment.get('name', '')}."),
            rx.redirect(routes.segments_url(self.current_slug)),
        ]


class SegmentDetailState(SegmentPageState, SessionState):
    heading: str = ""
    lines: list[str] = []

    @rx.var
    def edit_href(self) -> str:
        return routes.segment_edit_url(self.current_slug, self.segment.get("id", "0"))

    def _describe(self, session, tenant_id, segment) -> dict[str, str]:
        self.heading = words.definition_heading(segment.definition)
        self.lines = words.definition_lines(segment.definition, id_names(session, tenant_id))
        return super()._describe(session, tenant_id, segment)

    @rx.event
    def recalculate(self):
        segment_id = self._segment_id()

        def change(session, tenant):
            segment = segments.get_segment(
                session=session, tenant_id=tenant.id, segment_id=segment_id
            )
            return segments.recompute_job(session=session, segment=segment)

        job, error = self._change_as(Role.MARKETER, "segment.recalculate", "job", change)
        if error:
            return rx.toast.error(error.message)
        enqueue_job_run(job.id)
        self._show_job(job)
        return SegmentDetailState.watch


class StaticListState(SegmentPageState, SessionState):
    """A static list: members added by hand or CSV, removed by hand."""

    search: str = ""
    results: list[dict[str, str]] = []
    rejected: list[dict[str, str]] = []
    rejected_count: int = 0
    KIND: ClassVar[str] = SegmentKind.STATIC
    PATH_INDEX: ClassVar[int] = 4

    @rx.event
    def load(self):
        self.search, self.results, self.rejected, self.rejected_count = "", [], [], 0
        return super().load()

    def _show_job(self, job) -> None:
        super()._show_job(job)
        report: dict[str, Any] = job.result or {}
        self.rejected = [
            {"line": str(r["line"]), "email": r.get("email", ""), "reason": r["reason"]}
            for r in report.get("rejected", [])
        ]
        self.rejected_count = int(report.get("rejected_count", 0))

    @rx.event
    def set_search(self, value: str):
        self.search = value[:200]
        if len(self.search.strip()) < 2:
            self.results = []
            return
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            found, _ = profiles.search_profiles(
                session=session, tenant_id=tenant.id, search=self.search, limit=8
            )
        self.results = [
            {
                "id": str(c.id),
                "name": f"{c.first_name} {c.last_name}".strip() or "(no name)",
                "email": c.email or c.phone or "",
            }
            for c in found
        ]

    def _change_members(self, contact_id: str, add: bool):
        segment_id = self._segment_id()
        change_members = static_lists.add_members if add else static_lists.remove_members

        def change(session, tenant):
            return change_members(
                session=session,
                tenant_id=tenant.id,
                list_id=segment_id,
                contact_ids=[int(contact_id)],
            )

        action = "list.add_member" if add else "list.remove_member"
        changed, error = self._change_as(Role.MARKETER, action, "contact", change)
        if error:
            return rx.toast.error(error.message)
        self._refresh()
        if add:
            return rx.toast.success("Added." if changed else "Already on the list.")
        return rx.toast.success("Removed." if changed else "Not on the list.")

    @rx.event
    def add_member(self, contact_id: str):
        return self._change_members(contact_id, add=True)

    @rx.event
    def remove_member(self, contact_id: str):
        return self._change_members(contact_id, add=False)

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        if not files:
            return rx.toast.error("Choose a CSV file first.")
        content = await files[0].read()
        filename = files[0].name or "list.csv"
        segment_id = self._segment_id()
        job, error = self._change_as(
            Role.MARKETER,
            "list.import",
            "job",
            lambda session, tenant: static_lists.start_list_import(
                session=session,
                tenant_id=tenant.id,
                list_id=segment_id,
                filename=filename,
                content=content,
            ),
        )
        if error:
            return rx.toast.error(error.message)
        enqueue_job_run(job.id)
        self._show_job(job)
        self.rejected, self.rejected_count = [], 0
        return [rx.clear_selected_files(LIST_UPLOAD_ID), StaticListState.watch]
