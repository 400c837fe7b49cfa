"""Segments: saving with validation, recompute with history and versions, incremental folds,
tenant isolation. Each test runs on the suite's database and on SQLite."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import Contact, Event, SegmentMember, SegmentMembershipChange
from marketing_app.services import segment_membership as membership
from marketing_app.services import segments
from marketing_app.services.segment_oracle import evaluate, load_profile_facts
from tests.factories import make_tenant
from tests.segment_world import NOW, build_world, sqlite_session

TWO_ORDERS = {
    "root": {"children": [{"kind": "orders", "metric": "order_count", "op": "gte", "value": 2}]}
}
VIEWED_TWICE = {
    "root": {
        "children": [
            {
                "kind": "event",
                "name": "Product Viewed",
                "count_op": "at_least",
                "count": 2,
                "within_days": 7,
            }
        ]
    }
}


@pytest.fixture(params=["suite", "sqlite"])
def db(request, session):
    return session if request.param == "suite" else sqlite_session()


@pytest.fixture
def world(db):
    tenant = make_tenant(db)
    return tenant.id, build_world(db, tenant.id, seed=3, size=40)


def _members(db, segment_id) -> set[int]:
    rows = db.exec(select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment_id))
    return set(rows)


def _expected(db, tenant_id, definition) -> set[int]:
    parsed = segments.parse_definition(definition)
    return {cid for cid, f in load_profile_facts(db, tenant_id).items() if evaluate(parsed, f, NOW)}


def test_recompute_stores_members_and_entered_history(db, world):
    tenant_id, _ = world
    seg = segments.create_segment(
        session=db, tenant_id=tenant_id, name="Repeat buyers", definition=TWO_ORDERS
    )
    result = membership.recompute_segment(
        session=db, tenant_id=tenant_id, segment_id=seg.id, now=NOW
    )
    db.commit()
    expected = _expected(db, tenant_id, TWO_ORDERS)
    assert expected and _members(db, seg.id) == expected
    assert result.entered == len(expected) and result.exited == 0
    assert seg.member_count == len(expected) and seg.computed_version == seg.version
    changes = db.exec(
        select(SegmentMembershipChange).where(SegmentMembershipChange.segment_id == seg.id)
    ).all()
    assert {c.contact_id for c in changes if c.change == "entered"} == expected


def test_a_changed_definition_moves_members_out_with_exited_history(db, world):
    tenant_id, _ = world
    seg = segments.create_segment(session=db, tenant_id=tenant_id, name="Any", definition={})
    membership.recompute_segment(session=db, tenant_id=tenant_id, segment_id=seg.id, now=NOW)
    everyone = _members(db, seg.id)
    segments.update_segment(
        session=db, tenant_id=tenant_id, segment_id=seg.id, definition=TWO_ORDERS
    )
    assert seg.version == 2
    stale = membership.recompute_segment(
        session=db, tenant_id=tenant_id, segment_id=seg.id, version=1, now=NOW
    )
    assert stale.stale and _members(db, seg.id) == everyone
    result = membership.recompute_segment(
        session=db, tenant_id=tenant_id, segment_id=seg.id, version=2, now=NOW
    )
    db.commit()
    kept = _expected(db, tenant_id, TWO_ORDERS)
    assert _members(db, seg.id) == kept
    assert result.exited == len(everyone - kept) > 0
    exited = db.exec(
        select(SegmentMembershipChange.contact_id).where(
            SegmentMembershipChange.segment_id == seg.id, SegmentMembershipChange.change == "exited"
        )
    ).all()
    assert set(exited) == everyone - kept


def test_fold_updates_only_the_profiles_given(db, world):
    tenant_id, ids = world
    seg = segments.create_segment(
        session=db, tenant_id=tenant_id, name="Browsers", definition=VIEWED_TWICE
    )
    membership.recompute_segment(session=db, tenant_id=tenant_id, segment_id=seg.id, now=NOW)
    before = _members(db, seg.id)
    outsiders = [cid for cid in ids["contact_ids"] if cid not in before][:2]
    for cid in outsiders:
        for n in range(2):
            db.add(
                Event(
                    tenant_id=tenant_id,
                    contact_id=cid,
                    message_id=uuid.uuid4().hex,
                    type="track",
                    name="Product Viewed",
                    properties={},
                    occurred_at=NOW - timedelta(hours=n + 1),
                )
            )
    db.flush()
    result = membership.fold_contacts(
        session=db, tenant_id=tenant_id, contact_ids=outsiders[:1], now=NOW
    )
    db.commit()
    assert result.entered == 1
    assert _members(db, seg.id) == before | {outsiders[0]}  # the second waits for its fold
    assert seg.member_count == len(before) + 1


def test_fold_evaluates_referenced_segments_first(db, world):
    tenant_id, ids = world
    base = segments.create_segment(
        session=db, tenant_id=tenant_id, name="Browsers", definition=VIEWED_TWICE
    )
    derived = segments.create_segment(
        session=db,
        tenant_id=tenant_id,
        name="Browsers in a segment",
        definition={"root": {"children": [{"kind": "segment", "segment_id": base.id}]}},
    )
    for seg in (base, derived):
        membership.recompute_segment(session=db, tenant_id=tenant_id, segment_id=seg.id, now=NOW)
    newcomer = next(c for c in ids["contact_ids"] if c not in _members(db, base.id))
    for n in range(2):
        db.add(
            Event(
                tenant_id=tenant_id,
                contact_id=newcomer,
                message_id=uuid.uuid4().hex,
                type="track",
                name="Product Viewed",
                properties={},
                occurred_at=NOW - timedelta(hours=n + 1),
            )
        )
    membership.fold_contacts(session=db, tenant_id=tenant_id, contact_ids=[newcomer], now=NOW)
    assert newcomer in _members(db, derived.id)


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (
            {
                "root": {
                    "children": [{"kind": "trait", "field": "shoe_size", "op": "eq", "value": 9}]
                }
            },
            "condition #1: unknown field 'shoe_size'",
        ),
        (
            {
                "root": {
                    "children": [
                        {
                            "kind": "group",
                            "children": [
                                {
                                    "kind": "trait",
                                    "field": "order_count",
                                    "op": "contains",
                                    "value": "x",
                                }
                            ],
                        }
                    ]
                }
            },
            "condition #1 > #1: 'contains' does not apply to order_count",
        ),
        (
            {
                "root": {
                    "children": [
                        {"kind": "orders", "metric": "total_spent", "op": "gt", "value": "lots"}
                    ]
                }
            },
            "must be a number",
        ),
        ({"root": {"children": [{"kind": "teleport"}]}}, "does not match any of the expected"),
        (
            {
                "root": {
                    "children": [
                        {
                            "kind": "orders",
                            "metric": "total_spent",
                            "op": "gt",
                            "value": float("nan"),
                        }
                    ]
                }
            },
            "finite number",
        ),
        (
            {
                "root": {
                    "children": [
                        {
                            "kind": "orders",
                            "metric": "average_order_value",
                            "op": "gt",
                            "value": 1e10,
                        }
                    ]
                }
            },
            "amounts and counts go up to",
        ),
        (
            {
                "root": {
                    "children": [
                        {"kind": "trait", "field": "custom.score", "op": "eq", "value": 1e30}
                    ]
                }
            },
            "finite number",
        ),
        ({"root": {"children": [{"kind": "segment", "segment_id": 2**70}]}}, "less than or equal"),
    ],
)
def test_invalid_definitions_are_refused_pointing_at_the_condition(db, world, definition, message):
    tenant_id, _ = world
    with pytest.raises(InvalidInput) as error:
        segments.create_segment(session=db, tenant_id=tenant_id, name="Bad", definition=definition)
    assert message in error.value.message
    names = {s.name for s in segments.list_segments(session=db, tenant_id=tenant_id)}
    assert "Bad" not in names


def test_cycles_and_other_tenants_segments_are_refused(db, world):
    tenant_id, _ = world
    first = segments.create_segment(session=db, tenant_id=tenant_id, name="A", definition={})
    refers = {"root": {"children": [{"kind": "segment", "segment_id": first.id}]}}
    second = segments.create_segment(session=db, tenant_id=tenant_id, name="B", definition=refers)
    loop = {"root": {"children": [{"kind": "segment", "segment_id": second.id}]}}
    with pytest.raises(InvalidInput, match="cannot depend on itself"):
        segments.update_segment(
            session=db, tenant_id=tenant_id, segment_id=first.id, definition=loop
        )
    with pytest.raises(Conflict, match="uses this segment"):
        segments.delete_segment(session=db, tenant_id=tenant_id, segment_id=first.id)
    stranger = make_tenant(db)
    with pytest.raises(InvalidInput, match="does not exist"):
        segments.create_segment(session=db, tenant_id=stranger.id, name="Sneaky", definition=refers)
    with pytest.raises(NotFound):
        segments.get_segment(session=db, tenant_id=stranger.id, segment_id=first.id)


def test_members_never_cross_tenants(db, world):
    tenant_id, _ = world
    other = make_tenant(db)
    build_world(db, other.id, seed=4, size=20)
    seg = segments.create_segment(session=db, tenant_id=tenant_id, name="Everyone", definition={})
    membership.recompute_segment(session=db, tenant_id=tenant_id, segment_id=seg.id, now=NOW)
    owners = set(db.exec(select(Contact.tenant_id).where(Contact.id.in_(_members(db, seg.id)))))
    assert owners == {tenant_id}
    estimate = segments.estimate(session=db, tenant_id=other.id, definition={}, now=NOW)
    assert estimate.count == estimate.total_profiles == 20


def test_lists_names_and_ids_are_guarded(db, world):
    tenant_id, _ = world
    with pytest.raises(InvalidInput, match="no definition"):
        segments.create_segment(
            session=db, tenant_id=tenant_id, name="L", kind="static", definition=TWO_ORDERS
        )
    static = segments.create_segment(session=db, tenant_id=tenant_id, name="L", kind="static")
    with pytest.raises(InvalidInput, match="static list"):
        segments.recompute_job(session=db, segment=static)
    with pytest.raises(Conflict, match="already exists"):
        segments.create_segment(session=db, tenant_id=tenant_id, name=" l ")
    for bad_id in (0, -1, 2**70):
        with pytest.raises(NotFound):
            segments.get_segment(session=db, tenant_id=tenant_id, segment_id=bad_id)
    assert segments.estimate(session=db, tenant_id=tenant_id, definition=None, now=NOW).count
