"""Role checks: who may open and change what inside a tenant."""

from __future__ import annotations

import uuid

from marketing_app.domain.accounts import CurrentUser, TenantChoice
from marketing_app.domain.errors import NotFound, PermissionDenied
from marketing_app.models import Role

ROLE_RANK = {Role.VIEWER: 1, Role.MARKETER: 2, Role.OWNER: 3}
ROLE_LABELS = {Role.OWNER: "Owner", Role.MARKETER: "Marketer", Role.VIEWER: "Viewer"}


def tenant_for_user(user: CurrentUser, slug: str) -> TenantChoice:
    """The tenant if the user may open it. Otherwise NotFound: no hint that it exists."""
    for tenant in user.tenants:
        if tenant.slug == slug:
            return tenant
    raise NotFound("Page not found.")


def require_role(user: CurrentUser, slug: str, minimum: Role) -> TenantChoice:
    tenant = tenant_for_user(user, slug)
    if ROLE_RANK[Role(tenant.role)] < ROLE_RANK[minimum]:
        raise PermissionDenied(
            f"Your role ({ROLE_LABELS[Role(tenant.role)]}) cannot do this; "
            f"ask an owner for {ROLE_LABELS[minimum]} access."
        )
    return tenant


def can(user: CurrentUser, slug: str, minimum: Role) -> bool:
    try:
        require_role(user, slug, minimum)
    except (NotFound, PermissionDenied):
        return False
    return True


def require_platform_admin(user: CurrentUser) -> None:
    if not user.is_platform_admin:
        raise NotFound("Page not found.")


def parse_id(value: str) -> uuid.UUID:
    """An id from a URL or an event; anything malformed is simply not found."""
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound("Not found.") from exc
