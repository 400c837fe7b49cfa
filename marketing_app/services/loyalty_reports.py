"""Reading loyalty: a member's card, members per tier, liability, recent ledger activity.

Also the ledger check reconciliation builds on: accounts whose stored balance or lifetime
points differ from what their entries add up to (one grouped query, no per-account reads);
and, for a customer's card, the other source's balance (Alpine IQ) and the customer's open
discrepancy.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from marketing_app.models import Contact, LoyaltyAccount, LoyaltyLedgerEntry
from marketing_app.models.loyalty_sync import (
    DiscrepancyStatus,
    ExternalLoyaltyBalance,
    LoyaltyDiscrepancy,
)
from marketing_app.services.loyalty_adjustments import require_contact
from marketing_app.services.loyalty_programs import LoyaltySettings, require_settings

HISTORY_PAGE = 20  # entries per page of a member's history
ACTIVITY_PAGE = 50
MAX_PAGE = 500
Entry = LoyaltyLedgerEntry


@dataclass(frozen=True)
class LedgerLine:
    id: int
    contact_id: int
    kind: str
    source: str
    source_key: str
    points: int
    shortfall: int
    order_id: int | None
    reason: str
    occurred_at: datetime
    created_at: datetime
    customer: str = ""  # name or email, in tenant-wide activity


@dataclass(frozen=True)
class AccountSummary:
    contact_id: int
    member: bool  # False until the customer's first entry opens an account
    balance: int
    lifetime_earned: int
    value_cents: int  # the balance at the program's point value
    tier: str
    next_tier: str | None
    points_to_next_tier: int | None
    progress_percent: int  # from the current tier's threshold to the next one's
    last_activity_at: datetime | None
    expires_at: datetime | None  # when the balance expires without new activity
    history: list[LedgerLine]
    history_total: int


@dataclass(frozen=True)
class TierCount:
    tier: str  # "" for members below the first tier
    threshold: int
    members: int


@dataclass(frozen=True)
class Liability:
    points: int
    cents: int
    members_with_points: int


@dataclass(frozen=True)
class LedgerMismatch:
    contact_id: int
    balance: int
    ledger_balance: int
    lifetime_earned: int
    ledger_lifetime_earned: int


def _page(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(int(limit), MAX_PAGE)), max(0, int(offset))


def _line(entry: LoyaltyLedgerEntry, customer: str = "") -> LedgerLine:
    return LedgerLine(
        id=entry.id,
        contact_id=entry.contact_id,
        kind=entry.kind,
        source=entry.source,
        source_key=entry.source_key,
        points=entry.points,
        shortfall=entry.shortfall,
        order_id=entry.order_id,
        reason=entry.reason,
        occurred_at=entry.occurred_at,
        created_at=entry.created_at,
        customer=customer,
    )


def _progress(settings: LoyaltySettings, lifetime: int) -> tuple[str | None, int | None, int]:
    upcoming = settings.next_tier(lifetime)
    if upcoming is None:
        return None, None, 100
    current = (
        settings.tier_named(settings.tier_for(lifetime)) if settings.tier_for(lifetime) else None
    )
    floor = current.threshold if current else 0
    percent = (lifetime - floor) * 100 // max(upcoming.threshold - floor, 1)
    return upcoming.name, upcoming.threshold - lifetime, max(0, min(percent, 99))


def _history(session, tenant_id, contact_id, limit, offset) -> tuple[list[LedgerLine], int]:
    mine = (Entry.tenant_id == tenant_id, Entry.contact_id == contact_id)
    limit, offset = _page(limit, offset)
    entries = session.exec(
        select(Entry).where(*mine).order_by(col(Entry.id).desc()).limit(limit).offset(offset)
    ).all()
    total = session.exec(select(func.count()).select_from(Entry).where(*mine)).one()
    return [_line(entry) for entry in entries], total


def account_summary(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    contact_id: int,
    limit: int = HISTORY_PAGE,
    offset: int = 0,
) -> AccountSummary:
    """A member's points, tier, progress and a page of history (newest first)."""
    settings = require_settings(session=session, tenant_id=tenant_id)
    require_contact(session, tenant_id, contact_id)
    found = session.exec(
        select(LoyaltyAccount).where(
            LoyaltyAccount.tenant_id == tenant_id, LoyaltyAccount.contact_id == contact_id
        )
    ).first()
    account = found or LoyaltyAccount(contact_id=contact_id, tier=settings.tier_for(0))
    history, total = _history(session, tenant_id, contact_id, limit, offset)
    next_name, to_next, percent = _progress(settings, account.lifetime_earned)
    expires = None
    if settings.expiry_days and account.balance > 0 and account.last_activity_at:
        expires = account.last_activity_at + timedelta(days=settings.expiry_days)
    return AccountSummary(
        contact_id=contact_id,
        member=found is not None,
        balance=account.balance,
        lifetime_earned=account.lifetime_earned,
        value_cents=math.floor(account.balance * settings.point_value_cents),
        tier=account.tier,
        next_tier=next_name,
        points_to_next_tier=to_next,
        progress_percent=percent,
        last_activity_at=account.last_activity_at,
        expires_at=expires,
        history=history,
        history_total=total,
    )


