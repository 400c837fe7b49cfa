"""The email editor the campaign builder and the template editor share: subject, preheader and
HTML checked as they are typed (every problem with its field and line, before any save), a
token picker, a preview as a chosen customer, and a test send to one address."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import reflex as rx

from marketing_app.db import session_scope
from marketing_app.domain.campaigns import TEMPLATE_LIMIT
from marketing_app.domain.email_templates import TemplateProblem
from marketing_app.domain.errors import DomainError
from marketing_app.models import Role
from marketing_app.services import profiles
from marketing_app.services.email_rendering_checks import (
    MAX_PREHEADER,
    MAX_SUBJECT,
    validate_template,
)
from marketing_app.services.email_rendering_env import (
    LINK_VARIABLES,
    RECIPIENT_VARIABLES,
    TENANT_VARIABLES,
)
from marketing_app.services.email_templates import TemplateFields, preview_template
from marketing_app.services.email_test_sends import send_test_email

log = logging.getLogger(__name__)
FIELD_LABELS = {"subject": "Subject", "preheader": "Preheader", "html": "HTML"}
CUSTOMER_RESULTS = 8


@dataclasses.dataclass
class Token:
    name: str = ""
    hint: str = ""
    snippet: str = ""


def _tokens() -> list[Token]:
    found = []
    for group in (RECIPIENT_VARIABLES, TENANT_VARIABLES, LINK_VARIABLES):
        for name, hint in group.items():
            snippet = "{{ traits.loyalty_id }}" if name == "traits" else "{{ " + name + " }}"
            found.append(
                Token(name="traits.…" if name == "traits" else name, hint=hint, snippet=snippet)
            )
    return found


TOKENS = _tokens()


def problem_text(problem: TemplateProblem) -> str:
    return (
        f"{FIELD_LABELS.get(problem.field, problem.field)}, line {problem.line}: {problem.message}"
    )


def customer_label(contact) -> str:
    name = f"{contact.first_name} {contact.last_name}".strip()
    address = contact.email or contact.phone or f"#{contact.id}"
    return f"{name} ({address})" if name else address


class EmailEditorMixin(rx.State, mixin=True):
    """Mixed into a SessionState subclass; `_test_sender` says who a test comes from."""

    subject: str = ""
    preheader: str = ""
    html: str = ""
    problems: list[str] = []
    tokens: list[Token] = TOKENS
    token_field: str = "subject"  # where a picked token goes
    customer_query: str = ""
    customer_results: list[dict[str, str]] = []
    preview_contact_id: int = 0
    preview_contact: str = ""  # the chosen customer's label; "" is sample data
    preview_subject: str = ""
    preview_html: str = ""
    preview_error: str = ""
    test_to: str = ""
    test_error: str = ""
    test_busy: bool = False

    def _test_sender(self) -> tuple[str, str]:
        """(from address, from name) of a test send."""
        return "", ""

    def _fields(self) -> TemplateFields:
        return TemplateFields(self.subject, self.preheader, self.html)

    def _load_fields(self, subject: str, preheader: str, html: str) -> None:
        """Put content into the editor (a template, a variant), check it and preview it."""
        self.subject, self.preheader, self.html = subject, preheader, html
        self._edited()

    def _check(self) -> None:
        problems = validate_template(self.subject, self.preheader, self.html)
        self.problems = [problem_text(p) for p in problems]

    def _edited(self):
        """After every change: check, and show the preview of what is there now (the inputs
        are debounced, so this runs after a pause in typing, not per key)."""
        self._check()
        return self._preview()

    @rx.event
    def set_subject(self, value: str):
        self.subject = value[: MAX_SUBJECT + 50]
        return self._edited()

    @rx.event
    def set_preheader(self, value: str):
        self.preheader = value[: MAX_PREHEADER + 50]
        return self._edited()

    @rx.event
    def set_html(self, value: str):
        self.html = value[: TEMPLATE_LIMIT + 1]
        return self._edited()

    @rx.event
    def set_token_field(self, value: str):
        self.token_field = value if value in FIELD_LABELS else "subject"

    @rx.event
    def pick_token(self, snippet: str):
        """Subject and preheader get the token at the end; HTML gets it on the clipboard, since
        only the marketer knows where in the markup it belongs."""
        if not snippet.startswith("{{ ") or len(snippet) > 60:
            return
        if self.token_field == "html":
            return [
                rx.set_clipboard(snippet),
                rx.toast.info(f"Copied {snippet}: paste it into the HTML."),
            ]
        current = getattr(self, self.token_field)
        setattr(self, self.token_field, (current.rstrip() + " " + snippet).lstrip())
        return self._edited()

    @rx.event
    def search_customers(self, value: str):
        self.customer_query = value[:200]
        if len(self.customer_query.strip()) < 2:
            self.customer_results = []
            return
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            found, _ = profiles.search_profiles(
                session=session,
                tenant_id=tenant.id,
                search=self.customer_query,
                limit=CUSTOMER_RESULTS,
            )
            self.customer_results = [{"id": str(c.id), "label": customer_label(c)} for c in found]

    @rx.event
    def choose_customer(self, contact_id: str, label: str):
        if not str(contact_id).isdigit():
            return
        self.preview_contact_id, self.preview_contact = int(contact_id), label[:300]
        self.customer_query, self.customer_results = "", []
        return self._preview()

    @rx.event
    def use_sample_customer(self):
        self.preview_contact_id, self.preview_contact = 0, ""
        return self._preview()

    @rx.event
    def refresh_preview(self):
        return self._preview()

    def _preview(self):
        self.preview_html = self.preview_subject = self.preview_error = ""
        if not (self.subject.strip() or self.html.strip()):
            return  # nothing written yet: nothing to preview or complain about
        if self.problems:
            self.preview_error = "Fix the problems listed under the editor to see the preview."
            return
        try:
            _, tenant = self._authorize(Role.VIEWER)
            with session_scope() as session:
                rendered = preview_template(
                    session=session,
                    tenant_id=tenant.id,
                    fields=self._fields(),
                    contact_id=self.preview_contact_id or None,
                )
        except DomainError as exc:
            self.preview_error = exc.message
            return
        self.preview_subject, self.preview_html = rendered.subject, rendered.html

    @rx.event
    def set_test_to(self, value: str):
        self.test_to, self.test_error = value[:320], ""

    @rx.event(background=True)
    async def send_test(self):
        """Through the tenant's providers, so it runs off the state lock (a provider may be
        slow to answer)."""
        async with self:
            if self.test_busy:
                return
            try:
                _, tenant = self._authorize(Role.MARKETER)
            except DomainError as exc:
                self.test_error = exc.message
                return
            self.test_busy, self.test_error = True, ""
            sender, sender_name = self._test_sender()
            job = dict(
                tenant_id=tenant.id,
                to_address=self.test_to,
                fields=self._fields(),
                contact_id=self.preview_contact_id or None,
                from_email=sender,
                from_name=sender_name,
            )
        message, error = await asyncio.to_thread(_send_test, job)
        async with self:
            self.test_busy, self.test_error = False, error
        if error:
            yield rx.toast.error(error)
        else:
            yield rx.toast.success(message)


def _send_test(job: dict) -> tuple[str, str]:
    """(success message, "") or ("", what went wrong)."""
    try:
        with session_scope() as session:
            outcome = send_test_email(session=session, **job)
    except DomainError as exc:
        return "", exc.message
    except Exception:  # a provider's surprise must not take the page down
        log.exception("test send failed")
        return "", "The test could not be sent just now; try again."
    if not outcome.accepted:
        return "", f"No provider could take the test just now: {outcome.error}"
    where = " (see the Outbox)" if outcome.provider == "console" else f" via {outcome.provider}"
    return f"Test sent to {job['to_address'].strip()}{where}.", ""
