"""Campaign CRUD and lifecycle: what may be edited, scheduled, paused, cancelled, deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import CampaignStatus, Contact, EmailMessage
from marketing_app.models import MessageStatus as MS
from marketing_app.services import campaign_lifecycle as lifecycle
from marketing_app.services import campaign_send, campaigns, segments, static_lists

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
HTML = "<html><body><p>Hi {{ first_name | default('there') }}</p></body></html>"


@pytest.fixture
def guests(session, tenant):
    tenant.postal_address = "1 Main St, Raleigh, NC 27601"
    people = [
        Contact(tenant_id=tenant.id, email=f"g{i}@example.com", email_consent=True)
        for i in range(3)
    ]
    session.add_all(people)
    session.flush()
    guest_list = segments.create_segment(
        session=session, tenant_id=tenant.id, name="Guests", kind="static"
    )
    static_lists.add_members(
        session=session,
        tenant_id=tenant.id,
        list_id=guest_list.id,
        contact_ids=[p.id for p in people],
    )
    return guest_list


def _ready(session, tenant, guests, **fields):
    return campaigns.create_campaign(
        session=session,
        tenant_id=tenant.id,
        name="Weekly specials",
        from_email="Shop@Example.com",
        audience={"segment_ids": [guests.id]},
        content={"variants": [{"key": "A", "subject": "Hello {{ first_name }}", "html": HTML}]},
        **fields,
    )


def test_schedule_refuses_an_incomplete_campaign_and_says_why(session, tenant):
    tenant.postal_address = ""
    draft = campaigns.create_campaign(session=session, tenant_id=tenant.id, name="Empty")
    with pytest.raises(InvalidInput) as refused:
        lifecycle.schedule_campaign(session=session, tenant_id=tenant.id, campaign_id=draft.id)
    message = refused.value.message
    for words in ("segment or list", "from address", "postal address", "subject", "content"):
        assert words in message
    assert draft.status == CampaignStatus.DRAFT


def test_template_errors_are_named_with_their_line(session, tenant, guests):
    broken = "<html><body>\n<p>{{ first_name </p>\n</body></html>"
    draft = _ready(session, tenant, guests)
    campaigns.update_campaign(
        session=session,
        tenant_id=tenant.id,
        campaign_id=draft.id,
        content={"variants": [{"subject": "Hi {{ favourite_colour }}", "html": broken}]},
    )
    problems = lifecycle.readiness_problems(session=session, tenant_id=tenant.id, campaign=draft)
    assert any("html line 2" in p for p in problems)
    assert any("subject" in p and "favourite_colour" in p for p in problems)


def test_no_consented_recipient_cannot_be_scheduled(session, tenant, guests):
    for contact in session.exec(select(Contact).where(Contact.tenant_id == tenant.id)):
        contact.email_consent = False
        session.add(contact)
    draft = _ready(session, tenant, guests)
    with pytest.raises(InvalidInput, match="Nobody in this audience"):
        lifecycle.schedule_campaign(session=session, tenant_id=tenant.id, campaign_id=draft.id)


def test_lifecycle_from_draft_to_sent_with_pause_and_resume(session, tenant, guests):
    draft = _ready(session, tenant, guests)
    assert draft.from_email == "shop@example.com"
    scheduled = lifecycle.schedule_campaign(
        session=session, tenant_id=tenant.id, campaign_id=draft.id, now=NOW
    )
    assert scheduled.status == CampaignStatus.SCHEDULED and scheduled.scheduled_for == NOW
    with pytest.raises(Conflict):
        campaigns.update_campaign(
            session=session, tenant_id=tenant.id, campaign_id=draft.id, name="Renamed"
        )
    assert draft.id in lifecycle.due_campaign_ids(session=session, now=NOW)
    campaign_send.start_send(session=session, campaign_id=draft.id, now=NOW)
    lifecycle.pause_campaign(session=session, tenant_id=tenant.id, campaign_id=draft.id)
    with pytest.raises(Conflict):
        lifecycle.pause_campaign(session=session, tenant_id=tenant.id, campaign_id=draft.id)
    lifecycle.resume_campaign(session=session, tenant_id=tenant.id, campaign_id=draft.id)
    assert draft.status == CampaignStatus.SENDING
    with pytest.raises(Conflict, match="not deleted"):
        campaigns.delete_campaign(session=session, tenant_id=tenant.id, campaign_id=draft.id)


def test_scheduled_in_the_future_waits_and_unschedule_returns_to_draft(session, tenant, guests):
    later = NOW + timedelta(days=2)
    draft = _ready(session, tenant, guests, schedule={"mode": "at", "send_at": later.isoformat()})
    lifecycle.schedule_campaign(session=session, tenant_id=tenant.id, campaign_id=draft.id, now=NOW)
    assert draft.id not in lifecycle.due_campaign_ids(session=session, now=NOW)
    assert not campaign_send.start_send(session=session, campaign_id=draft.id, now=NOW).started
    lifecycle.unschedule_campaign(session=session, tenant_id=tenant.id, campaign_id=draft.id)
    assert draft.status == CampaignStatus.DRAFT and draft.scheduled_for is None
    campaigns.delete_campaign(session=session, tenant_id=tenant.id, campaign_id=draft.id)
    with pytest.raises(NotFound):
        campaigns.get_campaign(session=session, tenant_id=tenant.id, campaign_id=draft.id)


def test_cancel_skips_what_was_not_sent(session, tenant, guests):
    draft = _ready(session, tenant, guests)
    lifecycle.schedule_campaign(session=session, tenant_id=tenant.id, campaign_id=draft.id, now=NOW)
    campaign_send.start_send(session=session, campaign_id=draft.id, now=NOW)
    lifecycle.cancel_campaign(session=session, tenant_id=tenant.id, campaign_id=draft.id)
    statuses = session.exec(
        select(EmailMessage.status, EmailMessage.skip_reason).where(
            EmailMessage.campaign_id == draft.id
        )
    ).all()
    assert statuses and all(s == (MS.SKIPPED, "cancelled") for s in statuses)
    assert draft.status == CampaignStatus.CANCELLED


def test_bad_fields_are_refused_with_the_field(session, tenant, guests):
    with pytest.raises(InvalidInput) as bad_from:
        campaigns.create_campaign(
            session=session, tenant_id=tenant.id, name="X", from_email="not an address"
        )
    assert bad_from.value.field == "from_email"
    with pytest.raises(InvalidInput) as bad_ab:
        campaigns.create_campaign(
            session=session, tenant_id=tenant.id, name="X", ab_test={"test_percent": 90}
        )
    assert bad_ab.value.field == "ab_test"
    with pytest.raises(InvalidInput, match="does not exist"):
        campaigns.create_campaign(
            session=session, tenant_id=tenant.id, name="X", audience={"segment_ids": [999999]}
        )
    with pytest.raises(InvalidInput):
        campaigns.create_campaign(session=session, tenant_id=tenant.id, name="A\x00B")


def test_other_tenants_cannot_see_or_use_campaigns(session, tenant, other_tenant, guests):
    campaign = _ready(session, tenant, guests)
    with pytest.raises(NotFound):
        campaigns.get_campaign(session=session, tenant_id=other_tenant.id, campaign_id=campaign.id)
    with pytest.raises(InvalidInput, match="does not exist"):
        campaigns.create_campaign(
            session=session,
            tenant_id=other_tenant.id,
            name="Theirs",
            audience={"segment_ids": [guests.id]},
        )
    assert campaigns.list_campaigns(session=session, tenant_id=other_tenant.id) == []
