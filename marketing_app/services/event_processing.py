"""Turning stored events into profile changes: who they belong to, traits, computed facts.

Runs in a worker after the API has answered. Events are claimed in id order, so a profile's
facts are applied in arrival order; a tenant's events are processed by one worker at a time.
"""

from __future__ import annotations

import uuid
import zlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from marketing_app.models import Contact, Event, Location, StaffMember
from marketing_app.models.base import utcnow
from marketing_app.services.identity import (
    IdentityMap,
    choose_profile,
    event_traits,
    identifiers_of,
    merge_profiles,
    normalize_email,
    normalize_phone,
)
from marketing_app.services.tracked_orders import record_tracked_order
from marketing_app.services.web_sessions import Sessionizer

PROCESS_BATCH_SIZE = 1000  # events per transaction
CORE_TRAITS = {
    "email_consent",
    "emailConsent",
    "email_subscribed",
    "sms_consent",
    "smsConsent",
    "sms_subscribed",
    "timezone",
    "email",
    "phone",
    "firstName",
    "first_name",
    "lastName",
    "last_name",
    "name",
    "birthday",
}


def _lock_tenant(session: Session, tenant_id: uuid.UUID) -> None:
    """Serialize processing per tenant (PostgreSQL); SQLite already has a single writer."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(b"events:" + tenant_id.bytes)
        session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=key))


def _profile_for(session: Session, ids: IdentityMap, visits: Sessionizer, event: Event) -> Contact:
    identifiers = identifiers_of(event)
    candidates = ids.contacts_for(identifiers)
    winner, losers = choose_profile(session, ids, event, candidates) if candidates else (None, [])
    if winner is None:
        contact = Contact(tenant_id=event.tenant_id, created_at=event.occurred_at)
        session.add(contact)
        session.flush()
        ids.attach(contact.id, identifiers)
        return contact
    for loser in losers:
        merge_profiles(session, ids, winner, loser)
        visits.reassign(loser, winner)
    # Identifiers already owned by a protected (other userId) profile stay with it.
    ids.attach(winner, identifiers)
    return session.get(Contact, winner)


def _free(session: Session, contact: Contact, field: str, value: str) -> bool:
    """True when no other profile of the tenant holds this unique value."""
    column = getattr(Contact, field)
    holder = session.exec(
        select(Contact.id).where(Contact.tenant_id == contact.tenant_id, column == value)
    ).first()
    return holder is None or holder == contact.id


def _parse_birthday(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def apply_traits(session: Session, contact: Contact, traits: dict) -> None:
    if (email := normalize_email(traits.get("email"))) and _free(session, contact, "email", email):
        contact.email = email
    if (phone := normalize_phone(traits.get("phone"))) and _free(session, contact, "phone", phone):
        contact.phone = phone
    first = traits.get("firstName") or traits.get("first_name")
    last = traits.get("lastName") or traits.get("last_name")
    if not first and isinstance(traits.get("name"), str):
        first, _, last = traits["name"].strip().partition(" ")
    contact.first_name = str(first)[:100] if first else contact.first_name
    contact.last_name = str(last)[:100] if last else contact.last_name
    if birthday := _parse_birthday(traits.get("birthday")) if traits.get("birthday") else None:
        contact.birthday = birthday
    assign_place_and_staff(session, contact, traits)
    custom = {k: v for k, v in traits.items() if k not in CORE_TRAITS}
    if custom:
        contact.traits = {**(contact.traits or {}), **custom}


PLACE_TRAITS = ("location", "store", "territory")
STAFF_TRAITS = ("sales_rep", "salesRep", "barber", "budtender")


def assign_place_and_staff(session: Session, contact: Contact, traits: dict) -> None:
    """Link the profile to the tenant's location and staff member named in its traits.

    Names match case-insensitively; an unknown name stays a custom trait only.
    """
    for keys, model, column in (
        (PLACE_TRAITS, Location, "location_id"),
        (STAFF_TRAITS, StaffMember, "staff_id"),
    ):
        name = next(
            (traits[k] for k in keys if isinstance(traits.get(k), str) and traits[k].strip()), None
        )
        if name is None:
            continue
        found = session.exec(
            select(model.id).where(
                model.tenant_id == contact.tenant_id, func.lower(model.name) == name.strip().lower()
            )
        ).first()
        if found is not None:
            setattr(contact, column, found)


CONSENT_TRAITS = {
    "email": ("email_consent", "emailConsent", "email_subscribed"),
    "sms": ("sms_consent", "smsConsent", "sms_subscribed"),
}
CONSENT_WORDS = {
    "subscribed": True,
    "yes": True,
    "true": True,
    "opted_in": True,
    "unsubscribed": False,
    "no": False,
    "false": False,
    "opted_out": False,
}


def _consent_value(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    return CONSENT_WORDS.get(str(value).strip().lower()) if isinstance(value, str) else None


def apply_consent(contact: Contact, traits: dict, at: datetime, *, source: str) -> None:
    """Record consent per channel with its source and time; an older statement never wins."""
    for channel, keys in CONSENT_TRAITS.items():
        value = next((_consent_value(traits[k]) for k in keys if k in traits), None)
        changed_at = getattr(contact, f"{channel}_consent_at")
        if value is None or (changed_at is not None and changed_at > at):
            continue
        setattr(contact, f"{channel}_consent", value)
        setattr(contact, f"{channel}_consent_source", source)
        setattr(contact, f"{channel}_consent_at", at)


def apply_time_zone(contact: Contact, event: Event) -> None:
    candidate = (event.traits or {}).get("timezone") or (event.context or {}).get("timezone")
    if isinstance(candidate, str) and candidate != contact.time_zone:
        try:
            ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            return
        contact.time_zone = candidate


def apply_facts(session: Session, contact: Contact, event: Event) -> None:
    """First and last seen; an order event stores its order and, when new, counts it."""
    seen = event.occurred_at
    contact.last_seen_at = max(filter(None, [contact.last_seen_at, seen]))
    contact.first_seen_at = min(filter(None, [contact.first_seen_at, seen]))
    record_tracked_order(session, contact, event)


def process_pending_events(
    *, session: Session, tenant_id: uuid.UUID, limit: int = PROCESS_BATCH_SIZE
) -> int:
    """Attach up to `limit` unprocessed events to profiles; returns how many were handled."""
    _lock_tenant(session, tenant_id)
    events = list(
        session.exec(
            select(Event)
            .where(Event.tenant_id == tenant_id, col(Event.processed_at).is_(None))
            .order_by(Event.id)
            .limit(limit)
        )
    )
    if not events:
        return 0
    ids = IdentityMap(session, tenant_id)
    ids.preload(i for event in events for i in identifiers_of(event))
    visits = Sessionizer(session, tenant_id)
    now = utcnow()
    for event in events:
        contact = _profile_for(session, ids, visits, event)
        if (
            contact.user_id is None
            and event.user_id
            and _free(session, contact, "user_id", event.user_id)
        ):
            contact.user_id = event.user_id
        if event.type == "identify" or event.traits or (event.context or {}).get("traits"):
            apply_traits(session, contact, event_traits(event))
            apply_consent(contact, event_traits(event), event.occurred_at, source="tracking")
        apply_time_zone(contact, event)
        apply_facts(session, contact, event)
        visits.record(event, contact.id)
        event.contact_id, event.processed_at = contact.id, now
        session.add_all([contact, event])
        session.flush()
    session.commit()
    return len(events)


def pending_event_count(*, session: Session, tenant_id: uuid.UUID) -> int:
    return session.exec(
        select(func.count()).where(Event.tenant_id == tenant_id, col(Event.processed_at).is_(None))
    ).one()


MAX_BATCHES_PER_RUN = 50  # then yield the worker; the next enqueue or tick continues
STALE_AFTER = timedelta(seconds=30)  # unprocessed this long: its enqueue was lost


def process_all_pending(*, session: Session, tenant_id: uuid.UUID) -> int:
    handled = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        count = process_pending_events(session=session, tenant_id=tenant_id)
        handled += count
        if count < PROCESS_BATCH_SIZE:
            break
    return handled


def tenants_with_stale_events(*, session: Session) -> list[uuid.UUID]:
    cutoff = utcnow() - STALE_AFTER
    return list(
        session.exec(
            select(Event.tenant_id)
            .where(col(Event.processed_at).is_(None), Event.received_at < cutoff)
            .distinct()
        )
    )
