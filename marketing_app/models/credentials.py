"""API keys and encrypted provider credentials, both per tenant."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketing_app.models.base import new_id, utcnow


class ApiKeyKind(StrEnum):
    PUBLISHABLE = "publishable"  # pk_...: tracking API, safe in a browser
    SECRET = "secret"  # sk_...: management API, server to server


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    name: str = Field(default="", max_length=100)
    # The first characters of the key, shown in lists so users can tell keys apart.
    display_prefix: str = Field(max_length=20)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ProviderCredential(SQLModel, table=True):
    """A provider secret (API key, auth token) encrypted with the app's key."""

    __tablename__ = "provider_credentials"
    __table_args__ = (UniqueConstraint("tenant_id", "provider", name="uq_credential_provider"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    provider: str = Field(max_length=40)
    encrypted_secret: str
    secret_hint: str = Field(default="", max_length=12)  # last 4 characters, for display
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # non-secret settings
    updated_at: datetime = Field(default_factory=utcnow)
