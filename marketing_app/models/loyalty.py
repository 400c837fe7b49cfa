"""Loyalty: one program per tenant, an append-only points ledger, accounts and reward codes.

The ledger is the record: every change of a balance is one entry, unique per (tenant, source,
source key), so a replayed order, refund or request writes nothing twice. An account holds
what the ledger adds up to (balance = sum of points, lifetime earned = sum of earned) and is
written in the same transaction as the entries; the balance can never go below zero.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketing_app.models.base import BigId, utcnow


class LedgerKind:
    EARN = "earn"  # orders, bonuses, grants
    REDEEM = "redeem"  # points spent on a reward
    ADJUST = "adjust"  # a manual or reconciliation correction, either sign
    EXPIRE = "expire"  # the balance of an inactive account
    REVERSE = "reverse"  # a refund or cancellation taking back what an order earned


class LedgerSource:
    """What the source key names; (tenant, source, source key) is unique."""

    ORDER = "order"  # key: the order's id
    REFUND = "refund"  # key: "<order id>:<refund id>"
    ADJUSTMENT = "adjustment"  # key: the adjustment id
    GRANT = "grant"  # key: the caller's idempotency key
    REDEMPTION = "redemption"  # key: the caller's idempotency key
    SIGNUP = "signup"  # key: the contact's id
    BIRTHDAY = "birthday"  # key: "<contact id>:<year>"
    EXPIRY = "expiry"  # key: "<contact id>:<last activity>"
    RECONCILIATION = "reconciliation"  # key: the discrepancy id (a marketer's decision)


class LoyaltyProgram(SQLModel, table=True):
    """A tenant's program; `settings` is services.loyalty_programs.LoyaltySettings as JSON."""

    __tablename__ = "loyalty_programs"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", unique=True, ondelete="CASCADE")
    name: str = Field(default="Rewards", max_length=100)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class LoyaltyAccount(SQLModel, table=True):
    """A member's points: what the ledger adds up to, kept in step with it."""

    __tablename__ = "loyalty_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "contact_id", name="uq_loyalty_account_contact"),
        CheckConstraint("balance >= 0", name="ck_loyalty_account_balance"),
        Index("ix_loyalty_accounts_tenant_tier", "tenant_id", "tier"),
        Index("ix_loyalty_accounts_tenant_activity", "tenant_id", "last_activity_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE", sa_type=BigId)
    balance: int = Field(default=0, sa_type=BigInteger)
    lifetime_earned: int = Field(default=0, sa_type=BigInteger)  # what tiers follow
    tier: str = Field(default="", max_length=60)  # "" below the first tier
    last_activity_at: datetime | None = None  # last earn, redemption or adjustment
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class LoyaltyLedgerEntry(SQLModel, table=True):
    """One change of a member's points. Never updated or deleted: corrections are entries."""

    __tablename__ = "loyalty_ledger_entries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "source_key", name="uq_loyalty_entry_source"),
        Index("ix_loyalty_entries_contact", "contact_id", "id"),
        Index("ix_loyalty_entries_tenant_id", "tenant_id", "id"),
        Index("ix_loyalty_entries_order", "order_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE", sa_type=BigId)
    kind: str = Field(max_length=10)  # LedgerKind
    source: str = Field(max_length=20)  # LedgerSource
    source_key: str = Field(max_length=200)
    points: int = Field(sa_type=BigInteger)  # change of the balance, signed
    earned: int = Field(default=0, sa_type=BigInteger)  # change of lifetime earned, signed
    # Points a reversal could not take back because they were already spent.
    shortfall: int = Field(default=0, sa_type=BigInteger)
    order_id: int | None = Field(
        default=None, foreign_key="orders.id", ondelete="SET NULL", sa_type=BigId
    )
    amount_cents: int | None = Field(default=None, sa_type=BigInteger)  # order or refund total
    reason: str = Field(default="", max_length=500)
    occurred_at: datetime = Field(default_factory=utcnow)  # business time (order placed...)
    created_at: datetime = Field(default_factory=utcnow)


class LoyaltyRedemption(SQLModel, table=True):
    """A discount code issued for redeemed points, unique per tenant."""

    __tablename__ = "loyalty_redemptions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code", name="uq_loyalty_redemption_code"),
        Index("ix_loyalty_redemptions_contact", "contact_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE", sa_type=BigId)
    entry_id: int = Field(
        foreign_key="loyalty_ledger_entries.id", unique=True, ondelete="CASCADE", sa_type=BigId
    )
    code: str = Field(max_length=40)
    points: int = Field(sa_type=BigInteger)
    tier: str = Field(default="", max_length=60)  # the tier whose reward it is, if any
    percent_off: int | None = None
    amount_off_cents: int | None = Field(default=None, sa_type=BigInteger)
    status: str = Field(default="issued", max_length=20)  # issued | used | void
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None
