"""Links inside emails: pixel, click redirect with UTM and attribution, one-click unsubscribe,
the unsubscribe page and the preference center; forged tokens record nothing."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import select

from marketing_app.models import (
    Campaign,
    CampaignStatus,
    Contact,
    EmailEvent,
    EmailMessage,
    Event,
    SubscriptionPreference,
    WebSession,
)
from marketing_app.models import MessageStatus as MS
from marketing_app.models.base import utcnow
from marketing_app.services.email_tokens import message_token, preference_token

HTML = (
    "<html><body><p>Hi {{ first_name }}</p>"
    '<a href="https://shop.example.com/specials?ref=1">Specials</a>'
    '<a href="https://shop.example.com/new">New</a></body></html>'
)
HUMAN = {"user-agent": "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/17.0 Safari"}


@pytest.fixture
def sent_message(session, tenant):
    tenant.postal_address = "1 Main St, Raleigh, NC"
    contact = Contact(
        tenant_id=tenant.id, email="ann@example.com", first_name="Ann", email_consent=True
    )
    campaign = Campaign(
        tenant_id=tenant.id,
        name="Weekly Specials",
        status=CampaignStatus.SENT,
        from_email="shop@example.com",
        content={"variants": [{"key": "A", "subject": "Hi", "html": HTML}]},
    )
    session.add_all([tenant, contact, campaign])
    session.flush()
    message = EmailMessage(
        tenant_id=tenant.id,
        campaign_id=campaign.id,
        contact_id=contact.id,
        email=contact.email,
        status=MS.SENT,
        sent_at=utcnow() - timedelta(hours=1),
    )
    session.add(message)
    session.commit()
    return message


def _refreshed(session, row):
    session.expire_all()
    return session.get(type(row), row.id)


def test_pixel_records_a_human_open_and_apple_proxy_as_machine(client, session, sent_message):
    token = message_token(sent_message.tenant_id, sent_message.id)
    answer = client.get(f"/t/o/{token}.gif", headers=HUMAN)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/gif"
    assert _refreshed(session, sent_message).opened_at is not None
    opened = session.exec(
        select(Event).where(
            Event.contact_id == sent_message.contact_id, Event.name == "Email Opened"
        )
    ).all()
    assert len(opened) == 1


def test_machine_open_does_not_count_as_opened(client, session, sent_message):
    token = message_token(sent_message.tenant_id, sent_message.id)
    client.get(f"/t/o/{token}.gif", headers={"user-agent": "Mozilla/5.0"})
    message = _refreshed(session, sent_message)
    assert message.opened_at is None and message.machine_opened_at is not None


def test_forged_pixel_still_serves_the_image_and_records_nothing(client, session, sent_message):
    token = message_token(sent_message.tenant_id, sent_message.id)
    answer = client.get(f"/t/o/{token[:-3]}xyz.gif", headers=HUMAN)
    assert answer.status_code == 200
    assert (
        session.exec(select(EmailEvent).where(EmailEvent.message_id == sent_message.id)).all() == []
    )


def test_click_redirects_with_utm_and_starts_an_attribution_session(client, session, sent_message):
    token = message_token(sent_message.tenant_id, sent_message.id)
    answer = client.get(f"/t/c/{token}/0", headers=HUMAN, follow_redirects=False)
    assert answer.status_code == 302
    target = urlparse(answer.headers["location"])
    query = parse_qs(target.query)
    assert target.netloc == "shop.example.com" and target.path == "/specials"
    assert query["ref"] == ["1"] and query["utm_source"] == ["email"]
    assert query["utm_campaign"] == ["weekly-specials"]
    assert _refreshed(session, sent_message).clicked_at is not None
    visit = session.exec(
        select(WebSession).where(WebSession.contact_id == sent_message.contact_id)
    ).one()
    assert visit.utm_campaign == "weekly-specials" and visit.utm_medium == "email"


def test_click_on_a_link_the_email_never_had_is_refused(client, session, sent_message):
    token = message_token(sent_message.tenant_id, sent_message.id)
    assert client.get(f"/t/c/{token}/7", follow_redirects=False).status_code == 404
    assert client.get(f"/t/c/{token}x/0", follow_redirects=False).status_code == 404
    assert _refreshed(session, sent_message).clicked_at is None


def test_one_click_unsubscribe_acts_at_once_without_redirect(client, session, sent_message):
    token = message_token(sent_message.tenant_id, sent_message.id)
    answer = client.post(
        f"/t/u/{token}",
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert answer.status_code == 200
    assert _refreshed(session, sent_message).unsubscribed_at is not None
    stops = session.exec(
        select(SubscriptionPreference).where(
            SubscriptionPreference.contact_id == sent_message.contact_id
        )
    ).all()
    assert [(p.topic, p.subscribed) for p in stops] == [("all", False)]


def test_unsubscribe_page_confirms_and_links_to_preferences(client, session, sent_message):
    token = message_token(sent_message.tenant_id, sent_message.id)
    page = client.get(f"/t/u/{token}")
    assert page.status_code == 200 and "Unsubscribe" in page.text and f"/t/p/{token}" in page.text
    assert _refreshed(session, sent_message).unsubscribed_at is None  # a GET changes nothing


def test_preference_center_saves_topics(client, session, sent_message):
    contact_token = preference_token(sent_message.tenant_id, sent_message.contact_id)
    page = client.get(f"/t/p/{contact_token}")
    assert page.status_code == 200 and "Rewards and points" in page.text
    saved = client.post(f"/t/p/{contact_token}", data={"email": ["loyalty"]})
    assert saved.status_code == 200 and "saved" in saved.text
    chosen = {
        (p.topic, p.subscribed)
        for p in session.exec(
            select(SubscriptionPreference).where(
                SubscriptionPreference.contact_id == sent_message.contact_id,
                SubscriptionPreference.channel == "email",
            )
        )
    }
    assert ("loyalty", True) in chosen and ("marketing", False) in chosen
    refused = client.post(f"/t/p/{contact_token}", data={"email": ["<script>"]})
    assert refused.status_code == 422 and "<script>" not in refused.text


def test_a_token_of_another_tenant_cannot_reach_this_message(
    client, session, sent_message, other_tenant
):
    forged = message_token(other_tenant.id, sent_message.id)
    assert client.get(f"/t/u/{forged}").status_code == 404
    client.get(f"/t/o/{forged}.gif", headers=HUMAN)
    assert _refreshed(session, sent_message).opened_at is None
