"""A campaign sent batch by batch to a real SMTP sink: personalization, footer, headers,
tracked links, exactly one message per recipient, variants, and a resumed pause."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from marketing_app.models import CampaignStatus, Contact, EmailMessage
from marketing_app.models import MessageStatus as MS
from marketing_app.providers.email.smtp import SmtpEmailProvider, SmtpSettings
from marketing_app.services import campaign_lifecycle, campaigns, segments, static_lists
from marketing_app.services.campaign_delivery import deliver_batch
from marketing_app.services.campaign_send import start_send
from tests.fakes.smtp_sink import SmtpSink

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
HTML = (
    "<html><head><style>p { color: #333333; }</style></head><body>"
    "<p>Hi {{ first_name | default('there') }}, your rep {{ rep_name | default('our team') }}"
    ' says hello.</p><a href="https://shop.example.com/specials">Specials</a></body></html>'
)


@pytest.fixture
def sink():
    with SmtpSink() as running:
        yield running


@pytest.fixture
def smtp(sink):
    provider = SmtpEmailProvider(SmtpSettings(host="127.0.0.1", port=sink.port, security="none"))
    yield provider
    provider.close()


def _campaign(session, tenant, people, **fields):
    tenant.postal_address = "1 Main St\nRaleigh, NC 27601"
    audience = segments.create_segment(
        session=session, tenant_id=tenant.id, name="Everyone", kind="static"
    )
    static_lists.add_members(
        session=session,
        tenant_id=tenant.id,
        list_id=audience.id,
        contact_ids=[p.id for p in people],
    )
    content = fields.pop(
        "content", {"variants": [{"subject": "Specials for {{ first_name }}", "html": HTML}]}
    )
    campaign = campaigns.create_campaign(
        session=session,
        tenant_id=tenant.id,
        name="Weekly Specials",
        from_email="shop@example.com",
        from_name="The Shop",
        audience={"segment_ids": [audience.id]},
        content=content,
        **fields,
    )
    campaign_lifecycle.schedule_campaign(
        session=session, tenant_id=tenant.id, campaign_id=campaign.id, now=NOW
    )
    start_send(session=session, campaign_id=campaign.id, now=NOW)
    session.commit()
    return campaign


def _people(session, tenant, count):
    people = [
        Contact(
            tenant_id=tenant.id,
            email=f"p{i}@example.com",
            first_name="" if i == 0 else f"Name{i}",
            email_consent=True,
        )
        for i in range(count)
    ]
    session.add_all(people)
    session.flush()
    return people


def test_each_recipient_gets_one_personalized_email_with_footer_and_headers(
    session, tenant, sink, smtp
):
    people = _people(session, tenant, 5)
    campaign = _campaign(session, tenant, people)
    reports = [
        deliver_batch(session=session, campaign_id=campaign.id, worker="w", sender=smtp, limit=2)
        for _ in range(4)
    ]
    assert [r.claimed for r in reports] == [2, 2, 1, 0]
    assert [r.finished for r in reports] == [False, False, True, False]
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == sorted(p.email for p in people)
    mail = next(m for m in sink.messages if m.rcpt_tos == ["p1@example.com"])
    assert mail.message["Subject"] == "Specials for Name1"
    assert mail.message["From"] == "The Shop <shop@example.com>"
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/t/u/" in mail.message["List-Unsubscribe"]
    assert (
        mail.message["Message-ID"].startswith("<m")
        and "@example.com>" in mail.message["Message-ID"]
    )
    html, text = mail.body("html"), mail.body("plain")
    assert "Hi Name1, your rep our team says hello." in html
    assert 'style="color: #333333' in html or 'style="color:#333333' in html  # CSS inlined
    assert "1 Main St" in html and "Raleigh, NC 27601" in html and "/t/u/" in html
    assert "https://shop.example.com/specials" not in html and "/t/c/" in html
    assert "/t/o/" in html and "Hi Name1" in text and "<p>" not in text
    first = next(m for m in sink.messages if m.rcpt_tos == ["p0@example.com"])
    assert "Hi there," in first.body("html")
    rows = session.exec(select(EmailMessage).where(EmailMessage.campaign_id == campaign.id)).all()
    assert all(r.status == MS.SENT and r.provider == "smtp" for r in rows)
    assert campaign.status == CampaignStatus.SENT


def test_a_refused_address_fails_alone(session, tenant, smtp, sink):
    sink.refuse["p2@example.com"] = (550, "no such user")
    campaign = _campaign(session, tenant, _people(session, tenant, 3))
    report = deliver_batch(session=session, campaign_id=campaign.id, worker="w", sender=smtp)
    assert (report.sent, report.failed) == (2, 1)
    failed = session.exec(
        select(EmailMessage).where(
            EmailMessage.campaign_id == campaign.id, EmailMessage.status == MS.FAILED
        )
    ).one()
    assert failed.email == "p2@example.com" and "no such user" in failed.error


def test_pause_then_resume_neither_skips_nor_repeats(session, tenant, smtp, sink):
    people = _people(session, tenant, 6)
    campaign = _campaign(session, tenant, people)
    deliver_batch(session=session, campaign_id=campaign.id, worker="w", sender=smtp, limit=2)
    campaign_lifecycle.pause_campaign(session=session, tenant_id=tenant.id, campaign_id=campaign.id)
    session.commit()
    paused = deliver_batch(session=session, campaign_id=campaign.id, worker="w", sender=smtp)
    assert paused.claimed == 0 and len(sink.messages) == 2
    campaign_lifecycle.resume_campaign(
        session=session, tenant_id=tenant.id, campaign_id=campaign.id
    )
    session.commit()
    deliver_batch(session=session, campaign_id=campaign.id, worker="w", sender=smtp)
    recipients = [m.rcpt_tos[0] for m in sink.messages]
    assert sorted(recipients) == sorted(p.email for p in people)  # each exactly once


def test_variants_render_their_own_subject(session, tenant, smtp, sink):
    people = _people(session, tenant, 40)
    content = {
        "variants": [
            {"key": "A", "subject": "A: {{ first_name }}", "html": HTML},
            {"key": "B", "subject": "B: {{ first_name }}", "html": HTML},
        ]
    }
    campaign = _campaign(
        session,
        tenant,
        people,
        content=content,
        ab_test={"enabled": True, "test_percent": 50},
    )
    deliver_batch(session=session, campaign_id=campaign.id, worker="w", sender=smtp)
    rows = {
        r.email: r.variant
        for r in session.exec(select(EmailMessage).where(EmailMessage.campaign_id == campaign.id))
    }
    for mail in sink.messages:
        assert mail.message["Subject"].startswith(rows[mail.rcpt_tos[0]] + ":")
    assert {m.message["Subject"][0] for m in sink.messages} == {"A", "B"}


def test_sendgrid_gets_batched_personalizations_with_substitutions(session, tenant):
    from marketing_app.providers.email.sendgrid import SendGridEmailProvider
    from tests.fakes.sendgrid_server import FakeSendGrid

    people = _people(session, tenant, 30)
    campaign = _campaign(session, tenant, people)
    with FakeSendGrid() as fake:
        provider = SendGridEmailProvider(api_key=fake.api_key, host=fake.base_url)
        report = deliver_batch(
            session=session, campaign_id=campaign.id, worker="w", sender=provider
        )
        provider.close()
    assert report.sent == 30 and len(fake.data.requests) == 1  # one request, 30 people
    body = fake.data.requests[0]
    by_address = {p["to"][0]["email"]: p for p in body["personalizations"]}
    assert set(by_address) == {p.email for p in people}
    one = by_address["p1@example.com"]
    html = next(c["value"] for c in body["content"] if c["type"] == "text/html")
    for key, value in one["substitutions"].items():
        html = html.replace(key, value)
    assert "Hi Name1, your rep our team says hello." in html and "Raleigh, NC 27601" in html
    # the one-click header once for the request (SendGrid adds it to every message)
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "List-Unsubscribe-Post" not in one["headers"] and one["headers"]["List-Unsubscribe"]
    assert one["custom_args"]["message_id"].isdigit()
    subject = body.get("subject") or one.get("subject")
    for key, value in one["substitutions"].items():
        subject = subject.replace(key, value)
    assert subject == "Specials for Name1"
    rows = session.exec(select(EmailMessage).where(EmailMessage.campaign_id == campaign.id)).all()
    assert all(r.provider == "sendgrid" and r.provider_message_id for r in rows)


def test_a_recipient_whose_values_cannot_render_fails_alone(session, tenant, sink, smtp):
    people = _people(session, tenant, 3)
    for person, orders in zip(people, (2, 0, 4), strict=True):
        person.order_count = orders
    session.flush()
    html = HTML.replace("says hello", "says {{ 100 // order_count }}")
    campaign = _campaign(
        session, tenant, people, content={"variants": [{"subject": "Hi", "html": html}]}
    )
    smtp.max_batch = 1  # a batch per recipient, each sent while the next is built
    report = deliver_batch(session=session, campaign_id=campaign.id, worker="w", sender=smtp)
    assert (report.sent, report.failed) == (2, 1)
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == ["p0@example.com", "p2@example.com"]
    failed = session.exec(
        select(EmailMessage).where(
            EmailMessage.campaign_id == campaign.id, EmailMessage.status == MS.FAILED
        )
    ).one()
    assert failed.email == "p1@example.com" and "ZeroDivisionError" in failed.error
    again = deliver_batch(session=session, campaign_id=campaign.id, worker="w", sender=smtp)
    assert again.claimed == 0 and len(sink.messages) == 2
