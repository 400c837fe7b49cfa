"""The demo workspace: three tenants, their users and data, created once on an empty database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from marketing_app.models import MarketingProvider, Role, Tenant, User
from marketing_app.services.api_keys import create_api_key
from marketing_app.services.demo_data import (
    ProgressCallback,
    _noop_progress,
    generate_business_data,
)
from marketing_app.services.tenants import create_tenant
from marketing_app.services.users import create_user, set_membership

DEMO_PASSWORD = "demo-password"


@dataclass(frozen=True)
class DemoTenant:
    name: str
    slug: str
    kind: str
    time_zone: str
    postal_address: str
    provider: str
    email_domain: str


DEMO_TENANTS = [
    DemoTenant(
        "Carolina Leaf Dispensary",
        "carolina-leaf",
        "dispensary",
        "America/New_York",
        "4400 Monroe Rd, Charlotte, NC 28205",
        MarketingProvider.ALPINEIQ,
        "leaf.example.com",
    ),
    DemoTenant(
        "Piedmont Wine Distributors",
        "piedmont-wine",
        "wine",
        "America/New_York",
        "120 Vine St, Raleigh, NC 27601",
        MarketingProvider.BUILTIN,
        "wine.example.com",
    ),
    DemoTenant(
        "Sharp & Co Barbershop",
        "sharp-co",
        "barbershop",
        "America/New_York",
        "15 Main St, Asheville, NC 28801",
        MarketingProvider.BUILTIN,
        "barber.example.com",
    ),
]

# (email, full name, platform admin, {tenant slug: role})
DEMO_USERS = [
    ("admin@example.com", "Platform Admin", True, {}),
    ("owner@leaf.example.com", "Dana Owens", False, {"carolina-leaf": Role.OWNER}),
    ("marketer@leaf.example.com", "Maya Marketer", False, {"carolina-leaf": Role.MARKETER}),
    ("viewer@leaf.example.com", "Vic Viewer", False, {"carolina-leaf": Role.VIEWER}),
    ("owner@wine.example.com", "Walt Winery", False, {"piedmont-wine": Role.OWNER}),
    ("owner@barber.example.com", "Bo Barber", False, {"sharp-co": Role.OWNER}),
    (
        "agency@example.com",
        "Alex Agency",
        False,
        {"piedmont-wine": Role.MARKETER, "sharp-co": Role.MARKETER},
    ),
]


def database_is_empty(*, session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def _create_tenants_and_users(session: Session) -> dict[str, Tenant]:
    tenants: dict[str, Tenant] = {}
    for spec in DEMO_TENANTS:
        tenant = create_tenant(
            session=session,
            name=spec.name,
            slug=spec.slug,
            time_zone=spec.time_zone,
            postal_address=spec.postal_address,
            marketing_provider=spec.provider,
        )
        create_api_key(session=session, tenant_id=tenant.id, kind="publishable", name="Website")
        tenants[spec.slug] = tenant
    for email, full_name, is_admin, roles in DEMO_USERS:
        user = create_user(
            session=session,
            email=email,
            password=DEMO_PASSWORD,
            full_name=full_name,
            is_platform_admin=is_admin,
        )
        for slug, role in roles.items():
            set_membership(session=session, tenant_id=tenants[slug].id, user_id=user.id, role=role)
    session.commit()
    return tenants


def seed_demo(
    *,
    session: Session,
    scale: float = 1.0,
    seed: int = 0,
    reference_date: date | None = None,
    progress: ProgressCallback = _noop_progress,
) -> dict[str, int]:
    """Create the demo tenants, users, keys and data; returns customer counts by slug."""
    tenants = _create_tenants_and_users(session)
    counts = {}
    for spec in DEMO_TENANTS:
        summary = generate_business_data(
            session=session,
            tenant_id=tenants[spec.slug].id,
            kind=spec.kind,
            scale=scale,
            seed=seed,
            reference_date=reference_date,
            email_domain=spec.email_domain,
            progress=lambda d, t, m, slug=spec.slug: progress(d, t, f"{slug}: {m}"),
        )
        session.commit()
        counts[spec.slug] = summary.contacts
    return counts
