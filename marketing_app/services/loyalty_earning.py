"""Earning points: orders (set-based, once per order), sign-up and birthday bonuses.

An order earns floor(dollars x points per dollar x category multiplier x equity multiplier)
plus the per-visit points. The category multiplier is the average of the order's lines'
category multipliers weighted by line amount (1 when the order has no lines), so a basket half
flower at 2x and half accessories at 1x earns 1.5x on its total. The arithmetic is exact
(integers, not floats) and runs in Python between set-based statements: one SELECT of the
uncredited orders, one of their lines' amounts per category, one INSERT (COPY on PostgreSQL)
of the entries and one upsert of the accounts per batch, whatever the number of orders.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Row, String, and_, cast, exists, func, or_
from sqlmodel import Session, col, select

from marketing_app.models import (
    Contact,
    LedgerKind,
    LedgerSource,
    LoyaltyAccount,
    LoyaltyLedgerEntry,
    Order,
    OrderItem,
)
from marketing_app.models.base import utcnow
from marketing_app.services.loyalty_ledger import LedgerWrite, TierChange, entry_row, record_entries
from marketing_app.services.loyalty_programs import (
    EQUITY_TRAITS,
    LoyaltySettings,
    require_settings,
)

CREDIT_BATCH = 5_000  # orders per round: four statements; a round's rows stay a few MB
TRUE_WORDS = ("true", "1", "yes")  # trait values that mark an equity customer


@dataclass
class OrderCredit:
    orders_credited: int = 0
    points: int = 0
    skipped_no_customer: int = 0  # uncredited orders without a contact: nobody to credit
    skipped_bad_total: int = 0  # negative or missing totals: never credited
    tier_changes: list[TierChange] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.skipped_no_customer + self.skipped_bad_total


def _hundredths(value) -> int:
    """A setting with at most two decimals (the settings model enforces it) as an integer."""
    return int(value * 100)


def order_points(
    *, total_cents: int, category_cents: dict[str, int], equity: bool, settings: LoyaltySettings
) -> int:
    """Points one order earns under the program (see the module docstring).

    Integer arithmetic on hundredths: exact like fractions, and fast enough for big batches.
    """
    numerator = total_cents * _hundredths(settings.points_per_dollar)
    denominator = 100 * 100
    if equity:
        numerator *= _hundredths(settings.equity_multiplier)
        denominator *= 100
    amounts = {category: max(cents, 0) for category, cents in category_cents.items()}
    lines_total = sum(amounts.values())
    if settings.category_multipliers and lines_total > 0:
        multipliers = settings.category_multipliers
        numerator *= sum(
            cents * _hundredths(multipliers.get(category, 1)) for category, cents in amounts.items()
        )
        denominator *= 100 * lines_total
    return numerator // denominator + settings.points_per_visit


def _is_equity():
    """SQL: the contact carries an equity trait that reads as true (jsonb or SQLite JSON)."""
    values = [func.lower(Contact.traits[key].as_string()) for key in EQUITY_TRAITS]
    return or_(*[value.in_(TRUE_WORDS) for value in values])


def _uncredited(tenant_id: uuid.UUID, contact_id: int | None, order_ids: list[int] | None):
    """Conditions of a tenant's orders (of one contact, or these ids) with no earn entry."""
    # On the ledger's unique key itself: an exact index lookup per order, whatever the
    # planner's statistics say right after a big import.
    credited = exists().where(
        LoyaltyLedgerEntry.tenant_id == tenant_id,
        LoyaltyLedgerEntry.source == LedgerSource.ORDER,
        LoyaltyLedgerEntry.source_key == cast(Order.id, String),
    )
    conditions = [Order.tenant_id == tenant_id, ~credited]
    if contact_id is not None:
        conditions.append(Order.contact_id == contact_id)
    if order_ids is not None:
        conditions.append(col(Order.id).in_(order_ids))
    return and_(*conditions)


def _count_skipped(session: Session, uncredited) -> tuple[int, int]:
    no_customer = col(Order.contact_id).is_(None)
    bad_total = and_(~no_customer, or_(col(Order.total_cents).is_(None), Order.total_cents < 0))
    counts = session.exec(
        select(func.count().filter(no_customer), func.count().filter(bad_total)).where(uncredited)
    ).one()
    return counts[0] or 0, counts[1] or 0


def _next_batch(session: Session, tenant_id, uncredited, after: int) -> list[Row]:
    query = (
        select(Order.id, Order.contact_id, Order.total_cents, Order.placed_at, _is_equity())
        .join(Contact, and_(Contact.id == Order.contact_id, Contact.tenant_id == tenant_id))
        .where(uncredited, Order.id > after, Order.total_cents >= 0)
        .order_by(Order.id)
        .limit(CREDIT_BATCH)
    )
    return list(session.exec(query))


