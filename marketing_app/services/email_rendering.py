"""Email rendering: compile a template once per campaign variant, then render per recipient.

`compile_email` does the expensive work once: validation, preheader, footer (postal address,
unsubscribe and preference links), CSS inlining, tracked links with UTM parameters, the open
pixel and the plain-text part. What is left per recipient is three small sandboxed jinja
renders (`CompiledEmail.render`), or, for templates whose recipient data only fills in
values, nothing but evaluating those values (`CompiledEmail.substitution_form`: the form
SendGrid's batched personalizations take).

Links in a message carry its signed token (services.email_tokens):
`/t/o/{token}.gif` open pixel, `/t/c/{token}/{i}` click on link i (`CompiledEmail.links[i]`),
`/t/u/{token}` unsubscribe (also the RFC 8058 one-click POST), `/t/p/{token}` preferences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from jinja2 import Template

from marketing_app.domain.email_templates import InvalidTemplate, RenderedEmail, TemplateProblem
from marketing_app.services.email_rendering_checks import validate_template
from marketing_app.services.email_rendering_env import (
    HTML_ENV,
    MESSAGE_TOKEN,
    TEXT_ENV,
    keep_braces_literal,
    marker_order,
    one_line,
    protect_template_code,
    referenced_names,
    render_fast,
    restore_template_code,
)
from marketing_app.services.email_rendering_html import (
    LayoutChanged,
    MarkedHtml,
    add_footer,
    add_open_pixel,
    add_preheader,
    inline_css,
    misplaced_code,
    track_links,
)
from marketing_app.services.email_rendering_recipients import (
    SAMPLE_RECIPIENT,
    RecipientContext,
    recipient_context,
    recipient_contexts,
)
from marketing_app.services.email_rendering_text import html_to_text
from marketing_app.settings import get_settings

if TYPE_CHECKING:
    from marketing_app.services.email_rendering_substitution import SubstitutionEmail

__all__ = [
    "SAMPLE_RECIPIENT",
    "CompiledEmail",
    "RecipientContext",
    "compile_email",
    "one_line",
    "recipient_context",
    "recipient_contexts",
    "validate_template",
]


@dataclass
class CompiledEmail:
    """One campaign variant, ready to render for any number of recipients."""

    subject_source: str
    html_source: str
    text_source: str
    links: list[str]  # where tracked link i leads, UTM parameters included
    constants: dict[str, Any]  # tenant_name, postal_address, footer_reason
    tracking_base_url: str
    transactional: bool = False
    unsubscribe_mail_domain: str = ""
    templates: dict[str, Template] = field(init=False, repr=False)
    shared_variables: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.shared_variables = {**HTML_ENV.globals, **self.constants}
        self.templates = {
            "subject": TEXT_ENV.from_string(self.subject_source),
            "html": HTML_ENV.from_string(self.html_source),
            "text": TEXT_ENV.from_string(self.text_source),
        }

    def variables(self, recipient: RecipientContext, message_token: str) -> dict[str, Any]:
        """Everything a template can read for this recipient, jinja's globals included."""
        found = recipient.variables()
        found.update(self.shared_variables)
        found.update(self.message_variables(message_token))
        return found

    def message_variables(self, message_token: str) -> dict[str, str]:
        """The variables that differ per message: its token and the links made of it."""
        return {
            MESSAGE_TOKEN: message_token,
            "unsubscribe_url": f"{self.tracking_base_url}/t/u/{message_token}",
            "preferences_url": f"{self.tracking_base_url}/t/p/{message_token}",
        }

    def headers(self, message_token: str) -> dict[str, str]:
        """RFC 2369 / RFC 8058 one-click unsubscribe headers (none for transactional mail)."""
        if self.transactional:
            return {}
        targets = [f"<{self.tracking_base_url}/t/u/{message_token}>"]
        if self.unsubscribe_mail_domain:
            targets.append(f"<mailto:unsubscribe+{message_token}@{self.unsubscribe_mail_domain}>")
        return {
            "List-Unsubscribe": ", ".join(targets),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }

    def render(self, recipient: RecipientContext, message_token: str) -> RenderedEmail:
        variables = self.variables(recipient, message_token)
        return RenderedEmail(
            subject=one_line(render_fast(self.templates["subject"], variables)),
            html=render_fast(self.templates["html"], variables),
            text=render_fast(self.templates["text"], variables),
            headers=self.headers(message_token),
        )

    @cached_property
    def substitution(self) -> SubstitutionEmail | None:
        from marketing_app.services.email_rendering_substitution import build_substitution

        return build_substitution(self)

    def substitution_form(self) -> SubstitutionEmail | None:
        """Subject, html and text with a key per recipient value, or None when recipient
        data steers the template ({% if %}, {% for %}, {% set %} ...): render() each then."""
        return self.substitution


