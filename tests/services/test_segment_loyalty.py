"""Loyalty conditions in segments: tiers named by the tenant's own program, members who reach a
tier through a tracked order enter the segment when the event-processing task folds them, and
one tenant's program or accounts never count for another."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from marketing_app.domain.errors import InvalidInput
from marketing_app.models import Contact, LoyaltyAccount, SegmentMember
from marketing_app.models.base import utcnow
from marketing_app.services import segment_membership, segments
from marketing_app.services.event_processing import process_pending_events
from marketing_app.services.ingestion import ingest_messages
from marketing_app.services.loyalty_programs import preset_settings, save_program
from marketing_app.services.loyalty_schedule import credit_recent_orders
from marketing_app.services.segment_schedule import fold_recent_activity

BEFORE = datetime(2000, 1, 1, tzinfo=UTC)
GOLD_OR_HIGHER = {"kind": "loyalty", "field": "tier", "op": "at_least", "value": "Gold"}
SUBSCRIBED = {"kind": "consent", "channel": "email", "state": "subscribed"}


def _definition(*conditions: dict) -> dict:
    return {"root": {"kind": "group", "op": "and", "children": list(conditions)}}


def _program(session, tenant, preset: str) -> None:
    save_program(session=session, tenant_id=tenant.id, settings=preset_settings(preset))
    session.commit()


def _refused(session, tenant, definition: dict) -> str:
    with pytest.raises(InvalidInput) as caught:
        segments.validate_definition(session=session, tenant_id=tenant.id, raw=definition)
    return caught.value.message


def test_a_tier_the_program_does_not_have_is_refused_naming_the_condition(session, tenant):
    _program(session, tenant, "alpineiq")  # Tier 1 ... Tier 5
    gold = {"kind": "loyalty", "field": "tier", "op": "in", "value": ["Tier 2", "Gold"]}
    assert _refused(session, tenant, _definition(SUBSCRIBED, gold)) == (
        "condition #2: unknown tier 'Gold'"
    )
    nested = _definition({"kind": "group", "children": [SUBSCRIBED, GOLD_OR_HIGHER]})
    assert _refused(session, tenant, nested) == "condition #1 > #2: unknown tier 'Gold'"
    known = {"kind": "loyalty", "field": "tier", "op": "in", "value": ["tier 5", ""]}
    segments.validate_definition(session=session, tenant_id=tenant.id, raw=_definition(known))


def test_without_a_program_tiers_are_refused_and_members_still_work(session, tenant):
    top_two = {"kind": "loyalty", "field": "tier", "op": "in_top", "value": 2}
    assert _refused(session, tenant, _definition(top_two)) == (
        "condition #1: the loyalty program has no tiers yet"
    )
    assert _refused(session, tenant, _definition(GOLD_OR_HIGHER)) == (
        "condition #1: unknown tier 'Gold'"
    )
    members = {"kind": "loyalty", "field": "member", "op": "is_true"}
    result = segments.estimate(
        session=session, tenant_id=tenant.id, definition=_definition(members)
    )
    assert result.count == 0


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"field": "tier", "op": "gte", "value": 1}, "'gte' does not apply to loyalty tier"),
        ({"field": "tier", "op": "in", "value": []}, "choose 1 to 11 tiers"),
        ({"field": "tier", "op": "at_least", "value": " "}, "choose a tier"),
        ({"field": "tier", "op": "in_top", "value": 11}, "top tiers must be 1 to 10"),
        ({"field": "tier", "op": "in", "value": ["x" * 61]}, "up to 60 characters"),
        ({"field": "tier", "op": "in", "value": ["Go\x00ld"]}, "up to 60 characters"),
        ({"field": "balance", "op": "gt", "value": "lots"}, "must be a number"),
        ({"field": "lifetime_earned", "op": "lt", "value": 1e13}, "finite number up to"),
        ({"field": "member", "op": "is_true", "value": 3}, "takes no value"),
        ({"field": "points", "op": "gt", "value": 3}, "Input should be"),
    ],
)
def test_malformed_loyalty_conditions_get_a_clear_message(condition, message):
    with pytest.raises(InvalidInput) as caught:
        segments.parse_definition(_definition({"kind": "loyalty", **condition}))
    assert caught.value.message.startswith("condition #1: ")
    assert message in caught.value.message


def _buy(session, tenant, order_id: str, dollars: float) -> int:
    """A tracked order as a storefront sends it, attached to its profile by the worker."""
    ingest_messages(
        session=session,
        tenant_id=tenant.id,
        messages=[
            {
                "type": "track",
                "userId": "buyer-1",
                "event": "Order Completed",
                "messageId": f"msg-{order_id}",
                "properties": {"order_id": order_id, "revenue": dollars},
            }
        ],
    )
    session.commit()
    process_pending_events(session=session, tenant_id=tenant.id)
    session.commit()
    return session.exec(select(Contact.id).where(Contact.tenant_id == tenant.id)).one()


def _members(session, segment_id: int) -> set[int]:
    query = select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment_id)
    return set(session.exec(query).all())


def test_an_order_that_reaches_a_tier_moves_the_member_in_within_the_event_task(session, tenant):
    """What jobs.tasks.process_tenant_events does after attaching events: credit the orders,
    then fold the profiles those events touched into every dynamic segment."""
    _program(session, tenant, "metals")  # Gold from 1,500 lifetime points, 1 point per dollar
    buyer = _buy(session, tenant, "A-1", 1400)
    credit_recent_orders(session=session, tenant_id=tenant.id, since=BEFORE)
    segment = segments.create_segment(
        session=session, tenant_id=tenant.id, name="Gold+", definition=_definition(GOLD_OR_HIGHER)
    )
    segment_membership.recompute_segment(
        session=session, tenant_id=tenant.id, segment_id=segment.id
    )
    session.commit()
    assert _members(session, segment.id) == set()

    started = utcnow()
    _buy(session, tenant, "A-2", 150)
    credit_recent_orders(session=session, tenant_id=tenant.id, since=started)
    session.commit()
    change = fold_recent_activity(session=session, tenant_id=tenant.id, since=started)
    session.commit()
    account = session.exec(select(LoyaltyAccount).where(LoyaltyAccount.contact_id == buyer)).one()
    assert (account.tier, account.lifetime_earned) == ("Gold", 1550)
    assert change.entered == 1
    assert _members(session, segment.id) == {buyer}


def test_tenants_never_see_each_others_tiers_or_accounts(session, tenant, other_tenant):
    _program(session, tenant, "metals")
    _program(session, other_tenant, "alpineiq")
    buyer = _buy(session, tenant, "B-1", 2000)
    credit_recent_orders(session=session, tenant_id=tenant.id, since=BEFORE)
    session.commit()
    tier_one = _definition({"kind": "loyalty", "field": "tier", "op": "in", "value": ["Tier 1"]})
    assert _refused(session, tenant, tier_one) == "condition #1: unknown tier 'Tier 1'"
    assert _refused(session, other_tenant, _definition(GOLD_OR_HIGHER)).endswith("'Gold'")
    members = _definition({"kind": "loyalty", "field": "member", "op": "is_true"})
    mine = segments.estimate(session=session, tenant_id=tenant.id, definition=members)
    theirs = segments.estimate(session=session, tenant_id=other_tenant.id, definition=members)
    assert [row["id"] for row in mine.sample] == [buyer]
    assert (mine.count, theirs.count) == (1, 0)
    no_points = _definition({"kind": "loyalty", "field": "balance", "op": "eq", "value": 0})
    assert segments.estimate(session=session, tenant_id=tenant.id, definition=no_points).count == 0
