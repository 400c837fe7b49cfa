"""The Segments page: the tenant's segments and static lists, presets, new static lists."""

from __future__ import annotations

import dataclasses

import reflex as rx

from jobs.dispatch import enqueue_job_run
from marketing_app import routes
from marketing_app.db import session_scope
from marketing_app.models import Role
from marketing_app.models.segments import SegmentKind
from marketing_app.services import segment_presets, segments
from marketing_app.state.segments_common import (
    Choice,
    JobView,
    job_view,
    latest_jobs_by_segment,
    place_choices,
    poll_while_active,
    when,
)
from marketing_app.state.session import SessionState

PAGE_SIZE = 25


@dataclasses.dataclass
class SegmentRow:
    id: str = ""
    name: str = ""
    description: str = ""
    kind: str = ""  # "Segment" or "Static list"
    members: str = ""
    computed: str = ""
    href: str = ""
    job: JobView = dataclasses.field(default_factory=JobView)


@dataclasses.dataclass
class PresetCard:
    key: str = ""
    title: str = ""
    description: str = ""
    param: str = ""  # "" | number | text | location | staff
    label: str = ""


PRESET_CARDS = [
    PresetCard(
        p.key,
        p.title,
        p.description,
        p.parameter.kind if p.parameter else "",
        p.parameter.label if p.parameter else "",
    )
    for p in segment_presets.PRESETS
]
PRESET_DEFAULTS = {
    p.key: "" if p.parameter is None or p.parameter.default is None else str(p.parameter.default)
    for p in segment_presets.PRESETS
}
# How a preset's value reads in the new segment's name.
NAME_FORMATS = {"amount": "${}+", "days": "{} days"}


def _row(segment, slug: str, job) -> SegmentRow:
    static = segment.kind == SegmentKind.STATIC
    href = (
        routes.static_list_url(slug, segment.id) if static else routes.segment_url(slug, segment.id)
    )
    return SegmentRow(
        id=str(segment.id),
        name=segment.name,
        description=segment.description,
        kind="Static list" if static else "Segment",
        members=f"{segment.member_count:,}",
        computed=when(segment.computed_at),
        href=href,
        job=job_view(job),
    )


def unique_name(taken: set[str], name: str) -> str:
    lowered = {t.lower() for t in taken}
    candidate, n = name[:190], 2
    while candidate.lower() in lowered:
        candidate, n = f"{name[:185]} ({n})", n + 1
    return candidate


class SegmentsState(SessionState):
    rows: list[SegmentRow] = []
    search: str = ""
    page: int = 1
    loaded: bool = False
    watching: bool = False
    presets: list[PresetCard] = PRESET_CARDS
    preset_values: dict[str, str] = PRESET_DEFAULTS
    locations: list[Choice] = []
    staff: list[Choice] = []
    list_dialog_open: bool = False
    list_name: str = ""
    list_description: str = ""
    list_error: str = ""

    @rx.var
    def matching_rows(self) -> list[SegmentRow]:
        text = self.search.strip().lower()
        if not text:
            return self.rows
        return [r for r in self.rows if text in r.name.lower() or text in r.description.lower()]

    @rx.var
    def pages(self) -> int:
        return max(1, (len(self.matching_rows) + PAGE_SIZE - 1) // PAGE_SIZE)

    @rx.var
    def page_rows(self) -> list[SegmentRow]:
        start = (min(self.page, self.pages) - 1) * PAGE_SIZE
        return self.matching_rows[start : start + PAGE_SIZE]

    @rx.var
    def matching_count(self) -> int:
        return len(self.matching_rows)

    @rx.event
    def load(self):
        self.loaded = False
        if self.page_error or not self.tenant_role:
            return
        self.search, self.page, self.list_dialog_open = "", 1, False
        self.preset_values = dict(PRESET_DEFAULTS)
        active = self._refresh()
        with session_scope() as session:
            _, tenant = self._authorize(Role.VIEWER)
            self.locations, self.staff = place_choices(session, tenant.id)
        for key, card in ((c.key, c) for c in PRESET_CARDS):
            choices = {"location": self.locations, "staff": self.staff}.get(card.param)
            if choices:
                self.preset_values[key] = choices[0].value
        self.loaded = True
        if active:
            return SegmentsState.watch

    def _refresh(self) -> bool:
        """Reload the table; True while a recompute or import of a row is running."""
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            jobs = latest_jobs_by_segment(session, tenant.id)
            self.rows = [
                _row(s, self.current_slug, jobs.get(s.id))
                for s in segments.list_segments(session=session, tenant_id=tenant.id)
            ]
        return any(r.job.active for r in self.rows)

    @rx.event(background=True)
    async def watch(self):
        await poll_while_active(self, "watching", "_refresh")

    @rx.event
    def set_search(self, value: str):
        self.search, self.page = value[:200], 1

    @rx.event
    def page_by(self, step: int):
        self.page = min(max(1, self.page + step), self.pages)

    @rx.event
    def set_preset_value(self, key: str, value: str):
        self.preset_values[key] = value[:200]

    def _preset_name(self, key: str, taken: set[str]) -> str:
        preset = segment_presets.PRESETS_BY_KEY[key]
        if preset.parameter is None:
            return unique_name(taken, preset.title)
        value = self.preset_values.get(key, "").strip()
        choices = {"location": self.locations, "staff": self.staff}.get(preset.parameter.kind)
        if choices:
            value = next((c.label for c in choices if c.value == value), value)
        shown = NAME_FORMATS.get(preset.parameter.name, "{}").format(value)
        return unique_name(taken, f"{preset.title}: {shown}")

    @rx.event
    def create_from_preset(self, key: str):
        if key not in segment_presets.PRESETS_BY_KEY:
            return rx.toast.error("Unknown preset.")
        preset = segment_presets.PRESETS_BY_KEY[key]
        params = (
            {preset.parameter.name: self.preset_values.get(key, "")} if preset.parameter else {}
        )
        jobs: list = []

        def change(session, tenant):
            definition = segment_presets.preset_definition(key, params)
            taken = {s.name for s in segments.list_segments(session=session, tenant_id=tenant.id)}
            segment = segments.create_segment(
                session=session,
                tenant_id=tenant.id,
                name=self._preset_name(key, taken),
                description=preset.description,
                definition=definition,
                preset=key,
            )
            jobs.append(segments.recompute_job(session=session, segment=segment))
            return segment

        segment, error = self._change_as(Role.MARKETER, "segment.create", "segment", change)
        if error:
            return rx.toast.error(error.message)
        enqueue_job_run(jobs[0].id)
        return rx.redirect(routes.segment_url(self.current_slug, segment.id))

    @rx.event
    def open_list_dialog(self, open_: bool = True):
        self.list_dialog_open = open_
        self.list_name, self.list_description, self.list_error = "", "", ""

    @rx.event
    def set_list_name(self, value: str):
        self.list_name = value[:200]

    @rx.event
    def set_list_description(self, value: str):
        self.list_description = value[:1000]

    @rx.event
    def create_static_list(self):
        segment, error = self._change_as(
            Role.MARKETER,
            "segment.create",
            "segment",
            lambda session, tenant: segments.create_segment(
                session=session,
                tenant_id=tenant.id,
                name=self.list_name,
                description=self.list_description,
                kind=SegmentKind.STATIC,
            ),
        )
        if error:
            self.list_error = error.message
            return
        self.list_dialog_open = False
        return rx.redirect(routes.static_list_url(self.current_slug, segment.id))
