"""Earning: orders credit once (set-based), multipliers and visits, bad orders skipped and
counted, tiers follow lifetime points and their changes are reported, bonuses once."""

from __future__ import annotations

from datetime import date

import pytest

from marketing_app.domain.errors import NotFound
from marketing_app.models import LedgerKind, LedgerSource, Order
from marketing_app.services import loyalty_earning
from marketing_app.services.loyalty_earning import (
    award_birthday_bonuses,
    award_signup_bonus,
    credit_orders,
    order_points,
)
from marketing_app.services.loyalty_ledger import COPY_MIN_ROWS, entry_row, record_entries
from marketing_app.services.loyalty_programs import LoyaltySettings, require_settings
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


def credit(session, tenant, **options):
    result = credit_orders(session=session, tenant_id=tenant.id, **options)
    session.commit()
    return result


def test_replayed_orders_credit_once(session, tenant):
    make_program(session, tenant, points_per_dollar="1")
    ann = make_contact(session, tenant)
    first, second = make_order(session, tenant, ann, 4995), make_order(session, tenant, ann, 2000)
    result = credit(session, tenant)
    assert (result.orders_credited, result.points) == (2, 49 + 20)
    again = credit(session, tenant)  # a replayed sync, the scheduled run, a retried job
    assert (again.orders_credited, again.points) == (0, 0)
    assert credit(session, tenant, order_ids=[first.id, second.id]).orders_credited == 0
    assert balance(session, tenant, ann) == 69
    earns = entries_of(session, tenant, ann)
    assert [(e.kind, e.source, e.order_id) for e in earns] == [
        (LedgerKind.EARN, LedgerSource.ORDER, first.id),
        (LedgerKind.EARN, LedgerSource.ORDER, second.id),
    ]
    account = account_of(session, tenant, ann)
    assert account.lifetime_earned == 69 and account.last_activity_at == PLACED
    assert_ledger_consistent(session, tenant)


def test_only_new_orders_credit_and_batches_cover_every_order(session, tenant, monkeypatch):
    monkeypatch.setattr(loyalty_earning, "CREDIT_BATCH", 2)
    make_program(session, tenant, points_per_visit=5)
    people = [make_contact(session, tenant) for _ in range(3)]
    for person in people:
        make_order(session, tenant, person, 1000)
    assert credit(session, tenant).orders_credited == 3
    make_order(session, tenant, people[0], 1000)
    make_order(session, tenant, people[2], 500)
    result = credit(session, tenant)
    assert (result.orders_credited, result.points) == (2, 15 + 10)
    assert [balance(session, tenant, p) for p in people] == [30, 15, 25]
    assert_ledger_consistent(session, tenant)


def test_one_contacts_orders_only(session, tenant):
    make_program(session, tenant)
    ann, bob = make_contact(session, tenant), make_contact(session, tenant)
    make_order(session, tenant, ann, 1000)
    make_order(session, tenant, bob, 3000)
    assert credit(session, tenant, contact_id=bob.id).points == 30
    assert (balance(session, tenant, ann), balance(session, tenant, bob)) == (0, 30)


def test_points_per_dollar_visits_and_equity_multiplier(session, tenant):
    make_program(
        session, tenant, points_per_dollar="2.5", points_per_visit=10, equity_multiplier="1.5"
    )
    plain = make_contact(session, tenant, traits={"equity_status": "minority-owned"})
    equity = make_contact(session, tenant, traits={"equity": True})
    equity_text = make_contact(session, tenant, traits={"equity_status": "TRUE"})
    for person in (plain, equity, equity_text):
        make_order(session, tenant, person, 1999)  # $19.99
    credit(session, tenant)
    # floor(19.99 x 2.5) + 10 = 59; with equity floor(19.99 x 2.5 x 1.5) + 10 = 84
    assert [balance(session, tenant, p) for p in (plain, equity, equity_text)] == [59, 84, 84]
    [entry] = entries_of(session, tenant, equity)
    assert entry.amount_cents == 1999 and entry.reason == "equity customer"


def test_category_multipliers_weight_the_basket(session, tenant):
    make_program(session, tenant, category_multipliers={" Flower ": "2", "edibles": "0.5"})
    ann = make_contact(session, tenant)
    make_order(session, tenant, ann, 10000, items=[("flower", 5000), ("Accessories", 5000)])
    make_order(session, tenant, ann, 10000, items=[("edibles", 10000)])
    make_order(session, tenant, ann, 10000)  # no lines: the plain rate
    result = credit(session, tenant)
    assert result.points == 150 + 50 + 100
    assert [e.points for e in entries_of(session, tenant, ann)] == [150, 50, 100]


def test_order_points_are_exact_not_floating():
    settings = LoyaltySettings(points_per_dollar="0.7", equity_multiplier="1.1")
    # 0.7 x 10 = 7 exactly (in floats 7.000000000000001 or 6.999999999999999)
    assert order_points(total_cents=1000, category_cents={}, equity=False, settings=settings) == 7
    assert order_points(total_cents=1000, category_cents={}, equity=True, settings=settings) == 7
    settings = LoyaltySettings(category_multipliers={"a": "3"})
    thirds = {"a": 100, "b": 200}  # (1 x 3 + 2 x 1) / 3 = 5/3 on $3 = 5 exactly
    assert (
        order_points(total_cents=300, category_cents=thirds, equity=False, settings=settings) == 5
    )


