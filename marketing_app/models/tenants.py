"""Tenants: the vendors, each an isolated workspace."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from marketing_app.models.base import new_id, utcnow


class MarketingProvider(StrEnum):
    """Where a tenant's loyalty and marketing data is mastered."""

    BUILTIN = "builtin"
    ALPINEIQ = "alpineiq"


class Tenant(SQLModel, table=True):
    __tablename__ = "tenants"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200)
    slug: str = Field(max_length=63, unique=True, index=True)
    time_zone: str = Field(default="America/New_York", max_length=64)
    # Printed in every email footer (CAN-SPAM requires a physical postal address).
    postal_address: str = Field(default="", max_length=500)
    marketing_provider: str = Field(default=MarketingProvider.BUILTIN, max_length=20)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class Location(SQLModel, table=True):
    """A store, shop or territory of a tenant."""

    __tablename__ = "locations"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    city: str = Field(default="", max_length=100)
    region: str = Field(default="", max_length=50)
    kind: str = Field(default="store", max_length=20)  # store | territory | shop


class StaffMember(SQLModel, table=True):
    """Sales reps, barbers, budtenders: people orders and customers are attributed to."""

    __tablename__ = "staff_members"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    location_id: int | None = Field(default=None, foreign_key="locations.id", ondelete="SET NULL")
    name: str = Field(max_length=200)
    role: str = Field(max_length=30)  # sales_rep | barber | budtender
