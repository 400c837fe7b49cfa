"""A random but reproducible tenant for segment tests: profiles with edge-case traits, events,
orders with items, memberships, RFM groups, suppressions and loyalty accounts (a four-tier
program; some profiles without an account, some with no tier or a tier the program dropped),
around a fixed `NOW`."""

from __future__ import annotations

import random
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, SQLModel, create_engine

from marketing_app.models import (
    Contact,
    Event,
    Location,
    LoyaltyAccount,
    LoyaltyProgram,
    Order,
    OrderItem,
    Segment,
    SegmentMember,
    StaffMember,
    Suppression,
)
from marketing_app.services.loyalty_programs import preset_settings
from marketing_app.services.rfm import compute_rfm

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
EVENT_NAMES = [
    "Product Viewed",
    "Order Completed",
    "Email Opened",
    "Email Delivered",
    "Email Link Clicked",
    "SMS Delivered",
]
WORDS = ["alpha", "beta", "Gamma", "delta", "vip", "50%_off", ""]
LOYALTY_PRESET = "metals"  # Bronze 0, Silver 500, Gold 1500, Platinum 3000 lifetime points
LOYALTY_TIERS = ["Bronze", "Silver", "Gold", "Platinum"]
DROPPED_TIER = "Diamond"  # on some accounts, no longer in the program
POINTS = [0, 1, 250, 499, 500, 1500, 2999, 3000, 12000]
PRODUCTS = [
    ("SKU-1", "Blue Dream", "flower"),
    ("SKU-2", "Gummies", "edibles"),
    ("SKU-3", "Vape Pen", "vapes"),
]


def sqlite_session() -> Session:
    """A fresh SQLite database with every table, beside whatever the suite runs on."""
    path = tempfile.mkdtemp(prefix="mk-seg-") + "/segments.db"
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    return Session(engine, expire_on_commit=False)


def _when(rng: random.Random) -> datetime:
    return NOW - timedelta(
        days=rng.choice([0, 1, 5, 29, 30, 31, 59, 61, 89, 91, 200, 400]),
        minutes=rng.randint(-30, 30),
    )


def _custom_traits(rng: random.Random) -> dict:
    traits = {}
    for key in ("tier", "score", "flag"):
        choice = rng.random()
        if choice < 0.25:
            continue
        if key == "tier":
            traits[key] = rng.choice(WORDS + [7, None])
        elif key == "score":
            traits[key] = rng.choice([0, 1, 2.5, 10, 100, "10", None])
        else:
            traits[key] = rng.choice([True, False, "true", 1])
    return traits


def _contact(rng: random.Random, tenant_id, location_ids, staff_ids, n: int) -> Contact:
    return Contact(
        tenant_id=tenant_id,
        email=f"p{n}@example.com" if rng.random() < 0.85 else None,
        phone=f"+1704555{n:04d}" if rng.random() < 0.6 else None,
        first_name=rng.choice(WORDS),
        last_name=rng.choice(WORDS),
        birthday=rng.choice(
            [
                None,
                date(1990, 6, 15),
                date(1985, 6, 20),
                date(1970, 7, 2),
                date(2000, 12, 31),
                date(1999, 1, 1),
                date(1988, 6, 22),
            ]
        ),
        location_id=rng.choice(location_ids + [None]),
        staff_id=rng.choice(staff_ids + [None]),
        traits=_custom_traits(rng),
        email_consent=rng.random() < 0.6,
        sms_consent=rng.random() < 0.4,
        created_at=_when(rng),
        last_seen_at=rng.choice([None, _when(rng)]),
        first_seen_at=rng.choice([None, _when(rng)]),
        last_order_at=rng.choice([None, _when(rng)]),
        order_count=rng.randint(0, 6),
        total_spent_cents=rng.choice([0, 4999, 5000, 50000, 50001, 120000]),
    )


def _activity(rng: random.Random, session: Session, contact: Contact) -> None:
    for _ in range(rng.randint(0, 6)):
        properties = {
            "campaign_id": rng.choice(["c1", "c2"]),
            "value": rng.choice([5, 50, "50", None]),
        }
        if rng.random() < 0.2:
            properties["machine_open"] = True
        session.add(
            Event(
                tenant_id=contact.tenant_id,
                contact_id=contact.id,
                message_id=uuid.uuid4().hex,
                type="track",
                name=rng.choice(EVENT_NAMES),
                properties=properties,
                occurred_at=_when(rng),
            )
        )
    for _ in range(rng.randint(0, 4)):
        order = Order(
            tenant_id=contact.tenant_id,
            contact_id=contact.id,
            source="pos",
            external_id=uuid.uuid4().hex,
            placed_at=_when(rng),
            total_cents=rng.choice([1000, 2500, 25000, 50000, 60000]),
        )
        session.add(order)
        session.flush()
        for sku, name, category in rng.sample(PRODUCTS, rng.randint(0, 2)):
            session.add(
                OrderItem(
                    tenant_id=contact.tenant_id,
                    order_id=order.id,
                    sku=sku,
                    product_name=name,
                    category=category,
                )
            )


def _loyalty(session: Session, tenant_id, contacts: list[Contact], seed: int) -> None:
    """The program and accounts, from their own random stream so the rest stays as it was."""
    rng = random.Random(seed * 7919 + 17)
    settings = preset_settings(LOYALTY_PRESET)
    session.add(LoyaltyProgram(tenant_id=tenant_id, settings=settings.model_dump(mode="json")))
    for contact in contacts:
        if rng.random() < 0.35:
            continue  # no account: no member, no tier, 0 points
        lifetime = rng.choice(POINTS)
        tier = settings.tier_for(lifetime)
        if rng.random() < 0.15:
            tier = rng.choice(["", DROPPED_TIER])
        session.add(
            LoyaltyAccount(
                tenant_id=tenant_id,
                contact_id=contact.id,
                balance=rng.choice(POINTS),
                lifetime_earned=lifetime,
                tier=tier,
            )
        )


def build_world(session: Session, tenant_id, seed: int = 1, size: int = 60) -> dict:
    """Fill `tenant_id` with `size` profiles; returns ids a test can refer to."""
    rng = random.Random(seed)
    locations = [Location(tenant_id=tenant_id, name=f"Store {i}") for i in range(3)]
    staff = [StaffMember(tenant_id=tenant_id, name=f"Rep {i}", role="sales_rep") for i in range(2)]
    segment = Segment(tenant_id=tenant_id, name=f"Base {seed}", kind="static")
    session.add_all([*locations, *staff, segment])
    session.flush()
    location_ids, staff_ids = [x.id for x in locations], [x.id for x in staff]
    contacts = [_contact(rng, tenant_id, location_ids, staff_ids, n) for n in range(size)]
    session.add_all(contacts)
    session.flush()
    for contact in contacts:
        _activity(rng, session, contact)
        if rng.random() < 0.3:
            session.add(
                SegmentMember(segment_id=segment.id, contact_id=contact.id, tenant_id=tenant_id)
            )
        if contact.email and rng.random() < 0.15:
            session.add(Suppression(tenant_id=tenant_id, channel="email", address=contact.email))
        if contact.phone and rng.random() < 0.15:
            session.add(Suppression(tenant_id=tenant_id, channel="sms", address=contact.phone))
    _loyalty(session, tenant_id, contacts, seed)
    session.commit()
    compute_rfm(session=session, tenant_id=tenant_id, now=NOW)  # groups from the facts above
    session.commit()
    return {
        "segment_id": segment.id,
        "location_ids": location_ids,
        "staff_ids": staff_ids,
        "contact_ids": [c.id for c in contacts],
    }
