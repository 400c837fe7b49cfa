"""Deterministic demo data: tenants shaped like real customers of the platform.

The same (seed, scale, reference date) always yields the same rows, and running it twice
inserts nothing new: every row carries a unique key and is written insert-or-ignore, except
order items, which are written only for the orders that were new. Nothing becomes an ORM
object: rows are dicts written in chunks, by COPY on PostgreSQL where they carry every column.
"""

from __future__ import annotations

import random
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from marketing_app.models import (
    Contact,
    ContactIdentity,
    Event,
    Location,
    Order,
    OrderItem,
    StaffMember,
)
from marketing_app.services.bulk import insert_ignoring_duplicates, write_returning_new_keys
from marketing_app.services.demo_engagement import engagement_events
from marketing_app.services.demo_profiles import (
    FIRST_NAMES,
    LAST_NAMES,
    PROFILES,
    BusinessProfile,
    Product,
)

CHUNK_SIZE = 2000  # rows per executemany: large enough to amortize round trips
ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True)
class DemoSummary:
    contacts: int
    orders: int
    order_items: int
    events: int  # browsing and order events plus campaign engagement


def _noop_progress(done: int, total: int, message: str) -> None:
    return None


def _ensure_places_and_staff(
    session: Session, tenant_id: uuid.UUID, profile: BusinessProfile
) -> tuple[list[int], list[int]]:
    existing = {
        loc.name: loc
        for loc in session.exec(select(Location).where(Location.tenant_id == tenant_id))
    }
    for name, city, region in profile.locations:
        if name not in existing:
            location = Location(
                tenant_id=tenant_id, name=name, city=city, region=region, kind=profile.location_kind
            )
            session.add(location)
            existing[name] = location
    session.flush()
    location_ids = [existing[name].id for name, _, _ in profile.locations]
    staff = {
        s.name: s
        for s in session.exec(select(StaffMember).where(StaffMember.tenant_id == tenant_id))
    }
    for index, name in enumerate(profile.staff_names):
        if name not in staff:
            staff[name] = StaffMember(
                tenant_id=tenant_id,
                name=name,
                role=profile.staff_role,
                location_id=location_ids[index % len(location_ids)],
            )
            session.add(staff[name])
    session.flush()
    return location_ids, [staff[name].id for name in profile.staff_names]


