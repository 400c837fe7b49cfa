"""Reconciliation classifies the prepared cases, on the suite's database and on SQLite:
agreement, missing visits, sync lag (activity after the snapshot, uncredited orders),
configuration, drift; the threshold edge; the source of truth; reruns; clearing; tenants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from marketing_app.models import LoyaltyAccount, Tenant
from marketing_app.models.loyalty_sync import (
    DiscrepancyKind,
    DiscrepancyStatus,
    ExternalLoyaltyBalance,
    LoyaltyDiscrepancy,
)
from marketing_app.services.loyalty_adjustments import adjust_points
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_reconciliation import last_run, reconcile
from tests.factories import make_tenant
from tests.segment_world import sqlite_session
from tests.services.test_loyalty_support import make_contact, make_order, make_program

SNAPSHOT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # when Alpine IQ reported its points
BEFORE = SNAPSHOT - timedelta(days=2)
AFTER = SNAPSHOT + timedelta(hours=3)


@pytest.fixture(params=["suite", "sqlite"])
def db(request, session):
    return session if request.param == "suite" else sqlite_session()


@pytest.fixture
def shop(db):
    tenant = make_tenant(db)
    make_program(db, tenant)  # 1 point per dollar, source of truth: orders, threshold 10%
    return tenant


def customer(db, tenant, *dollars: int, credited_at: datetime | None = BEFORE):
    """A customer with orders of these amounts, credited at `credited_at` (None: not yet)."""
    contact = make_contact(db, tenant)
    for amount in dollars:
        make_order(db, tenant, contact, amount * 100, placed_at=BEFORE - timedelta(days=1))
    if credited_at is not None:
        credit_orders(session=db, tenant_id=tenant.id, contact_id=contact.id, now=credited_at)
        db.commit()
    return contact


def alpine(db, tenant, contact, points: int, synced_at: datetime = SNAPSHOT) -> None:
    row = db.exec(
        select(ExternalLoyaltyBalance).where(
            ExternalLoyaltyBalance.tenant_id == tenant.id,
            ExternalLoyaltyBalance.contact_id == contact.id,
        )
    ).first() or ExternalLoyaltyBalance(
        tenant_id=tenant.id, contact_id=contact.id, external_id=f"aiq-{contact.id}", points=0
    )
    row.points, row.synced_at = points, synced_at
    db.add(row)
    db.commit()


def run(db, tenant, **options):
    result = reconcile(session=db, tenant_id=tenant.id, now=options.pop("now", AFTER), **options)
    db.commit()
    return result


def found(db, tenant, status: str = DiscrepancyStatus.OPEN) -> dict[int, LoyaltyDiscrepancy]:
    db.expire_all()
    rows = db.exec(
        select(LoyaltyDiscrepancy).where(
            LoyaltyDiscrepancy.tenant_id == tenant.id, LoyaltyDiscrepancy.status == status
        )
    )
    return {row.contact_id: row for row in rows}


def test_each_prepared_case_gets_its_class(db, shop):
    agreeing = customer(db, shop, 50)
    alpine(db, shop, agreeing, 50)
    in_store = customer(db, shop)  # no orders here, Alpine IQ credited visits
    alpine(db, shop, in_store, 120)
    later = customer(db, shop, 50)
    customer_order = make_order(db, shop, later, 3000)
    credit_orders(session=db, tenant_id=shop.id, order_ids=[customer_order.id], now=AFTER)
    alpine(db, shop, later, 50)  # the snapshot came before the second order was credited
    pending = customer(db, shop, 40)
    make_order(db, shop, pending, 2500)  # not credited yet; not mapped to Alpine IQ
    drifted = customer(db, shop, 50)
    alpine(db, shop, drifted, 50)
    db.exec(
        update(LoyaltyAccount)
        .where(LoyaltyAccount.contact_id == drifted.id)
        .values(balance=LoyaltyAccount.balance + 20)
    )
    db.commit()

    result = run(db, shop)
    rows = found(db, shop)
    assert set(rows) == {in_store.id, later.id, pending.id, drifted.id}
    assert (result.compared, result.discrepancies, result.new) == (5, 4, 4)
    assert result.by_kind == {
        DiscrepancyKind.MISSING_VISITS: 1,
        DiscrepancyKind.SYNC_LAG: 2,
        DiscrepancyKind.CONFIGURATION: 0,
        DiscrepancyKind.UNKNOWN: 1,
    }
    visits = rows[in_store.id]
    assert (visits.kind, visits.calculated_points, visits.external_points) == (
        DiscrepancyKind.MISSING_VISITS,
        0,
        120,
    )
    assert visits.stored_balance == 0 and visits.difference == 120 and visits.over_threshold
    assert "120 more points" in visits.explanation and "in-store" in visits.explanation
    lag = rows[later.id]
    assert (lag.kind, lag.calculated_points, lag.external_points, lag.difference) == (
        DiscrepancyKind.SYNC_LAG,
        80,
        50,
        -30,
    )
    assert lag.explanation == (
        "Alpine IQ shows 30 fewer points than our figure; the gap of 30 comes from 1 change "
        "here since its sync 2026-03-10 12:00 UTC."
    )
    behind = rows[pending.id]
    assert (behind.kind, behind.calculated_points, behind.stored_balance) == (
        DiscrepancyKind.SYNC_LAG,
        65,
        40,
    )
    assert behind.external_points is None and behind.difference == -25
    assert "1 order not credited yet would earn about 25 points" in behind.explanation
    drift = rows[drifted.id]
    assert (drift.kind, drift.stored_balance, drift.calculated_points) == (
        DiscrepancyKind.UNKNOWN,
        70,
        50,
    )
    assert "out of step" in drift.explanation
    assert last_run(session=db, tenant_id=shop.id)["by_kind"] == result.by_kind


def test_alpine_iq_earning_twice_our_rate_is_a_configuration_mismatch(db, shop):
    ann = customer(db, shop, 50, 30)
    adjust_points(
        session=db,
        tenant_id=shop.id,
        contact_id=ann.id,
        points=15,
        adjustment_id="welcome",
        reason="welcome gift",
        now=BEFORE,
    )
    db.commit()
    alpine(db, shop, ann, 2 * 80 + 15)  # $80 at 2 points per dollar, plus the gift
    bob = customer(db, shop, 50)
    alpine(db, shop, bob, 170)  # more than either rate explains
    tenant = db.get(Tenant, shop.id)
    tenant.settings = {**tenant.settings, "loyalty_sync": {"alpineiq": {"points_per_dollar": 2}}}
    db.add(tenant)
    db.commit()

    run(db, shop)
    rows = found(db, shop)
    assert rows[ann.id].kind == DiscrepancyKind.CONFIGURATION
    assert rows[ann.id].explanation == (
        "Alpine IQ shows 80 more points than our figure: it earns 2 points per dollar where we "
        "earn 1, and $80.00 of purchases at its rate come to 175."
    )
    assert rows[bob.id].kind == DiscrepancyKind.MISSING_VISITS
    # Without the rate (or with ours) nothing points at configuration.
    run(db, shop, their_points_per_dollar=1)
    assert found(db, shop)[ann.id].kind == DiscrepancyKind.MISSING_VISITS


def test_the_threshold_edge(db, shop):
    exactly = customer(db, shop, 1000)
    alpine(db, shop, exactly, 1100)  # 10%: not over
    above = customer(db, shop, 1000)
    alpine(db, shop, above, 1101)  # 10.1%: over
    result = run(db, shop)
    rows = found(db, shop)
    assert (rows[exactly.id].difference_percent, rows[exactly.id].over_threshold) == (10.0, False)
    assert (rows[above.id].difference_percent, rows[above.id].over_threshold) == (10.1, True)
    assert (result.over_threshold, result.newly_over_threshold) == (1, 1)


def test_the_source_of_truth_picks_the_reference(db, shop):
    ann = customer(db, shop, 100)
    alpine(db, shop, ann, 150)
    run(db, shop)
    ours = found(db, shop)[ann.id]
    assert (ours.difference, ours.difference_percent) == (50, 50.0)

    make_program(db, shop, source_of_truth="alpineiq")
    run(db, shop)
    theirs = found(db, shop)[ann.id]
    assert theirs.id == ours.id  # the same open row, refreshed
    assert (theirs.difference, theirs.difference_percent, theirs.over_threshold) == (
        -50,
        -33.33,
        True,
    )
    unmapped = customer(db, shop, 20, credited_at=None)  # no Alpine IQ figure: ours is the one
    run(db, shop)
    assert found(db, shop)[unmapped.id].difference == -20


def test_a_rerun_refreshes_and_agreement_clears(db, shop):
    ann = customer(db, shop, 60)
    alpine(db, shop, ann, 100)
    first = run(db, shop)
    opened = found(db, shop)[ann.id]
    alpine(db, shop, ann, 90)
    second = run(db, shop, now=AFTER + timedelta(hours=1))
    assert (first.new, second.new, second.discrepancies) == (1, 0, 1)
    assert second.newly_over_threshold == 0  # it was over the threshold already
    refreshed = found(db, shop)
    assert list(refreshed) == [ann.id] and refreshed[ann.id].id == opened.id
    assert (refreshed[ann.id].external_points, refreshed[ann.id].difference) == (90, 30)
    assert refreshed[ann.id].checked_at == AFTER + timedelta(hours=1)
    unchanged = run(db, shop, now=AFTER + timedelta(hours=2))  # the same figures: seen again
    assert (unchanged.new, found(db, shop)[ann.id].id) == (0, opened.id)
    assert found(db, shop)[ann.id].checked_at == AFTER + timedelta(hours=2)

    alpine(db, shop, ann, 60)
    third = run(db, shop)
    assert (third.discrepancies, third.cleared) == (0, 1)
    assert found(db, shop) == {} and found(db, shop, DiscrepancyStatus.CLEARED)[ann.id].id == (
        opened.id
    )
    alpine(db, shop, ann, 61)  # disagreeing again: a new open row beside the cleared one
    assert run(db, shop).new == 1 and found(db, shop)[ann.id].id != opened.id


def test_tenants_never_see_each_others_profiles(db, shop):
    theirs = make_tenant(db)
    make_program(db, theirs)
    ann = customer(db, shop, 10)
    alpine(db, shop, ann, 99)
    bob = customer(db, theirs, 10)
    alpine(db, theirs, bob, 77)
    ours = run(db, shop)
    assert (ours.compared, ours.discrepancies) == (1, 1)
    assert list(found(db, shop)) == [ann.id] and found(db, theirs) == {}
    alpine(db, shop, ann, 10)
    assert run(db, theirs).discrepancies == 1
    assert run(db, shop).cleared == 1 and list(found(db, theirs)) == [bob.id]


def test_uncredited_orders_are_estimated_with_the_programs_rules(db):
    tenant = make_tenant(db)
    make_program(
        db,
        tenant,
        points_per_dollar=1.5,
        points_per_visit=5,
        equity_multiplier=2,
        category_multipliers={"flower": 3},  # counted as 1 until the order is credited
    )
    equity = make_contact(db, tenant, traits={"equity": "yes"})
    make_order(db, tenant, equity, 3010, items=[("flower", 3010)])
    plain = make_contact(db, tenant)
    make_order(db, tenant, plain, 3010)
    run(db, tenant)
    rows = found(db, tenant)
    assert rows[equity.id].calculated_points == 45 * 2 + 5  # floor(30.10 x 1.5 x 2) + 5
    assert rows[plain.id].calculated_points == 45 + 5
    assert {row.kind for row in rows.values()} == {DiscrepancyKind.SYNC_LAG}
