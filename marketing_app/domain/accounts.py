"""Views of tenants, users and keys handed to the UI and API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class TenantChoice(BaseModel):
    """A tenant the signed-in user can switch to, with their role in it."""

    id: uuid.UUID
    name: str
    slug: str
    role: str


class CurrentUser(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    is_platform_admin: bool
    tenants: list[TenantChoice]

    def role_in(self, slug: str) -> str | None:
        """The user's role in the tenant; platform admins act as owners everywhere."""
        for tenant in self.tenants:
            if tenant.slug == slug:
                return tenant.role
        return "owner" if self.is_platform_admin else None


class IssuedApiKey(BaseModel):
    """A freshly created key: the only time the full value exists outside the hash."""

    id: uuid.UUID
    kind: str
    name: str
    plaintext: str
    created_at: datetime
