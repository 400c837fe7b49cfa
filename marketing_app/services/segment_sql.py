"""Compile a segment definition into one SQL query over the tenant's profiles (SQLAlchemy Core).

Every condition compiles to an expression that is never NULL, so NOT and OR behave as the
pure-Python evaluator (services/segment_oracle.py) says; property tests hold the two together.
Conditions over events and orders become `contacts.id IN (grouped subquery)`, which PostgreSQL
runs as hashed semi-joins. With `CompileContext.only_contacts` set, every subquery is restricted
to those profiles too, so folding a batch of events never rescans the whole population.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    not_,
    or_,
    true,
)
from sqlmodel import col, select

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
from marketing_app.services.rfm import keys_of, rfm_key, scored_profiles
from marketing_app.services.segment_sql_parts import (
    NUMBER_COMPARISONS,
    CompileContext,
    birthday_condition,
    date_condition,
    json_condition,
    never_null,
    number_condition,
    reference_condition,
    string_condition,
)
from marketing_app.services.segment_values import (
    BUCKET_MODULUS,
    BUCKET_MULTIPLIER,
    day_start,
    holds_at_zero,
    money_cents,
    tier_names,
)


def members_query(definition: sd.SegmentDefinition, ctx: CompileContext) -> Select:
    """SELECT contacts.id of every profile of the tenant the definition matches."""
    query = select(Contact.id).where(Contact.tenant_id == ctx.tenant_id)
    if ctx.only_contacts is not None:
        query = query.where(col(Contact.id).in_(ctx.only_contacts))
    return query.where(compile_node(definition.root, ctx))


def compile_node(node, ctx: CompileContext) -> ColumnElement[bool]:
    if isinstance(node, sd.Group):
        parts = [compile_node(child, ctx) for child in node.children]
        combined = (and_ if node.op == "and" else or_)(*parts) if parts else true()
        return not_(combined) if node.negate else combined
    return COMPILERS[type(node)](node, ctx)


def _has(query: Select) -> ColumnElement[bool]:
    """The profile is among those `query` selects (its first column holds contact ids).

    EXISTS, not IN: PostgreSQL runs it as a semi-join, and under NOT as an anti-join, where
    NOT IN needs every id hashed within work_mem or else rescans per profile.
    """
    rows = query.subquery()
    return exists().where(rows.c[0] == Contact.id)


def _scoped(query: Select, contact_column, ctx: CompileContext) -> Select:
    """Limit a per-profile subquery to real profiles (and to the batch being folded)."""
    query = query.where(contact_column.is_not(None))
    if ctx.only_contacts is not None:
        query = query.where(contact_column.in_(ctx.only_contacts))
    return query


# --- traits -------------------------------------------------------------------------------

TRAIT_COLUMNS = {
    "location": Contact.location_id,
    "staff": Contact.staff_id,
    "total_spent": Contact.total_spent_cents,
}


def _trait(cond: sd.TraitCondition, ctx: CompileContext) -> ColumnElement[bool]:
    field_type = sd.trait_field_type(cond.field)
    if field_type == "custom":
        key = cond.field.removeprefix("custom.")
        return json_condition(Contact.traits, key, cond.op, cond.value, ctx, binary=True)
    column = TRAIT_COLUMNS.get(cond.field) or getattr(Contact, cond.field)
    value = money_cents(cond.value) if cond.field == "total_spent" else cond.value
    if field_type == "string":
        return string_condition(column, cond.op, value)
    if field_type == "birthday" and cond.op in ("anniversary_within_next_days", "in_month"):
        return birthday_condition(column, cond.op, value, ctx)
    if field_type == "date" and cond.op == "in_current_month":
        return never_null(column >= day_start(ctx.now.date().replace(day=1)))
    if field_type == "birthday" and cond.op == "in_current_month":
        return birthday_condition(column, "in_month", ctx.now.month, ctx)
    if field_type in ("date", "birthday"):
        return date_condition(column, cond.op, value, ctx, as_date=field_type == "birthday")
    if field_type == "reference":
        return reference_condition(column, cond.op, value)
    return number_condition(column, cond.op, value)


# --- events, orders, engagement -------------------------------------------------------------


def _events_of(name: str, since: datetime | None, ctx: CompileContext) -> Select:
    query = select(Event.contact_id).where(Event.tenant_id == ctx.tenant_id, Event.name == name)
    if since is not None:
        query = query.where(Event.occurred_at >= since)
    return _scoped(query, col(Event.contact_id), ctx)


def _count_condition(query: Select, count_op: str, count: int) -> ColumnElement[bool]:
    """Profiles whose rows in `query` number at least / at most / exactly `count`."""
    grouped = query.group_by(query.selected_columns[0])
    if count_op == "at_least":
        if count <= 1:
            return _has(query) if count == 1 else true()
        return _has(grouped.having(func.count() >= count))
    if count_op == "at_most" or count == 0:
        if count == 0:
            return not_(_has(query))
        return not_(_has(grouped.having(func.count() > count)))
    return _has(grouped.having(func.count() == count))


def _event(cond: sd.EventCondition, ctx: CompileContext) -> ColumnElement[bool]:
    query = _events_of(cond.name, ctx.since(cond.within_days), ctx)
    for f in cond.where:
        query = query.where(json_condition(Event.properties, f.property, f.op, f.value, ctx))
    return _count_condition(query, cond.count_op, cond.count)


def _event_time(cond: sd.EventTimeCondition, ctx: CompileContext) -> ColumnElement[bool]:
    query = _events_of(cond.name, None, ctx).group_by(Event.contact_id)
    moment = (func.min if cond.which == "first" else func.max)(Event.occurred_at)
    return _has(query.having(date_condition(moment, cond.op, cond.value, ctx, as_date=False)))


def _engagement(cond: sd.EngagementCondition, ctx: CompileContext) -> ColumnElement[bool]:
    name = sd.ENGAGEMENT_EVENTS[(cond.channel, cond.action)]
    query = _events_of(name, ctx.since(cond.within_days), ctx)
    if cond.campaign_id:
        query = query.where(
            json_condition(Event.properties, "campaign_id", "eq", cond.campaign_id, ctx)
        )
    if cond.action == "opened":  # privacy-proxy and scanner opens are not engagement
        query = query.where(
            not_(json_condition(Event.properties, "machine_open", "is_true", None, ctx))
        )
    return _count_condition(
        query, "at_least" if cond.engaged else "at_most", 1 if cond.engaged else 0
    )


def _orders_since(since: datetime | None, ctx: CompileContext) -> Select:
    query = select(Order.contact_id).where(Order.tenant_id == ctx.tenant_id)
    if since is not None:
        query = query.where(Order.placed_at >= since)
    return _scoped(query, col(Order.contact_id), ctx)


def _order_metric(cond: sd.OrderMetricCondition, ctx: CompileContext) -> ColumnElement[bool]:
    query = _orders_since(ctx.since(cond.within_days), ctx).group_by(Order.contact_id)
    total, count = func.sum(Order.total_cents), func.count()
    if cond.metric == "order_count":
        metric, bound, zero_matches = count, cond.value, holds_at_zero(cond.op, cond.value)
    elif cond.metric == "total_spent":
        metric, bound = total, money_cents(cond.value)
        zero_matches = holds_at_zero(cond.op, cond.value)
    else:  # average as total vs bound x count: exact integer arithmetic on every database
        cents = money_cents(cond.value)
        bound = [c * count for c in cents] if isinstance(cents, list) else cents * count
        metric, zero_matches = total, False
    passes = NUMBER_COMPARISONS[cond.op](metric, bound)
    if zero_matches:  # profiles without orders in the window count as 0 and pass
        return not_(_has(query.having(not_(passes))))
    return _has(query.having(passes))


PRODUCT_COLUMNS = {
    "sku": OrderItem.sku,
    "product": OrderItem.product_name,
    "category": OrderItem.category,
}


def _ordered_product(cond: sd.OrderedProductCondition, ctx: CompileContext):
    query = _orders_since(ctx.since(cond.within_days), ctx).join(
        OrderItem, col(OrderItem.order_id) == col(Order.id)
    )
    query = query.where(func.lower(PRODUCT_COLUMNS[cond.match]) == cond.value.lower())
    found = _has(query)
    return found if cond.ordered else not_(found)


def _no_order(cond: sd.NoOrderCondition, ctx: CompileContext) -> ColumnElement[bool]:
    return not_(_has(_orders_since(ctx.since(cond.days), ctx)))


# --- consent, membership, RFM, buckets ------------------------------------------------------


def _consent(cond: sd.ConsentCondition, ctx: CompileContext) -> ColumnElement[bool]:
    if cond.state in ("subscribed", "not_subscribed"):
        flag = getattr(Contact, f"{cond.channel}_consent")
        return flag.is_(True) if cond.state == "subscribed" else not_(flag.is_(True))
    address = Contact.email if cond.channel == "email" else Contact.phone
    blocked = select(Suppression.address).where(
        Suppression.tenant_id == ctx.tenant_id, Suppression.channel == cond.channel
    )
    suppressed = never_null(col(address).in_(blocked))
    return suppressed if cond.state == "suppressed" else not_(suppressed)


def _membership(cond: sd.SegmentMembershipCondition, ctx: CompileContext):
    members = _scoped(
        select(SegmentMember.contact_id).where(SegmentMember.segment_id == cond.segment_id),
        col(SegmentMember.contact_id),
        ctx,
    )
    inside = _has(members)
    return inside if cond.member else not_(inside)


def _rfm(cond: sd.RfmCondition, ctx: CompileContext) -> ColumnElement[bool]:
    """Scores come from the profile's current facts and the tenant's stored boundaries."""
    if ctx.rfm is None:  # never computed: nobody has a group yet
        return false()
    return and_(scored_profiles(), rfm_key(ctx.rfm).in_(keys_of(cond.groups)))


def _top_spenders(cond: sd.TopSpendersCondition, ctx: CompileContext):
    """above * 100 < percent * n, above = customers spending more: ties are in together."""
    ranked = (
        select(
            Contact.id.label("contact_id"),
            func.rank().over(order_by=col(Contact.total_spent_cents).desc()).label("k"),
            func.count().over().label("n"),
        )
        .where(Contact.tenant_id == ctx.tenant_id, Contact.order_count > 0)
        .subquery()
    )
    top = select(ranked.c.contact_id).where((ranked.c.k - 1) * 100 < cond.percent * ranked.c.n)
    return _has(top)


def _random_bucket(cond: sd.RandomBucketCondition, ctx: CompileContext):
    bucket = ((Contact.id + cond.salt) * BUCKET_MULTIPLIER % BUCKET_MODULUS) * 100 // BUCKET_MODULUS
    return and_(bucket >= cond.low, bucket < cond.high)


def _loyalty(cond: sd.LoyaltyCondition, ctx: CompileContext) -> ColumnElement[bool]:
    """EXISTS over the profile's account; without one a profile is no member, has tier ""
    and 0 points, so a test that holds of those becomes NOT EXISTS (an account failing it)."""
    accounts = _scoped(
        select(LoyaltyAccount.contact_id).where(LoyaltyAccount.tenant_id == ctx.tenant_id),
        col(LoyaltyAccount.contact_id),
        ctx,
    )
    if cond.field == "member":
        member = _has(accounts)
        return member if cond.op == "is_true" else not_(member)
    if cond.field == "tier":
        names = tier_names(ctx.loyalty_tiers, cond.op, cond.value)
        passes = col(LoyaltyAccount.tier).in_(sorted(names)) if names else false()
        matched = _account_test(accounts, passes, "" in names)
        return not_(matched) if cond.op == "not_in" else matched
    column = LoyaltyAccount.balance if cond.field == "balance" else LoyaltyAccount.lifetime_earned
    passes = NUMBER_COMPARISONS[cond.op](column, cond.value)
    return _account_test(accounts, passes, holds_at_zero(cond.op, cond.value))


def _account_test(accounts: Select, passes, holds_without_account: bool):
    if holds_without_account:
        return not_(_has(accounts.where(not_(passes))))
    return _has(accounts.where(passes))


COMPILERS: dict[type, Callable] = {
    sd.TraitCondition: _trait,
    sd.EventCondition: _event,
    sd.EventTimeCondition: _event_time,
    sd.OrderMetricCondition: _order_metric,
    sd.OrderedProductCondition: _ordered_product,
    sd.NoOrderCondition: _no_order,
    sd.EngagementCondition: _engagement,
    sd.ConsentCondition: _consent,
    sd.SegmentMembershipCondition: _membership,
    sd.RfmCondition: _rfm,
    sd.TopSpendersCondition: _top_spenders,
    sd.RandomBucketCondition: _random_bucket,
    sd.LoyaltyCondition: _loyalty,
}
