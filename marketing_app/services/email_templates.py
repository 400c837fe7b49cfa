"""A tenant's email templates: create (blank or from a built-in), edit, delete, preview, test.

Every save validates the template (services.email_rendering_checks) and refuses it with
InvalidTemplate, whose `problems` name the field and line of each syntax error, unknown token
or sandbox escape; nothing invalid is stored. Previews and test emails go through the same
compile_email as campaigns, so what the marketer sees is what recipients get (the links carry
a test token that records nothing).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketing_app.domain.email_templates import InvalidTemplate, RenderedEmail
from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import Contact, EmailTemplate, Tenant
from marketing_app.models.base import utcnow
from marketing_app.services.email_builtin import BUILTIN_TEMPLATES, BuiltinTemplate
from marketing_app.services.email_rendering import (
    SAMPLE_RECIPIENT,
    RecipientContext,
    compile_email,
    recipient_contexts,
    validate_template,
)
from marketing_app.services.email_tokens import TEST_MESSAGE_ID, message_token
from marketing_app.services.identity import normalize_email
from marketing_app.services.loyalty_programs import refuse_nul

MAX_NAME = 120
PAGE_LIMIT = 100


@dataclass(frozen=True)
class TemplateFields:
    """What a template is made of; a preview can take them unsaved."""

    subject: str
    preheader: str
    html: str


def list_builtin_templates() -> list[BuiltinTemplate]:
    return list(BUILTIN_TEMPLATES.values())


def get_builtin_template(key: str) -> BuiltinTemplate:
    found = BUILTIN_TEMPLATES.get(key)
    if found is None:
        raise NotFound(f"There is no built-in template '{key}'.")
    return found


def list_templates(
    *, session: Session, tenant_id: uuid.UUID, search: str = "", limit: int = 50, offset: int = 0
) -> tuple[list[EmailTemplate], int]:
    """A page of the tenant's templates, newest edits first, and how many match in all."""
    query = select(EmailTemplate).where(EmailTemplate.tenant_id == tenant_id)
    if search.strip():
        query = query.where(func.lower(EmailTemplate.name).contains(search.strip().lower()))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(EmailTemplate.updated_at).desc(), col(EmailTemplate.id).desc())
        .limit(max(1, min(limit, PAGE_LIMIT)))
        .offset(max(0, offset))
    ).all()
    return list(rows), total


def get_template(*, session: Session, tenant_id: uuid.UUID, template_id: int) -> EmailTemplate:
    template = session.get(EmailTemplate, template_id)
    if template is None or template.tenant_id != tenant_id:
        raise NotFound("Template not found.")
    return template


def _clean_name(name: str) -> str:
    name = refuse_nul(name or "", "name", "The name").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"Give the template a name (up to {MAX_NAME} characters).", field="name")
    return name


def _name_taken(session: Session, tenant_id: uuid.UUID, name: str, template_id=None) -> bool:
    found = session.exec(
        select(EmailTemplate.id).where(
            EmailTemplate.tenant_id == tenant_id,
            func.lower(EmailTemplate.name) == name.lower(),
        )
    ).first()
    return found is not None and found != template_id


def _checked(fields: TemplateFields) -> TemplateFields:
    problems = validate_template(fields.subject, fields.preheader, fields.html)
    if problems:
        raise InvalidTemplate(problems)
    return fields


def _save(session: Session, template: EmailTemplate) -> None:
    """Flush; two simultaneous saves of one name end as a Conflict, not a database error."""
    try:
        with session.begin_nested():
            session.add(template)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"A template named {template.name!r} already exists.", field="name"
        ) from None


def create_template(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    name: str,
    subject: str | None = None,
    preheader: str | None = None,
    html: str | None = None,
    builtin_key: str = "",
) -> EmailTemplate:
    """A new template, blank or copied from a built-in (fields given override the copy)."""
    name = _clean_name(name)
    base = get_builtin_template(builtin_key) if builtin_key else None
    fields = _checked(
        TemplateFields(
            subject=subject if subject is not None else (base.subject if base else ""),
            preheader=preheader if preheader is not None else (base.preheader if base else ""),
            html=html if html is not None else (base.html if base else ""),
        )
    )
    if _name_taken(session, tenant_id, name):
        raise Conflict(f"A template named {name!r} already exists.", field="name")
    template = EmailTemplate(
        tenant_id=tenant_id,
        name=name,
        subject=fields.subject,
        preheader=fields.preheader,
        html=fields.html,
        builtin_key=builtin_key,
    )
    _save(session, template)
    return template


