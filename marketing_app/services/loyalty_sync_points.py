"""Points and facts for the orders a POS sync stored, a few set-based statements per batch.

The sync collects what its pages asked for (`PendingPoints`) and applies it every
`POINTS_BATCH` orders and at the end, also after a provider failure (the orders stored so far
are good data):
- credit the completed and refunded orders (`credit_orders`, once per order by its key);
- reverse refunded orders in full (refund id "pos-refund-<POS order id>") and cancelled orders
  that had earned at an earlier sync (refund id "cancellation"), set-based: one read of the
  earn entries, one of the earlier reversals, the accounts locked once in contact order, and
  one ledger write. Per order through `refund_order` this took two thirds of a 3,000-order sync.
  The amounts follow `loyalty_refunds`: what is left of the order, capped by the balance, the
  rest recorded as shortfall;
- refresh order_count / total_spent_cents / last_order_at of the contacts that got orders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, select

from marketing_app.models import (
    Contact,
    LedgerKind,
    LedgerSource,
    LoyaltyAccount,
    LoyaltyLedgerEntry,
    Order,
)
from marketing_app.services.bulk_reads import one_of, refresh_statistics
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_ledger import entry_row, record_entries
from marketing_app.services.loyalty_programs import LoyaltySettings
from marketing_app.services.loyalty_refunds import CANCELLATION

POINTS_BATCH = 5_000  # orders per application: credit_orders' own batch, a few MB of rows
# Analyzed when they outgrew their statistics, before the statements that join them.
POINTS_TABLES = ("orders", "order_items", "contacts", "loyalty_ledger_entries", "loyalty_accounts")


@dataclass
class PendingPoints:
    """What the stored pages asked for, until `apply_points` writes it."""

    earning: list[int] = field(default_factory=list)  # order ids to credit
    reversals: dict[int, str] = field(default_factory=dict)  # order id -> refund id
    contacts: set[int] = field(default_factory=set)  # whose order facts changed

    def __len__(self) -> int:
        return len(self.earning) + len(self.reversals)


@dataclass
class PointsOutcome:
    orders_credited: int = 0
    points: int = 0
    refunds: int = 0
    cancellations: int = 0


def _chunks(values: list, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def refresh_order_facts(session: Session, tenant_id: uuid.UUID, contact_ids: set[int]) -> None:
    """order_count, total_spent_cents and last_order_at of these contacts, from their orders:
    one aggregate over their orders joined to them."""
    for match in one_of(session, Order.contact_id, contact_ids):
        facts = (
            select(
                Order.contact_id.label("contact_id"),
                func.count().label("orders"),
                func.coalesce(func.sum(Order.total_cents), 0).label("spent"),
                func.max(Order.placed_at).label("last"),
            )
            .where(Order.tenant_id == tenant_id, match)
            .group_by(Order.contact_id)
            .subquery()
        )
        session.exec(
            update(Contact)
            .where(Contact.tenant_id == tenant_id, Contact.id == facts.c.contact_id)
            .values(order_count=facts.c.orders, total_spent_cents=facts.c.spent)
            .values(last_order_at=facts.c.last)
        )


def _earn_entries(session: Session, tenant_id, order_ids: list[int]) -> dict[int, tuple]:
    """order id -> (contact id, earned, amount cents) of the order's earn entry."""
    found: dict[int, tuple] = {}
    entry = LoyaltyLedgerEntry
    keys = [str(order_id) for order_id in order_ids]
    for match in one_of(session, entry.source_key, keys):
        rows = session.exec(
            select(entry.order_id, entry.contact_id, entry.earned, entry.amount_cents).where(
                entry.tenant_id == tenant_id, entry.source == LedgerSource.ORDER, match
            )
        )
        found.update({order_id: rest for order_id, *rest in rows})
    return found