def _footer_reason(tenant_name: str, topic: str, transactional: bool) -> str:
    if transactional:
        return f"You received this email about your account with {tenant_name}."
    about = f" about {topic}" if topic else ""
    return f"You are receiving this email{about} because you are a customer of {tenant_name}."


def compile_email(
    *,
    subject: str,
    preheader: str,
    html: str,
    tenant_name: str,
    postal_address: str,
    tracking_base_url: str | None = None,
    utm: dict[str, str] | None = None,
    footer_topic: str = "",
    transactional: bool = False,
    unsubscribe_mail_domain: str = "",
) -> CompiledEmail:
    """Validate and compile one variant; raises InvalidTemplate listing what is wrong."""
    problems = validate_template(subject, preheader, html)
    if problems:
        raise InvalidTemplate(problems)
    base_url = (tracking_base_url or get_settings().tracking_base_url).rstrip("/")
    page = _marked_page(html, preheader, transactional)
    track_links(page, tracking_base_url=base_url, utm=utm or {})
    add_open_pixel(page, tracking_base_url=base_url)
    text = html_to_text(page.html)
    return CompiledEmail(
        subject_source=subject,
        html_source=restore_template_code(keep_braces_literal(page.html), page.code),
        text_source=restore_template_code(keep_braces_literal(text), page.code),
        links=page.links,
        constants={
            "tenant_name": tenant_name,
            "postal_address": ", ".join(_address_lines(postal_address)),
            "footer_reason": _footer_reason(tenant_name, footer_topic, transactional),
        },
        tracking_base_url=base_url,
        transactional=transactional,
        unsubscribe_mail_domain=unsubscribe_mail_domain.strip().lstrip("@"),
    )


def _address_lines(postal_address: str) -> list[str]:
    return [line.strip(" ,") for line in postal_address.splitlines() if line.strip(" ,")]


def _marked_page(html: str, preheader: str, transactional: bool) -> MarkedHtml:
    marked_html, code = protect_template_code(html)
    marked_preheader, code = protect_template_code(preheader, code)
    page = MarkedHtml(marked_html, code)
    add_preheader(page, marked_preheader)
    own_links = referenced_names(HTML_ENV.parse(html))
    add_footer(
        page,
        unsubscribe=not transactional and "unsubscribe_url" not in own_links,
        preferences=not transactional and "preferences_url" not in own_links,
    )
    try:
        inline_css(page)
    except LayoutChanged as exc:
        raise InvalidTemplate(
            [TemplateProblem("html", _moved_line(html, page), str(exc))]
        ) from None
    return page


def _moved_line(html: str, page: MarkedHtml) -> int:
    """The line of the template code that parsing would move (1 when it cannot tell)."""
    index = misplaced_code(page)
    if index is None:
        order = marker_order(page.html)
        moved = [found for want, found in zip(sorted(order), order, strict=True) if want != found]
        index = moved[0] if moved else None
    at = html.find(page.code[index]) if index is not None else -1
    return html.count("\n", 0, at) + 1 if at >= 0 else 1
