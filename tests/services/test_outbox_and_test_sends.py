"""Test sends land in the console outbox (no provider configured) personalized for the
chosen customer; the outbox lists, searches and opens them per tenant."""

from __future__ import annotations

import pytest

from marketing_app.domain.errors import InvalidInput, NotFound
from marketing_app.models import Contact, OutboxMessage
from marketing_app.services import outbox
from marketing_app.services.email_templates import TemplateFields
from marketing_app.services.email_test_sends import send_test_email

FIELDS = TemplateFields(
    subject="Hi {{ first_name | default('friend') }}, new arrivals",
    preheader="This week only",
    html="<html><body><p>Hello {{ first_name | default('friend') }}</p></body></html>",
)


def _send(session, tenant, **fields):
    arguments = {
        "to_address": "me@shop.example",
        "fields": FIELDS,
        "from_email": "news@shop.example",
    }
    outcome = send_test_email(session=session, tenant_id=tenant.id, **arguments | fields)
    session.commit()
    return outcome


def test_a_test_send_lands_in_the_outbox_as_the_chosen_customer_would_see_it(session, tenant):
    ann = Contact(tenant_id=tenant.id, email="ann@example.com", first_name="Ann")
    session.add(ann)
    session.flush()
    outcome = _send(session, tenant, contact_id=ann.id, from_name="Leaf News")
    assert outcome.accepted and outcome.provider == "console"
    [row], total = outbox.list_outbox(session=session, tenant_id=tenant.id)
    assert total == 1
    assert row.subject == "[Test] Hi Ann, new arrivals"
    assert row.to_address == "me@shop.example"
    assert row.from_address == "Leaf News <news@shop.example>"
    assert "Hello Ann" in row.html and "Hello Ann" in row.text_body
    opened = outbox.get_outbox_message(session=session, tenant_id=tenant.id, outbox_id=row.id)
    assert opened.id == row.id


def test_without_a_customer_the_sample_data_is_used(session, tenant):
    _send(session, tenant)
    [row], _ = outbox.list_outbox(session=session, tenant_id=tenant.id)
    assert row.subject.startswith("[Test] Hi ") and "{{" not in row.subject


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to_address": "nobody"}, "to_address"),
        ({"from_email": ""}, "from_email"),
        ({"from_email": "not an address"}, "from_email"),
        ({"fields": TemplateFields("Hi {{ frist_name }}", "", "<p>x</p>")}, "subject"),
    ],
)
def test_bad_test_sends_are_refused_and_nothing_is_sent(session, tenant, fields, field):
    with pytest.raises(InvalidInput) as refused:
        _send(session, tenant, **fields)
    assert refused.value.field == field
    assert outbox.list_outbox(session=session, tenant_id=tenant.id)[1] == 0


def test_outbox_search_and_paging_newest_first(session, tenant):
    session.add_all(
        [
            OutboxMessage(
                tenant_id=tenant.id,
                to_address=f"p{i}@example.com",
                from_address="shop@example.com",
                subject=f"Offer {i}" if i % 2 else f"Receipt {i}",
            )
            for i in range(5)
        ]
    )
    session.commit()
    page, total = outbox.list_outbox(session=session, tenant_id=tenant.id, limit=2)
    assert total == 5 and [m.to_address for m in page] == ["p4@example.com", "p3@example.com"]
    offers, count = outbox.list_outbox(session=session, tenant_id=tenant.id, search="OFFER")
    assert count == 2 and {m.subject for m in offers} == {"Offer 1", "Offer 3"}
    by_address, _ = outbox.list_outbox(session=session, tenant_id=tenant.id, search="p2@")
    assert [m.subject for m in by_address] == ["Receipt 2"]


def test_tenants_never_see_each_others_outbox(session, tenant, other_tenant):
    _send(session, tenant)
    [mine], _ = outbox.list_outbox(session=session, tenant_id=tenant.id)
    assert outbox.list_outbox(session=session, tenant_id=other_tenant.id) == ([], 0)
    with pytest.raises(NotFound):
        outbox.get_outbox_message(session=session, tenant_id=other_tenant.id, outbox_id=mine.id)
    with pytest.raises(NotFound):
        outbox.get_outbox_message(session=session, tenant_id=tenant.id, outbox_id=-1)
