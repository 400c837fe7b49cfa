"""Provider people to profiles, set-based: who a POS customer, an order's buyer or an Alpine IQ
contact is.

A person is matched by its provider ids first (identity "pos" = the POS customer id, "alpineiq"
= the Alpine IQ contact id), else by the normalized email or phone; profiles are created for
people no one matches, and the identities a profile lacks are attached.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import and_, insert, or_, text
from sqlmodel import Session, select

from marketing_app.domain.errors import Conflict
from marketing_app.models import Contact, ContactIdentity
from marketing_app.models.base import utcnow
from marketing_app.providers.alleaves import PosCustomer, PosOrder
from marketing_app.providers.alpineiq import AiqContact
from marketing_app.services.bulk import copy_returning_new_keys, insert_ignoring_duplicates
from marketing_app.services.bulk_reads import one_of
from marketing_app.services.identity import IdentityMap, normalize_email, normalize_phone

IDENTIFIER_LENGTH = 320  # ContactIdentity.value
NEXT_CONTACT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('contacts', 'id')) FROM generate_series(1, :n)"
)
# What the lookups read: a sync checks their statistics as it grows them (bulk_reads).
IDENTITY_TABLES = ("contacts", "contact_identities")
# A sync sees the same few thousand addresses on every page (customers, then their orders):
# validating each once instead of once per order took a sixth of a 3,000-order sync.
NORMALIZED_CACHE = 65_536  # distinct values per process
email_of = lru_cache(maxsize=NORMALIZED_CACHE)(normalize_email)
phone_of = lru_cache(maxsize=NORMALIZED_CACHE)(normalize_phone)


@dataclass(frozen=True)
class Person:
    """Who a provider's customer is, as identifiers (email and phone already normalized)."""

    pos_id: str | None
    email: str | None
    phone: str | None
    first_name: str = ""
    last_name: str = ""
    alpine_code: str | None = None  # the Alpine IQ contact id

    def lookups(self) -> list[tuple[str, str]]:
        """Identifiers that find the profile, the most specific first."""
        code = self.alpine_code[:IDENTIFIER_LENGTH] if self.alpine_code else None
        found = [("pos", self.pos_id), ("alpineiq", code), ("email", self.email)]
        return [(kind, value) for kind, value in [*found, ("phone", self.phone)] if value]

    def identifiers(self) -> list[tuple[str, str]]:
        return self.lookups()


PosPerson = Person  # the name the POS sync first used


def _text(value: str | None, length: int = 100) -> str:
    return (value or "")[:length]


def customer_person(customer: PosCustomer) -> Person:
    return Person(
        customer.id,
        email_of(customer.email),
        phone_of(customer.phone),
        _text(customer.first_name),
        _text(customer.last_name),
        customer.alpine_user_code,
    )


def order_person(order: PosOrder) -> Person | None:
    person = Person(
        order.customer_id, email_of(order.customer_email), phone_of(order.customer_phone)
    )
    return person if person.lookups() else None


def contact_person(contact: AiqContact) -> Person:
    """An Alpine IQ contact: its contact id always identifies it."""
    return Person(
        None,
        email_of(contact.email),
        phone_of(contact.phone),
        _text(contact.first_name),
        _text(contact.last_name),
        contact.contact_id,
    )


def owner(ids: IdentityMap, person: Person) -> int | None:
    """The profile of the first identifier that has one (see `Person.lookups`)."""
    return next((ids.owner[i] for i in person.lookups() if i in ids.owner), None)


