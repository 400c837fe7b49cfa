"""A pure-Python evaluator of segment definitions: the meaning the SQL compiler must match.

It reads one profile's facts (loaded by `load_profile_facts`) and answers true or false for a
definition. Tests run it beside the compiled SQL on random profiles and definitions.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from marketing_app.domain import segment_definition as sd
from marketing_app.models import (
    Contact,
    Event,
    LoyaltyAccount,
    Order,
    OrderItem,
    SegmentMember,
    Suppression,
)
from marketing_app.services.rfm import group_for, load_boundaries, scores_of
from marketing_app.services.segment_values import (
    anniversary_days,
    day_start,
    money_cents,
    random_bucket,
    tier_names,
)
from marketing_app.services.segments import loyalty_tier_names


@dataclass
class ProfileFacts:
    contact: dict[str, Any]
    events: list[tuple[str, datetime, dict]] = field(default_factory=list)
    orders: list[tuple[datetime, int, list[dict]]] = field(default_factory=list)
    segments: set[int] = field(default_factory=set)
    rfm_group: str | None = None
    suppressed: set[str] = field(default_factory=set)  # channels
    # Customers who ordered and spent more than this one, and how many ordered.
    spend_rank: int | None = None
    customers: int = 0
    loyalty: LoyaltyFacts | None = None  # None: no loyalty account
    loyalty_tiers: tuple[str, ...] = ()  # the tenant's program, lowest threshold first


@dataclass(frozen=True)
class LoyaltyFacts:
    balance: int
    lifetime_earned: int
    tier: str


def evaluate(node, facts: ProfileFacts, now: datetime) -> bool:
    if isinstance(node, sd.SegmentDefinition):
        return evaluate(node.root, facts, now)
    if isinstance(node, sd.Group):
        results = [evaluate(child, facts, now) for child in node.children]
        matched = (all if node.op == "and" else any)(results) if results else True
        return not matched if node.negate else matched
    return EVALUATORS[type(node)](node, facts, now)


# --- values ----------------------------------------------------------------------------------


def _string(value, op: str, expected) -> bool:
    if op == "is_set":
        return isinstance(value, str) and value != ""
    if op == "is_not_set":
        return not _string(value, "is_set", expected)
    if op in ("ne", "not_contains", "not_in"):
        return not _string(value, {"ne": "eq"}.get(op, op[4:]), expected)
    if not isinstance(value, str):
        return False
    text = value.lower()
    if op == "in":
        return text in {str(v).lower() for v in expected}
    needle = str(expected).lower()
    if op == "contains":
        return needle in text
    if op == "starts_with":
        return text.startswith(needle)
    return text == needle


def _number(value, op: str, expected) -> bool:
    if op == "is_set":
        return value is not None
    if op == "is_not_set":
        return value is None
    if op == "ne":
        return not _number(value, "eq", expected)
    if value is None:
        return False
    if op == "between":
        return expected[0] <= value <= expected[1]
    return {
        "eq": value == expected,
        "gt": value > expected,
        "gte": value >= expected,
        "lt": value < expected,
        "lte": value <= expected,
    }[op]


def _moment(value, op: str, expected, now: datetime, *, as_date: bool) -> bool:
    if op in ("is_set", "is_not_set"):
        return _number(value, op, expected)
    if value is None:
        return False
    if op == "in_current_month":
        return value >= day_start(now.date().replace(day=1))
    if op in ("before", "after"):
        day = date.fromisoformat(str(expected))
        bound = day if op == "before" else day + timedelta(days=1)
        bound = bound if as_date else day_start(bound)
        return value < bound if op == "before" else value >= bound
    since = now - timedelta(days=expected)
    since = since.date() if as_date else since
    return value >= since if op == "within_last_days" else value < since


def _json_value(values: dict, key: str, op: str, expected) -> bool:
    value = (values or {}).get(key)
    if op in ("is_true", "is_false"):
        return value is (op == "is_true")
    if op == "is_set":
        return value is not None and value != ""
    if op == "is_not_set":
        return not _json_value(values, key, "is_set", expected)
    if op in ("ne", "not_contains", "not_in"):
        positive = {"ne": "eq"}.get(op, op.removeprefix("not_"))
        return not _json_value(values, key, positive, expected)
    numeric = op in ("gt", "gte", "lt", "lte", "between") or (
        op == "eq" and not isinstance(expected, str)
    )
    if numeric:
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return is_number and _number(float(value), op, expected)
    return _string(value if isinstance(value, str) else None, op, expected)


# --- conditions ------------------------------------------------------------------------------

TRAIT_KEYS = {"location": "location_id", "staff": "staff_id", "total_spent": "total_spent_cents"}


def _trait(cond: sd.TraitCondition, facts: ProfileFacts, now: datetime) -> bool:
    field_type = sd.trait_field_type(cond.field)
    if field_type == "custom":
        return _json_value(facts.contact.get("traits"), cond.field[7:], cond.op, cond.value)
    value = facts.contact.get(TRAIT_KEYS.get(cond.field, cond.field))
    expected = money_cents(cond.value) if cond.field == "total_spent" else cond.value
    if field_type == "string":
        return _string(value, cond.op, expected)
    if field_type == "birthday" and cond.op in (
        "anniversary_within_next_days",
        "in_month",
        "in_current_month",
    ):
        if value is None:
            return False
        if cond.op == "anniversary_within_next_days":
            return (value.month, value.day) in set(anniversary_days(now.date(), cond.value))
        return value.month == (now.month if cond.op == "in_current_month" else cond.value)
    if field_type in ("date", "birthday"):
        return _moment(value, cond.op, expected, now, as_date=field_type == "birthday")
    if field_type == "reference":
        if cond.op in ("is_set", "is_not_set"):
            return _number(value, cond.op, None)
        return (value in cond.value) == (cond.op == "in")
    return _number(value, cond.op, expected)


def _count_matches(count: int, count_op: str, expected: int) -> bool:
    if count_op == "at_least":
        return count >= expected
    if count_op == "at_most":
        return count <= expected
    return count == expected


def _events_since(facts: ProfileFacts, name: str, days: int | None, now: datetime):
    since = None if days is None else now - timedelta(days=days)
    return [e for e in facts.events if e[0] == name and (since is None or e[1] >= since)]


def _event(cond: sd.EventCondition, facts: ProfileFacts, now: datetime) -> bool:
    events = [
        e
        for e in _events_since(facts, cond.name, cond.within_days, now)
        if all(_json_value(e[2], f.property, f.op, f.value) for f in cond.where)
    ]
    return _count_matches(len(events), cond.count_op, cond.count)


def _event_time(cond: sd.EventTimeCondition, facts: ProfileFacts, now: datetime) -> bool:
    times = [e[1] for e in facts.events if e[0] == cond.name]
    if not times:
        return False
    moment = min(times) if cond.which == "first" else max(times)
    return _moment(moment, cond.op, cond.value, now, as_date=False)


def _engagement(cond: sd.EngagementCondition, facts: ProfileFacts, now: datetime) -> bool:
    name = sd.ENGAGEMENT_EVENTS[(cond.channel, cond.action)]
    events = [
        e
        for e in _events_since(facts, name, cond.within_days, now)
        if (not cond.campaign_id or _json_value(e[2], "campaign_id", "eq", cond.campaign_id))
        and not (cond.action == "opened" and _json_value(e[2], "machine_open", "is_true", None))
    ]
    return bool(events) == cond.engaged


def _orders_since(facts: ProfileFacts, days: int | None, now: datetime):
    since = None if days is None else now - timedelta(days=days)
    return [o for o in facts.orders if since is None or o[0] >= since]


def _order_metric(cond: sd.OrderMetricCondition, facts: ProfileFacts, now: datetime) -> bool:
    orders = _orders_since(facts, cond.within_days, now)
    total, count = sum(o[1] for o in orders), len(orders)
    if cond.metric == "order_count":
        return _number(count, cond.op, cond.value)
    if cond.metric == "total_spent":
        return _number(total, cond.op, money_cents(cond.value))
    if not orders:
        return False
    cents = money_cents(cond.value)
    bound = [c * count for c in cents] if isinstance(cents, list) else cents * count
    return _number(total, cond.op, bound)


def _ordered_product(cond: sd.OrderedProductCondition, facts: ProfileFacts, now: datetime):
    key = {"sku": "sku", "product": "product_name", "category": "category"}[cond.match]
    found = any(
        (item.get(key) or "").lower() == cond.value.lower()
        for order in _orders_since(facts, cond.within_days, now)
        for item in order[2]
    )
    return found == cond.ordered


def _no_order(cond: sd.NoOrderCondition, facts: ProfileFacts, now: datetime) -> bool:
    return not _orders_since(facts, cond.days, now)


def _consent(cond: sd.ConsentCondition, facts: ProfileFacts, now: datetime) -> bool:
    if cond.state in ("subscribed", "not_subscribed"):
        subscribed = facts.contact.get(f"{cond.channel}_consent") is True
        return subscribed == (cond.state == "subscribed")
    address = facts.contact.get("email" if cond.channel == "email" else "phone")
    suppressed = address is not None and cond.channel in facts.suppressed
    return suppressed == (cond.state == "suppressed")


def _loyalty(cond: sd.LoyaltyCondition, facts: ProfileFacts, now: datetime) -> bool:
    account = facts.loyalty or LoyaltyFacts(balance=0, lifetime_earned=0, tier="")
    if cond.field == "member":
        return (facts.loyalty is not None) == (cond.op == "is_true")
    if cond.field == "tier":
        named = account.tier in tier_names(facts.loyalty_tiers, cond.op, cond.value)
        return not named if cond.op == "not_in" else named
    return _number(getattr(account, cond.field), cond.op, cond.value)


EVALUATORS = {
    sd.TraitCondition: _trait,
    sd.EventCondition: _event,
    sd.EventTimeCondition: _event_time,
    sd.OrderMetricCondition: _order_metric,
    sd.OrderedProductCondition: _ordered_product,
    sd.NoOrderCondition: _no_order,
    sd.EngagementCondition: _engagement,
    sd.ConsentCondition: _consent,
    sd.SegmentMembershipCondition: lambda c, f, _now: (c.segment_id in f.segments) == c.member,
    sd.RfmCondition: lambda c, f, _now: f.rfm_group in c.groups,
    sd.TopSpendersCondition: lambda c, f, _now: (
        f.spend_rank is not None and f.spend_rank * 100 < c.percent * f.customers
    ),
    sd.RandomBucketCondition: lambda c, f, _now: (
        c.low <= random_bucket(f.contact["id"], c.salt) < c.high
    ),
    sd.LoyaltyCondition: _loyalty,
}


def load_profile_facts(session: Session, tenant_id: uuid.UUID) -> dict[int, ProfileFacts]:
    """Every profile of a tenant with its events, orders, memberships, RFM group, suppressions."""
    facts = {
        c.id: ProfileFacts(contact=c.model_dump())
        for c in session.exec(select(Contact).where(Contact.tenant_id == tenant_id))
    }
    for e in session.exec(select(Event).where(Event.tenant_id == tenant_id)):
        if e.contact_id in facts:
            facts[e.contact_id].events.append((e.name, e.occurred_at, e.properties or {}))
    items = defaultdict(list)
    for item in session.exec(select(OrderItem).where(OrderItem.tenant_id == tenant_id)):
        items[item.order_id].append(item.model_dump())
    for o in session.exec(select(Order).where(Order.tenant_id == tenant_id)):
        if o.contact_id in facts:
            facts[o.contact_id].orders.append((o.placed_at, o.total_cents, items[o.id]))
    for m in session.exec(select(SegmentMember).where(SegmentMember.tenant_id == tenant_id)):
        facts[m.contact_id].segments.add(m.segment_id)
    bounds = load_boundaries(session, tenant_id)
    for f in facts.values():
        scores = scores_of(f.contact, bounds)
        f.rfm_group = group_for(*scores) if scores else None
    _rank_spenders(facts)
    _load_loyalty(session, tenant_id, facts)
    blocked = {
        (s.channel, s.address)
        for s in session.exec(select(Suppression).where(col(Suppression.tenant_id) == tenant_id))
    }
    for f in facts.values():
        for channel, key in (("email", "email"), ("sms", "phone")):
            if (channel, f.contact.get(key)) in blocked:
                f.suppressed.add(channel)
    return facts


def _load_loyalty(session: Session, tenant_id: uuid.UUID, facts: dict[int, ProfileFacts]) -> None:
    tiers = loyalty_tier_names(session=session, tenant_id=tenant_id)
    for f in facts.values():
        f.loyalty_tiers = tiers
    for a in session.exec(select(LoyaltyAccount).where(LoyaltyAccount.tenant_id == tenant_id)):
        if a.contact_id in facts:
            facts[a.contact_id].loyalty = LoyaltyFacts(a.balance, a.lifetime_earned, a.tier)


def _rank_spenders(facts: dict[int, ProfileFacts]) -> None:
    spent = sorted(
        (f.contact["total_spent_cents"] for f in facts.values() if f.contact["order_count"] > 0),
        reverse=True,
    )
    for f in facts.values():
        if f.contact["order_count"] > 0:
            mine = f.contact["total_spent_cents"]
            f.customers = len(spent)
            f.spend_rank = sum(1 for s in spent if s > mine)
