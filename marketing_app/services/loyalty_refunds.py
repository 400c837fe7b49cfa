"""Refunds and cancellations: compensating `reverse` entries, never deletes.

A refund takes back the share of the order's points that the refunded amount is of the order's
total, counted cumulatively (two half refunds take back exactly what the order earned). Points
already spent cannot be taken back: the balance stops at zero and the entry records the rest
as its shortfall; lifetime earned (and so the tier) drops by the whole share either way.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from marketing_app.domain.errors import InvalidInput, NotFound
from marketing_app.models import (
    LedgerKind,
    LedgerSource,
    LoyaltyLedgerEntry,
    Order,
)
from marketing_app.models.base import utcnow
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_ledger import (
    TierChange,
    entry_row,
    find_entry,
    lock_account,
    record_entries,
)
from marketing_app.services.loyalty_programs import refuse_nul, require_settings

CANCELLATION = "cancellation"  # the refund id of a whole-order cancellation


@dataclass
class RefundResult:
    reversed_points: int = 0  # taken from the balance
    shortfall: int = 0  # already spent, so not taken back
    refunded_cents: int = 0  # the amount this refund counted (capped at what was left)
    replayed: bool = False  # this refund id was recorded before: nothing written now
    skipped: str = ""  # why nothing could be reversed, when nothing was
    tier_changes: list[TierChange] = field(default_factory=list)


def _refund_key(order_id: int, refund_id: str) -> str:
    refund_id = str(refund_id).strip()
    if not refund_id or len(refund_id) > 150:
        raise InvalidInput("A refund needs an id of 1 to 150 characters.", field="refund_id")
    refuse_nul(refund_id, "refund_id", "A refund id")
    return f"{order_id}:{refund_id}"


def _reversed_so_far(session: Session, tenant_id: uuid.UUID, order_id: int) -> tuple[int, int]:
    """(refunded cents, points taken off lifetime earned) of the order's earlier refunds."""
    cents, earned = session.exec(
        select(
            func.coalesce(func.sum(LoyaltyLedgerEntry.amount_cents), 0),
            func.coalesce(func.sum(LoyaltyLedgerEntry.earned), 0),
        ).where(
            LoyaltyLedgerEntry.tenant_id == tenant_id,
            LoyaltyLedgerEntry.source == LedgerSource.REFUND,
            LoyaltyLedgerEntry.order_id == order_id,
        )
    ).one()
    return int(cents), -int(earned)


def _share(earn: LoyaltyLedgerEntry, refunded_cents: int) -> int:
    """Points of the order that `refunded_cents` (cumulative) take back."""
    total = earn.amount_cents or 0
    if total <= 0 or refunded_cents >= total:
        return earn.earned
    return math.floor(earn.earned * refunded_cents / total)


def _reversal_row(
    session: Session,
    earn: LoyaltyLedgerEntry,
    key: str,
    amount_cents: int | None,
    balance: int,
    now: datetime,
) -> dict | None:
    """The reverse entry of a refund, or None when the order has nothing left to refund."""
    cents_before, taken_before = _reversed_so_far(session, earn.tenant_id, earn.order_id)
    left = max((earn.amount_cents or 0) - cents_before, 0)
    if cents_before and not left:
        return None
    cents = left if amount_cents is None else min(amount_cents, left)
    points = max(_share(earn, cents_before + cents) - taken_before, 0)
    applied = min(points, balance)
    return entry_row(
        tenant_id=earn.tenant_id,
        contact_id=earn.contact_id,
        kind=LedgerKind.REVERSE,
        source=LedgerSource.REFUND,
        source_key=key,
        points=-applied,
        earned=-points,
        shortfall=points - applied,
        order_id=earn.order_id,
        amount_cents=cents,
        reason="cancelled order" if key.endswith(f":{CANCELLATION}") else "refund",
        now=now,
    )


def refund_order(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    order_id: int,
    refund_id: str,
    amount_cents: int | None = None,
    now: datetime | None = None,
) -> RefundResult:
    """Reverse the points of a refunded amount (None: all that is left); once per refund id."""
    if amount_cents is not None and (isinstance(amount_cents, bool) or amount_cents <= 0):
        raise InvalidInput("A refund amount must be more than zero.", field="amount_cents")
    order = session.get(Order, order_id)
    if order is None or order.tenant_id != tenant_id:
        raise NotFound("Order not found.")
    key = _refund_key(order_id, refund_id)
    settings = require_settings(session=session, tenant_id=tenant_id)
    now = now or utcnow()
    credited = credit_orders(session=session, tenant_id=tenant_id, order_ids=[order_id], now=now)
    earn = find_entry(session, tenant_id, LedgerSource.ORDER, str(order_id))
    if earn is None:
        return RefundResult(skipped="The order earned no points (no customer or a bad total).")
    account = lock_account(session, tenant_id, earn.contact_id)  # refunds of it queue here
    if find_entry(session, tenant_id, LedgerSource.REFUND, key) is not None:
        return RefundResult(replayed=True)
    row = _reversal_row(session, earn, key, amount_cents, account.balance if account else 0, now)
    if row is None:
        return RefundResult(skipped="The order was refunded in full already.")
    write = record_entries(session, tenant_id, settings, [row], now)
    return RefundResult(
        reversed_points=-row["points"],
        shortfall=row["shortfall"],
        refunded_cents=row["amount_cents"],
        tier_changes=credited.tier_changes + write.tier_changes,
    )


def cancel_order(
    *, session: Session, tenant_id: uuid.UUID, order_id: int, now: datetime | None = None
) -> RefundResult:
    """A cancelled order gives back everything it still holds; once per order."""
    return refund_order(
        session=session, tenant_id=tenant_id, order_id=order_id, refund_id=CANCELLATION, now=now
    )
