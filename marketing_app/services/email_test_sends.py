"""Test sends: the email as a chosen customer (or sample data) would get it, delivered to
one address the marketer types, through the tenant's own providers.

With no provider configured the console provider records it in the outbox, exactly like a
campaign message. The subject carries "[Test]" and the links a test token that records
nothing (services.email_templates.test_email).
"""

from __future__ import annotations

import uuid

from sqlmodel import Session

from marketing_app.domain.email import OutgoingEmail, SendOutcome
from marketing_app.domain.errors import InvalidInput
from marketing_app.models import Tenant
from marketing_app.services.email_delivery import delivery_chain_for
from marketing_app.services.email_templates import TemplateFields, test_email
from marketing_app.services.identity import normalize_email
from marketing_app.services.users import validated_email


def send_test_email(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    to_address: str,
    fields: TemplateFields,
    contact_id: int | None = None,
    from_email: str = "",
    from_name: str = "",
) -> SendOutcome:
    """Render and send one test; the outcome says which provider took it (or why none did).
    InvalidInput for a bad address, template or sender, and when the provider refused it."""
    if not from_email.strip():
        raise InvalidInput("Give a from address to send the test from.", field="from_email")
    try:
        sender = validated_email(from_email)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="from_email") from None
    rendered = test_email(
        session=session,
        tenant_id=tenant_id,
        to_address=to_address,
        fields=fields,
        contact_id=contact_id,
    )
    tenant = session.get(Tenant, tenant_id)
    message = OutgoingEmail(
        message_id=f"test-{uuid.uuid4().hex}",
        to=normalize_email(to_address) or to_address,
        from_email=sender,
        from_name=from_name.strip() or (tenant.name if tenant else ""),
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        headers=rendered.headers,
        custom_args={"tenant_id": str(tenant_id), "test": "1"},
    )
    chain = delivery_chain_for(session=session, tenant_id=tenant_id)
    try:
        [outcome] = chain.send([message])
    finally:
        chain.close()
    if not outcome.accepted and not outcome.transient:
        raise InvalidInput(f"The test was refused: {outcome.error}", field="to_address")
    return outcome
