"""Segments, static lists, their members and membership history; suppressions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketing_app.models.base import BigId, utcnow


class SegmentKind:
    DYNAMIC = "dynamic"  # members follow the definition
    STATIC = "static"  # members added and removed by hand or by CSV


class Segment(SQLModel, table=True):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_segment_name"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=1000)
    kind: str = Field(default=SegmentKind.DYNAMIC, max_length=10)
    definition: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    preset: str = Field(default="", max_length=40)  # the smart-list preset it came from
    # Bumped on every definition change; a recompute started on an older version is dropped.
    version: int = 1
    computed_version: int = 0
    member_count: int = 0
    computed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SegmentMember(SQLModel, table=True):
    """Who is in a segment now."""

    __tablename__ = "segment_members"
    __table_args__ = (Index("ix_segment_members_contact", "contact_id"),)

    segment_id: int = Field(foreign_key="segments.id", primary_key=True, ondelete="CASCADE")
    contact_id: int = Field(
        foreign_key="contacts.id", primary_key=True, ondelete="CASCADE", sa_type=BigId
    )
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    entered_at: datetime = Field(default_factory=utcnow)


class SegmentMembershipChange(SQLModel, table=True):
    """Entered/exited history: flows trigger on these."""

    __tablename__ = "segment_membership_changes"
    __table_args__ = (
        Index("ix_segment_changes_segment_at", "segment_id", "changed_at"),
        Index("ix_segment_changes_contact", "contact_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    segment_id: int = Field(foreign_key="segments.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE", sa_type=BigId)
    change: str = Field(max_length=10)  # entered | exited
    changed_at: datetime = Field(default_factory=utcnow)


class Suppression(SQLModel, table=True):
    """An address no marketing may reach: hard bounce, complaint, manual block."""

    __tablename__ = "suppressions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "channel", "address", name="uq_suppression_address"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", ondelete="CASCADE")
    channel: str = Field(max_length=10)  # email | sms
    address: str = Field(max_length=320)  # normalized email or E.164 phone
    reason: str = Field(default="manual", max_length=30)  # bounce | complaint | manual | ...
    created_at: datetime = Field(default_factory=utcnow)
