"""Manual changes of points and their expiry.

An adjustment corrects a balance either way with a reason (a marketer's fix, a reconciliation
decision); a grant gives points for something outside orders (an API "earn"). Both are keyed
by the caller's id, so a retried request writes once; another request under a used id is a
Conflict, never a silent replay. Expiry empties the balance of accounts
with no activity (earn, redemption, adjustment) for the program's number of days.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import Contact, LedgerKind, LedgerSource, LoyaltyAccount
from marketing_app.models.base import utcnow
from marketing_app.services.loyalty_ledger import (
    LedgerWrite,
    entry_row,
    find_entry,
    record_entries,
    spend_points,
)
from marketing_app.services.loyalty_programs import refuse_nul, require_settings

MAX_ADJUSTMENT = 10_000_000  # points in one adjustment or grant
EXPIRY_BATCH = 10_000  # accounts per round: a locking SELECT, an INSERT, an UPDATE


@dataclass(frozen=True)
class Adjustment:
    points: int  # what the entry moved (0 when replayed)
    balance: int
    replayed: bool = False


def _check_key(value: str, field: str) -> str:
    value = str(value or "").strip()
    if not value or len(value) > 200:
        raise InvalidInput("Give an id of 1 to 200 characters.", field=field)
    return refuse_nul(value, field, "An id")


def _check_points(points: int) -> int:
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise InvalidInput("Points must be a whole number other than zero.", field="points")
    if abs(points) > MAX_ADJUSTMENT:
        raise InvalidInput(f"At most {MAX_ADJUSTMENT:,} points at a time.", field="points")
    return points


def _check_reason(reason: str) -> str:
    reason = str(reason or "").strip()
    if not reason or len(reason) > 500:
        raise InvalidInput("Give a reason of 1 to 500 characters.", field="reason")
    return refuse_nul(reason, "reason", "A reason")


def require_contact(session: Session, tenant_id: uuid.UUID, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.tenant_id != tenant_id:
        raise NotFound("Customer not found.")
    return contact


def balance_of(session: Session, tenant_id: uuid.UUID, contact_id: int) -> int:
    balance = session.exec(
        select(LoyaltyAccount.balance).where(
            LoyaltyAccount.tenant_id == tenant_id, LoyaltyAccount.contact_id == contact_id
        )
    ).first()
    return balance or 0


def adjust_points(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    contact_id: int,
    points: int,
    adjustment_id: str,
    reason: str,
    count_toward_tier: bool = True,
    now: datetime | None = None,
) -> Adjustment:
    """Add or remove points with a reason, once per adjustment id. A removal the balance does
    not hold is refused (Conflict) and writes nothing."""
    key = _check_key(adjustment_id, "adjustment_id")
    row = entry_row(
        tenant_id=tenant_id,
        contact_id=require_contact(session, tenant_id, contact_id).id,
        kind=LedgerKind.ADJUST,
        source=LedgerSource.ADJUSTMENT,
        source_key=key,
        points=_check_points(points),
        earned=points if count_toward_tier else 0,
        reason=_check_reason(reason),
        now=now or utcnow(),
    )
    return _write_one(session, tenant_id, row, key_field="adjustment_id")


def grant_points(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    contact_id: int,
    points: int,
    idempotency_key: str,
    reason: str,
    now: datetime | None = None,
) -> Adjustment:
    """Earn points outside orders (an API call, a promotion), once per idempotency key."""
    if _check_points(points) < 0:
        raise InvalidInput("Granted points must be more than zero.", field="points")
    row = entry_row(
        tenant_id=tenant_id,
        contact_id=require_contact(session, tenant_id, contact_id).id,
        kind=LedgerKind.EARN,
        source=LedgerSource.GRANT,
        source_key=_check_key(idempotency_key, "idempotency_key"),
        points=points,
        earned=points,
        reason=_check_reason(reason),
        now=now or utcnow(),
    )
    return _write_one(session, tenant_id, row, key_field="idempotency_key")


def _write_one(session: Session, tenant_id: uuid.UUID, row: dict, key_field: str) -> Adjustment:
    settings = require_settings(session=session, tenant_id=tenant_id)
    contact_id, now = row["contact_id"], row["created_at"]
    if (earlier := _replay(session, tenant_id, row, key_field)) is not None:
        return earlier
    if row["points"] > 0:
        written = record_entries(session, tenant_id, settings, [row], now)
        if not written.entries:  # the same key won a race a moment ago
            return _replay(session, tenant_id, row, key_field) or _replayed(session, row)
        return Adjustment(row["points"], balance_of(session, tenant_id, contact_id))
    spent = spend_points(session, settings, row, now)
    if spent is None:
        balance = balance_of(session, tenant_id, contact_id)
        raise Conflict(
            f"The balance is {balance:,} points: removing {-row['points']:,} would take it "
            "below zero.",
            field="points",
        )
    if spent.entry_id is None:  # the same key won a race a moment ago
        return _replay(session, tenant_id, row, key_field) or _replayed(session, row)
    return Adjustment(row["points"], spent.balance)


REQUEST_FIELDS = ("contact_id", "points", "earned", "reason")  # what a replay must repeat


def _replay(session: Session, tenant_id: uuid.UUID, row: dict, key_field: str) -> Adjustment | None:
    """The answer to a key used before (None when it was not); Conflict when the earlier
    request under the key differs from this one."""
    entry = find_entry(session, tenant_id, row["source"], row["source_key"])
    if entry is None:
        return None
    if any(getattr(entry, name) != row[name] for name in REQUEST_FIELDS):
        raise Conflict(f"This {key_field} was used for a different request.", field=key_field)
    return _replayed(session, row)


def _replayed(session: Session, row: dict) -> Adjustment:
    return Adjustment(0, balance_of(session, row["tenant_id"], row["contact_id"]), replayed=True)


def expire_inactive_points(
    *, session: Session, tenant_id: uuid.UUID, now: datetime | None = None
) -> LedgerWrite:
    """Expire the whole balance of accounts inactive for the program's expiry days.

    The accounts are locked first (PostgreSQL), so a concurrent redemption waits and the
    expired amount is exactly the balance; each inactivity period expires once.
    """
    settings = require_settings(session=session, tenant_id=tenant_id)
    now = now or utcnow()
    result = LedgerWrite()
    if settings.expiry_days is None:
        return result
    cutoff = now - timedelta(days=settings.expiry_days)
    while accounts := _inactive_accounts(session, tenant_id, cutoff):
        rows = [_expiry_row(tenant_id, account, now) for account in accounts]
        written = record_entries(session, tenant_id, settings, rows, now)
        result.add(written)
        if len(accounts) < EXPIRY_BATCH or not written.entries:
            break
    return result


def _inactive_accounts(session: Session, tenant_id: uuid.UUID, cutoff: datetime) -> list:
    return list(
        session.exec(
            select(
                LoyaltyAccount.contact_id, LoyaltyAccount.balance, LoyaltyAccount.last_activity_at
            )
            .where(
                LoyaltyAccount.tenant_id == tenant_id,
                LoyaltyAccount.balance > 0,
                func.coalesce(LoyaltyAccount.last_activity_at, LoyaltyAccount.created_at) < cutoff,
            )
            .order_by(LoyaltyAccount.contact_id)
            .limit(EXPIRY_BATCH)
            .with_for_update()
        )
    )


def _expiry_row(tenant_id: uuid.UUID, account, now: datetime) -> dict:
    since = account.last_activity_at
    return entry_row(
        tenant_id=tenant_id,
        contact_id=account.contact_id,
        kind=LedgerKind.EXPIRE,
        source=LedgerSource.EXPIRY,
        source_key=f"{account.contact_id}:{since.isoformat() if since else 'never'}",
        points=-account.balance,
        reason="no activity since " + (since.date().isoformat() if since else "joining"),
        now=now,
    )
