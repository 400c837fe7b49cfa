"""Campaign statistics and A/B winners: rates from human engagement only, revenue in the
attribution window, win probabilities, the winner sent to the held rest exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from marketing_app.domain.errors import Conflict, NotFound
from marketing_app.models import Campaign, CampaignStatus, Contact, EmailMessage, Order
from marketing_app.models import MessageStatus as MS
from marketing_app.services import campaign_ab
from marketing_app.services.campaign_stats import campaign_stats

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
CONTENT = {"variants": [{"key": "A", "subject": "a"}, {"key": "B", "subject": "b"}]}


def _campaign(session, tenant, **fields) -> Campaign:
    campaign = Campaign(
        tenant_id=tenant.id,
        name="Test",
        status=CampaignStatus.SENDING,
        content=CONTENT,
        started_at=NOW,
        **fields,
    )
    session.add(campaign)
    session.flush()
    return campaign


def _messages(session, tenant, campaign, variant, count, **state) -> list[EmailMessage]:
    rows = []
    for i in range(count):
        contact = Contact(tenant_id=tenant.id, email=f"{variant or 'h'}{i}-{campaign.id}@x.com")
        session.add(contact)
        session.flush()
        row = EmailMessage(
            tenant_id=tenant.id,
            campaign_id=campaign.id,
            contact_id=contact.id,
            email=contact.email,
            variant=variant,
            status=state.get("status", MS.DELIVERED),
            sent_at=NOW,
            delivered_at=NOW if state.get("status", MS.DELIVERED) == MS.DELIVERED else None,
        )
        rows.append(row)
    session.add_all(rows)
    session.flush()
    return rows


def test_rates_count_human_opens_and_revenue_after_clicks(session, tenant):
    campaign = _campaign(session, tenant)
    rows = _messages(session, tenant, campaign, "A", 10)
    for row in rows[:4]:
        row.opened_at = NOW + timedelta(hours=1)
    rows[4].machine_opened_at = NOW  # Apple's proxy: not an open
    rows[0].clicked_at = NOW + timedelta(hours=2)
    session.add(
        Order(
            tenant_id=tenant.id,
            contact_id=rows[0].contact_id,
            external_id="o1",
            source="shopify",
            total_cents=5_000,
            placed_at=NOW + timedelta(days=1),
        )
    )
    session.add(
        Order(
            tenant_id=tenant.id,
            contact_id=rows[0].contact_id,
            external_id="o2",
            source="shopify",
            total_cents=9_000,
            placed_at=NOW + timedelta(days=9),
        )
    )
    rows[9].status, rows[9].delivered_at = MS.BOUNCED, None
    session.add_all(rows)
    session.flush()
    report = campaign_stats(session=session, tenant_id=tenant.id, campaign_id=campaign.id)
    totals = report["totals"]
    assert (totals["sent"], totals["delivered"], totals["bounced"]) == (10, 9, 1)
    assert (totals["opened"], totals["machine_opened"], totals["clicked"]) == (4, 1, 1)
    assert totals["open_rate"] == round(4 / 9, 4)
    assert totals["revenue_cents"] == 5_000 and totals["orders"] == 1  # day 9 is outside


def test_clear_winner_gets_high_probability_and_is_sent_to_the_rest(session, tenant):
    campaign = _campaign(session, tenant, ab_test={"enabled": True, "wait_hours": 4})
    for index, row in enumerate(_messages(session, tenant, campaign, "A", 100)):
        row.opened_at = NOW if index < 10 else None
    for index, row in enumerate(_messages(session, tenant, campaign, "B", 100)):
        row.opened_at = NOW if index < 30 else None
    held = _messages(session, tenant, campaign, "", 50, status=MS.QUEUED)
    session.flush()
    chances = campaign_ab.win_probabilities(session=session, campaign=campaign)
    assert chances["B"] > 0.99 and abs(sum(chances.values()) - 1) < 1e-3
    # Campaigns other tests left sending may be decided too: look at this one only.
    assert campaign.id not in campaign_ab.decide_due_winners(
        session=session, now=NOW + timedelta(hours=3)
    )
    assert campaign.id in campaign_ab.decide_due_winners(
        session=session, now=NOW + timedelta(hours=4)
    )
    variants = {session.get(EmailMessage, row.id).variant for row in held}
    assert variants == {"B"} and campaign.ab_test["winner"] == "B"
    assert campaign.ab_test["decided_by"] == "metric"
    assert campaign.id not in campaign_ab.decide_due_winners(
        session=session, now=NOW + timedelta(hours=5)
    )


def test_machine_opens_cannot_pick_the_winner(session, tenant):
    campaign = _campaign(session, tenant, ab_test={"enabled": True})
    for index, row in enumerate(_messages(session, tenant, campaign, "A", 100)):
        row.opened_at = NOW if index < 20 else None
    for row in _messages(session, tenant, campaign, "B", 100):
        row.machine_opened_at = NOW  # every B open came from a scanner
    session.flush()
    chances = campaign_ab.win_probabilities(session=session, campaign=campaign)
    assert chances["A"] > 0.99


def test_marketer_can_choose_once(session, tenant, other_tenant):
    campaign = _campaign(session, tenant, ab_test={"enabled": True})
    _messages(session, tenant, campaign, "A", 3)
    _messages(session, tenant, campaign, "", 4, status=MS.QUEUED)
    with pytest.raises(NotFound):
        campaign_ab.choose_winner(
            session=session, tenant_id=other_tenant.id, campaign_id=campaign.id, variant="A"
        )
    released = campaign_ab.choose_winner(
        session=session, tenant_id=tenant.id, campaign_id=campaign.id, variant="A", now=NOW
    )
    assert released == 4
    with pytest.raises(Conflict):
        campaign_ab.choose_winner(
            session=session, tenant_id=tenant.id, campaign_id=campaign.id, variant="B"
        )
    left = session.exec(
        select(EmailMessage).where(
            EmailMessage.campaign_id == campaign.id, EmailMessage.variant == ""
        )
    ).all()
    assert left == []
