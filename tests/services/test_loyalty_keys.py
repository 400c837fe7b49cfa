"""Idempotency keys of grants and adjustments: the same request replays, another request under
a used key is a Conflict (also when both race, on PostgreSQL); NUL characters are refused in
reasons, keys, refund ids and program, tier and category names (PostgreSQL cannot store them)."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session

from marketing_app.db import get_engine
from marketing_app.domain.errors import Conflict, InvalidInput
from marketing_app.services.loyalty_adjustments import adjust_points, grant_points
from marketing_app.services.loyalty_programs import save_program
from marketing_app.services.loyalty_redemptions import redeem_points, redeem_tier_reward
from marketing_app.services.loyalty_refunds import refund_order
from tests.services.test_loyalty_support import (
    METALS,
    assert_ledger_consistent,
    balance,
    entries_of,
    make_contact,
    make_order,
    make_program,
)

DIFFERENT = "was used for a different request"


def write(service, key_field, session, tenant, contact, points, key, reason, **options):
    result = service(
        session=session,
        tenant_id=tenant.id,
        contact_id=contact.id,
        points=points,
        reason=reason,
        **{key_field: key},
        **options,
    )
    session.commit()
    return result


def grant(session, tenant, contact, points=100, key="g-1", reason="survey"):
    return write(grant_points, "idempotency_key", session, tenant, contact, points, key, reason)


def adjust(session, tenant, contact, points=50, key="a-1", reason="fix", **options):
    arguments = (session, tenant, contact, points, key, reason)
    return write(adjust_points, "adjustment_id", *arguments, **options)


def test_a_grant_key_replays_the_same_request_and_refuses_another(session, tenant):
    make_program(session, tenant)
    ann, bob = make_contact(session, tenant), make_contact(session, tenant)
    assert grant(session, tenant, ann).balance == 100
    again = grant(session, tenant, ann, reason="  survey ")  # the reason as stored
    assert (again.replayed, again.points, again.balance) == (True, 0, 100)
    for other in (
        {"points": 101},
        {"reason": "promotion"},
        {"contact": bob},
    ):
        contact = other.pop("contact", ann)
        with pytest.raises(Conflict, match=DIFFERENT) as refused:
            grant(session, tenant, contact, **other)
        assert refused.value.field == "idempotency_key"
        session.rollback()
    assert (balance(session, tenant, ann), balance(session, tenant, bob)) == (100, 0)
    assert len(entries_of(session, tenant)) == 1
    assert_ledger_consistent(session, tenant)


def test_an_adjustment_id_replays_the_same_request_and_refuses_another(session, tenant):
    make_program(session, tenant, tiers=METALS)
    ann, bob = make_contact(session, tenant), make_contact(session, tenant)
    grant(session, tenant, ann, 500)
    bob_before = grant(session, tenant, bob, 500, key="g-bob").balance
    assert adjust(session, tenant, ann, -50).balance == 450
    assert adjust(session, tenant, ann, -50).replayed
    for other in (
        {"points": 50},  # the other way
        {"points": -49},
        {"reason": "another fix"},
        {"count_toward_tier": False},  # another effect on the tier
        {"contact": bob},
    ):
        contact = other.pop("contact", ann)
        with pytest.raises(Conflict, match=DIFFERENT) as refused:
            adjust(session, tenant, contact, **{"points": -50, **other})
        assert refused.value.field == "adjustment_id"
        session.rollback()
    assert (balance(session, tenant, ann), balance(session, tenant, bob)) == (450, bob_before)
    assert len(entries_of(session, tenant)) == 3
    assert_ledger_consistent(session, tenant)


def test_keys_are_per_kind_and_per_tenant(session, tenant, other_tenant):
    make_program(session, tenant)
    make_program(session, other_tenant)
    ann, zed = make_contact(session, tenant), make_contact(session, other_tenant)
    grant(session, tenant, ann, key="same")
    assert not adjust(session, tenant, ann, 7, key="same").replayed  # another source
    assert not grant(session, other_tenant, zed, 3, key="same").replayed
    assert (balance(session, tenant, ann), balance(session, other_tenant, zed)) == (107, 3)


@pytest.mark.skipif(
    not get_engine().url.get_backend_name().startswith("postgresql"),
    reason="concurrent writers need PostgreSQL (SQLite has one writer at a time)",
)
@pytest.mark.parametrize("kind", ["grant", "adjust"])
def test_racing_requests_under_one_key_write_once_and_the_different_ones_conflict(
    session, tenant, kind
):
    make_program(session, tenant)
    ann = make_contact(session, tenant)
    grant(session, tenant, ann, 1000, key="seed")
    writers = 20
    start = threading.Barrier(writers)
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def attempt(points: int) -> None:
        start.wait()
        with Session(get_engine(), expire_on_commit=False) as own:
            try:
                if kind == "grant":
                    result = grant(own, tenant, ann, points, key="race")
                else:
                    result = adjust(own, tenant, ann, -points, key="race")
                outcome = "replayed" if result.replayed else "written"
            except Conflict:
                own.rollback()
                outcome = "conflict"
        with lock:
            outcomes.append((points, outcome))

    threads = [threading.Thread(target=attempt, args=(10 + n % 2,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written = [points for points, outcome in outcomes if outcome == "written"]
    assert len(written) == 1, outcomes
    for points, outcome in outcomes:
        expected = {"written", "replayed"} if points == written[0] else {"conflict"}
        assert outcome in expected, outcomes
    moved = written[0] if kind == "grant" else -written[0]
    assert balance(session, tenant, ann) == 1000 + moved
    assert len(entries_of(session, tenant)) == 2
    assert_ledger_consistent(session, tenant)


def test_nul_characters_are_refused_naming_the_field_and_nothing_is_written(session, tenant):
    make_program(session, tenant, tiers=METALS)
    ann = make_contact(session, tenant)
    grant(session, tenant, ann, 2000)
    order = make_order(session, tenant, ann, 10_000)
    before = len(entries_of(session, tenant))
    common = {"session": session, "tenant_id": tenant.id}
    attempts = [
        ("reason", lambda: grant(session, tenant, ann, reason="nul\x00")),
        ("idempotency_key", lambda: grant(session, tenant, ann, key="k\x00")),
        ("reason", lambda: adjust(session, tenant, ann, reason="fix\x00")),
        ("adjustment_id", lambda: adjust(session, tenant, ann, key="a\x00")),
        (
            "idempotency_key",
            lambda: redeem_points(**common, contact_id=ann.id, points=100, idempotency_key="r\x00"),
        ),
        (
            "tier",
            lambda: redeem_tier_reward(
                **common, contact_id=ann.id, tier="Gold\x00", idempotency_key="r-1"
            ),
        ),
        (
            "refund_id",
            lambda: refund_order(**common, order_id=order.id, refund_id="rf\x00"),
        ),
        ("name", lambda: save_program(**common, settings={}, name="Leaf\x00")),
        (
            "tiers",
            lambda: save_program(**common, settings={"tiers": [{"name": "G\x00", "threshold": 0}]}),
        ),
        (
            "category_multipliers",
            lambda: save_program(**common, settings={"category_multipliers": {"fl\x00": 2}}),
        ),
    ]
    for field, call in attempts:
        with pytest.raises(InvalidInput, match="NUL") as refused:
            call()
        assert refused.value.field == field, (field, refused.value.message)
        session.rollback()
    assert len(entries_of(session, tenant)) == before
    assert balance(session, tenant, ann) == 2000
    assert_ledger_consistent(session, tenant)
