"""Loyalty sync and reconciliation: the provider call log, Alpine IQ's balances, discrepancies.

- `ProviderCall`: one row per HTTP attempt a sync made (method, route template, status,
  duration, outcome), never the request's personal data; the sync status page reads it.
- `ExternalLoyaltyBalance`: the last balance an outside program (Alpine IQ) reported for a
  profile, with the provider's own customer id and when it was read.
- `LoyaltyDiscrepancy`: a profile whose three figures disagree (points calculated from our
  orders and ledger, the provider's points, our stored balance). One open row per profile:
  each reconciliation refreshes it, closes it when the figures agree again, and a marketer
  resolves it (accept the provider's value, keep ours, or adjust), which writes a ledger entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from marketing_app.models.base import BigId, utcnow


class DiscrepancyKind:
    """Why the figures disagree, as far as the data tells."""

    MISSING_VISITS = "missing_visits"  # the provider credited purchases we have no order for
    SYNC_LAG = "sync_lag"  # explained by activity after the provider's snapshot / uncredited
    CONFIGURATION = "configuration"  # explained by the provider's different earning rate
    UNKNOWN = "unknown"

    ALL = (MISSING_VISITS, SYNC_LAG, CONFIGURATION, UNKNOWN)


class DiscrepancyStatus:
    OPEN = "open"
    RESOLVED = "resolved"  # a marketer chose a value (a ledger entry records it)
    CLEARED = "cleared"  # a later reconciliation found the figures agreeing again

    ALL = (OPEN, RESOLVED, CLEARED)


class Resolution:
    ACCEPT_EXTERNAL = "accept_external"  # our balance becomes the provider's
    KEEP_OURS = "keep_ours"  # nothing moves; the decision is recorded
    ADJUST = "adjust"  # the marketer's own figure

    ALL = (ACCEPT_EXTERNAL, KEEP_OURS, ADJUST)


class ProviderCall(SQLModel, table=True):
    __tablename__ = "provider_calls"
    __table_args__ = (Index("ix_provider_calls_tenant_id", "tenant_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    provider: str = Field(max_length=40)
    job_id: uuid.UUID | None = Field(default=None, index=True)  # the sync run that made it
    method: str = Field(max_length=10)
    route: str = Field(max_length=200)  # the route template, never the filled-in path
    status_code: int | None = None  # None: no answer (timeout, refused connection)
    duration_ms: int = 0
    outcome: str = Field(max_length=40)  # ok | retried | rate_limited | rejected | failed...
    detail: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class ExternalLoyaltyBalance(SQLModel, table=True):
    __tablename__ = "loyalty_external_balances"
    __table_args__ = (
        UniqueConstraint("tenant_id", "provider", "contact_id", name="uq_external_balance"),
        Index("ix_external_balances_external_id", "tenant_id", "provider", "external_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    provider: str = Field(default="alpineiq", max_length=40)
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE", sa_type=BigId)
    external_id: str = Field(max_length=100)  # the provider's customer id
    points: int = Field(sa_type=BigInteger)
    synced_at: datetime = Field(default_factory=utcnow)  # when the provider reported it


class LoyaltyDiscrepancy(SQLModel, table=True):
    __tablename__ = "loyalty_discrepancies"
    __table_args__ = (
        # One open discrepancy per profile: a reconciliation updates it in place.
        Index(
            "uq_loyalty_discrepancy_open",
            "tenant_id",
            "contact_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index("ix_loyalty_discrepancies_tenant_status", "tenant_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE", sa_type=BigId)
    calculated_points: int = Field(sa_type=BigInteger)  # from our orders and ledger
    external_points: int | None = Field(default=None, sa_type=BigInteger)  # Alpine IQ's
    stored_balance: int = Field(sa_type=BigInteger)  # our account's balance
    difference: int = Field(sa_type=BigInteger)  # the other figure minus the source of truth
    difference_percent: float = 0.0  # of the source of truth's figure
    over_threshold: bool = False
    kind: str = Field(max_length=20)  # DiscrepancyKind
    explanation: str = Field(default="", max_length=500)
    status: str = Field(default=DiscrepancyStatus.OPEN, max_length=10)
    resolution: str | None = Field(default=None, max_length=20)  # Resolution
    resolved_points: int | None = Field(default=None, sa_type=BigInteger)  # balance chosen
    resolved_by: str = Field(default="", max_length=200)
    reason: str = Field(default="", max_length=500)
    entry_id: int | None = Field(
        default=None, foreign_key="loyalty_ledger_entries.id", ondelete="SET NULL", sa_type=BigId
    )
    first_seen_at: datetime = Field(default_factory=utcnow)
    checked_at: datetime = Field(default_factory=utcnow)  # the last reconciliation that saw it
    resolved_at: datetime | None = None