def _demo_phone(email_domain: str, n: int) -> str:
    """A phone unique per (domain, n), so two demo data sets in one tenant never collide."""
    exchange = 200 + (zlib.crc32(email_domain.encode()) + n // 10000) % 700
    return f"+1704{exchange}{n % 10000:04d}"


def _contact_rows(tenant_id, profile, count, rng, now, location_ids, staff_ids, email_domain):
    rows = []
    for n in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        rows.append(
            {
                "tenant_id": tenant_id,
                "email": f"{first}.{last}.{n}@{email_domain}".lower(),
                "phone": _demo_phone(email_domain, n) if rng.random() < 0.7 else None,
                "first_name": first,
                "last_name": last,
                "birthday": date(rng.randint(1955, 2004), rng.randint(1, 12), rng.randint(1, 28)),
                "location_id": rng.choice(location_ids),
                "staff_id": rng.choice(staff_ids),
                "traits": {key: rng.choice(values) for key, values in profile.traits.items()},
                "email_consent": rng.random() < 0.72,
                "sms_consent": rng.random() < 0.48,
                "created_at": now - timedelta(days=rng.triangular(0, 730, 200)),
            }
        )
    return rows


Basket = list[tuple[Product, int]]  # (product, quantity) lines of one order


def _basket(profile: BusinessProfile, rng: random.Random, cum_weights: list[int]) -> Basket:
    size = rng.randint(1, profile.max_lines)
    picks = rng.choices(profile.catalog, cum_weights=cum_weights, k=size)
    return [(product, rng.randint(1, profile.max_quantity)) for product in dict.fromkeys(picks)]


def _browsing_events(tenant_id, profile, contact_id, ref, placed_at) -> list[dict]:
    """The steps before an order, the last one the order itself."""
    steps = len(profile.event_names)
    return [
        {
            "tenant_id": tenant_id,
            "contact_id": contact_id,
            "message_id": f"{ref}-{step}",
            "type": "track",
            "name": name,
            "properties": {"order_id": ref},
            "occurred_at": placed_at - timedelta(minutes=5 * (steps - step)),
            "received_at": placed_at,
            "processed_at": placed_at,  # already attached to its profile
        }
        for step, name in enumerate(profile.event_names)
    ]


def _orders_and_events(tenant_id, profile, contacts, rng, now, prefix):
    """Orders over the past year for each contact, their baskets by order reference, and the
    browsing events before them. An order's total is the sum of its lines."""
    orders, baskets, events = [], {}, []
    cum_weights = list(accumulate(product.weight for product in profile.catalog))
    for contact in contacts:
        active_days = max(1, min(365, (now - contact.created_at).days))
        expected = profile.orders_per_customer_year * active_days / 365
        for _ in range(int(rng.expovariate(1 / max(expected, 0.2)))):
            placed_at = now - timedelta(
                days=rng.uniform(0, active_days), minutes=rng.randint(0, 600)
            )
            ref = f"{prefix}-{len(orders)}"
            basket = baskets[ref] = _basket(profile, rng, cum_weights)
            orders.append(
                {
                    "tenant_id": tenant_id,
                    "contact_id": contact.id,
                    "location_id": contact.location_id,
                    "staff_id": contact.staff_id,
                    "source": "pos",
                    "external_id": ref,
                    "total_cents": sum(product.price_cents * qty for product, qty in basket),
                    "item_count": sum(qty for _, qty in basket),
                    "placed_at": placed_at,
                }
            )
            events += _browsing_events(tenant_id, profile, contact.id, ref, placed_at)
    return orders, baskets, events


def _item_rows(tenant_id: uuid.UUID, order_id: int, basket: Basket) -> list[dict]:
    return [
        {
            "tenant_id": tenant_id,
            "order_id": order_id,
            "sku": product.sku,
            "product_name": product.name,
            "category": product.category,
            "quantity": quantity,
            "price_cents": product.price_cents,
        }
        for product, quantity in basket
    ]


def _write_items_of_new_orders(session, tenant_id, new_refs, baskets) -> None:
    if not new_refs:
        return
    written = session.exec(
        select(Order.id, Order.external_id).where(
            Order.tenant_id == tenant_id,
            Order.source == "pos",
            col(Order.external_id).in_(sorted(new_refs)),
        )
    ).all()
    items = [
        row for order_id, ref in written for row in _item_rows(tenant_id, order_id, baskets[ref])
    ]
    for start in range(0, len(items), CHUNK_SIZE):
        insert_ignoring_duplicates(
            session=session,
            model=OrderItem,
            rows=items[start : start + CHUNK_SIZE],
            copy_key="order_id",
        )


def _write_orders_and_items(session, tenant_id, orders, baskets, progress, done, total) -> int:
    """Orders in chunks, each followed by the items of its orders that were new: a rerun,
    whose orders all exist already, adds no items."""
    for start in range(0, len(orders), CHUNK_SIZE):
        chunk = orders[start : start + CHUNK_SIZE]
        new_refs = write_returning_new_keys(
            session=session, model=Order, rows=chunk, key="external_id"
        )
        _write_items_of_new_orders(session, tenant_id, new_refs, baskets)
        done += len(chunk) + sum(len(baskets[order["external_id"]]) for order in chunk)
        progress(done, total, "Writing orders and their items")
    return done


def _refresh_contact_facts(session: Session, tenant_id: uuid.UUID) -> None:
    per_contact = (
        select(func.count()).where(Order.contact_id == Contact.id).scalar_subquery(),
        select(func.coalesce(func.sum(Order.total_cents), 0))
        .where(Order.contact_id == Contact.id)
        .scalar_subquery(),
        select(func.max(Order.placed_at)).where(Order.contact_id == Contact.id).scalar_subquery(),
    )
    session.exec(
        update(Contact)
        .where(Contact.tenant_id == tenant_id)
        .values(
            order_count=per_contact[0],
            total_spent_cents=per_contact[1],
            last_order_at=per_contact[2],
            last_seen_at=per_contact[2],
        )
    )


def _write_identities(session: Session, tenant_id: uuid.UUID, email_domain: str) -> None:
    """Email and phone identities, so tracked events find the demo customers."""
    rows = session.exec(
        select(Contact.id, Contact.email, Contact.phone).where(
            Contact.tenant_id == tenant_id, col(Contact.email).like(f"%@{email_domain}")
        )
    ).all()
    identities = [
        {"tenant_id": tenant_id, "contact_id": cid, "kind": kind, "value": value}
        for cid, email, phone in rows
        for kind, value in (("email", email), ("phone", phone))
        if value
    ]
    for start in range(0, len(identities), CHUNK_SIZE):
        insert_ignoring_duplicates(
            session=session, model=ContactIdentity, rows=identities[start : start + CHUNK_SIZE]
        )


def _demo_contacts(session: Session, tenant_id: uuid.UUID, email_domain: str) -> list:
    """The data set's customers, with what orders and campaigns need to know of them."""
    return session.exec(
        select(
            Contact.id,
            Contact.location_id,
            Contact.staff_id,
            Contact.created_at,
            Contact.email_consent,
            Contact.sms_consent,
            Contact.phone,
        )
        .where(Contact.tenant_id == tenant_id, col(Contact.email).like(f"%@{email_domain}"))
        .order_by(Contact.id)
    ).all()


def _write_in_chunks(session, model, rows, progress, done, total, label, copy_key=None) -> int:
    for start in range(0, len(rows), CHUNK_SIZE):
        chunk = rows[start : start + CHUNK_SIZE]
        insert_ignoring_duplicates(session=session, model=model, rows=chunk, copy_key=copy_key)
        done += len(chunk)
        progress(done, total, f"Writing {label}")
    return done


def generate_business_data(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    kind: str,
    scale: float = 1.0,
    seed: int = 0,
    reference_date: date | None = None,
    email_domain: str = "example.com",
    progress: ProgressCallback = _noop_progress,
) -> DemoSummary:
    """Locations, staff, customers, a year of orders with their items, the events before
    them, and the last 120 days of email and SMS campaign engagement, for one tenant."""
    profile = PROFILES[kind]
    rng = random.Random(f"{seed}:{kind}")
    now = datetime.combine(reference_date or datetime.now(UTC).date(), time(12), UTC)
    location_ids, staff_ids = _ensure_places_and_staff(session, tenant_id, profile)
    count = max(1, int(profile.customers * scale))
    contact_rows = _contact_rows(
        tenant_id, profile, count, rng, now, location_ids, staff_ids, email_domain
    )
    done = _write_in_chunks(session, Contact, contact_rows, progress, 0, count * 3, "customers")
    contacts = _demo_contacts(session, tenant_id, email_domain)
    _write_identities(session, tenant_id, email_domain)
    prefix = f"demo-{kind}-{zlib.crc32(email_domain.encode()):08x}"
    orders, baskets, events = _orders_and_events(tenant_id, profile, contacts, rng, now, prefix)
    events += engagement_events(tenant_id, profile, contacts, rng, now)
    items = sum(len(basket) for basket in baskets.values())
    total = count + len(orders) + items + len(events)
    done = _write_orders_and_items(session, tenant_id, orders, baskets, progress, done, total)
    done = _write_in_chunks(
        session, Event, events, progress, done, total, "events", copy_key="message_id"
    )
    _refresh_contact_facts(session, tenant_id)
    session.flush()
    progress(total, total, "Demo data ready")
    return DemoSummary(
        contacts=len(contacts), orders=len(orders), order_items=items, events=len(events)
    )
