"""Tenants (vendors): creation, settings and provider choice."""

from __future__ import annotations

import re
import uuid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import MarketingProvider, Tenant

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Slugs that would collide with app paths or read as system names.
RESERVED_SLUGS = {"admin", "api", "login", "logout", "static", "app", "www", "new"}


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:63].strip("-")


def validate_time_zone(time_zone: str) -> str:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"Unknown time zone '{time_zone}'.", field="time_zone") from exc
    return time_zone


def common_time_zones() -> list[str]:
    return sorted(z for z in available_timezones() if z.startswith(("America/", "Europe/", "UTC")))


def _validated_fields(name: str, slug: str, time_zone: str, provider: str) -> tuple[str, str]:
    name = name.strip()
    if not name:
        raise InvalidInput("Name is required.", field="name")
    slug = slug.strip().lower() or slugify(name)
    if not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
        raise InvalidInput(
            "Slug must be 1-63 lowercase letters, digits or dashes, not a reserved word.",
            field="slug",
        )
    validate_time_zone(time_zone)
    if provider not in {p.value for p in MarketingProvider}:
        raise InvalidInput("Provider must be 'builtin' or 'alpineiq'.", field="marketing_provider")
    return name, slug


def create_tenant(
    *,
    session: Session,
    name: str,
    slug: str = "",
    time_zone: str = "America/New_York",
    postal_address: str = "",
    marketing_provider: str = MarketingProvider.BUILTIN,
    settings: dict[str, Any] | None = None,
) -> Tenant:
    name, slug = _validated_fields(name, slug, time_zone, marketing_provider)
    if session.exec(select(Tenant.id).where(Tenant.slug == slug)).first() is not None:
        raise Conflict(f"The slug '{slug}' is already taken.", field="slug")
    tenant = Tenant(
        name=name,
        slug=slug,
        time_zone=time_zone,
        postal_address=postal_address.strip(),
        marketing_provider=marketing_provider,
        settings=settings or {},
    )
    session.add(tenant)
    session.flush()
    return tenant


def get_tenant(*, session: Session, tenant_id: uuid.UUID) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found.")
    return tenant


def get_tenant_by_slug(*, session: Session, slug: str) -> Tenant:
    tenant = session.exec(select(Tenant).where(Tenant.slug == slug)).first()
    if tenant is None:
        raise NotFound("Tenant not found.")
    return tenant


def update_tenant(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    name: str,
    time_zone: str,
    postal_address: str,
    marketing_provider: str,
) -> Tenant:
    tenant = get_tenant(session=session, tenant_id=tenant_id)
    name, _ = _validated_fields(name, tenant.slug, time_zone, marketing_provider)
    tenant.name = name
    tenant.time_zone = time_zone
    tenant.postal_address = postal_address.strip()
    tenant.marketing_provider = marketing_provider
    session.add(tenant)
    session.flush()
    return tenant


def search_tenants(
    *, session: Session, search: str = "", limit: int = 25, offset: int = 0
) -> tuple[list[Tenant], int]:
    query = select(Tenant)
    if search.strip():
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(func.lower(Tenant.name).like(pattern), col(Tenant.slug).like(pattern))
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Tenant.name).offset(offset).limit(limit)).all()
    return list(rows), total
