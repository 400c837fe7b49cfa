"""What a template knows about its recipient: built from a contact row, cheaply.

`recipient_context` runs once per recipient of a campaign (100,000 times for a big one), so it
only reads attributes; names of stores, reps and loyalty balances come in `extra`, loaded for
a whole batch by `recipient_contexts` (three small queries per batch).
"""

from __future__ import annotations

import json
import re
import uuid
from collections import namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Text, cast, or_
from sqlmodel import Session, select

from marketing_app.models import Contact, Location, LoyaltyAccount, StaffMember, Tenant
from marketing_app.services.bulk_reads import one_of
from marketing_app.services.email_rendering_env import EmailDate

_COMPANY_TRAITS = ("company", "company_name", "business_name", "account_name")
_REP_TRAITS = ("sales_rep", "rep_name", "barber", "budtender")
_LONG_DIGITS = re.compile(r"\d{20}")  # past 64 bits (or a long digit string: harmless)


@dataclass(slots=True)  # not frozen: a frozen __init__ sets each field the slow way
class RecipientContext:
    contact_id: int | None
    email: str
    first_name: str = ""
    last_name: str = ""
    customer_name: str = ""
    phone: str = ""
    last_order_date: date | str = ""
    order_count: int = 0
    territory: str = ""
    store: str = ""
    city: str = ""
    rep_name: str = ""
    loyalty_points: int | str = ""
    loyalty_tier: str = ""
    traits: dict[str, Any] = field(default_factory=dict)

    def variables(self) -> dict[str, Any]:
        """The template variables of this recipient (see RECIPIENT_VARIABLES)."""
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "customer_name": self.customer_name,
            "email": self.email,
            "phone": self.phone,
            "last_order_date": self.last_order_date,
            "order_count": self.order_count,
            "territory": self.territory,
            "store": self.store,
            "city": self.city,
            "rep_name": self.rep_name,
            "loyalty_points": self.loyalty_points,
            "loyalty_tier": self.loyalty_tier,
            "traits": self.traits,
        }


SAMPLE_RECIPIENT = RecipientContext(
    contact_id=None,
    email="jordan.rivera@example.com",
    first_name="Jordan",
    last_name="Rivera",
    customer_name="Jordan Rivera",
    phone="+19195550123",
    last_order_date=EmailDate(2025, 3, 14),
    order_count=7,
    territory="Triangle",
    store="Downtown",
    city="Raleigh",
    rep_name="Sam Carter",
    loyalty_points=420,
    loyalty_tier="Gold",
)


# What a recipient context reads of a profile, for reads of thousands at once: plain rows are
# several times cheaper to load than ORM objects, and traits come as JSON text (the driver's
# own decoding of jsonb was a third of loading the rows).
RECIPIENT_FIELDS = (
    "id", "tenant_id", "email", "phone", "first_name", "last_name", "traits",
    "last_order_at", "order_count", "location_id", "staff_id",
)  # fmt: skip
RECIPIENT_COLUMNS = tuple(
    cast(Contact.traits, Text).label(name) if name == "traits" else getattr(Contact, name)
    for name in RECIPIENT_FIELDS
)
RecipientRow = namedtuple("RecipientRow", RECIPIENT_FIELDS)  # a read profile (noqa: PYI024)


def _first_trait(traits: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    if traits:
        for key in keys:
            value = traits.get(key)
            if value is not None and value != "":
                return value if isinstance(value, str) else str(value)
    return ""


def _traits_of(value: Any) -> dict[str, Any]:
    """A contact's traits: a dict, or the JSON text bulk reads fetch instead (orjson reads it
    several times faster, but makes a float of an integer past 64 bits and refuses 1e400:
    those go to json, which keeps them as they are)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if _LONG_DIGITS.search(value) else orjson.loads(value)
        except orjson.JSONDecodeError:
            value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _local_date(moment: datetime | None, time_zone: ZoneInfo | None) -> date | str:
    if moment is None:
        return ""
    local = moment.astimezone(time_zone) if time_zone is not None else moment
    return EmailDate(local.year, local.month, local.day)


def recipient_context(
    contact: Any, extra: Mapping[str, Any] | None = None, *, time_zone: ZoneInfo | None = None
) -> RecipientContext:
    """A recipient from a Contact (or any row with its columns); `extra` holds what other
    tables know (store, territory, city, rep_name, loyalty_points, loyalty_tier)."""
    traits = _traits_of(contact.traits)
    extra = extra or {}
    first, last = contact.first_name or "", contact.last_name or ""
    full_name = f"{first} {last}".strip()
    return RecipientContext(
        contact_id=contact.id,
        email=contact.email or "",
        first_name=first,
        last_name=last,
        customer_name=_first_trait(traits, _COMPANY_TRAITS) or full_name,
        phone=contact.phone or "",
        last_order_date=_local_date(contact.last_order_at, time_zone),
        order_count=contact.order_count or 0,
        territory=extra.get("territory") or _first_trait(traits, ("territory",)),
        store=extra.get("store") or _first_trait(traits, ("store", "location")),
        city=extra.get("city") or _first_trait(traits, ("city",)),
        rep_name=extra.get("rep_name") or _first_trait(traits, _REP_TRAITS),
        loyalty_points=extra.get("loyalty_points", ""),
        loyalty_tier=extra.get("loyalty_tier", ""),
        traits=traits,
    )


def _place_extras(location: Location | None, staff: StaffMember | None) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if location is not None:
        extra["territory" if location.kind == "territory" else "store"] = location.name
        extra["city"] = location.city
    if staff is not None:
        extra["rep_name"] = staff.name
    return extra


def recipient_contexts(
    *, session: Session, tenant_id: uuid.UUID, contacts: Sequence[Contact]
) -> dict[int, RecipientContext]:
    """Recipients for a batch of this tenant's contacts, keyed by contact id."""
    tenant = session.get(Tenant, tenant_id)
    time_zone = ZoneInfo(tenant.time_zone) if tenant is not None else None
    locations = {
        loc.id: loc for loc in session.exec(select(Location).where(Location.tenant_id == tenant_id))
    }
    staff = {
        member.id: member
        for member in session.exec(select(StaffMember).where(StaffMember.tenant_id == tenant_id))
    }
    ids = [contact.id for contact in contacts if contact.id is not None]
    accounts = (
        {
            row.contact_id: row
            for row in session.exec(
                select(LoyaltyAccount).where(
                    LoyaltyAccount.tenant_id == tenant_id,
                    or_(*one_of(session, LoyaltyAccount.contact_id, ids)),
                )
            )
        }
        if ids
        else {}
    )
    found: dict[int, RecipientContext] = {}
    for contact in contacts:
        if contact.tenant_id != tenant_id or contact.id is None:
            continue
        extra = _place_extras(locations.get(contact.location_id), staff.get(contact.staff_id))
        if (account := accounts.get(contact.id)) is not None:
            extra.update(loyalty_points=account.balance, loyalty_tier=account.tier)
        found[contact.id] = recipient_context(contact, extra, time_zone=time_zone)
    return found
