"""The Outbox page: what the console provider 'sent' (development and tenants without a
provider), searchable, one message opened at a time."""

from __future__ import annotations

import dataclasses

import reflex as rx

from marketing_app.db import session_scope
from marketing_app.domain.errors import NotFound
from marketing_app.models import Role
from marketing_app.services import outbox
from marketing_app.state.paged import PAGE_SIZE, ServerPagedMixin
from marketing_app.state.segments_common import when
from marketing_app.state.session import SessionState


@dataclasses.dataclass
class OutboxRow:
    id: str = ""
    recipient: str = ""
    sender: str = ""
    subject: str = ""
    sent: str = ""


class OutboxState(ServerPagedMixin, SessionState):
    rows: list[OutboxRow] = []
    opened: dict[str, str] = {}
    opened_headers: list[list[str]] = []
    view_open: bool = False
    show_text: bool = False

    def _reset(self) -> None:
        self.view_open = False

    def _refresh(self) -> None:
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            found, self.total = outbox.list_outbox(
                session=session,
                tenant_id=tenant.id,
                search=self.search,
                limit=PAGE_SIZE,
                offset=self._offset(),
            )
        self.rows = [
            OutboxRow(str(m.id), m.to_address, m.from_address, m.subject, when(m.created_at))
            for m in found
        ]

    @rx.event
    def refresh(self):
        self._refresh()

    @rx.event
    def open_message(self, outbox_id: str):
        _, tenant = self._authorize(Role.VIEWER)
        try:
            with session_scope() as session:
                found = outbox.get_outbox_message(
                    session=session, tenant_id=tenant.id, outbox_id=int(outbox_id)
                )
        except (NotFound, ValueError):
            return rx.toast.error("That message is not in your outbox.")
        self.opened = {
            "to": found.to_address,
            "from": found.from_address,
            "subject": found.subject,
            "sent": when(found.created_at),
            "html": found.html,
            "text": found.text_body,
        }
        self.opened_headers = [[k, str(v)] for k, v in sorted(found.headers.items())]
        self.view_open, self.show_text = True, False

    @rx.event
    def set_view_open(self, value: bool):
        self.view_open = bool(value)

    @rx.event
    def set_show_text(self, value: bool):
        self.show_text = bool(value)
