"""Customer profiles: search, read, create, change, delete, and each one's timeline."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import (
    Contact,
    ContactIdentity,
    EmailMessage,
    Event,
    Location,
    Order,
    WebSession,
)
from marketing_app.services.identity import normalize_email, normalize_phone

TIMELINE_LIMIT = 200


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # event type, or "order"
    title: str
    detail: str


def search_profiles(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    search: str = "",
    location_id: int | None = None,
    has_orders: bool | None = None,
    limit: int = 25,
    offset: int = 0,
) -> tuple[list[Contact], int]:
    """Profiles matching a name, email or phone fragment, newest activity first."""
    query = select(Contact).where(Contact.tenant_id == tenant_id)
    text = search.strip().lower()
    if text:
        pattern = f"%{text}%"
        full_name = func.lower(Contact.first_name + " " + Contact.last_name)
        digits = "".join(ch for ch in text if ch.isdigit())
        matches = [
            col(Contact.email).like(pattern),
            full_name.like(pattern),
            col(Contact.user_id) == search.strip(),
        ]
        if len(digits) >= 4:
            matches.append(col(Contact.phone).like(f"%{digits}%"))
        query = query.where(or_(*matches))
    if location_id is not None:
        query = query.where(Contact.location_id == location_id)
    if has_orders is not None:
        query = query.where(Contact.order_count > 0 if has_orders else Contact.order_count == 0)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    ordered = query.order_by(col(Contact.last_seen_at).desc().nulls_last(), col(Contact.id).desc())
    return list(session.exec(ordered.offset(offset).limit(limit))), total


def get_profile(*, session: Session, tenant_id: uuid.UUID, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.tenant_id != tenant_id:
        raise NotFound("Customer not found.")
    return contact


def location_name(*, session: Session, contact: Contact) -> str:
    location = session.get(Location, contact.location_id) if contact.location_id else None
    return location.name if location else ""


def list_locations(*, session: Session, tenant_id: uuid.UUID) -> list[Location]:
    query = select(Location).where(Location.tenant_id == tenant_id).order_by(Location.name)
    return list(session.exec(query))


def _checked_fields(fields: dict[str, Any]) -> dict[str, Any]:
    checked = dict(fields)
    if fields.get("email"):
        checked["email"] = normalize_email(fields["email"])
        if checked["email"] is None:
            raise InvalidInput("Enter a valid email address.", field="email")
    if fields.get("phone"):
        checked["phone"] = normalize_phone(fields["phone"])
        if checked["phone"] is None:
            raise InvalidInput("Enter a valid phone number.", field="phone")
    return checked


def _sync_identities(session: Session, contact: Contact) -> None:
    for kind in ("email", "phone", "user_id"):
        value = getattr(contact, kind)
        session.exec(
            delete(ContactIdentity).where(
                ContactIdentity.contact_id == contact.id,
                ContactIdentity.kind == kind,
                ContactIdentity.value != (value or ""),
            )
        )
        if (
            value
            and session.exec(
                select(ContactIdentity.id).where(
                    ContactIdentity.tenant_id == contact.tenant_id,
                    ContactIdentity.kind == kind,
                    ContactIdentity.value == value,
                )
            ).first()
            is None
        ):
            session.add(
                ContactIdentity(
                    tenant_id=contact.tenant_id, contact_id=contact.id, kind=kind, value=value
                )
            )


def _unique_holder(session: Session, contact: Contact, field: str) -> None:
    value = getattr(contact, field)
    if not value:
        return
    column = getattr(Contact, field)
    holder = session.exec(
        select(Contact.id).where(
            Contact.tenant_id == contact.tenant_id, column == value, Contact.id != contact.id
        )
    ).first()
    if holder is not None:
        raise Conflict(f"Another customer already has this {field.replace('_', ' ')}.", field=field)


EDITABLE = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "birthday",
    "user_id",
    "email_consent",
    "sms_consent",
    "traits",
)


def save_profile(
    *, session: Session, tenant_id: uuid.UUID, contact_id: int | None, fields: dict[str, Any]
) -> Contact:
    """Create (contact_id None) or update a profile; identities follow email, phone and userId."""
    checked = _checked_fields({k: v for k, v in fields.items() if k in EDITABLE})
    if contact_id is None:
        if not (checked.get("email") or checked.get("phone") or checked.get("user_id")):
            raise InvalidInput("A customer needs an email, a phone or a user id.", field="email")
        contact = Contact(tenant_id=tenant_id)
    else:
        contact = get_profile(session=session, tenant_id=tenant_id, contact_id=contact_id)
    with session.no_autoflush:  # check before the change reaches the unique index
        for name, value in checked.items():
            setattr(contact, name, value)
        for field in ("email", "phone", "user_id"):
            _unique_holder(session, contact, field)
    session.add(contact)
    session.flush()
    _sync_identities(session, contact)
    session.flush()
    return contact


def delete_profile(*, session: Session, tenant_id: uuid.UUID, contact_id: int) -> None:
    """Delete the profile, its identities and its events (orders and the emails sent to it
    stay, unlinked, for revenue and campaign statistics)."""
    contact = get_profile(session=session, tenant_id=tenant_id, contact_id=contact_id)
    session.exec(delete(Event).where(Event.contact_id == contact.id))
    session.exec(
        update(EmailMessage)  # no foreign key does it (models.email: EmailMessage)
        .where(EmailMessage.tenant_id == tenant_id, EmailMessage.contact_id == contact.id)
        .values(contact_id=None)
    )
    session.exec(delete(ContactIdentity).where(ContactIdentity.contact_id == contact.id))
    session.delete(contact)
    session.flush()


def _event_title(event: Event) -> str:
    if event.type == "track":
        return event.name
    if event.type in ("page", "screen"):
        return f"Viewed {event.name or event.type}"
    return event.type.title()


def _visit_title(visit: WebSession) -> str:
    source = " / ".join(filter(None, [visit.utm_source, visit.utm_medium])) or "direct"
    campaign = f" ({visit.utm_campaign})" if visit.utm_campaign else ""
    return f"Visit from {source}{campaign}, {visit.event_count} events"


def profile_timeline(
    *, session: Session, tenant_id: uuid.UUID, contact_id: int, limit: int = TIMELINE_LIMIT
) -> list[TimelineEntry]:
    """Events, visits and orders of one profile, newest first."""
    contact = get_profile(session=session, tenant_id=tenant_id, contact_id=contact_id)
    events = session.exec(
        select(Event)
        .where(Event.contact_id == contact.id)
        .order_by(col(Event.occurred_at).desc())
        .limit(limit)
    )
    orders = session.exec(
        select(Order)
        .where(Order.contact_id == contact.id)
        .order_by(col(Order.placed_at).desc())
        .limit(limit)
    )
    entries = [
        TimelineEntry(
            e.occurred_at,
            e.type,
            _event_title(e),
            ", ".join(f"{k}: {v}" for k, v in list((e.properties or {}).items())[:4]),
        )
        for e in events
    ]
    entries += [
        TimelineEntry(
            o.placed_at,
            "order",
            f"Order {o.external_id}",
            f"${o.total_cents / 100:,.2f} · {o.item_count} items · {o.source}",
        )
        for o in orders
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]