def _preload(session: Session, tenant_id, ids: IdentityMap, people: list[Person]) -> None:
    """The identity rows of these people's identifiers into `ids`, in one query on the unique
    (tenant, kind, value) index (IdentityMap.preload's (kind, value) IN list of thousands of
    pairs took half a second per thousand customers)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for person in people:
        for kind, value in person.identifiers():
            if (kind, value) not in ids.owner:
                wanted[kind].add(value)
    identity = ContactIdentity
    matches = [
        and_(identity.kind == kind, match)
        for kind, values in sorted(wanted.items())
        for match in one_of(session, identity.value, values)
    ]
    if matches:
        rows = session.exec(
            select(identity.kind, identity.value, identity.contact_id).where(
                identity.tenant_id == tenant_id, or_(*matches)
            )
        )
        ids.owner.update({(kind, value): contact_id for kind, value, contact_id in rows})


def _contacts_by_field(session: Session, tenant_id, people: list[Person], ids) -> None:
    """Profiles that hold an email or phone without an identity row count as matches too."""
    wanted = {
        name: {
            value for p in people if (value := getattr(p, name)) and (name, value) not in ids.owner
        }
        for name in ("email", "phone")
    }
    matches = [
        match
        for name, values in wanted.items()
        for match in one_of(session, getattr(Contact, name), values)
    ]
    if not matches:
        return
    rows = session.exec(
        select(Contact.email, Contact.phone, Contact.id).where(
            Contact.tenant_id == tenant_id, or_(*matches)
        )
    )
    for email, phone, contact_id in rows:
        for name, value in (("email", email), ("phone", phone)):
            if value in wanted[name]:
                ids.owner[(name, value)] = contact_id


def _create_profiles(session: Session, tenant_id, groups: list[list[Person]]) -> list[int]:
    taken: set[tuple[str, str]] = set()
    rows = []
    for group in groups:
        row = {"tenant_id": tenant_id, "first_name": "", "last_name": "", "traits": {}}
        for person in group:
            for name in ("email", "phone"):
                value = getattr(person, name)
                if value and name not in row and (name, value) not in taken:
                    row[name] = value
                    taken.add((name, value))
            row["first_name"] = row["first_name"] or person.first_name
            row["last_name"] = row["last_name"] or person.last_name
        rows.append({"email": None, "phone": None, **row})
    return _insert_contacts(session, rows)


def _column_defaults(model) -> dict:
    """The Python-side defaults of the model's columns, as an INSERT would apply them."""
    values = {}
    for column in model.__table__.columns:
        default = column.default
        if default is not None and not column.primary_key and not default.is_sequence:
            values[column.name] = default.arg(None) if default.is_callable else default.arg
    return values


def _insert_contacts(session: Session, rows: list[dict]) -> list[int]:
    """Insert profiles; their ids in the order of `rows`.

    PostgreSQL: the ids come from the sequence in one statement and the rows go by COPY (a
    multi-row INSERT ... RETURNING of 1,000 profiles took 0.2-0.4 s). A profile another writer
    created meanwhile with the same email or phone fails the sync, as the INSERT would: the next
    run maps it.
    """
    if session.get_bind().dialect.name != "postgresql":
        statement = insert(Contact).returning(Contact.id, sort_by_parameter_order=True)
        return list(session.execute(statement, rows).scalars())
    ids = list(session.execute(NEXT_CONTACT_IDS, {"n": len(rows)}).scalars())
    defaults = _column_defaults(Contact)
    full = [
        {**defaults, **row, "id": contact_id} for row, contact_id in zip(rows, ids, strict=True)
    ]
    created = copy_returning_new_keys(session=session, model=Contact, rows=full, key="id")
    if len(created) != len(full):
        raise Conflict("Customers changed while the sync read them; the next sync maps them.")
    return ids


def _new_profile_groups(ids: IdentityMap, people: list[Person]) -> list[list[Person]]:
    """People without a profile, grouped so that two sharing an identifier become one."""
    pending: dict[tuple[str, str], int] = {}  # identifier -> index of its group
    groups: list[list[Person]] = []
    for person in people:
        if owner(ids, person) is not None:
            continue
        index = next((pending[i] for i in person.lookups() if i in pending), None)
        if index is None:
            index = len(groups)
            groups.append([])
        groups[index].append(person)
        pending.update({i: index for i in person.lookups() if i not in pending})
    return groups


def map_people(
    session: Session, tenant_id: uuid.UUID, ids: IdentityMap, people: Iterable[Person]
) -> int:
    """Every person gets a profile (found or created) and its identities; returns created."""
    people = list(people)
    _preload(session, tenant_id, ids, people)
    stored = set(ids.owner)  # identity rows (earlier pages attached what they matched)
    _contacts_by_field(session, tenant_id, people, ids)
    groups = _new_profile_groups(ids, people)
    new_ids = _create_profiles(session, tenant_id, groups) if groups else []
    contact_of = {id(p): c for c, group in zip(new_ids, groups, strict=True) for p in group}
    attach_identities(session, tenant_id, ids, people, contact_of, stored)
    return len(new_ids)


def attach_identities(
    session: Session, tenant_id, ids: IdentityMap, people, contact_of, stored: set
) -> None:
    """Offer every identifier without a row; the unique key keeps the ones another profile
    took meanwhile. A profile matched by its email column gets that email's row here."""
    new: dict[tuple[str, str], int] = {}
    for person in people:
        contact_id = contact_of.get(id(person)) or owner(ids, person)
        for identifier in person.identifiers():
            if identifier not in stored:
                new.setdefault(identifier, ids.owner.get(identifier, contact_id))
    now = utcnow()
    rows = [
        {"tenant_id": tenant_id, "contact_id": c, "kind": k, "value": v, "created_at": now}
        for (k, v), c in new.items()
    ]
    insert_ignoring_duplicates(session=session, model=ContactIdentity, rows=rows, copy_key="value")
    ids.owner.update(new)
