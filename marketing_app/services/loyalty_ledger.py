"""The loyalty ledger's write path: entries and the accounts that add them up.

Every writer goes through here, so two rules hold everywhere:
- an entry is inserted once per (tenant, source, source key): insert-or-ignore, and only what
  was actually inserted moves an account, in the same transaction;
- a balance never goes below zero: points leave an account through a conditional UPDATE
  (`... WHERE balance >= :cost`), which PostgreSQL re-checks after waiting on a concurrent
  writer's row lock, and the accounts table refuses a negative balance besides.
Accounts are written in contact order, so two concurrent batches never deadlock on them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, bindparam, case, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from marketing_app.models import LedgerKind, LoyaltyAccount, LoyaltyLedgerEntry
from marketing_app.services.bulk import copy_returning_new_keys
from marketing_app.services.loyalty_programs import LoyaltySettings

ACTIVITY_KINDS = {LedgerKind.EARN, LedgerKind.REDEEM, LedgerKind.ADJUST}  # reset expiry
Account = LoyaltyAccount


@dataclass(frozen=True)
class TierChange:
    contact_id: int
    old_tier: str
    new_tier: str
    up: bool  # True when the new tier ranks above the old one


@dataclass
class LedgerWrite:
    """What one write added to the ledger (replayed entries count nowhere)."""

    entries: int = 0
    points: int = 0
    contacts: set[int] = field(default_factory=set)
    tier_changes: list[TierChange] = field(default_factory=list)

    def add(self, other: LedgerWrite) -> None:
        self.entries += other.entries
        self.points += other.points
        self.contacts |= other.contacts
        self.tier_changes.extend(other.tier_changes)


def entry_row(
    *,
    tenant_id: uuid.UUID,
    contact_id: int,
    kind: str,
    source: str,
    source_key: str,
    points: int,
    now: datetime,
    **extra: Any,
) -> dict[str, Any]:
    """A complete ledger row (every row of one executemany carries the same columns)."""
    return {
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "kind": kind,
        "source": source,
        "source_key": source_key[:200],
        "points": points,
        "earned": extra.get("earned", 0),
        "shortfall": extra.get("shortfall", 0),
        "order_id": extra.get("order_id"),
        "amount_cents": extra.get("amount_cents"),
        "reason": extra.get("reason", "")[:500],
        "occurred_at": extra.get("occurred_at") or now,
        "created_at": now,
    }


def _dialect(session: Session):
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


class NewEntry(NamedTuple):
    """An entry this write inserted (id is None when it went in by COPY)."""

    id: int | None
    contact_id: int
    kind: str
    points: int
    earned: int
    occurred_at: datetime


COPY_MIN_ROWS = 100  # below this the RETURNING insert is as fast and hands back ids


def insert_entries(session: Session, rows: Sequence[dict[str, Any]]) -> list[NewEntry]:
    """Insert-or-ignore on the source key; returns the entries that were new.

    Big batches of one source take bulk.py's COPY path on PostgreSQL (several times faster
    than a multi-row INSERT for thousands of orders); the new ones are known by source key.
    """
    if not rows:
        return []
    one_source = len({row["source"] for row in rows}) == 1
    if len(rows) >= COPY_MIN_ROWS and one_source and _dialect(session) is postgresql:
        new_keys = copy_returning_new_keys(
            session=session, model=LoyaltyLedgerEntry, rows=rows, key="source_key"
        )
        fields = NewEntry._fields[1:]
        return [
            NewEntry(None, *(row[name] for name in fields))
            for row in rows
            if row["source_key"] in new_keys
        ]
    entry = LoyaltyLedgerEntry
    statement = (
        _dialect(session)
        .insert(entry)
        .on_conflict_do_nothing(index_elements=["tenant_id", "source", "source_key"])
        .returning(
            entry.id, entry.contact_id, entry.kind, entry.points, entry.earned, entry.occurred_at
        )
    )
    return [NewEntry(*row) for row in session.execute(statement, list(rows))]


def find_entry(
    session: Session, tenant_id: uuid.UUID, source: str, source_key: str
) -> LoyaltyLedgerEntry | None:
    return session.exec(
        select(LoyaltyLedgerEntry).where(
            LoyaltyLedgerEntry.tenant_id == tenant_id,
            LoyaltyLedgerEntry.source == source,
            LoyaltyLedgerEntry.source_key == source_key[:200],
        )
    ).first()


def _account_deltas(tenant_id: uuid.UUID, inserted: list[NewEntry], now: datetime) -> list[dict]:
    deltas: dict[int, dict[str, Any]] = {}
    for entry in inserted:
        delta = deltas.setdefault(
            entry.contact_id,
            {
                "tenant_id": tenant_id,
                "contact_id": entry.contact_id,
                "balance": 0,
                "lifetime_earned": 0,
                "last_activity_at": None,
                "created_at": now,
                "updated_at": now,
            },
        )
        delta["balance"] += entry.points
        delta["lifetime_earned"] += entry.earned
        if entry.kind in ACTIVITY_KINDS:
            seen = delta["last_activity_at"]
            delta["last_activity_at"] = max(filter(None, [seen, entry.occurred_at]), default=None)
    return [deltas[contact_id] for contact_id in sorted(deltas)]


def _later(existing, offered):
    """The later of two nullable times, in SQL both databases read."""
    return case(
        (offered.is_(None), existing),
        (existing.is_(None), offered),
        (offered > existing, offered),
        else_=existing,
    )


def apply_to_accounts(
    session: Session,
    tenant_id: uuid.UUID,
    settings: LoyaltySettings,
    inserted: list[NewEntry],
    now: datetime,
) -> list[TierChange]:
    """Add new entries to their accounts, then move tiers; returns the tier changes.

    Credits go through one upsert that creates missing accounts. Batches that take points
    (reversals, expiry) update existing accounts instead: SQLite checks the balance
    constraint on an upsert's proposed row before it finds the conflict.
    """
    deltas = _account_deltas(tenant_id, inserted, now)
    if not deltas:
        return []
    if all(delta["balance"] >= 0 for delta in deltas):
        accounts = _upsert_accounts(session, deltas)
    else:
        accounts = _update_accounts(session, tenant_id, deltas)
    return retier(session, settings, accounts)


ACCOUNT_ROW = (Account.id, Account.contact_id, Account.lifetime_earned, Account.tier)


def _upsert_accounts(session: Session, deltas: list[dict]) -> list[Row]:
    statement = _dialect(session).insert(Account)
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "contact_id"],
        set_={
            "balance": Account.balance + new.balance,
            "lifetime_earned": Account.lifetime_earned + new.lifetime_earned,
            "last_activity_at": _later(Account.last_activity_at, new.last_activity_at),
            "updated_at": new.updated_at,
        },
    ).returning(*ACCOUNT_ROW)
    return list(session.execute(statement, deltas))


def _update_accounts(session: Session, tenant_id: uuid.UUID, deltas: list[dict]) -> list[Row]:
    table = Account.__table__.c
    session.execute(
        update(Account.__table__)
        .where(table.tenant_id == tenant_id, table.contact_id == bindparam("cid"))
        .values(
            balance=table.balance + bindparam("points"),
            lifetime_earned=table.lifetime_earned + bindparam("earned"),
            last_activity_at=_later(
                table.last_activity_at, bindparam("active", type_=table.last_activity_at.type)
            ),
            updated_at=bindparam("now"),
        ),
        [
            {
                "cid": d["contact_id"],
                "points": d["balance"],
                "earned": d["lifetime_earned"],
                "active": d["last_activity_at"],
                "now": d["updated_at"],
            }
            for d in deltas
        ],
    )
    contact_ids = [delta["contact_id"] for delta in deltas]
    return list(
        session.execute(
            select(*ACCOUNT_ROW).where(
                Account.tenant_id == tenant_id, col(Account.contact_id).in_(contact_ids)
            )
        )
    )


def retier(session: Session, settings: LoyaltySettings, accounts: list[Row]) -> list[TierChange]:
    """Give accounts (rows of id, contact_id, lifetime_earned, tier) the tier their points
    reach, in one executemany; returns the changes."""
    changes = [
        (row, settings.tier_for(row.lifetime_earned))
        for row in sorted(accounts, key=lambda account: account.contact_id)
    ]
    changes = [(row, tier) for row, tier in changes if tier != row.tier]
    if changes:
        table = Account.__table__
        session.execute(
            update(table).where(table.c.id == bindparam("account_id")).values(tier=bindparam("t")),
            [{"account_id": row.id, "t": tier} for row, tier in changes],
        )
    return [
        TierChange(
            contact_id=row.contact_id,
            old_tier=row.tier,
            new_tier=tier,
            up=settings.tier_rank(tier) > settings.tier_rank(row.tier),
        )
        for row, tier in changes
    ]


def record_entries(
    session: Session,
    tenant_id: uuid.UUID,
    settings: LoyaltySettings,
    rows: Sequence[dict[str, Any]],
    now: datetime,
) -> LedgerWrite:
    """Insert entries once each and add the new ones to their accounts."""
    inserted = insert_entries(session, rows)
    changes = apply_to_accounts(session, tenant_id, settings, inserted, now)
    return LedgerWrite(
        entries=len(inserted),
        points=sum(entry.points for entry in inserted),
        contacts={entry.contact_id for entry in inserted},
        tier_changes=changes,
    )


def lock_account(session: Session, tenant_id: uuid.UUID, contact_id: int) -> LoyaltyAccount | None:
    """The contact's account, locked until commit on PostgreSQL (SQLite has one writer)."""
    return session.exec(
        select(Account)
        .where(Account.tenant_id == tenant_id, Account.contact_id == contact_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


@dataclass(frozen=True)
class Spent:
    balance: int  # after the entry
    entry_id: int | None  # None: the source key was already used (a replay)
    tier_changes: list[TierChange]


def spend_points(
    session: Session, settings: LoyaltySettings, row: dict[str, Any], now: datetime
) -> Spent | None:
    """Apply one entry that takes points (row["points"] < 0) only if the balance holds them.

    None when it does not, and then nothing was written. The conditional UPDATE goes first,
    so concurrent spenders queue on the account row and each sees the balance the one before
    left; a key that turns out to be taken already undoes the UPDATE in this transaction.
    """
    cost, earned = -row["points"], row["earned"]
    where = (Account.tenant_id == row["tenant_id"], Account.contact_id == row["contact_id"])
    gate = (
        update(Account)
        .where(*where, Account.balance >= cost, Account.lifetime_earned + earned >= 0)
        .values(balance=Account.balance - cost, lifetime_earned=Account.lifetime_earned + earned)
        .returning(
            Account.id, Account.contact_id, Account.balance, Account.lifetime_earned, Account.tier
        )
        .execution_options(synchronize_session=False)
    )
    after = session.execute(gate).first()
    if after is None:
        return None
    inserted = insert_entries(session, [row])
    if not inserted:
        undo = {
            "balance": Account.balance + cost,
            "lifetime_earned": Account.lifetime_earned - earned,
        }
        session.execute(update(Account).where(*where).values(**undo))
        return Spent(balance=after.balance + cost, entry_id=None, tier_changes=[])
    touched = {"updated_at": now}
    if row["kind"] in ACTIVITY_KINDS:
        touched["last_activity_at"] = now
    session.execute(update(Account).where(*where).values(**touched))
    changes = retier(session, settings, [after])
    return Spent(balance=after.balance, entry_id=inserted[0].id, tier_changes=changes)
