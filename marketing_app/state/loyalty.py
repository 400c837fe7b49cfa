"""The Loyalty page: start a program, edit its settings and tiers, and read members per tier,
liability and the ledger's recent activity. Thin over the loyalty services."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import reflex as rx

from marketing_app.components.charts import loyalty_tiers_figure
from marketing_app.db import session_scope
from marketing_app.domain.errors import Conflict
from marketing_app.models import Role
from marketing_app.services import loyalty_programs as programs
from marketing_app.services import loyalty_reports as reports
from marketing_app.services.loyalty_discrepancies import discrepancy_summary
from marketing_app.state.loyalty_form import new_tier, settings_form, settings_payload, tier_rows
from marketing_app.state.segments_common import when
from marketing_app.state.session import SessionState

ACTIVITY_PAGE = 20  # ledger entries per page
BLANK = ""  # create_program's preset for a program without tiers


def _activity_row(line: reports.LedgerLine) -> dict[str, str]:
    return {
        "when": when(line.created_at),
        "contact_id": str(line.contact_id),
        "customer": line.customer or "(no name)",
        "kind": line.kind,
        "points": f"{line.points:+,}",
        "reason": line.reason or line.source.replace("_", " "),
    }


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


class LoyaltyState(SessionState):
    loaded: bool = False
    has_program: bool = False
    program_name: str = ""
    fields: dict[str, str] = {}
    categories: list[dict[str, str]] = []
    tiers: list[dict[str, str]] = []
    field_errors: dict[str, str] = {}
    unsaved: bool = False
    tier_counts: list[dict[str, Any]] = []
    members: int = 0
    cards: list[dict[str, str]] = []
    activity: list[dict[str, str]] = []
    activity_page: int = 1
    activity_total: int = 0
    open_discrepancies: int = 0

    @rx.var
    def figure(self) -> go.Figure:
        return loyalty_tiers_figure(self.tier_counts)

    @rx.var
    def activity_pages(self) -> int:
        return max(1, (self.activity_total + ACTIVITY_PAGE - 1) // ACTIVITY_PAGE)

    @rx.event
    def load(self):
        self.loaded = False
        if self.page_error or not self.tenant_role:
            return
        self.activity_page, self.field_errors, self.unsaved = 1, {}, False
        self._reload(form=True)
        self.loaded = True

    def _reload(self, form: bool) -> None:
        """Re-read the program and the figures; `form` also resets the settings form."""
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            program = programs.get_program(session=session, tenant_id=tenant.id)
            self.has_program = program is not None
            if program is None:
                return
            if form:
                settings = programs.LoyaltySettings.model_validate(program.settings)
                self.program_name = program.name
                self.fields, self.categories, self.tiers = settings_form(settings)
            self._read_figures(session, tenant.id)

    def _read_figures(self, session, tenant_id) -> None:
        counts = reports.members_per_tier(session=session, tenant_id=tenant_id)
        owed = reports.liability(session=session, tenant_id=tenant_id)
        self.tier_counts = [
            {"tier": c.tier or "No tier yet", "threshold": c.threshold, "members": c.members}
            for c in counts
        ]
        self.members = sum(c.members for c in counts)
        self.cards = [
            {"label": "Members", "value": f"{self.members:,}", "hint": "customers with points"},
            {
                "label": "Outstanding points",
                "value": f"{owed.points:,}",
                "hint": f"held by {owed.members_with_points:,} members",
            },
            {"label": "Liability", "value": _money(owed.cents), "hint": "at the point value"},
        ]
        summary = discrepancy_summary(session=session, tenant_id=tenant_id)
        self.open_discrepancies = summary["open"]
        self.activity_total = reports.count_activity(session=session, tenant_id=tenant_id)
        self.activity_page = min(self.activity_page, self.activity_pages)
        lines = reports.recent_activity(
            session=session,
            tenant_id=tenant_id,
            limit=ACTIVITY_PAGE,
            offset=(self.activity_page - 1) * ACTIVITY_PAGE,
        )
        self.activity = [_activity_row(line) for line in lines]

    @rx.event
    def activity_by(self, step: int):
        self.activity_page = min(max(1, self.activity_page + step), self.activity_pages)
        self._reload(form=False)

    @rx.event
    def create_program(self, preset: str):
        """Switch loyalty on: a program from a preset, or blank (no tiers) to fill in."""

        def change(session, tenant):
            if programs.get_program(session=session, tenant_id=tenant.id) is not None:
                raise Conflict("This workspace already has a loyalty program.")
            settings = programs.preset_settings(preset) if preset else programs.LoyaltySettings()
            return programs.save_program(session=session, tenant_id=tenant.id, settings=settings)

        _, error = self._change_as(
            Role.MARKETER, "loyalty.program.create", "loyalty_program", change
        )
        if error:
            return rx.toast.error(error.message)
        self.field_errors, self.unsaved = {}, False
        self._reload(form=True)
        return rx.toast.success("Loyalty is on: customers earn points from now on.")

    # --- editing the form (nothing is stored until Save) --------------------------------

    def _edited(self) -> None:
        self.unsaved = True

    @rx.event
    def set_program_name(self, value: str):
        self.program_name = value[:200]
        self._edited()

    @rx.event
    def set_field(self, key: str, value: str):
        self.fields[key] = value[:40]
        self._edited()

    @rx.event
    def set_tier_field(self, index: int, key: str, value: str):
        if 0 <= index < len(self.tiers):
            self.tiers[index][key] = value[:100]
            self._edited()

    @rx.event
    def add_tier(self):
        if len(self.tiers) < programs.MAX_TIERS:
            self.tiers.append(new_tier(self.tiers))
            self._edited()

    @rx.event
    def remove_tier(self, index: int):
        if 0 <= index < len(self.tiers):
            self.tiers.pop(index)
            self._edited()

    @rx.event
    def use_preset_tiers(self, preset: str):
        if preset in programs.PRESETS:
            self.tiers = tier_rows(programs.PRESETS[preset])
            self._edited()

    @rx.event
    def set_category_field(self, index: int, key: str, value: str):
        if 0 <= index < len(self.categories):
            self.categories[index][key] = value[:60]
            self._edited()

    @rx.event
    def add_category(self):
        self.categories.append({"name": "", "multiplier": "2"})
        self._edited()

    @rx.event
    def remove_category(self, index: int):
        if 0 <= index < len(self.categories):
            self.categories.pop(index)
            self._edited()

    @rx.event
    def discard(self):
        self.field_errors, self.unsaved = {}, False
        self._reload(form=True)

    @rx.event
    def save(self):
        def change(session, tenant):
            return programs.save_program(
                session=session,
                tenant_id=tenant.id,
                settings=settings_payload(self.fields, self.categories, self.tiers),
                name=self.program_name,
            )

        _, error = self._change_as(Role.MARKETER, "loyalty.program.save", "loyalty_program", change)
        if error:
            self.field_errors = {error.field or "settings": error.message}
            return rx.toast.error(error.message)
        self.field_errors, self.unsaved = {}, False
        self._reload(form=True)
        return rx.toast.success("Program saved; members moved to their tiers.")
