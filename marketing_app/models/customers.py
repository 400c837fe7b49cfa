"""The minimal customer data core the dashboard reads: contacts, orders and events.

The customer data platform issue extends these tables (identities, sessions, consent).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from marketing_app.models.base import BigId, utcnow


class Contact(SQLModel, table=True):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email", name="uq_contact_email"),
        UniqueConstraint("tenant_id", "phone", name="uq_contact_phone"),
        UniqueConstraint("tenant_id", "user_id", name="uq_contact_user_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    user_id: str | None = Field(default=None, max_length=200)  # the tracking API's userId
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=20)  # E.164
    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)
    birthday: date | None = None
    location_id: int | None = Field(default=None, foreign_key="locations.id", ondelete="SET NULL")
    staff_id: int | None = Field(default=None, foreign_key="staff_members.id", ondelete="SET NULL")
    # jsonb on PostgreSQL: segment conditions read custom traits of every profile.
    traits: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON().with_variant(JSONB(), "postgresql")
    )
    email_consent: bool = False
    sms_consent: bool = False
    # Where and when consent last changed: "tracking", "api", "import", "ui", "shopify"...
    email_consent_source: str = Field(default="", max_length=30)
    email_consent_at: datetime | None = None
    sms_consent_source: str = Field(default="", max_length=30)
    sms_consent_at: datetime | None = None
    time_zone: str | None = Field(default=None, max_length=64)  # IANA; tenant's when unset
    created_at: datetime = Field(default_factory=utcnow)
    # Facts kept current as orders and events arrive.
    order_count: int = 0
    total_spent_cents: int = Field(default=0, sa_type=BigInteger)
    last_order_at: datetime | None = None
    last_seen_at: datetime | None = None
    first_seen_at: datetime | None = None


class ContactIdentity(SQLModel, table=True):
    """One way to recognise a contact: userId, anonymousId, email, phone or an external id."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "value", name="uq_identity_value"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    contact_id: int = Field(
        foreign_key="contacts.id", index=True, ondelete="CASCADE", sa_type=BigId
    )
    kind: str = Field(max_length=20)  # user_id | anonymous_id | email | phone | shopify | ...
    value: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utcnow)


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "external_id", name="uq_order_source_external"),
        Index("ix_orders_tenant_placed", "tenant_id", "placed_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    contact_id: int | None = Field(
        default=None, foreign_key="contacts.id", index=True, ondelete="SET NULL", sa_type=BigId
    )
    location_id: int | None = Field(default=None, foreign_key="locations.id", ondelete="SET NULL")
    staff_id: int | None = Field(default=None, foreign_key="staff_members.id", ondelete="SET NULL")
    source: str = Field(max_length=30)  # pos | shopify | import
    external_id: str = Field(max_length=100)
    total_cents: int = Field(sa_type=BigInteger)
    item_count: int = 1
    placed_at: datetime


class OrderItem(SQLModel, table=True):
    """A line of an order: what "ordered product X" segments look at."""

    __tablename__ = "order_items"
    __table_args__ = (Index("ix_order_items_tenant_sku", "tenant_id", "sku"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE", sa_type=BigId)
    sku: str = Field(default="", max_length=100)
    product_name: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=100)
    quantity: int = 1
    price_cents: int = Field(default=0, sa_type=BigInteger)


ATTACHED = text("contact_id IS NOT NULL")


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "message_id", name="uq_event_message_id"),
        Index("ix_events_tenant_occurred", "tenant_id", "occurred_at"),
        Index("ix_events_unprocessed", "tenant_id", "processed_at", "id"),
        # Segment conditions read attached events by name and time. Partial on contact_id, so
        # ingestion (which writes unattached rows) never touches these two indexes.
        Index(
            "ix_events_contact_name_time",
            "contact_id",
            "name",
            "occurred_at",
            postgresql_where=ATTACHED,
            sqlite_where=ATTACHED,
        ),
        Index(
            "ix_events_tenant_name_time",
            "tenant_id",
            "name",
            "occurred_at",
            postgresql_include=["contact_id"],
            postgresql_where=ATTACHED,
            sqlite_where=ATTACHED,
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    # No foreign key: its check is a lookup per row, a quarter of a bulk COPY's cost, and the
    # tenant always comes from an authenticated key (tenants are deactivated, never deleted).
    tenant_id: uuid.UUID
    contact_id: int | None = Field(
        default=None, foreign_key="contacts.id", ondelete="SET NULL", sa_type=BigId
    )
    message_id: str = Field(max_length=100)
    type: str = Field(max_length=20)  # track | identify | page | screen | group | alias
    user_id: str | None = Field(default=None, max_length=200)
    anonymous_id: str | None = Field(default=None, max_length=200)
    name: str = Field(default="", max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    traits: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    context: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    occurred_at: datetime
    received_at: datetime = Field(default_factory=utcnow)
    # Null until identity resolution has attached the event to a profile.
    processed_at: datetime | None = None


class WebSession(SQLModel, table=True):
    """A visit: events of one visitor with no gap over 30 minutes, with its landing UTM."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_tenant_started", "tenant_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    contact_id: int | None = Field(
        default=None, foreign_key="contacts.id", index=True, ondelete="CASCADE", sa_type=BigId
    )
    anonymous_id: str | None = Field(default=None, max_length=200)
    started_at: datetime
    last_event_at: datetime
    event_count: int = 0
    landing_url: str = Field(default="", max_length=2000)
    referrer: str = Field(default="", max_length=2000)
    utm_source: str = Field(default="", max_length=200)
    utm_medium: str = Field(default="", max_length=200)
    utm_campaign: str = Field(default="", max_length=200)
    utm_term: str = Field(default="", max_length=200)
    utm_content: str = Field(default="", max_length=200)