def _reversed_before(session: Session, tenant_id, order_ids: list[int]) -> dict:
    """order id -> (refunded cents, points taken off lifetime earned) so far, and the keys."""
    entry = LoyaltyLedgerEntry
    totals: dict[int, tuple[int, int]] = {}
    keys: set[str] = set()
    for match in one_of(session, entry.order_id, order_ids):
        rows = session.exec(
            select(entry.order_id, entry.source_key, entry.amount_cents, entry.earned).where(
                entry.tenant_id == tenant_id, entry.source == LedgerSource.REFUND, match
            )
        )
        for order_id, key, cents, earned in rows:
            keys.add(key)
            before_cents, before_taken = totals.get(order_id, (0, 0))
            totals[order_id] = (before_cents + (cents or 0), before_taken - (earned or 0))
    return {"totals": totals, "keys": keys}


def _locked_balances(session: Session, tenant_id, contact_ids: set[int]) -> dict[int, int]:
    """Balances of these accounts, locked until commit in contact order (no deadlocks)."""
    balances: dict[int, int] = {}
    for match in one_of(session, LoyaltyAccount.contact_id, contact_ids):
        rows = session.exec(
            select(LoyaltyAccount.contact_id, LoyaltyAccount.balance)
            .where(LoyaltyAccount.tenant_id == tenant_id, match)
            .order_by(LoyaltyAccount.contact_id)
            .with_for_update()
        )
        balances.update(dict(rows.all()))
    return balances


def _reversal_rows(tenant_id, wanted: dict[int, str], earns, before, balances, now) -> list:
    rows = []
    for order_id in sorted(wanted):
        key = f"{order_id}:{wanted[order_id]}"
        if order_id not in earns or key in before["keys"]:
            continue  # earned nothing (no customer, bad total) or reversed already
        contact_id, earned, total_cents = earns[order_id]
        cents_before, taken_before = before["totals"].get(order_id, (0, 0))
        left = max((total_cents or 0) - cents_before, 0)
        if cents_before and not left:
            continue  # refunded in full under another refund id
        points = max(earned - taken_before, 0)
        applied = min(points, balances.get(contact_id, 0))
        balances[contact_id] = balances.get(contact_id, 0) - applied
        cancelled = wanted[order_id] == CANCELLATION
        rows.append(
            entry_row(
                tenant_id=tenant_id,
                contact_id=contact_id,
                kind=LedgerKind.REVERSE,
                source=LedgerSource.REFUND,
                source_key=key,
                points=-applied,
                earned=-points,
                shortfall=points - applied,
                order_id=order_id,
                amount_cents=left,
                reason="cancelled order" if cancelled else "refund",
                now=now,
            )
        )
    return rows


def reverse_in_full(
    session: Session,
    tenant_id: uuid.UUID,
    settings: LoyaltySettings,
    wanted: dict[int, str],
    now: datetime,
) -> list[dict]:
    """Take back what each order still holds, once per (order, refund id); returns the rows
    offered (a key written meanwhile by another writer is ignored by the ledger)."""
    if not wanted:
        return []
    order_ids = sorted(wanted)
    earns = _earn_entries(session, tenant_id, order_ids)
    before = _reversed_before(session, tenant_id, order_ids)
    balances = _locked_balances(session, tenant_id, {earn[0] for earn in earns.values()})
    rows = _reversal_rows(tenant_id, wanted, earns, before, balances, now)
    record_entries(session, tenant_id, settings, rows, now)
    return rows


def apply_points(
    session: Session,
    tenant_id: uuid.UUID,
    settings: LoyaltySettings | None,
    pending: PendingPoints,
    now: datetime,
) -> PointsOutcome:
    """Facts always; points when the tenant has a program (`settings`). Empties `pending`."""
    outcome = PointsOutcome()
    refresh_statistics(session, POINTS_TABLES)
    refresh_order_facts(session, tenant_id, pending.contacts)
    if settings is not None:
        for chunk in _chunks(sorted(set(pending.earning)), POINTS_BATCH):
            credit = credit_orders(session=session, tenant_id=tenant_id, order_ids=chunk, now=now)
            outcome.orders_credited += credit.orders_credited
            outcome.points += credit.points
        for row in reverse_in_full(session, tenant_id, settings, pending.reversals, now):
            if row["source_key"].endswith(f":{CANCELLATION}"):
                outcome.cancellations += 1
            else:
                outcome.refunds += 1
    pending.earning.clear()
    pending.reversals.clear()
    pending.contacts.clear()
    return outcome
