"""POS people to profiles, set-based: who a POS customer or an order's buyer is.

Identity "pos" (the POS customer id) first, else the normalized email or phone; profiles are
created for people no one matches, and the identities a profile lacks are attached.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert
from sqlmodel import Session, col, select

from marketing_app.models import Contact, ContactIdentity
from marketing_app.models.base import utcnow
from marketing_app.providers.alleaves import PosCustomer, PosOrder
from marketing_app.services.bulk import insert_ignoring_duplicates
from marketing_app.services.identity import IdentityMap, normalize_email, normalize_phone


@dataclass(frozen=True)
class PosPerson:
    """Who a POS customer or an order's buyer is, as identifiers."""

    pos_id: str | None
    email: str | None
    phone: str | None
    first_name: str = ""
    last_name: str = ""
    alpine_code: str | None = None

    def lookups(self) -> list[tuple[str, str]]:
        found = [("pos", self.pos_id), ("email", self.email), ("phone", self.phone)]
        return [(kind, value) for kind, value in found if value]

    def identifiers(self) -> list[tuple[str, str]]:
        code = [("alpineiq", self.alpine_code[:320])] if self.alpine_code else []
        return self.lookups() + code


def customer_person(customer: PosCustomer) -> PosPerson:
    return PosPerson(
        customer.id,
        normalize_email(customer.email),
        normalize_phone(customer.phone),
        (customer.first_name or "")[:100],
        (customer.last_name or "")[:100],
        customer.alpine_user_code,
    )


def order_person(order: PosOrder) -> PosPerson | None:
    person = PosPerson(
        order.customer_id,
        normalize_email(order.customer_email),
        normalize_phone(order.customer_phone),
    )
    return person if person.lookups() else None


# --- credentials and state -------------------------------------------------------------------


def owner(ids: IdentityMap, person: PosPerson) -> int | None:
    """The profile of the first identifier that has one: POS id, then email, then phone."""
    return next((ids.owner[i] for i in person.lookups() if i in ids.owner), None)


def _contacts_by_field(session: Session, tenant_id, people: list[PosPerson], ids) -> None:
    """Profiles that hold an email or phone without an identity row count as matches too."""
    for name in ("email", "phone"):
        values = {getattr(p, name) for p in people if getattr(p, name)}
        values -= {v for k, v in ids.owner if k == name}
        column = getattr(Contact, name)
        for start in range(0, len(values), 500):
            chunk = sorted(values)[start : start + 500]
            rows = session.exec(
                select(column, Contact.id).where(
                    Contact.tenant_id == tenant_id, col(column).in_(chunk)
                )
            )
            ids.owner.update({(name, value): contact_id for value, contact_id in rows})


def _create_profiles(session: Session, tenant_id, groups: list[list[PosPerson]]) -> list[int]:
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
    statement = insert(Contact).returning(Contact.id, sort_by_parameter_order=True)
    return list(session.execute(statement, rows).scalars())


def _new_profile_groups(ids: IdentityMap, people: list[PosPerson]) -> list[list[PosPerson]]:
    """People without a profile, grouped so that two sharing an identifier become one."""
    pending: dict[tuple[str, str], int] = {}  # identifier -> index of its group
    groups: list[list[PosPerson]] = []
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
    session: Session, tenant_id: uuid.UUID, ids: IdentityMap, people: Iterable[PosPerson]
) -> int:
    """Every person gets a profile (found or created) and its identities; returns created."""
    people = list(people)
    ids.preload(i for p in people for i in p.identifiers())
    _contacts_by_field(session, tenant_id, people, ids)
    groups = _new_profile_groups(ids, people)
    new_ids = _create_profiles(session, tenant_id, groups) if groups else []
    contact_of = {id(p): c for c, group in zip(new_ids, groups, strict=True) for p in group}
    attach_identities(session, tenant_id, ids, people, contact_of)
    return len(new_ids)


def attach_identities(session: Session, tenant_id, ids: IdentityMap, people, contact_of) -> None:
    """Offer every identifier; the unique key keeps the ones another profile already holds."""
    new: dict[tuple[str, str], int] = {}
    for person in people:
        contact_id = contact_of.get(id(person)) or owner(ids, person)
        for identifier in person.identifiers():
            new.setdefault(identifier, ids.owner.get(identifier, contact_id))
    rows = [
        {"tenant_id": tenant_id, "contact_id": c, "kind": k, "value": v, "created_at": utcnow()}
        for (k, v), c in new.items()
    ]
    insert_ignoring_duplicates(session=session, model=ContactIdentity, rows=rows)
    ids.owner.update(new)


# --- orders ----------------------------------------------------------------------------------
