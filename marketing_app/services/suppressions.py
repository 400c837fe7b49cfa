"""A tenant's suppression list: addresses no marketing may reach, and why.

Rows come from hard bounces and complaints (services.email_events) and from marketers adding
an address by hand. Addresses are stored normalized (lower-case email, E.164 phone), the way
contacts hold them, so the audience query's plain equality finds them.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlmodel import Session, col, select

from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import Suppression
from marketing_app.services.bulk import insert_returning_new_keys
from marketing_app.services.identity import normalize_email, normalize_phone
from marketing_app.services.loyalty_programs import refuse_nul

CHANNELS = ("email", "sms")
PAGE_LIMIT = 100
MAX_ID = 2**63 - 1
REASON_LABELS = {
    "bounce": "Hard bounce",
    "complaint": "Marked as spam",
    "manual": "Added by hand",
}


def reason_label(reason: str) -> str:
    return REASON_LABELS.get(reason, reason.replace("_", " ").capitalize() or "Unknown")


def _channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidInput(f"Unknown channel {channel!r}; use email or sms.", field="channel")
    return channel


def normalized_address(channel: str, address: str) -> str:
    """The address as stored, or InvalidInput saying what is wrong with it."""
    address = refuse_nul(address or "", "address", "The address").strip()
    if _channel(channel) == "email":
        found = normalize_email(address)
        if found is None:
            raise InvalidInput("Enter a valid email address.", field="address")
        return found
    found = normalize_phone(address)
    if found is None:
        raise InvalidInput("Enter a valid phone number.", field="address")
    return found


def list_suppressions(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    channel: str = "email",
    search: str = "",
    limit: int = 25,
    offset: int = 0,
) -> tuple[list[Suppression], int]:
    """A page of the tenant's suppressions on `channel`, newest first, and how many match."""
    query = select(Suppression).where(
        Suppression.tenant_id == tenant_id, Suppression.channel == _channel(channel)
    )
    text = search.strip().lower()
    if text:
        query = query.where(col(Suppression.address).contains(text, autoescape=True))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Suppression.created_at).desc(), col(Suppression.id).desc())
        .limit(max(1, min(limit, PAGE_LIMIT)))
        .offset(max(0, offset))
    ).all()
    return list(rows), total


def add_suppression(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    address: str,
    channel: str = "email",
    reason: str = "manual",
) -> Suppression:
    """Block an address; Conflict (saying since when and why) when it already is."""
    address = normalized_address(channel, address)
    row = {"tenant_id": tenant_id, "channel": channel, "address": address, "reason": reason[:30]}
    new = insert_returning_new_keys(session=session, model=Suppression, rows=[row], key="id")
    found = session.exec(
        select(Suppression).where(
            Suppression.tenant_id == tenant_id,
            Suppression.channel == channel,
            Suppression.address == address,
        )
    ).one()
    if found.id not in new:
        since = found.created_at.strftime("%Y-%m-%d")
        raise Conflict(
            f"{address} is already suppressed ({reason_label(found.reason).lower()}, "
            f"since {since}).",
            field="address",
        )
    return found


def remove_suppression(
    *, session: Session, tenant_id: uuid.UUID, suppression_id: int
) -> Suppression:
    """Unblock an address (mail may reach it again); returns the removed row."""
    found = session.get(Suppression, suppression_id) if 0 < suppression_id <= MAX_ID else None
    if found is None or found.tenant_id != tenant_id:
        raise NotFound("That suppression does not exist.")
    session.delete(found)
    session.flush()
    return found