def test_bad_orders_are_skipped_and_counted_never_an_error(session, tenant):
    make_program(session, tenant, points_per_visit=1)
    ann = make_contact(session, tenant)
    make_order(session, tenant, ann, -500)
    make_order(session, tenant, None, 2000)
    make_order(session, tenant, None, 3000)
    make_order(session, tenant, ann, 0)  # a free visit still counts as a visit
    good = make_order(session, tenant, ann, 1000)
    result = credit(session, tenant)
    assert (result.orders_credited, result.points) == (2, 1 + 11)
    assert (result.skipped_no_customer, result.skipped_bad_total, result.skipped) == (2, 1, 3)
    assert {e.order_id for e in entries_of(session, tenant)} >= {good.id}
    assert balance(session, tenant, ann) == 12
    again = credit(session, tenant)  # still uncredited, still counted, still no error
    assert (again.orders_credited, again.skipped) == (0, 3)


def test_tier_changes_apply_and_are_reported(session, tenant):
    make_program(session, tenant, tiers=METALS)
    ann, bob = make_contact(session, tenant), make_contact(session, tenant)
    make_order(session, tenant, ann, 40000)
    make_order(session, tenant, bob, 10000)
    first = credit(session, tenant)
    changes = {(c.contact_id, c.old_tier, c.new_tier, c.up) for c in first.tier_changes}
    assert changes == {(ann.id, "", "Bronze", True), (bob.id, "", "Bronze", True)}
    make_order(session, tenant, ann, 120000)  # lifetime 1,600: Gold, skipping Silver
    second = credit(session, tenant)
    assert [(c.contact_id, c.old_tier, c.new_tier) for c in second.tier_changes] == [
        (ann.id, "Bronze", "Gold")
    ]
    assert account_of(session, tenant, ann).tier == "Gold"
    assert account_of(session, tenant, bob).tier == "Bronze"
    assert credit(session, tenant).tier_changes == []


def test_signup_bonus_once_per_contact(session, tenant, other_tenant):
    make_program(session, tenant, signup_bonus=50, tiers=[{"name": "Member", "threshold": 50}])
    ann, bob = make_contact(session, tenant), make_contact(session, tenant)
    stranger = make_contact(session, other_tenant)
    first = award_signup_bonus(
        session=session, tenant_id=tenant.id, contact_ids=[ann.id, bob.id, stranger.id, ann.id]
    )
    session.commit()
    assert (first.entries, first.points) == (2, 100)
    assert {c.new_tier for c in first.tier_changes} == {"Member"}
    again = award_signup_bonus(session=session, tenant_id=tenant.id, contact_ids=[ann.id])
    session.commit()
    assert again.entries == 0
    assert (
        balance(session, tenant, ann) == 50 and account_of(session, other_tenant, stranger) is None
    )


def test_birthday_bonus_once_per_member_per_year(session, tenant):
    make_program(session, tenant, birthday_bonus=100)
    ann = make_contact(session, tenant, birthday=date(1990, 7, 14))
    leap = make_contact(session, tenant, birthday=date(1992, 2, 29))
    not_member = make_contact(session, tenant, birthday=date(1990, 7, 14))
    for person in (ann, leap):
        make_order(session, tenant, person, 100)
    credit(session, tenant)

    def award(day):
        result = award_birthday_bonuses(session=session, tenant_id=tenant.id, on=day)
        session.commit()
        return result

    assert award(date(2026, 7, 14)).contacts == {ann.id}
    assert award(date(2026, 7, 14)).entries == 0  # the job ran twice today
    assert award(date(2026, 2, 28)).contacts == {leap.id}  # no 29 February in 2026
    assert award(date(2027, 7, 14)).contacts == {ann.id}  # next year again
    assert balance(session, tenant, ann) == 1 + 200
    assert account_of(session, tenant, not_member) is None
    assert_ledger_consistent(session, tenant)


def test_tenant_isolation(session, tenant, other_tenant):
    make_program(session, tenant, points_per_dollar="10")
    make_program(session, other_tenant, points_per_dollar="1")
    ann, eve = make_contact(session, tenant), make_contact(session, other_tenant)
    make_order(session, tenant, ann, 1000)
    theirs = make_order(session, other_tenant, eve, 1000)
    assert credit(session, tenant).orders_credited == 1
    assert (
        account_of(session, other_tenant, eve) is None and entries_of(session, other_tenant) == []
    )
    assert credit(session, tenant, order_ids=[theirs.id]).orders_credited == 0
    assert credit(session, other_tenant).points == 10
    assert (balance(session, tenant, ann), balance(session, other_tenant, eve)) == (100, 10)


def test_no_program_is_a_clear_not_found(session, tenant):
    with pytest.raises(NotFound, match="no loyalty program"):
        credit_orders(session=session, tenant_id=tenant.id)


def test_big_batches_credit_once_by_the_bulk_path(session, tenant):
    """Batches of COPY_MIN_ROWS or more go in by COPY on PostgreSQL; replays still add nothing."""
    make_program(session, tenant)
    people = [make_contact(session, tenant) for _ in range(3)]
    orders = [
        Order(
            tenant_id=tenant.id,
            contact_id=people[n % 3].id,
            source="pos",
            external_id=f"big-{n}",
            total_cents=100 * (n + 1),
            placed_at=PLACED,
        )
        for n in range(COPY_MIN_ROWS + 20)
    ]
    session.add_all(orders)
    session.commit()
    result = credit(session, tenant)
    assert result.orders_credited == len(orders)
    assert result.points == sum(range(1, len(orders) + 1))
    settings = require_settings(session=session, tenant_id=tenant.id)
    replay = [
        entry_row(
            tenant_id=tenant.id,
            contact_id=order.contact_id,
            kind=LedgerKind.EARN,
            source=LedgerSource.ORDER,
            source_key=str(order.id),
            points=999,
            now=PLACED,
        )
        for order in orders
    ]
    assert record_entries(session, tenant.id, settings, replay, PLACED).entries == 0
    session.commit()
    assert sum(balance(session, tenant, p) for p in people) == result.points
    assert_ledger_consistent(session, tenant)
