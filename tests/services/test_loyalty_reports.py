"""Reading loyalty: a member's card, members per tier, liability, activity, ledger check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from marketing_app.domain.errors import NotFound
from marketing_app.models import LoyaltyAccount
from marketing_app.models.loyalty_sync import (
    DiscrepancyKind,
    DiscrepancyStatus,
    ExternalLoyaltyBalance,
    LoyaltyDiscrepancy,
)
from marketing_app.services.loyalty_adjustments import adjust_points
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_redemptions import redeem_points
from marketing_app.services.loyalty_reports import (
    account_summary,
    count_activity,
    external_balance,
    ledger_mismatches,
    liability,
    members_per_tier,
    open_discrepancy,
    recent_activity,
)
from tests.services.test_loyalty_support import (
    METALS,
    PLACED,
    make_contact,
    make_order,
    make_program,
)


@pytest.fixture
def members(session, tenant):
    """Ann: 800 earned, 300 spent (Silver). Bob: 100 earned (Bronze)."""
    make_program(session, tenant, tiers=METALS, point_value_cents="2", expiry_days=365)
    ann = make_contact(session, tenant, first_name="Ann", last_name="Lee")
    bob = make_contact(session, tenant, first_name="", email="bob@example.com")
    make_order(session, tenant, ann, 50000)
    make_order(session, tenant, ann, 30000, placed_at=PLACED + timedelta(days=1))
    make_order(session, tenant, bob, 10000)
    credit_orders(session=session, tenant_id=tenant.id)
    redeem_points(
        session=session, tenant_id=tenant.id, contact_id=ann.id, points=300, idempotency_key="r"
    )
    session.commit()
    return ann, bob


def test_account_summary_shows_points_tier_progress_and_history(session, tenant, members):
    ann, _ = members
    card = account_summary(session=session, tenant_id=tenant.id, contact_id=ann.id, limit=2)
    assert card.member
    assert (card.balance, card.lifetime_earned, card.value_cents) == (500, 800, 1000)
    assert (card.tier, card.next_tier, card.points_to_next_tier) == ("Silver", "Gold", 700)
    assert card.progress_percent == 30  # 300 of the 1,000 between Silver and Gold
    assert card.history_total == 3
    assert [line.points for line in card.history] == [-300, 300]  # newest first
    assert card.expires_at == card.last_activity_at + timedelta(days=365)
    rest = account_summary(
        session=session, tenant_id=tenant.id, contact_id=ann.id, limit=2, offset=2
    )
    assert [line.points for line in rest.history] == [500]


def test_a_customer_without_points_has_an_empty_card(session, tenant, members):
    newcomer = make_contact(session, tenant)
    card = account_summary(session=session, tenant_id=tenant.id, contact_id=newcomer.id)
    assert (card.member, card.balance, card.history, card.expires_at) == (False, 0, [], None)
    assert (card.tier, card.next_tier, card.points_to_next_tier) == ("Bronze", "Silver", 500)


def test_members_per_tier_and_liability(session, tenant, members):
    counts = members_per_tier(session=session, tenant_id=tenant.id)
    assert [(row.tier, row.members) for row in counts] == [
        ("Bronze", 1),
        ("Silver", 1),
        ("Gold", 0),
    ]
    owed = liability(session=session, tenant_id=tenant.id)
    assert (owed.points, owed.cents, owed.members_with_points) == (600, 1200, 2)


def test_recent_activity_names_the_customer(session, tenant, members):
    ann, bob = members
    lines = recent_activity(session=session, tenant_id=tenant.id, limit=10)
    assert [(line.customer, line.kind, line.points) for line in lines] == [
        ("Ann Lee", "redeem", -300),
        ("bob@example.com", "earn", 100),
        ("Ann Lee", "earn", 300),
        ("Ann Lee", "earn", 500),
    ]
    assert len(recent_activity(session=session, tenant_id=tenant.id, kind="redeem")) == 1


def test_ledger_check_finds_an_account_out_of_step(session, tenant, members):
    ann, _ = members
    assert ledger_mismatches(session=session, tenant_id=tenant.id) == []
    session.exec(
        update(LoyaltyAccount).where(LoyaltyAccount.contact_id == ann.id).values(balance=7)
    )
    [mismatch] = ledger_mismatches(session=session, tenant_id=tenant.id)
    assert (mismatch.contact_id, mismatch.balance, mismatch.ledger_balance) == (ann.id, 7, 500)
    session.rollback()


def test_reports_never_show_another_tenant(session, tenant, other_tenant, members):
    ann, _ = members
    make_program(session, other_tenant, tiers=METALS)
    eve = make_contact(session, other_tenant)
    adjust_points(
        session=session,
        tenant_id=other_tenant.id,
        contact_id=eve.id,
        points=5000,
        adjustment_id="a",
        reason="test",
    )
    session.commit()
    assert liability(session=session, tenant_id=tenant.id).points == 600
    assert len(recent_activity(session=session, tenant_id=tenant.id)) == 4
    assert [row.members for row in members_per_tier(session=session, tenant_id=tenant.id)] == [
        1,
        1,
        0,
    ]
    with pytest.raises(NotFound):
        account_summary(session=session, tenant_id=other_tenant.id, contact_id=ann.id)


def _discrepancy(tenant, contact, status: str) -> LoyaltyDiscrepancy:
    return LoyaltyDiscrepancy(
        tenant_id=tenant.id,
        contact_id=contact.id,
        calculated_points=500,
        external_points=450,
        stored_balance=500,
        difference=-50,
        difference_percent=-10.0,
        over_threshold=True,
        kind=DiscrepancyKind.SYNC_LAG,
        explanation="Alpine IQ has not seen the last order yet.",
        status=status,
    )


def test_activity_count_matches_what_the_pages_hold(session, tenant, members):
    assert count_activity(session=session, tenant_id=tenant.id) == 4
    assert count_activity(session=session, tenant_id=tenant.id, kind="earn") == 3
    second_page = recent_activity(session=session, tenant_id=tenant.id, limit=3, offset=3)
    assert [line.points for line in second_page] == [500]


def test_card_shows_alpine_iq_balance_and_the_open_discrepancy(session, tenant, members):
    ann, bob = members
    assert external_balance(session=session, tenant_id=tenant.id, contact_id=ann.id) is None
    assert open_discrepancy(session=session, tenant_id=tenant.id, contact_id=ann.id) is None
    session.add(
        ExternalLoyaltyBalance(
            tenant_id=tenant.id, contact_id=ann.id, external_id="aiq-1", points=450
        )
    )
    session.add(_discrepancy(tenant, ann, DiscrepancyStatus.RESOLVED))
    session.add(_discrepancy(tenant, bob, DiscrepancyStatus.OPEN))
    session.commit()
    theirs = external_balance(session=session, tenant_id=tenant.id, contact_id=ann.id)
    assert (theirs.points, theirs.external_id) == (450, "aiq-1")
    assert open_discrepancy(session=session, tenant_id=tenant.id, contact_id=ann.id) is None
    found = open_discrepancy(session=session, tenant_id=tenant.id, contact_id=bob.id)
    assert (found.external_points, found.stored_balance, found.status) == (450, 500, "open")


def test_card_sources_stay_within_the_tenant(session, tenant, other_tenant, members):
    ann, _ = members
    session.add(
        ExternalLoyaltyBalance(
            tenant_id=tenant.id, contact_id=ann.id, external_id="aiq-1", points=9
        )
    )
    session.add(_discrepancy(tenant, ann, DiscrepancyStatus.OPEN))
    session.commit()
    assert count_activity(session=session, tenant_id=other_tenant.id) == 0
    with pytest.raises(NotFound):
        external_balance(session=session, tenant_id=other_tenant.id, contact_id=ann.id)
    with pytest.raises(NotFound):
        open_discrepancy(session=session, tenant_id=other_tenant.id, contact_id=ann.id)
