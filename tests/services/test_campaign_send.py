"""Campaign audience, message rows at send start, claims with leases, exactly-once marking."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from marketing_app.db import get_engine
from marketing_app.domain.campaigns import Audience
from marketing_app.domain.email import SendOutcome as DeliveryResult
from marketing_app.models import (
    Campaign,
    CampaignStatus,
    Contact,
    EmailMessage,
    SubscriptionPreference,
    Suppression,
)
from marketing_app.models import MessageStatus as MS
from marketing_app.services import campaign_send, campaigns, message_claims, static_lists
from marketing_app.services.campaign_audience import count_audience

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _contact(session, tenant, email, *, consent=True, zone=None) -> Contact:
    contact = Contact(
        tenant_id=tenant.id,
        email=email,
        first_name=email.split("@")[0].title(),
        email_consent=consent,
        time_zone=zone,
    )
    session.add(contact)
    session.flush()
    return contact


def _list(session, tenant, contacts, name="Guests"):
    segment = static_lists_create(session, tenant, name)
    static_lists.add_members(
        session=session,
        tenant_id=tenant.id,
        list_id=segment.id,
        contact_ids=[c.id for c in contacts],
    )
    return segment


def static_lists_create(session, tenant, name):
    from marketing_app.services import segments

    return segments.create_segment(session=session, tenant_id=tenant.id, name=name, kind="static")


def _scheduled(session, tenant, segment_ids, **fields) -> Campaign:
    campaign = campaigns.create_campaign(
        session=session,
        tenant_id=tenant.id,
        name="Weekly",
        from_email="shop@example.com",
        audience={"segment_ids": segment_ids},
        **fields,
    )
    campaign.status, campaign.scheduled_for = CampaignStatus.SCHEDULED, NOW
    session.add(campaign)
    session.flush()
    return campaign


@pytest.fixture
def people(session, tenant):
    ann = _contact(session, tenant, "ann@example.com")
    bob = _contact(session, tenant, "bob@example.com")
    cat = _contact(session, tenant, "cat@example.com", consent=False)
    dan = _contact(session, tenant, "dan@example.com")
    eve = _contact(session, tenant, "eve@example.com")
    session.add(Suppression(tenant_id=tenant.id, channel="email", address="dan@example.com"))
    session.add(
        SubscriptionPreference(
            tenant_id=tenant.id, contact_id=eve.id, topic="marketing", subscribed=False
        )
    )
    session.flush()
    return ann, bob, cat, dan, eve


def test_audience_counts_say_why_each_member_is_left_out(session, tenant, people):
    ann, bob, cat, dan, eve = people
    guests = _list(session, tenant, people)
    vips = _list(session, tenant, [bob], name="Staff")
    audience = Audience(segment_ids=[guests.id], exclude_segment_ids=[vips.id])
    count = count_audience(session=session, tenant_id=tenant.id, audience=audience)
    assert (count.members, count.excluded, count.unconsented) == (5, 1, 1)
    assert (count.suppressed, count.unsubscribed, count.eligible) == (1, 1, 1)
    transactional = count_audience(
        session=session, tenant_id=tenant.id, audience=audience, transactional=True
    )
    assert transactional.eligible == 3  # consent and topic do not apply; suppression does


def test_start_writes_one_row_per_eligible_profile_once(session, tenant, people):
    campaign = _scheduled(session, tenant, [_list(session, tenant, people).id])
    started = campaign_send.start_send(session=session, campaign_id=campaign.id, now=NOW)
    again = campaign_send.start_send(session=session, campaign_id=campaign.id, now=NOW)
    rows = session.exec(select(EmailMessage).where(EmailMessage.campaign_id == campaign.id)).all()
    assert started.started and not again.started
    assert sorted(r.email for r in rows) == ["ann@example.com", "bob@example.com"]
    assert campaign.status == CampaignStatus.SENDING and campaign.executed
    assert campaign.send_summary["suppressed"] == 1 and campaign.send_summary["to_send"] == 2


def test_a_start_already_under_way_is_left_to_its_starter_without_waiting(session, tenant, people):
    """ "Send now"'s worker and the beat's tick may both try to start a campaign: the one
    finding it locked moves on at once instead of waiting for the other's rows."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    campaign = _scheduled(session, tenant, [_list(session, tenant, people).id])
    session.commit()
    assert campaign_send.start_send(session=session, campaign_id=campaign.id, now=NOW).started
    with Session(get_engine()) as other:  # while the first start's transaction is open
        other.execute(text("SET lock_timeout = '2s'"))  # waiting would fail the test
        assert not campaign_send.start_send(session=other, campaign_id=campaign.id).started
    session.commit()
    rows = session.exec(select(EmailMessage).where(EmailMessage.campaign_id == campaign.id))
    assert len(rows.all()) == 2


