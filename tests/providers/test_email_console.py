"""The console provider: every message lands in its tenant's outbox, and only there."""

from __future__ import annotations

from contextlib import nullcontext

from sqlmodel import select

from marketing_app.domain.email import OutgoingEmail
from marketing_app.models import OutboxMessage
from marketing_app.providers.email.console import ConsoleEmailProvider


def message(i: int, **overrides) -> OutgoingEmail:
    fields = {
        "message_id": i,
        "to": f"s{i}@example.com",
        "from_email": "news@leaf.example",
        "from_name": "Leaf",
        "reply_to": "help@leaf.example",
        "subject": f"Hello {i}",
        "html": "<p>Hi</p><p>12 Main St</p>",
        "text": "Hi",
        "headers": {"List-Unsubscribe": f"<https://t.example/u/{i}>"},
        "custom_args": {"campaign_id": "7"},
    }
    return OutgoingEmail(**(fields | overrides))


def test_messages_land_in_the_tenants_outbox(session, tenant, other_tenant):
    provider = ConsoleEmailProvider(
        tenant_id=tenant.id, session_factory=lambda: nullcontext(session)
    )
    bad = message(3, headers={"X-Bad": "a\nb"})
    outcomes = provider.send([message(1), message(2), bad])
    session.commit()

    assert [o.accepted for o in outcomes] == [True, True, False]
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.tenant_id == tenant.id)).all()
    assert sorted(r.message_id for r in rows) == [1, 2]
    row = next(r for r in rows if r.message_id == 2)
    assert outcomes[1].provider_message_id == f"console-{row.id}"
    assert (row.to_address, row.from_address, row.subject) == (
        "s2@example.com",
        "Leaf <news@leaf.example>",
        "Hello 2",
    )
    assert row.headers["List-Unsubscribe"] == "<https://t.example/u/2>"
    assert row.headers["Reply-To"] == "help@leaf.example"
    assert "12 Main St" in row.html and row.text_body == "Hi"
    others = session.exec(
        select(OutboxMessage).where(OutboxMessage.tenant_id == other_tenant.id)
    ).all()
    assert others == []
