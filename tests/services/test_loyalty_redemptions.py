"""Redemption: codes for points or tier rewards, idempotent, never below zero, also when
fifty arrive at once (PostgreSQL)."""

from __future__ import annotations

import re
import threading
import uuid

import pytest
from sqlmodel import Session

from marketing_app.db import get_engine
from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import LedgerKind
from marketing_app.services.loyalty_adjustments import grant_points
from marketing_app.services.loyalty_programs import preset_settings
from marketing_app.services.loyalty_redemptions import redeem_points, redeem_tier_reward
from tests.services.test_loyalty_support import (
    METALS,
    assert_ledger_consistent,
    balance,
    entries_of,
    make_contact,
    make_program,
    redemption_count,
)


def member(session, tenant, points: int):
    contact = make_contact(session, tenant)
    grant_points(
        session=session,
        tenant_id=tenant.id,
        contact_id=contact.id,
        points=points,
        idempotency_key=f"welcome-{contact.id}",
        reason="test balance",
    )
    session.commit()
    return contact


def redeem(session, tenant, contact, points, key="r-1"):
    result = redeem_points(
        session=session,
        tenant_id=tenant.id,
        contact_id=contact.id,
        points=points,
        idempotency_key=key,
    )
    session.commit()
    return result


def test_redeem_points_for_a_code_worth_their_value(session, tenant):
    make_program(session, tenant, point_value_cents="5")
    ann = member(session, tenant, 1000)
    result = redeem(session, tenant, ann, 300)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}", result.code)
    assert (result.balance, result.replayed) == (700, False)
    assert (result.redemption.points, result.redemption.amount_off_cents) == (300, 1500)
    assert result.redemption.percent_off is None
    redeem_entry = entries_of(session, tenant, ann)[-1]
    assert (redeem_entry.kind, redeem_entry.points, redeem_entry.earned) == (
        LedgerKind.REDEEM,
        -300,
        0,
    )
    assert balance(session, tenant, ann) == 700
    assert_ledger_consistent(session, tenant)


def test_a_redemption_above_the_balance_is_refused_and_writes_nothing(session, tenant):
    make_program(session, tenant)
    ann = member(session, tenant, 250)
    before = (len(entries_of(session, tenant)), redemption_count(session, tenant))
    with pytest.raises(Conflict, match="Not enough points: the balance is 250 and this needs 300"):
        redeem(session, tenant, ann, 300)
    session.rollback()
    assert balance(session, tenant, ann) == 250
    assert (len(entries_of(session, tenant)), redemption_count(session, tenant)) == before
    nobody = make_contact(session, tenant)  # no account at all
    with pytest.raises(Conflict, match="the balance is 0"):
        redeem(session, tenant, nobody, 1)


def test_the_same_idempotency_key_redeems_once(session, tenant):
    make_program(session, tenant)
    ann = member(session, tenant, 500)
    first = redeem(session, tenant, ann, 200, key="checkout-42")
    again = redeem(session, tenant, ann, 200, key="checkout-42")
    assert again.replayed and again.code == first.code and again.balance == 300
    assert balance(session, tenant, ann) == 300 and redemption_count(session, tenant) == 1
    with pytest.raises(Conflict, match="used for a different redemption"):
        redeem(session, tenant, ann, 100, key="checkout-42")
    session.rollback()
    second = redeem(session, tenant, ann, 200, key="checkout-43")
    assert second.code != first.code and second.balance == 100
    assert_ledger_consistent(session, tenant)


def test_a_replay_at_zero_balance_still_returns_the_code(session, tenant):
    make_program(session, tenant)
    ann = member(session, tenant, 100)
    first = redeem(session, tenant, ann, 100, key="k")
    assert redeem(session, tenant, ann, 100, key="k").code == first.code


def reward(session, tenant, contact, tier, key="t-1"):
    return redeem_tier_reward(
        session=session, tenant_id=tenant.id, contact_id=contact.id, tier=tier, idempotency_key=key
    )


def test_tier_rewards_need_the_tier(session, tenant):
    make_program(session, tenant, tiers=METALS)
    ann = member(session, tenant, 1000)  # lifetime 1,000: Silver
    with pytest.raises(
        Conflict, match="The Gold reward is for Gold members and above; this customer is in Silver"
    ):
        reward(session, tenant, ann, "Gold")
    with pytest.raises(InvalidInput, match="no reward"):
        reward(session, tenant, ann, "silver")
    with pytest.raises(InvalidInput, match="no tier named 'Diamond'"):
        reward(session, tenant, ann, "Diamond")
    session.rollback()
    bob = member(session, tenant, 1600)
    result = reward(session, tenant, bob, "gold")
    session.commit()
    assert (result.redemption.tier, result.redemption.amount_off_cents) == ("Gold", 2000)
    assert result.balance == 1300


def test_alpine_iq_preset_rewards(session, tenant):
    make_program(session, tenant, **preset_settings("alpineiq").model_dump(mode="json"))
    ann = member(session, tenant, 450)
    result = reward(session, tenant, ann, "Tier 3")
    assert (result.redemption.percent_off, result.balance) == (15, 50)
    with pytest.raises(Conflict, match="for Tier 4 members and above; this customer is in Tier 3"):
        reward(session, tenant, ann, "Tier 4", key="t-2")


def test_bad_requests(session, tenant, other_tenant):
    make_program(session, tenant)
    ann = member(session, tenant, 100)
    for points in (0, -5, 1.5, True):
        with pytest.raises(InvalidInput):
            redeem(session, tenant, ann, points)
    with pytest.raises(InvalidInput, match="idempotency key"):
        redeem(session, tenant, ann, 10, key=" ")
    stranger = make_contact(session, other_tenant)
    with pytest.raises(NotFound):
        redeem(session, tenant, stranger, 10)


@pytest.mark.skipif(
    not get_engine().url.get_backend_name().startswith("postgresql"),
    reason="concurrent writers need PostgreSQL (SQLite has one writer at a time)",
)
def test_fifty_concurrent_redemptions_of_100_on_1000_points_succeed_exactly_ten_times(
    session, tenant
):
    make_program(session, tenant)
    ann = member(session, tenant, 1000)
    start = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        start.wait()
        with Session(get_engine(), expire_on_commit=False) as own:
            try:
                redeem_points(
                    session=own,
                    tenant_id=tenant.id,
                    contact_id=ann.id,
                    points=100,
                    idempotency_key=uuid.uuid4().hex,
                )
                own.commit()
                outcome = "redeemed"
            except Conflict:
                own.rollback()
                outcome = "refused"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["redeemed"] * 10 + ["refused"] * 40
    assert balance(session, tenant, ann) == 0
    assert redemption_count(session, tenant) == 10
    redeemed = [e for e in entries_of(session, tenant, ann) if e.kind == LedgerKind.REDEEM]
    assert len(redeemed) == 10
    assert_ledger_consistent(session, tenant)