def test_frequency_cap_skips_and_counts(session, tenant, people):
    ann, bob, *_ = people
    tenant.settings = {"frequency_cap": {"max_emails": 1, "days": 7}}
    earlier = _scheduled(session, tenant, [_list(session, tenant, [ann], name="Earlier").id])
    session.add(
        EmailMessage(
            tenant_id=tenant.id,
            campaign_id=earlier.id,
            contact_id=ann.id,
            email=ann.email,
            status=MS.SENT,
            sent_at=NOW - timedelta(days=2),
        )
    )
    campaign = _scheduled(session, tenant, [_list(session, tenant, [ann, bob]).id])
    started = campaign_send.start_send(session=session, campaign_id=campaign.id, now=NOW)
    skipped = session.exec(
        select(EmailMessage.email).where(
            EmailMessage.campaign_id == campaign.id, EmailMessage.status == MS.SKIPPED
        )
    ).all()
    assert started.capped == 1 and skipped == ["ann@example.com"]


def test_ab_test_puts_the_test_share_in_variants_and_holds_the_rest(session, tenant):
    people = [_contact(session, tenant, f"p{i}@example.com") for i in range(400)]
    content = {"variants": [{"key": "A", "subject": "a"}, {"key": "B", "subject": "b"}]}
    campaign = _scheduled(
        session,
        tenant,
        [_list(session, tenant, people).id],
        content=content,
        ab_test={"enabled": True, "test_percent": 20},
    )
    campaign_send.start_send(session=session, campaign_id=campaign.id, now=NOW)
    rows = session.exec(select(EmailMessage).where(EmailMessage.campaign_id == campaign.id)).all()
    by_variant = {key: sum(r.variant == key for r in rows) for key in ("A", "B", "")}
    assert 50 <= by_variant["A"] + by_variant["B"] <= 110  # ~20% of 400
    assert abs(by_variant["A"] - by_variant["B"]) <= 25
    assert all(r.is_test_group == (r.variant != "") for r in rows)
    claimed = message_claims.claim_messages(
        session=session, campaign_id=campaign.id, worker="w1", limit=1000, now=NOW
    )
    assert len(claimed) == by_variant["A"] + by_variant["B"]  # held rows wait for the winner


def test_local_time_schedule_sets_each_zone_due_time(session, tenant):
    ny = _contact(session, tenant, "ny@example.com", zone="America/New_York")
    la = _contact(session, tenant, "la@example.com", zone="America/Los_Angeles")
    campaign = _scheduled(
        session,
        tenant,
        [_list(session, tenant, [ny, la]).id],
        schedule={"mode": "local", "send_at": "2026-11-21T00:00:00Z", "local_time": "09:00"},
    )
    campaign_send.start_send(session=session, campaign_id=campaign.id, now=NOW)
    due = dict(
        session.exec(
            select(EmailMessage.email, EmailMessage.due_at).where(
                EmailMessage.campaign_id == campaign.id
            )
        ).all()
    )
    assert due["ny@example.com"].astimezone(UTC).hour == 14  # 09:00 EST
    assert due["la@example.com"].astimezone(UTC).hour == 17  # 09:00 PST
    assert time(9) == due["la@example.com"].astimezone(UTC).replace(hour=9).time()


def test_claims_never_overlap_and_expired_leases_are_reclaimed(session, tenant):
    people = [_contact(session, tenant, f"p{i}@example.com") for i in range(30)]
    campaign = _scheduled(session, tenant, [_list(session, tenant, people).id])
    campaign_send.start_send(session=session, campaign_id=campaign.id, now=NOW)
    first = message_claims.claim_messages(
        session=session, campaign_id=campaign.id, worker="w1", limit=20, now=NOW
    )
    second = message_claims.claim_messages(
        session=session, campaign_id=campaign.id, worker="w2", limit=20, now=NOW
    )
    assert len(first) == 20 and len(second) == 10
    assert not {m.id for m in first} & {m.id for m in second}
    # w1 dies having sent 5; after its lease ends w3 gets exactly the 15 it never marked.
    sent = [DeliveryResult(m.id, True, "console", f"x{m.id}") for m in first[:5]]
    assert message_claims.record_results(session=session, worker="w1", results=sent) == 5
    done = [DeliveryResult(m.id, True, "console", f"x{m.id}") for m in second]
    assert message_claims.record_results(session=session, worker="w2", results=done) == 10
    later = NOW + message_claims.DEFAULT_LEASE + timedelta(seconds=1)
    third = message_claims.claim_messages(
        session=session, campaign_id=campaign.id, worker="w3", limit=100, now=later
    )
    assert {m.id for m in third} == {m.id for m in first[5:]}
    # the dead worker's late report cannot mark rows w3 now holds
    late = [DeliveryResult(m.id, True, "console", "late") for m in first[5:]]
    assert message_claims.record_results(session=session, worker="w1", results=late) == 0