def update_template(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    template_id: int,
    name: str | None = None,
    subject: str | None = None,
    preheader: str | None = None,
    html: str | None = None,
) -> EmailTemplate:
    """Change what is given; the whole result must be valid or nothing changes."""
    template = get_template(session=session, tenant_id=tenant_id, template_id=template_id)
    fields = _checked(
        TemplateFields(
            subject=template.subject if subject is None else subject,
            preheader=template.preheader if preheader is None else preheader,
            html=template.html if html is None else html,
        )
    )
    if name is not None:
        name = _clean_name(name)
        if _name_taken(session, tenant_id, name, template_id):
            raise Conflict(f"A template named {name!r} already exists.", field="name")
        template.name = name
    template.subject, template.preheader, template.html = (
        fields.subject,
        fields.preheader,
        fields.html,
    )
    template.updated_at = utcnow()
    _save(session, template)
    return template


def delete_template(*, session: Session, tenant_id: uuid.UUID, template_id: int) -> None:
    """Campaigns made from it keep their own copy of the content (template_id becomes null)."""
    template = get_template(session=session, tenant_id=tenant_id, template_id=template_id)
    session.delete(template)
    session.flush()


def _recipient(session: Session, tenant_id: uuid.UUID, contact_id: int | None) -> RecipientContext:
    if contact_id is None:
        return SAMPLE_RECIPIENT
    contact = session.get(Contact, contact_id)
    if contact is None or contact.tenant_id != tenant_id:
        raise NotFound("Customer not found.", field="contact_id")
    return recipient_contexts(session=session, tenant_id=tenant_id, contacts=[contact])[contact_id]


def _fields_to_render(
    session: Session,
    tenant_id: uuid.UUID,
    template_id: int | None,
    fields: TemplateFields | None,
) -> TemplateFields:
    if template_id is not None:
        template = get_template(session=session, tenant_id=tenant_id, template_id=template_id)
        return TemplateFields(template.subject, template.preheader, template.html)
    if fields is None:
        raise InvalidInput("Choose a template or give its subject and content.", field="html")
    return fields


def preview_template(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    template_id: int | None = None,
    fields: TemplateFields | None = None,
    contact_id: int | None = None,
) -> RenderedEmail:
    """The email as `contact_id` (or a sample customer) would get it: saved template or
    unsaved fields, with footer, tracking links (test token) and the text part."""
    chosen = _fields_to_render(session, tenant_id, template_id, fields)
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found.")
    compiled = compile_email(
        subject=chosen.subject,
        preheader=chosen.preheader,
        html=chosen.html,
        tenant_name=tenant.name,
        postal_address=tenant.postal_address,
    )
    recipient = _recipient(session, tenant_id, contact_id)
    return compiled.render(recipient, message_token(tenant_id, TEST_MESSAGE_ID))


def test_email(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    to_address: str,
    template_id: int | None = None,
    fields: TemplateFields | None = None,
    contact_id: int | None = None,
) -> RenderedEmail:
    """The test email for `to_address` (checked): the preview, subject marked "[Test]".

    Delivery is the providers' part; this only decides what is sent."""
    if normalize_email(refuse_nul(to_address or "", "to_address", "The address")) is None:
        raise InvalidInput("Enter a valid email address for the test.", field="to_address")
    rendered = preview_template(
        session=session,
        tenant_id=tenant_id,
        template_id=template_id,
        fields=fields,
        contact_id=contact_id,
    )
    return RenderedEmail(
        subject=f"[Test] {rendered.subject}",
        html=rendered.html,
        text=rendered.text,
        headers=rendered.headers,
    )


test_email.__test__ = False  # a service, not a pytest test, wherever it is imported
