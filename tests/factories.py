"""Tiny factories: every test makes its own tenants and users, so tests never clean up."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from marketing_app.models import Tenant, User
from marketing_app.services.tenants import create_tenant
from marketing_app.services.users import create_user, set_membership

PASSWORD = "correct-horse-battery"


def make_tenant(session: Session, **overrides) -> Tenant:
    suffix = uuid.uuid4().hex[:8]
    fields = {"name": f"Tenant {suffix}", "slug": f"t-{suffix}"} | overrides
    tenant = create_tenant(session=session, **fields)
    session.commit()
    return tenant


def make_user(
    session: Session, tenant: Tenant | None = None, role: str = "marketer", *, admin: bool = False
) -> User:
    user = create_user(
        session=session,
        email=f"user-{uuid.uuid4().hex[:8]}@example.com",
        password=PASSWORD,
        full_name="Test User",
        is_platform_admin=admin,
    )
    if tenant is not None:
        set_membership(session=session, tenant_id=tenant.id, user_id=user.id, role=role)
    session.commit()
    return user