def members_per_tier(*, session: Session, tenant_id: uuid.UUID) -> list[TierCount]:
    """Members in each tier of the program, lowest first, after those below the first tier."""
    settings = require_settings(session=session, tenant_id=tenant_id)
    counts = dict(
        session.exec(
            select(LoyaltyAccount.tier, func.count())
            .where(LoyaltyAccount.tenant_id == tenant_id)
            .group_by(LoyaltyAccount.tier)
        ).all()
    )
    rows = [TierCount(tier="", threshold=0, members=counts.get("", 0))]
    rows += [TierCount(t.name, t.threshold, counts.get(t.name, 0)) for t in settings.tiers]
    return rows if rows[0].members or not settings.tiers else rows[1:]


def liability(*, session: Session, tenant_id: uuid.UUID) -> Liability:
    """Outstanding points and what they are worth at the program's point value."""
    settings = require_settings(session=session, tenant_id=tenant_id)
    points, members = session.exec(
        select(
            func.coalesce(func.sum(LoyaltyAccount.balance), 0),
            func.count().filter(LoyaltyAccount.balance > 0),
        ).where(LoyaltyAccount.tenant_id == tenant_id)
    ).one()
    points = int(points)
    return Liability(
        points=points,
        cents=math.floor(points * settings.point_value_cents),
        members_with_points=members or 0,
    )


def recent_activity(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    limit: int = ACTIVITY_PAGE,
    offset: int = 0,
    kind: str | None = None,
) -> list[LedgerLine]:
    """The tenant's latest ledger entries with the customer's name, newest first."""
    limit, offset = _page(limit, offset)
    name = func.trim(Contact.first_name + " " + Contact.last_name)
    query = (
        select(Entry, name, Contact.email)
        .join(Contact, Contact.id == Entry.contact_id)
        .where(Entry.tenant_id == tenant_id)
    )
    if kind:
        query = query.where(Entry.kind == kind)
    rows = session.exec(query.order_by(col(Entry.id).desc()).limit(limit).offset(offset))
    return [_line(entry, full_name or email or "") for entry, full_name, email in rows]


def count_activity(*, session: Session, tenant_id: uuid.UUID, kind: str | None = None) -> int:
    """How many ledger entries `recent_activity` pages through."""
    query = select(func.count()).select_from(Entry).where(Entry.tenant_id == tenant_id)
    if kind:
        query = query.where(Entry.kind == kind)
    return session.exec(query).one()


def external_balance(
    *, session: Session, tenant_id: uuid.UUID, contact_id: int, provider: str = "alpineiq"
) -> ExternalLoyaltyBalance | None:
    """The balance the outside program last reported for the customer; None before any sync."""
    require_contact(session, tenant_id, contact_id)
    return session.exec(
        select(ExternalLoyaltyBalance).where(
            ExternalLoyaltyBalance.tenant_id == tenant_id,
            ExternalLoyaltyBalance.provider == provider,
            ExternalLoyaltyBalance.contact_id == contact_id,
        )
    ).first()


def open_discrepancy(
    *, session: Session, tenant_id: uuid.UUID, contact_id: int
) -> LoyaltyDiscrepancy | None:
    """The customer's discrepancy waiting for review, if the last reconciliation found one."""
    require_contact(session, tenant_id, contact_id)
    return session.exec(
        select(LoyaltyDiscrepancy).where(
            LoyaltyDiscrepancy.tenant_id == tenant_id,
            LoyaltyDiscrepancy.contact_id == contact_id,
            LoyaltyDiscrepancy.status == DiscrepancyStatus.OPEN,
        )
    ).first()


def ledger_mismatches(
    *, session: Session, tenant_id: uuid.UUID, contact_ids: list[int] | None = None
) -> list[LedgerMismatch]:
    """Accounts whose balance or lifetime points differ from the sums of their entries."""
    sums = (
        select(
            Entry.contact_id,
            func.sum(Entry.points).label("points"),
            func.sum(Entry.earned).label("earned"),
        )
        .where(Entry.tenant_id == tenant_id)
        .group_by(Entry.contact_id)
        .subquery()
    )
    ledger_points = func.coalesce(sums.c.points, 0)
    ledger_earned = func.coalesce(sums.c.earned, 0)
    query = (
        select(
            LoyaltyAccount.contact_id,
            LoyaltyAccount.balance,
            ledger_points,
            LoyaltyAccount.lifetime_earned,
            ledger_earned,
        )
        .outerjoin(sums, sums.c.contact_id == LoyaltyAccount.contact_id)
        .where(
            LoyaltyAccount.tenant_id == tenant_id,
            or_(
                LoyaltyAccount.balance != ledger_points,
                LoyaltyAccount.lifetime_earned != ledger_earned,
            ),
        )
    )
    if contact_ids is not None:
        query = query.where(col(LoyaltyAccount.contact_id).in_(contact_ids))
    return [LedgerMismatch(*map(int, row)) for row in session.exec(query)]