def _category_cents(session: Session, order_ids: list[int]) -> dict[int, dict[str, int]]:
    category = func.lower(func.trim(OrderItem.category))
    rows = session.exec(
        select(OrderItem.order_id, category, func.sum(OrderItem.price_cents * OrderItem.quantity))
        .where(col(OrderItem.order_id).in_(order_ids))
        .group_by(OrderItem.order_id, category)
    )
    amounts: dict[int, dict[str, int]] = defaultdict(dict)
    for order_id, name, cents in rows:
        amounts[order_id][name or ""] = int(cents or 0)
    return amounts


def _earn_rows(tenant_id, batch: list[Row], lines, settings, now) -> list[dict]:
    rows = []
    for order_id, contact_id, total, placed_at, equity in batch:
        points = order_points(
            total_cents=total,
            category_cents=lines.get(order_id, {}),
            equity=bool(equity),
            settings=settings,
        )
        rows.append(
            entry_row(
                tenant_id=tenant_id,
                contact_id=contact_id,
                kind=LedgerKind.EARN,
                source=LedgerSource.ORDER,
                source_key=str(order_id),
                points=points,
                earned=points,
                order_id=order_id,
                amount_cents=total,
                occurred_at=placed_at,
                reason="equity customer" if equity and settings.equity_multiplier != 1 else "",
                now=now,
            )
        )
    return rows


def credit_orders(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    contact_id: int | None = None,
    order_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> OrderCredit:
    """Credit every order of the tenant (or of one contact, or these orders) not credited yet.

    Safe to run again and concurrently: the ledger's source key admits one entry per order.
    Orders without a customer or with a negative total are skipped and counted.
    """
    settings = require_settings(session=session, tenant_id=tenant_id)
    now = now or utcnow()
    ids = None if order_ids is None else sorted({int(i) for i in order_ids})
    uncredited = _uncredited(tenant_id, contact_id, ids)
    result = OrderCredit()
    result.skipped_no_customer, result.skipped_bad_total = _count_skipped(session, uncredited)
    after = 0
    while batch := _next_batch(session, tenant_id, uncredited, after):
        lines = (
            _category_cents(session, [r[0] for r in batch]) if settings.category_multipliers else {}
        )
        write = record_entries(
            session, tenant_id, settings, _earn_rows(tenant_id, batch, lines, settings, now), now
        )
        result.orders_credited += write.entries
        result.points += write.points
        result.tier_changes.extend(write.tier_changes)
        after = batch[-1][0]
        if len(batch) < CREDIT_BATCH:
            break
    return result


def _bonus_rows(tenant_id, contact_ids, source, key, points, now) -> list[dict]:
    return [
        entry_row(
            tenant_id=tenant_id,
            contact_id=contact_id,
            kind=LedgerKind.EARN,
            source=source,
            source_key=key(contact_id),
            points=points,
            earned=points,
            reason=f"{source} bonus",
            now=now,
        )
        for contact_id in sorted(contact_ids)
    ]


def award_signup_bonus(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    contact_ids: Iterable[int],
    now: datetime | None = None,
) -> LedgerWrite:
    """The program's sign-up bonus, once per contact ever; other tenants' ids are ignored."""
    settings = require_settings(session=session, tenant_id=tenant_id)
    now = now or utcnow()
    wanted = {int(c) for c in contact_ids if isinstance(c, int) and 0 < c < 2**63}
    if not settings.signup_bonus or not wanted:
        return LedgerWrite()
    found = session.exec(
        select(Contact.id).where(Contact.tenant_id == tenant_id, col(Contact.id).in_(wanted))
    ).all()
    rows = _bonus_rows(tenant_id, found, LedgerSource.SIGNUP, str, settings.signup_bonus, now)
    return record_entries(session, tenant_id, settings, rows, now)


def birthdays_on(day: date) -> list[tuple[int, int]]:
    """(month, day) pairs celebrated on `day`: 29 February counts on the 28th in other years."""
    pairs = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not _is_leap(day.year):
        pairs.append((2, 29))
    return pairs


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def award_birthday_bonuses(
    *, session: Session, tenant_id: uuid.UUID, on: date, now: datetime | None = None
) -> LedgerWrite:
    """The birthday bonus for members (contacts with an account) born on `on` (the tenant's
    local date), once per contact per year."""
    settings = require_settings(session=session, tenant_id=tenant_id)
    now = now or utcnow()
    if not settings.birthday_bonus:
        return LedgerWrite()
    month_day = func.extract("month", Contact.birthday) * 100 + func.extract(
        "day", Contact.birthday
    )
    members = session.exec(
        select(Contact.id)
        .join(LoyaltyAccount, LoyaltyAccount.contact_id == Contact.id)
        .where(
            Contact.tenant_id == tenant_id,
            LoyaltyAccount.tenant_id == tenant_id,
            col(Contact.birthday).is_not(None),
            month_day.in_([m * 100 + d for m, d in birthdays_on(on)]),
        )
    ).all()

    def key(contact_id: int) -> str:
        return f"{contact_id}:{on.year}"

    rows = _bonus_rows(tenant_id, members, LedgerSource.BIRTHDAY, key, settings.birthday_bonus, now)
    return record_entries(session, tenant_id, settings, rows, now)
