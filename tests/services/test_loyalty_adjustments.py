"""Adjustments and grants (once per id, never below zero) and expiry after inactivity."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import LedgerKind
from marketing_app.services.loyalty_adjustments import (
    adjust_points,
    expire_inactive_points,
    grant_points,
)
from marketing_app.services.loyalty_earning import credit_orders
from tests.services.test_loyalty_support import (
    METALS,
    PLACED,
    account_of,
    assert_ledger_consistent,
    balance,
    entries_of,
    make_contact,
    make_order,
    make_program,
)


def adjust(session, tenant, contact, points, adjustment_id="adj-1", **options):
    result = adjust_points(
        session=session,
        tenant_id=tenant.id,
        contact_id=contact.id,
        points=points,
        adjustment_id=adjustment_id,
        reason=options.pop("reason", "matched Alpine IQ"),
        **options,
    )
    session.commit()
    return result


def test_adjustments_go_both_ways_once_per_id_with_their_reason(session, tenant):
    make_program(session, tenant, tiers=METALS)
    ann = make_contact(session, tenant)
    assert adjust(session, tenant, ann, 600).balance == 600
    assert adjust(session, tenant, ann, 600).replayed  # the same id again
    assert adjust(session, tenant, ann, -200, "adj-2", count_toward_tier=False).balance == 400
    entries = entries_of(session, tenant, ann)
    assert [(e.kind, e.points, e.earned, e.reason) for e in entries] == [
        (LedgerKind.ADJUST, 600, 600, "matched Alpine IQ"),
        (LedgerKind.ADJUST, -200, 0, "matched Alpine IQ"),
    ]
    account = account_of(session, tenant, ann)
    assert (account.balance, account.lifetime_earned, account.tier) == (400, 600, "Silver")
    assert_ledger_consistent(session, tenant)


def test_a_removal_beyond_the_balance_is_refused_and_writes_nothing(session, tenant):
    make_program(session, tenant)
    ann = make_contact(session, tenant)
    adjust(session, tenant, ann, 100)
    with pytest.raises(Conflict, match="The balance is 100 points: removing 150 would take it"):
        adjust(session, tenant, ann, -150, "adj-2")
    session.rollback()
    assert balance(session, tenant, ann) == 100 and len(entries_of(session, tenant, ann)) == 1


def test_bad_adjustments(session, tenant, other_tenant):
    make_program(session, tenant)
    ann = make_contact(session, tenant)
    with pytest.raises(InvalidInput, match="other than zero"):
        adjust(session, tenant, ann, 0)
    with pytest.raises(InvalidInput, match="reason"):
        adjust(session, tenant, ann, 5, reason=" ")
    with pytest.raises(InvalidInput, match="id of 1 to 200"):
        adjust(session, tenant, ann, 5, adjustment_id="")
    with pytest.raises(NotFound):
        adjust(session, tenant, make_contact(session, other_tenant), 5)


def test_grants_earn_once_per_idempotency_key(session, tenant):
    make_program(session, tenant)
    ann = make_contact(session, tenant)

    def grant(points, key="promo-1"):
        result = grant_points(
            session=session,
            tenant_id=tenant.id,
            contact_id=ann.id,
            points=points,
            idempotency_key=key,
            reason="store opening",
        )
        session.commit()
        return result

    assert (grant(25).points, grant(25).replayed) == (25, True)
    assert balance(session, tenant, ann) == 25
    with pytest.raises(InvalidInput, match="more than zero"):
        grant(-5, "promo-2")


def test_inactive_balances_expire_once_and_active_ones_stay(session, tenant):
    make_program(session, tenant, expiry_days=90)
    idle, busy = make_contact(session, tenant), make_contact(session, tenant)
    make_order(session, tenant, idle, 5000, placed_at=PLACED)
    make_order(session, tenant, busy, 5000, placed_at=PLACED)
    make_order(session, tenant, busy, 1000, placed_at=PLACED + timedelta(days=60))
    credit_orders(session=session, tenant_id=tenant.id)
    session.commit()

    def expire(days_after):
        result = expire_inactive_points(
            session=session, tenant_id=tenant.id, now=PLACED + timedelta(days=days_after)
        )
        session.commit()
        return result

    assert expire(89).entries == 0
    first = expire(91)
    assert (first.entries, first.points, first.contacts) == (1, -50, {idle.id})
    assert expire(92).entries == 0  # nothing left to expire
    assert (balance(session, tenant, idle), balance(session, tenant, busy)) == (0, 60)
    [_, expired] = entries_of(session, tenant, idle)
    assert (expired.kind, expired.points, expired.earned) == (LedgerKind.EXPIRE, -50, 0)
    assert expired.reason == "no activity since 2026-03-01"
    account = account_of(session, tenant, idle)
    assert account.lifetime_earned == 50 and account.last_activity_at == PLACED
    assert expire(151).contacts == {busy.id}
    assert_ledger_consistent(session, tenant)


def test_points_earned_after_an_expiry_expire_again_later(session, tenant):
    make_program(session, tenant, expiry_days=30)
    ann = make_contact(session, tenant)
    make_order(session, tenant, ann, 1000, placed_at=PLACED)
    credit_orders(session=session, tenant_id=tenant.id)
    expire_inactive_points(session=session, tenant_id=tenant.id, now=PLACED + timedelta(days=31))
    make_order(session, tenant, ann, 2000, placed_at=PLACED + timedelta(days=40))
    credit_orders(session=session, tenant_id=tenant.id)
    later = expire_inactive_points(
        session=session, tenant_id=tenant.id, now=PLACED + timedelta(days=71)
    )
    session.commit()
    assert later.points == -20 and balance(session, tenant, ann) == 0
    assert [e.points for e in entries_of(session, tenant, ann)] == [10, -10, 20, -20]


def test_no_expiry_configured_expires_nothing(session, tenant):
    make_program(session, tenant)
    ann = make_contact(session, tenant)
    adjust(session, tenant, ann, 10)
    far = PLACED + timedelta(days=10_000)
    assert expire_inactive_points(session=session, tenant_id=tenant.id, now=far).entries == 0
