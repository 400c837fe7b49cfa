"""The Suppressions page: addresses no marketing may reach, why, and adding or removing one."""

from __future__ import annotations

import dataclasses

import reflex as rx

from marketing_app.db import session_scope
from marketing_app.models import Role
from marketing_app.services import suppressions
from marketing_app.state.paged import PAGE_SIZE, ServerPagedMixin
from marketing_app.state.segments_common import when
from marketing_app.state.session import SessionState


@dataclasses.dataclass
class SuppressionRow:
    id: str = ""
    address: str = ""
    reason: str = ""
    reason_key: str = ""
    added: str = ""


class SuppressionsState(ServerPagedMixin, SessionState):
    rows: list[SuppressionRow] = []
    channel: str = "email"
    new_address: str = ""
    add_error: str = ""

    def _reset(self) -> None:
        self.channel, self.new_address, self.add_error = "email", "", ""

    def _refresh(self) -> None:
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            found, self.total = suppressions.list_suppressions(
                session=session,
                tenant_id=tenant.id,
                channel=self.channel,
                search=self.search,
                limit=PAGE_SIZE,
                offset=self._offset(),
            )
        self.rows = [
            SuppressionRow(
                str(s.id),
                s.address,
                suppressions.reason_label(s.reason),
                s.reason,
                when(s.created_at),
            )
            for s in found
        ]

    @rx.event
    def set_channel(self, value: str):
        self.channel = value if value in suppressions.CHANNELS else "email"
        self.page, self.add_error = 1, ""
        self._refresh()

    @rx.event
    def set_new_address(self, value: str):
        self.new_address, self.add_error = value[:320], ""

    @rx.event
    def add(self):
        found, error = self._change_as(
            Role.MARKETER,
            "suppression.add",
            "suppression",
            lambda session, tenant: suppressions.add_suppression(
                session=session, tenant_id=tenant.id, address=self.new_address, channel=self.channel
            ),
        )
        if error:
            self.add_error = error.message
            return
        self.new_address, self.page = "", 1
        self._refresh()
        return rx.toast.success(f"{found.address} will get no more marketing.")

    @rx.event
    def remove(self, suppression_id: str):
        if not suppression_id.isdigit():
            return rx.toast.error("That suppression does not exist.")
        found, error = self._change_as(
            Role.MARKETER,
            "suppression.remove",
            "suppression",
            lambda session, tenant: suppressions.remove_suppression(
                session=session, tenant_id=tenant.id, suppression_id=int(suppression_id)
            ),
        )
        if error:
            return rx.toast.error(error.message)
        self._refresh()
        return rx.toast.success(f"{found.address} can be reached again.")
