"""Email: templates, campaigns, one message row per (campaign, profile), provider events,
the console provider's outbox and per-topic subscription preferences.

Exactly-once sending rests on `EmailMessage`: the rows are created when a send starts (unique
per campaign and profile), workers claim batches of them with a lease (`lease_owner`,
`lease_until`), mark each one sent with the provider's id, and a row whose lease ran out is
claimed again. Delivery statuses only move forward (see services.email_status.STATUS_RANK).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from marketing_app.models.base import BigId, utcnow


class CampaignStatus:
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"

    ALL = (DRAFT, SCHEDULED, SENDING, PAUSED, SENT, CANCELLED)


class MessageStatus:
    """A message's state. Before sending: queued (waiting for its due time), then sent or
    skipped/failed; after: what the provider reports, never moving backwards."""

    QUEUED = "queued"
    SKIPPED = "skipped"  # frequency cap, suppressed or unsubscribed at send time
    FAILED = "failed"  # every provider refused it
    SENT = "sent"  # a provider accepted it
    PROCESSED = "processed"
    DEFERRED = "deferred"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    DROPPED = "dropped"


class EmailTemplate(SQLModel, table=True):
    __tablename__ = "email_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_email_template_name"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    subject: str = Field(default="", max_length=300)
    preheader: str = Field(default="", max_length=300)
    html: str = Field(default="")
    builtin_key: str = Field(default="", max_length=40)  # the built-in it was copied from
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Campaign(SQLModel, table=True):
    """An email campaign. `content` holds the variants (A/B), `audience` the segments and
    lists, `schedule` when and how (`services.campaigns` validates all three)."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_tenant_status", "tenant_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    name: str = Field(max_length=200)
    status: str = Field(default=CampaignStatus.DRAFT, max_length=12)
    topic: str = Field(default="marketing", max_length=60)  # preference-center topic
    transactional: bool = False  # exempt from the frequency cap and topic preferences
    from_name: str = Field(default="", max_length=120)
    from_email: str = Field(default="", max_length=320)
    reply_to: str = Field(default="", max_length=320)
    template_id: int | None = Field(
        default=None, foreign_key="email_templates.id", ondelete="SET NULL"
    )
    # {"variants": [{"key": "A", "subject", "preheader", "html", "from_name"}], ...}
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # {"segment_ids": [...], "list_ids": [...], "exclude_segment_ids": [...]}
    audience: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # {"mode": "now" | "at" | "local", "send_at": iso, "local_time": "HH:MM", "optimize": bool}
    schedule: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # {"test_percent", "metric": "open"|"click"|"revenue", "wait_hours", "winner", "decided_at"}
    ab_test: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # Counts fixed when the send starts: audience, skipped by reason, to send.
    send_summary: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    executed: bool = False  # a send ever started: the campaign can no longer be deleted
    # While a started send's message rows are still being written: profiles with a greater
    # id have none yet (services.campaign_send_rows); NULL once every row is written.
    rows_pending_after: int | None = Field(default=None, sa_type=BigId)
    created_by: str = Field(default="", max_length=200)
    scheduled_for: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class EmailMessage(SQLModel, table=True):
    __tablename__ = "email_messages"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id", name="uq_email_message_recipient"),
        Index(
            "ix_email_messages_claimable",
            "campaign_id",
            "due_at",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
        Index(  # a new row has no provider id yet: one index entry fewer to create it
            "ix_email_messages_provider_id",
            "provider_message_id",
            postgresql_where=text("provider_message_id IS NOT NULL"),
            sqlite_where=text("provider_message_id IS NOT NULL"),
        ),
        Index("ix_email_messages_contact", "tenant_id", "contact_id", "sent_at"),
        # Half of each page left free: a claim writes only the lease columns (no index
        # holds them), so with room on the page its new row version is HOT and no index
        # gets an entry. Sending marks the row once more (status, sent_at: indexed).
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    # No foreign keys: a send writes a row per recipient at once, and each key was a lookup
    # per row (tenant, campaign and contact checks together were ~half of writing 100,000
    # rows; migrations 0008, 0009). Tenants are never deleted; a campaign with messages is
    # never deleted (campaigns.delete_campaign); a deleted profile's rows lose their contact
    # (profiles.delete_profile), a merged one's go to the winner (identity.merge_profiles).
    tenant_id: uuid.UUID
    campaign_id: int | None = None
    contact_id: int | None = Field(default=None, sa_type=BigId)
    email: str = Field(max_length=320)
    variant: str = Field(default="A", max_length=10)
    is_test_group: bool = False  # in an A/B test's test share
    status: str = Field(default=MessageStatus.QUEUED, max_length=12)
    due_at: datetime = Field(default_factory=utcnow)  # recipient's local time / best hour
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = None
    attempts: int = 0
    provider: str = Field(default="", max_length=30)
    provider_message_id: str | None = Field(default=None, max_length=200)
    skip_reason: str = Field(default="", max_length=40)
    error: str = Field(default="", max_length=500)
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    opened_at: datetime | None = None  # a human open (machine opens kept apart)
    machine_opened_at: datetime | None = None
    clicked_at: datetime | None = None
    bounced_at: datetime | None = None
    complained_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class EmailEvent(SQLModel, table=True):
    """A delivery or engagement event for a message, unique per provider event id."""

    __tablename__ = "email_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id", name="uq_email_event_id"),
        Index("ix_email_events_message", "message_id"),
        Index("ix_email_events_tenant_time", "tenant_id", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    message_id: int | None = Field(
        default=None, foreign_key="email_messages.id", ondelete="CASCADE", sa_type=BigId
    )
    provider: str = Field(max_length=30)  # sendgrid | ses | postmark | resend | tracking
    event_id: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # delivered | bounce | open | click | ...
    machine: bool = False  # an open/click by a privacy proxy or a scanner
    url: str | None = Field(default=None, max_length=2000)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    occurred_at: datetime = Field(default_factory=utcnow)


class OutboxMessage(SQLModel, table=True):
    """What the console provider 'sent': the whole message, for the outbox page."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_tenant_id", "tenant_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    to_address: str = Field(max_length=320)
    from_address: str = Field(max_length=400)
    subject: str = Field(max_length=300)
    headers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    html: str = ""
    text_body: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class SubscriptionPreference(SQLModel, table=True):
    """A profile's choice for one topic on one channel (absent: subscribed if consented)."""

    __tablename__ = "subscription_preferences"
    __table_args__ = (
        UniqueConstraint("tenant_id", "contact_id", "channel", "topic", name="uq_preference"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE", sa_type=BigId)
    channel: str = Field(default="email", max_length=10)
    topic: str = Field(max_length=60)
    subscribed: bool = False
    source: str = Field(default="", max_length=30)  # one_click | preference_center | api
    updated_at: datetime = Field(default_factory=utcnow)
