"""Refunds and cancellations reverse an order's points with compensating entries."""

from __future__ import annotations

import pytest

from marketing_app.domain.errors import InvalidInput, NotFound
from marketing_app.models import LedgerKind
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_redemptions import redeem_points
from marketing_app.services.loyalty_refunds import cancel_order, refund_order
from tests.services.test_loyalty_support import (
    METALS,
    account_of,
    assert_ledger_consistent,
    balance,
    entries_of,
    make_contact,
    make_order,
    make_program,
)


def refund(session, tenant, order, refund_id="rf-1", amount_cents=None):
    result = refund_order(
        session=session,
        tenant_id=tenant.id,
        order_id=order.id,
        refund_id=refund_id,
        amount_cents=amount_cents,
    )
    session.commit()
    return result


@pytest.fixture
def ann_order(session, tenant):
    """Ann bought for $100.00 at 1 point per dollar plus 10 per visit: 110 points."""
    make_program(session, tenant, points_per_visit=10)
    ann = make_contact(session, tenant)
    order = make_order(session, tenant, ann, 10000)
    credit_orders(session=session, tenant_id=tenant.id)
    session.commit()
    return ann, order


def test_a_full_refund_reverses_with_an_entry_not_a_delete(session, tenant, ann_order):
    ann, order = ann_order
    result = refund(session, tenant, order)
    assert (result.reversed_points, result.shortfall, result.refunded_cents) == (110, 0, 10000)
    earn, reverse = entries_of(session, tenant, ann)
    assert (earn.kind, earn.points) == (LedgerKind.EARN, 110)
    assert (reverse.kind, reverse.points, reverse.earned, reverse.order_id) == (
        LedgerKind.REVERSE,
        -110,
        -110,
        order.id,
    )
    account = account_of(session, tenant, ann)
    assert (account.balance, account.lifetime_earned) == (0, 0)
    assert_ledger_consistent(session, tenant)


def test_partial_refunds_reverse_proportionally_and_add_up_to_the_order(session, tenant, ann_order):
    ann, order = ann_order
    assert refund(session, tenant, order, "rf-1", 2500).reversed_points == 27  # floor(27.5)
    assert refund(session, tenant, order, "rf-2", 2500).reversed_points == 28  # half: 55
    assert balance(session, tenant, ann) == 55
    last = refund(session, tenant, order, "rf-3", 99999)  # more than is left: the rest
    assert (last.reversed_points, last.refunded_cents) == (55, 5000)
    assert balance(session, tenant, ann) == 0
    after = refund(session, tenant, order, "rf-4", 100)
    assert after.skipped == "The order was refunded in full already." and after.reversed_points == 0
    assert len(entries_of(session, tenant, ann)) == 4
    assert_ledger_consistent(session, tenant)


def test_a_replayed_refund_reverses_once(session, tenant, ann_order):
    ann, order = ann_order
    refund(session, tenant, order, "rf-1", 5000)
    again = refund(session, tenant, order, "rf-1", 5000)
    assert again.replayed and again.reversed_points == 0
    assert balance(session, tenant, ann) == 55 and len(entries_of(session, tenant, ann)) == 2


def test_spent_points_floor_the_balance_at_zero_and_record_the_shortfall(
    session, tenant, ann_order
):
    ann, order = ann_order
    redeem_points(
        session=session, tenant_id=tenant.id, contact_id=ann.id, points=100, idempotency_key="r"
    )
    session.commit()
    result = cancel_order(session=session, tenant_id=tenant.id, order_id=order.id)
    session.commit()
    assert (result.reversed_points, result.shortfall) == (10, 100)
    reverse = entries_of(session, tenant, ann)[-1]
    assert (reverse.points, reverse.earned, reverse.shortfall) == (-10, -110, 100)
    assert reverse.reason == "cancelled order"
    account = account_of(session, tenant, ann)
    assert (account.balance, account.lifetime_earned) == (0, 0)
    assert_ledger_consistent(session, tenant)


def test_a_refund_moves_the_tier_down_and_says_so(session, tenant):
    make_program(session, tenant, tiers=METALS)
    ann = make_contact(session, tenant)
    order = make_order(session, tenant, ann, 60000)
    credit_orders(session=session, tenant_id=tenant.id)
    session.commit()
    assert account_of(session, tenant, ann).tier == "Silver"
    result = refund(session, tenant, order, amount_cents=30000)
    assert [(c.old_tier, c.new_tier, c.up) for c in result.tier_changes] == [
        ("Silver", "Bronze", False)
    ]
    assert account_of(session, tenant, ann).tier == "Bronze"


def test_a_refund_before_the_credit_run_credits_first(session, tenant):
    make_program(session, tenant)
    ann = make_contact(session, tenant)
    order = make_order(session, tenant, ann, 4000)
    assert refund(session, tenant, order, amount_cents=1000).reversed_points == 10
    assert [e.points for e in entries_of(session, tenant, ann)] == [40, -10]
    assert credit_orders(session=session, tenant_id=tenant.id).orders_credited == 0


def test_refunds_of_orders_that_earned_nothing_are_skipped(session, tenant):
    make_program(session, tenant)
    walk_in = make_order(session, tenant, None, 4000)
    assert "earned no points" in refund(session, tenant, walk_in).skipped
    assert entries_of(session, tenant) == []


def test_bad_refunds(session, tenant, other_tenant, ann_order):
    _, order = ann_order
    for amount in (0, -100):
        with pytest.raises(InvalidInput, match="more than zero"):
            refund(session, tenant, order, amount_cents=amount)
    with pytest.raises(InvalidInput, match="refund needs an id"):
        refund(session, tenant, order, refund_id="  ")
    make_program(session, other_tenant)
    with pytest.raises(NotFound):
        refund(session, other_tenant, order)
