"""One email template in the editor (new or saved): name, content checked as typed, preview,
test send, save and delete."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.db import session_scope
from marketing_app.domain.email_templates import InvalidTemplate
from marketing_app.domain.errors import NotFound
from marketing_app.models import Role
from marketing_app.services import email_templates
from marketing_app.state.email_editor import EmailEditorMixin, problem_text
from marketing_app.state.session import FormPageMixin, SessionState


class TemplateEditorState(FormPageMixin, EmailEditorMixin, SessionState):
    template_id: int = 0  # 0 while creating
    name: str = ""
    name_error: str = ""
    save_error: str = ""
    test_from: str = ""
    delete_open: bool = False

    @rx.var
    def back_href(self) -> str:
        return routes.email_templates_url(self.current_slug)

    def _test_sender(self) -> tuple[str, str]:
        return self.test_from, ""

    @rx.event
    def load(self):
        if self.loaded and self.form_kept():
            return  # a reconnect: keep the edits
        self.loaded, self.delete_open = False, False
        if self.page_error or not self.tenant_role:
            return
        part = routes.path_part(self.router.url.path, 3)
        self.name_error = self.save_error = self.test_error = ""
        self.preview_contact_id, self.preview_contact, self.customer_results = 0, "", []
        try:
            self._load(0 if part == "new" else int(part))
        except (NotFound, ValueError):
            self.page_error = "not_found"
            return
        self.loaded = True
        self.hold_form()

    def _load(self, template_id: int) -> None:
        if not template_id:
            self.template_id, self.name = 0, ""
            self._load_fields("", "", "")
            return
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            found = email_templates.get_template(
                session=session, tenant_id=tenant.id, template_id=template_id
            )
        self.template_id, self.name = found.id, found.name
        self._load_fields(found.subject, found.preheader, found.html)

    @rx.event
    def set_name(self, value: str):
        self.name, self.name_error = value[:200], ""

    @rx.event
    def set_test_from(self, value: str):
        self.test_from, self.test_error = value[:320], ""

    @rx.event
    def save(self):
        self.name_error = self.save_error = ""
        fields = {"name": self.name, "subject": self.subject, "preheader": self.preheader}

        def change(session, tenant):
            if self.template_id:
                return email_templates.update_template(
                    session=session,
                    tenant_id=tenant.id,
                    template_id=self.template_id,
                    html=self.html,
                    **fields,
                )
            return email_templates.create_template(
                session=session, tenant_id=tenant.id, html=self.html, **fields
            )

        action = "template.update" if self.template_id else "template.create"
        template, error = self._change_as(Role.MARKETER, action, "email_template", change)
        if isinstance(error, InvalidTemplate):
            self.problems = [problem_text(p) for p in error.problems]
            self.save_error = "Not saved: fix the problems listed under the editor."
            return rx.toast.error(self.save_error)
        if error:
            if error.field == "name":
                self.name_error = error.message
            self.save_error = error.message
            return rx.toast.error(error.message)
        if not self.template_id:
            return rx.redirect(routes.email_template_url(self.current_slug, template.id))
        return rx.toast.success("Template saved.")

    @rx.event
    def set_delete_open(self, value: bool):
        self.delete_open = bool(value)

    @rx.event
    def delete(self):
        def remove(session, tenant):
            email_templates.delete_template(
                session=session, tenant_id=tenant.id, template_id=self.template_id
            )
            return self.template_id

        _, error = self._change_as(Role.MARKETER, "template.delete", "email_template", remove)
        self.delete_open = False
        if error:
            return rx.toast.error(error.message)
        return [rx.toast.success("Template deleted."), rx.redirect(self.back_href)]
