"""The segment builder (new and edit): groups of conditions, a live count, save."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import reflex as rx

from jobs.dispatch import enqueue_job_run
from marketing_app import routes
from marketing_app.db import session_scope
from marketing_app.domain.errors import DomainError, NotFound
from marketing_app.models import Role
from marketing_app.models.segments import SegmentKind
from marketing_app.services import segments
from marketing_app.state import segments_form as form
from marketing_app.state import segments_form_convert as convert
from marketing_app.state.segments_common import (
    Choice,
    member_row,
    place_choices,
    segment_choices,
)
from marketing_app.state.session import FormPageMixin, SessionState

log = logging.getLogger(__name__)
DEBOUNCE_SECONDS = 0.3
TEXT_ATTRIBUTES = {
    "field",
    "custom_field",
    "op",
    "value",
    "value2",
    "name",
    "count_op",
    "count",
    "within_days",
    "metric",
    "action",
    "channel",
    "campaign",
    "state",
    "which",
    "match",
    "salt",
}
MAX_GROUPS = 10


def _estimate(tenant_id: uuid.UUID, definition: dict[str, Any]) -> segments.Estimate:
    with session_scope() as session:
        return segments.estimate(session=session, tenant_id=tenant_id, definition=definition)


class SegmentBuilderState(FormPageMixin, SessionState):
    segment_id: int = 0  # 0 while creating
    name: str = ""
    description: str = ""
    name_error: str = ""
    save_error: str = ""
    top_op: str = "and"
    groups: list[form.GroupForm] = []
    editable: bool = True  # False: deeper than two levels, shown as JSON
    readonly_json: str = ""
    locations: list[Choice] = []
    staff: list[Choice] = []
    other_segments: list[Choice] = []
    loyalty_tiers: list[form.Option] = []  # the program's tiers, lowest first
    loyalty_tier_picks: list[form.Option] = []  # "no tier", then the same
    # The live count.
    est_count: int = 0
    est_total: int = 0
    est_error: str = ""
    est_busy: bool = False
    est_ready: bool = False
    sample: list[dict[str, str]] = []
    _estimate_gen: int = 0

    @rx.var
    def is_new(self) -> bool:
        return self.segment_id == 0

    @rx.var
    def count_text(self) -> str:
        return f"{self.est_count:,} of {self.est_total:,} customers"

    @rx.var
    def count_share(self) -> int:
        return round(100 * self.est_count / self.est_total) if self.est_total else 0

    @rx.var
    def back_href(self) -> str:
        if self.segment_id:
            return routes.segment_url(self.current_slug, self.segment_id)
        return routes.segments_url(self.current_slug)

    # --- loading -----------------------------------------------------------------------------

    @rx.event
    def load(self):
        if self.loaded and self.form_kept():
            return self._changed()  # a reconnect: keep the edits, count them again
        self.loaded = False
        if self.page_error or not self.tenant_role:
            return
        part = routes.path_part(self.router.url.path, 3)
        self.name_error = self.save_error = self.est_error = ""
        self.est_ready, self.sample = False, []
        try:
            segment_id = 0 if part == "new" else int(part)
            self._load(segment_id)
        except (NotFound, ValueError):
            self.page_error = "not_found"
            return
        self.loaded = True
        self.hold_form()
        return self._changed()

    def _load(self, segment_id: int) -> None:
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            self.locations, self.staff = place_choices(session, tenant.id)
            self.other_segments = segment_choices(session, tenant.id, exclude=segment_id or None)
            tiers = segments.loyalty_tier_names(session=session, tenant_id=tenant.id)
            self.loyalty_tiers, self.loyalty_tier_picks = form.tier_options(tiers)
            if not segment_id:
                self.segment_id, self.name, self.description = 0, "", ""
                self.top_op, self.groups = "and", [form.GroupForm()]
                self.editable, self.readonly_json = True, ""
                return
            segment = segments.get_segment(
                session=session, tenant_id=tenant.id, segment_id=segment_id
            )
            if segment.kind != SegmentKind.DYNAMIC:
                raise NotFound("A static list has no definition to edit.")
            self.segment_id, self.name = segment.id, segment.name
            self.description = segment.description
            shaped = convert.from_definition(segment.definition)
            self.editable = shaped is not None
            self.top_op, self.groups = shaped if shaped else ("and", [])
            self.readonly_json = json.dumps(segment.definition, indent=2)

    # --- the live count ----------------------------------------------------------------------

    def _definition(self) -> dict[str, Any]:
        if not self.editable:
            return json.loads(self.readonly_json)
        return convert.to_definition(self.top_op, list(self.groups))

    def _changed(self):
        """Every change of the definition: a new generation, and an estimate after a pause."""
        self._estimate_gen += 1
        form.normalize(self.groups)
        return SegmentBuilderState.refresh_estimate

    def _show_error(self, message: str) -> None:
        self.est_error, self.est_busy = form.friendly_error(message), False
        if self.editable:
            form.mark_error(self.groups, message)

    @rx.event(background=True)
    async def refresh_estimate(self):
        async with self:
            generation = self._estimate_gen
        await asyncio.sleep(DEBOUNCE_SECONDS)
        async with self:
            if generation != self._estimate_gen:
                return  # a later change has its own estimate coming
            blank = form.missing_input(self.groups) if self.editable else ""
            if blank:
                self._show_error(blank)
                return
            definition = self._definition()
            try:
                _, tenant = self._authorize(Role.VIEWER)
            except DomainError as exc:
                self._show_error(exc.message)
                return
            self.est_busy = True
        error, result = "", None
        try:
            result = await asyncio.to_thread(_estimate, tenant.id, definition)
        except DomainError as exc:
            error = exc.message
        except Exception:  # never let a count take the page down
            log.exception("segment estimate failed")
            error = "The count could not be computed just now; change something to retry."
        async with self:
            if generation != self._estimate_gen:
                return
            if result is None:
                self._show_error(error)
                return
            self.est_count, self.est_total = result.count, result.total_profiles
            self.sample = [member_row(r) for r in result.sample]
            self.est_error, self.est_busy, self.est_ready = "", False, True
            form.mark_error(self.groups, "")

    # --- editing -----------------------------------------------------------------------------

    @rx.event
    def set_name(self, value: str):
        self.name, self.name_error = value[:200], ""

    @rx.event
    def set_description(self, value: str):
        self.description = value[:1000]

    @rx.event
    def set_top_op(self, value: str):
        self.top_op = "or" if value == "or" else "and"
        return self._changed()

    @rx.event
    def add_group(self):
        if len(self.groups) >= MAX_GROUPS:
            return rx.toast.error(f"A segment can have at most {MAX_GROUPS} groups here.")
        self.groups.append(form.GroupForm())
        return self._changed()

    @rx.event
    def remove_group(self, gi: int):
        if 0 <= gi < len(self.groups):
            self.groups.pop(gi)
        return self._changed()

    @rx.event
    def set_group_op(self, gi: int, value: str):
        if 0 <= gi < len(self.groups):
            self.groups[gi].op = "or" if value == "or" else "and"
        return self._changed()

    @rx.event
    def set_group_negate(self, gi: int, value: bool):
        if 0 <= gi < len(self.groups):
            self.groups[gi].negate = bool(value)
        return self._changed()

    def _condition(self, gi: int, ci: int) -> form.ConditionForm | None:
        if 0 <= gi < len(self.groups) and 0 <= ci < len(self.groups[gi].conditions):
            return self.groups[gi].conditions[ci]
        return None

    @rx.event
    def add_condition(self, gi: int, kind: str):
        if 0 <= gi < len(self.groups):
            self.groups[gi].conditions.append(form.new_condition(kind))
        return self._changed()

    @rx.event
    def remove_condition(self, gi: int, ci: int):
        if self._condition(gi, ci) is not None:
            self.groups[gi].conditions.pop(ci)
        return self._changed()

    @rx.event
    def set_kind(self, gi: int, ci: int, kind: str):
        if self._condition(gi, ci) is not None:
            self.groups[gi].conditions[ci] = form.new_condition(kind)
        return self._changed()

    @rx.event
    def set_text(self, gi: int, ci: int, attribute: str, value: str):
        cond = self._condition(gi, ci)
        if cond is not None and attribute in TEXT_ATTRIBUTES:
            setattr(cond, attribute, str(value)[:200])
            if attribute == "field":  # a new field starts from its first operator
                cond.op, cond.value, cond.value2, cond.picked = "", "", "", []
        return self._changed()

    @rx.event
    def set_positive(self, gi: int, ci: int, value: str):
        cond = self._condition(gi, ci)
        if cond is not None:
            cond.positive = value != "no"
        return self._changed()

    @rx.event
    def set_picked(self, gi: int, ci: int, values: list[str]):
        cond = self._condition(gi, ci)
        if cond is not None:
            cond.picked = [str(v)[:100] for v in values][:100]
        return self._changed()

    # --- saving ------------------------------------------------------------------------------

    @rx.event
    def save(self):
        self.name_error = self.save_error = ""
        blank = form.missing_input(self.groups) if self.editable else ""
        if blank:
            self.save_error = blank
            return rx.toast.error(blank)
        definition = self._definition() if self.editable else None
        jobs: list = []

        def change(session, tenant):
            if self.segment_id:
                segment = segments.update_segment(
                    session=session,
                    tenant_id=tenant.id,
                    segment_id=self.segment_id,
                    name=self.name,
                    description=self.description,
                    definition=definition,
                )
            else:
                segment = segments.create_segment(
                    session=session,
                    tenant_id=tenant.id,
                    name=self.name,
                    description=self.description,
                    definition=definition,
                )
            jobs.append(segments.recompute_job(session=session, segment=segment))
            return segment

        action = "segment.update" if self.segment_id else "segment.create"
        segment, error = self._change_as(Role.MARKETER, action, "segment", change)
        if error:
            if error.field == "name":
                self.name_error = error.message
            else:
                self._show_error(error.message)
                self.save_error = form.friendly_error(error.message)
            return rx.toast.error(form.friendly_error(error.message))
        enqueue_job_run(jobs[0].id)
        return rx.redirect(routes.segment_url(self.current_slug, segment.id))
