"""The Email templates page: the tenant's templates (search, paging) and the built-in gallery
to start one from."""

from __future__ import annotations

import dataclasses

import reflex as rx

from marketing_app import routes
from marketing_app.db import session_scope
from marketing_app.models import Role
from marketing_app.services import email_templates
from marketing_app.state.paged import PAGE_SIZE, ServerPagedMixin
from marketing_app.state.segments import unique_name
from marketing_app.state.segments_common import when
from marketing_app.state.session import SessionState


@dataclasses.dataclass
class TemplateRow:
    id: str = ""
    name: str = ""
    subject: str = ""
    origin: str = ""
    updated: str = ""
    href: str = ""


@dataclasses.dataclass
class BuiltinCard:
    key: str = ""
    name: str = ""
    description: str = ""
    subject: str = ""


BUILTIN_CARDS = [
    BuiltinCard(b.key, b.name, b.description, b.subject)
    for b in email_templates.list_builtin_templates()
]
BUILTIN_NAMES = {b.key: b.name for b in BUILTIN_CARDS}


class EmailTemplatesState(ServerPagedMixin, SessionState):
    rows: list[TemplateRow] = []
    builtins: list[BuiltinCard] = BUILTIN_CARDS

    def _refresh(self) -> None:
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            found, self.total = email_templates.list_templates(
                session=session,
                tenant_id=tenant.id,
                search=self.search,
                limit=PAGE_SIZE,
                offset=self._offset(),
            )
        self.rows = [
            TemplateRow(
                id=str(t.id),
                name=t.name,
                subject=t.subject,
                origin=f"from {BUILTIN_NAMES[t.builtin_key]}"
                if t.builtin_key in BUILTIN_NAMES
                else "",
                updated=when(t.updated_at),
                href=routes.email_template_url(self.current_slug, t.id),
            )
            for t in found
        ]

    @rx.event
    def use_builtin(self, key: str):
        """A copy of the built-in in the tenant's templates, opened in the editor."""

        def change(session, tenant):
            taken, _ = email_templates.list_templates(
                session=session, tenant_id=tenant.id, search=BUILTIN_NAMES.get(key, ""), limit=100
            )
            name = unique_name({t.name for t in taken}, BUILTIN_NAMES.get(key, key))
            return email_templates.create_template(
                session=session, tenant_id=tenant.id, name=name, builtin_key=key
            )

        template, error = self._change_as(
            Role.MARKETER, "template.create", "email_template", change
        )
        if error:
            return rx.toast.error(error.message)
        return rx.redirect(routes.email_template_url(self.current_slug, template.id))
