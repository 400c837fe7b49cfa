"""Property tests: the compiled SQL and the Python evaluator agree on random definitions,
on the suite's database (PostgreSQL in CI) and on SQLite."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketing_app.domain import segment_definition as sd
from marketing_app.services.segment_oracle import evaluate, load_profile_facts
from marketing_app.services.segment_sql import members_query
from marketing_app.services.segments import compile_context
from tests.factories import make_tenant
from tests.segment_world import (
    DROPPED_TIER,
    EVENT_NAMES,
    LOYALTY_TIERS,
    NOW,
    POINTS,
    PRODUCTS,
    WORDS,
    build_world,
    sqlite_session,
)

WORLDS: dict = {}


class World(tuple):
    def __repr__(self) -> str:  # hypothesis prints fixtures on failure; the facts are huge
        return f"World({self[0].get_bind().dialect.name})"


@pytest.fixture(params=["suite", "sqlite"])
def world(request, session):
    """(session, tenant id, world ids, facts) built once per database for the module."""
    if request.param not in WORLDS:
        db = session if request.param == "suite" else sqlite_session()
        tenant = make_tenant(db)
        ids = build_world(db, tenant.id, seed=7)
        WORLDS[request.param] = World((db, tenant.id, ids, load_profile_facts(db, tenant.id)))
    return WORLDS[request.param]


def _value_for(op: str, field_type: str):
    if op in sd.VALUELESS_OPS:
        return st.none()
    if op in ("in", "not_in"):
        return st.lists(st.sampled_from([w for w in WORDS if w] + ["7"]), min_size=1, max_size=3)
    if op == "between":
        return st.tuples(st.sampled_from([0, 10, 50]), st.sampled_from([50, 500, 1200])).map(list)
    if op in ("within_last_days", "not_within_last_days", "anniversary_within_next_days"):
        return st.sampled_from([1, 5, 7, 30, 60, 90, 365])
    if op == "in_month":
        return st.integers(1, 12)
    if op in ("before", "after"):
        return st.sampled_from(["2026-05-16", "2026-06-14", "1990-01-01", "1999-01-01"])
    if field_type in ("number", "custom") and op not in ("contains", "starts_with"):
        return st.sampled_from([0, 1, 2.5, 10, 49.99, 50, 500, 500.01])
    return st.sampled_from([w for w in WORDS if w] + ["a", "%", "_"])


@st.composite
def trait_conditions(draw):
    field = draw(st.sampled_from([*sd.TRAIT_FIELDS, "custom.tier", "custom.score", "custom.flag"]))
    field_type = sd.trait_field_type(field)
    op = draw(st.sampled_from(sd.OPS_BY_TYPE[field_type]))
    if field_type == "reference":
        value = None if op in sd.VALUELESS_OPS else draw(st.lists(st.integers(1, 12), min_size=1))
    else:
        value = draw(_value_for(op, field_type))
    return sd.TraitCondition(field=field, op=op, value=value)


# Tier names as a definition may give them: other casing, no tier, a dropped one.
TIER_NAMES = [*LOYALTY_TIERS, "gold", "", DROPPED_TIER]
loyalty_conditions = st.one_of(
    st.builds(
        sd.LoyaltyCondition, field=st.just("member"), op=st.sampled_from(["is_true", "is_false"])
    ),
    st.builds(
        sd.LoyaltyCondition,
        field=st.just("tier"),
        op=st.sampled_from(["in", "not_in"]),
        value=st.lists(st.sampled_from(TIER_NAMES), min_size=1, max_size=3),
    ),
    st.builds(
        sd.LoyaltyCondition,
        field=st.just("tier"),
        op=st.just("at_least"),
        value=st.sampled_from([t for t in TIER_NAMES if t]),
    ),
    st.builds(
        sd.LoyaltyCondition, field=st.just("tier"), op=st.just("in_top"), value=st.integers(1, 5)
    ),
    st.builds(
        sd.LoyaltyCondition,
        field=st.sampled_from(["balance", "lifetime_earned"]),
        op=st.sampled_from(["eq", "gt", "gte", "lt", "lte"]),
        value=st.sampled_from([*POINTS, -1, 499.5]),
    ),
    st.builds(
        sd.LoyaltyCondition,
        field=st.sampled_from(["balance", "lifetime_earned"]),
        op=st.just("between"),
        value=st.tuples(st.sampled_from([-5, 0, 1, 500]), st.sampled_from([500, 3000])).map(list),
    ),
)
windows = st.sampled_from([None, 1, 30, 60, 90, 365])
filters = st.one_of(
    st.builds(
        sd.PropertyFilter,
        property=st.sampled_from(["campaign_id", "value"]),
        op=st.sampled_from(["eq", "ne"]),
        value=st.sampled_from(["c1", 50, "50"]),
    ),
    st.builds(
        sd.PropertyFilter,
        property=st.just("value"),
        op=st.sampled_from(["gt", "lte"]),
        value=st.sampled_from([5, 49.5]),
    ),
    st.builds(
        sd.PropertyFilter,
        property=st.sampled_from(["value", "machine_open"]),
        op=st.sampled_from(["is_set", "is_not_set"]),
    ),
)
conditions = st.one_of(
    trait_conditions(),
    st.builds(
        sd.EventCondition,
        name=st.sampled_from(EVENT_NAMES),
        within_days=windows,
        count_op=st.sampled_from(["at_least", "at_most", "exactly"]),
        count=st.integers(0, 3),
        where=st.lists(filters, max_size=1),
    ),
    st.builds(
        sd.EventTimeCondition,
        name=st.sampled_from(EVENT_NAMES),
        which=st.sampled_from(["first", "last"]),
        op=st.just("within_last_days"),
        value=st.sampled_from([1, 30, 90]),
    ),
    st.builds(
        sd.OrderMetricCondition,
        within_days=windows,
        metric=st.sampled_from(["total_spent", "order_count", "average_order_value"]),
        op=st.sampled_from(["eq", "gt", "gte", "lt", "lte"]),
        value=st.sampled_from([-1, 0, 1, 2, 25, 250, 500, 600]),
    ),
    st.builds(
        sd.OrderedProductCondition,
        within_days=windows,
        match=st.sampled_from(["sku", "product", "category"]),
        value=st.sampled_from([p for row in PRODUCTS for p in row]),
        ordered=st.booleans(),
    ),
    st.builds(sd.NoOrderCondition, days=st.sampled_from([1, 30, 60, 90])),
    st.builds(
        sd.EngagementCondition,
        within_days=windows,
        action=st.sampled_from(["received", "opened", "clicked"]),
        campaign_id=st.sampled_from([None, "c1"]),
        engaged=st.booleans(),
    ),
    st.builds(
        sd.ConsentCondition,
        channel=st.sampled_from(["email", "sms"]),
        state=st.sampled_from(["subscribed", "not_subscribed", "suppressed", "not_suppressed"]),
    ),
    st.builds(
        sd.RfmCondition, groups=st.lists(st.sampled_from(sd.RFM_GROUPS), min_size=1, max_size=3)
    ),
    st.builds(
        sd.RandomBucketCondition,
        low=st.integers(0, 50),
        high=st.integers(51, 100),
        salt=st.integers(0, 99),
    ),
    loyalty_conditions,
)
groups = st.recursive(
    conditions,
    lambda children: st.builds(
        sd.Group,
        op=st.sampled_from(["and", "or"]),
        negate=st.booleans(),
        children=st.lists(children, max_size=3),
    ),
    max_leaves=6,
)


def _agree(world, root) -> None:
    db, tenant_id, _ids, facts = world
    definition = sd.SegmentDefinition(
        root=root if isinstance(root, sd.Group) else sd.Group(children=[root])
    )
    ctx = compile_context(db, tenant_id, NOW)
    from_sql = set(db.exec(members_query(definition, ctx)).all())
    expected = {cid for cid, f in facts.items() if evaluate(definition, f, NOW)}
    assert from_sql == expected, definition.model_dump_json(exclude_defaults=True)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(condition=conditions)
def test_every_condition_kind_agrees_with_the_evaluator(world, condition):
    _agree(world, condition)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(root=groups)
def test_nested_and_or_not_groups_agree_with_the_evaluator(world, root):
    _agree(world, root)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(condition=loyalty_conditions)
def test_loyalty_conditions_agree_with_the_evaluator(world, condition):
    _agree(world, condition)


def test_comparisons_that_hold_at_zero_include_profiles_with_nothing(world):
    """Without orders or a loyalty account a profile counts as 0, also for a negative bound."""
    for op, value in (("gt", -1), ("gte", -1), ("between", [-5, 0]), ("lt", 1)):
        _agree(world, sd.OrderMetricCondition(metric="order_count", op=op, value=value))
        _agree(world, sd.OrderMetricCondition(metric="total_spent", op=op, value=value))
        _agree(world, sd.LoyaltyCondition(field="balance", op=op, value=value))


def test_membership_of_another_segment_agrees(world):
    segment_id = world[2]["segment_id"]
    for member in (True, False):
        _agree(world, sd.SegmentMembershipCondition(segment_id=segment_id, member=member))


ONE_OF_EACH_KIND = [
    sd.TraitCondition(field="first_name", op="contains", value="a"),
    sd.TraitCondition(field="birthday", op="anniversary_within_next_days", value=7),
    sd.TraitCondition(field="last_order_at", op="within_last_days", value=60),
    sd.TraitCondition(field="total_spent", op="gte", value=500),
    sd.TraitCondition(field="custom.score", op="gt", value=2),
    sd.TraitCondition(field="custom.flag", op="is_true"),
    sd.EventCondition(
        name="Product Viewed",
        count_op="at_least",
        count=2,
        within_days=365,
        where=[sd.PropertyFilter(property="campaign_id", op="eq", value="c1")],
    ),
    sd.EventTimeCondition(name="Email Delivered", which="first", op="within_last_days", value=60),
    sd.OrderMetricCondition(metric="average_order_value", op="gte", value=250, within_days=90),
    sd.OrderedProductCondition(match="category", value="EDIBLES"),
    sd.NoOrderCondition(days=60),
    sd.EngagementCondition(action="opened", within_days=90),
    sd.ConsentCondition(channel="email", state="suppressed"),
    sd.RfmCondition(groups=["Champions", "Lost"]),
    sd.TopSpendersCondition(percent=25),
    sd.RandomBucketCondition(low=0, high=50, salt=3),
    sd.LoyaltyCondition(field="tier", op="in", value=["Gold", "platinum"]),
    sd.LoyaltyCondition(field="tier", op="at_least", value="Silver"),
    sd.LoyaltyCondition(field="balance", op="lt", value=500),
]


@pytest.mark.parametrize("condition", ONE_OF_EACH_KIND, ids=lambda c: c.kind)
def test_each_condition_kind_splits_the_population(world, condition):
    """Not only agreement: each kind selects some profiles and leaves others out."""
    _agree(world, condition)
    db, tenant_id, _ids, facts = world
    definition = sd.SegmentDefinition(root=sd.Group(children=[condition]))
    matched = sum(evaluate(definition, f, NOW) for f in facts.values())
    assert 0 < matched < len(facts)
