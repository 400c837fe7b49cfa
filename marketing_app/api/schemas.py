"""Response shapes of the management API (the `...Public` views of our tables)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel


class TenantPublic(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    time_zone: str
    postal_address: str
    marketing_provider: str


class JobRunPublic(BaseModel):
    id: uuid.UUID
    kind: str
    label: str
    status: str
    done: int
    total: int
    percent: int
    message: str
    error: str
    result: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None


class AuditEntryPublic(BaseModel):
    id: int
    actor_label: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    created_at: datetime


class ErrorResponse(BaseModel):
    detail: str
    field: str | None = None
