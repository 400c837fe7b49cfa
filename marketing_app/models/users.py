"""Users, their tenant memberships, login sessions and login attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from marketing_app.models.base import new_id, utcnow


class Role(StrEnum):
    """Per-tenant roles, from most to least powerful."""

    OWNER = "owner"
    MARKETER = "marketer"
    VIEWER = "viewer"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    full_name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=255)
    is_platform_admin: bool = False
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "tenant_id", name="uq_membership_user_tenant"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    role: str = Field(default=Role.VIEWER, max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    """A browser login. Only the SHA-256 of the token is stored."""

    __tablename__ = "auth_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class LoginTicket(SQLModel, table=True):
    """A one-use, short-lived proof of a checked password, exchanged for the session cookie.

    The UI checks the password over its websocket, which cannot set an HttpOnly cookie; the
    browser then opens /api/auth/complete with the ticket and gets the cookie from HTTP.
    """

    __tablename__ = "login_tickets"

    ticket_hash: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    expires_at: datetime


class LoginAttempt(SQLModel, table=True):
    """Failed and successful logins, counted per email to throttle guessing."""

    __tablename__ = "login_attempts"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, index=True)
    succeeded: bool = False
    attempted_at: datetime = Field(default_factory=utcnow, index=True)