def test_pause_stops_claims_and_finish_marks_sent(session, tenant, people):
    campaign = _scheduled(session, tenant, [_list(session, tenant, people).id])
    campaign_send.start_send(session=session, campaign_id=campaign.id, now=NOW)
    campaign.status = CampaignStatus.PAUSED
    assert not message_claims.claim_messages(
        session=session, campaign_id=campaign.id, worker="w", limit=10, now=NOW
    )
    campaign.status = CampaignStatus.SENDING
    claimed = message_claims.claim_messages(
        session=session, campaign_id=campaign.id, worker="w", limit=10, now=NOW
    )
    results = [
        DeliveryResult(claimed[0].id, True, "smtp", "<1@x>"),
        DeliveryResult(claimed[1].id, False, "smtp", None, "mailbox unknown"),
    ]
    message_claims.record_results(session=session, worker="w", results=results)
    assert message_claims.finish_if_done(session=session, campaign_id=campaign.id)
    progress = message_claims.send_progress(
        session=session, tenant_id=tenant.id, campaign_id=campaign.id
    )
    assert progress == {"total": 2, "sent": 1, "failed": 1, "skipped": 0, "queued": 0, "writing": 0}
    assert campaign.status == CampaignStatus.SENT


def test_unsubscribe_after_start_skips_at_claim(session, tenant, people):
    ann, bob, *_ = people
    campaign = _scheduled(session, tenant, [_list(session, tenant, [ann, bob]).id])
    campaign_send.start_send(session=session, campaign_id=campaign.id, now=NOW)
    bob.email_consent = False
    session.add(bob)
    session.flush()
    claimed = message_claims.claim_messages(
        session=session, campaign_id=campaign.id, worker="w", limit=10, now=NOW
    )
    assert [m.email for m in claimed] == ["ann@example.com"]


def test_a_profile_deleted_after_the_start_is_skipped_even_for_transactional_mail(
    session, tenant, people
):
    """Nothing is left to address it by (its row lost the profile); the others still go."""
    from marketing_app.services.profiles import delete_profile

    ann, bob, *_ = people
    campaign = _scheduled(session, tenant, [_list(session, tenant, [ann, bob]).id])
    campaign.transactional = True
    campaign_send.start_send(session=session, campaign_id=campaign.id, now=NOW)
    delete_profile(session=session, tenant_id=tenant.id, contact_id=bob.id)
    claimed = message_claims.claim_messages(
        session=session, campaign_id=campaign.id, worker="w", limit=10, now=NOW
    )
    assert [(m.email, m.recipient.first_name) for m in claimed] == [("ann@example.com", "Ann")]
    rows = session.exec(select(EmailMessage).where(EmailMessage.campaign_id == campaign.id))
    assert {r.email: r.status for r in rows} == {
        "ann@example.com": MS.QUEUED,
        "bob@example.com": MS.SKIPPED,
    }


def test_tenants_do_not_share_audiences_or_rows(session, tenant, other_tenant, people):
    stranger = _contact(session, other_tenant, "ann@example.com")
    campaign = _scheduled(session, tenant, [_list(session, tenant, people).id])
    campaign_send.start_send(session=session, campaign_id=campaign.id, now=NOW)
    rows = session.exec(select(EmailMessage).where(EmailMessage.campaign_id == campaign.id)).all()
    assert stranger.id not in {r.contact_id for r in rows}
    assert {r.tenant_id for r in rows} == {tenant.id}
    progress = message_claims.send_progress(
        session=session, tenant_id=other_tenant.id, campaign_id=campaign.id
    )
    assert progress["total"] == 0


@pytest.fixture
def three_senders(monkeypatch):
    from marketing_app.settings import get_settings

    monkeypatch.setenv("EMAIL_SENDERS_PER_CAMPAIGN", "3")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_tick_asks_for_the_configured_senders_less_those_at_work(
    session, tenant, people, three_senders
):
    from marketing_app.services import campaign_schedule

    campaign = _scheduled(session, tenant, [_list(session, tenant, people).id])
    session.commit()
    ticked = campaign_schedule.tick_campaigns(session=session, now=NOW)
    # (other tests' campaigns may share the database: only this one is looked at)
    assert campaign.id in ticked.started and ticked.senders_wanted[campaign.id] == 3
    message_claims.claim_messages(
        session=session, campaign_id=campaign.id, worker="w1", limit=1, now=NOW
    )
    session.commit()
    again = campaign_schedule.tick_campaigns(session=session, now=NOW)
    assert campaign.id not in again.started and again.senders_wanted[campaign.id] == 2
