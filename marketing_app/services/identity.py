"""Identity resolution: which profile an event belongs to, creating and merging profiles.

Identifiers: userId, anonymousId, email and phone (normalized). An event whose identifiers
point at several profiles merges them, except that two profiles with different userIds are
never merged (a shared device is not one person).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, tuple_, update
from sqlmodel import Session, col, select

from marketing_app.models import (
    Contact,
    ContactIdentity,
    EmailMessage,
    Event,
    Order,
    Segment,
    SegmentMember,
    WebSession,
)
from marketing_app.services.bulk import insert_ignoring_duplicates
from marketing_app.services.loyalty_merges import merge_loyalty
from marketing_app.services.segments import count_members

Identifier = tuple[str, str]  # (kind, value)
# Traits that carry another system's customer id, by identity kind.
EXTERNAL_ID_TRAITS = {
    "shopify": ("shopify_customer_id", "shopifyCustomerId"),
    "alpineiq": ("alpineiq_user_code", "alpineiqUserCode", "aiq_user_code"),
    "pos": ("pos_customer_id", "posCustomerId"),
}


def normalize_email(value: object) -> str | None:
    if not isinstance(value, str) or "@" not in value:
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def normalize_phone(value: object, region: str = "US") -> str | None:
    if not isinstance(value, str | int) or not str(value).strip():
        return None
    try:
        parsed = phonenumbers.parse(str(value), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def event_traits(event: Event) -> dict:
    """Traits an event carries: identify's own, or the context's for other types."""
    context_traits = (event.context or {}).get("traits")
    traits = dict(context_traits) if isinstance(context_traits, dict) else {}
    traits.update(event.traits or {})
    return traits


def identifiers_of(event: Event) -> list[Identifier]:
    found: list[Identifier] = []
    if event.user_id:
        found.append(("user_id", event.user_id))
    if event.anonymous_id:
        found.append(("anonymous_id", event.anonymous_id))
    if event.type == "alias" and event.properties.get("previousId"):
        previous = str(event.properties["previousId"])
        found += [("user_id", previous), ("anonymous_id", previous)]
    traits = event_traits(event)
    for kind, keys in EXTERNAL_ID_TRAITS.items():
        value = next((traits[k] for k in keys if traits.get(k) not in (None, "")), None)
        if isinstance(value, str | int) and not isinstance(value, bool):
            found.append((kind, str(value)[:320]))
    if email := normalize_email(traits.get("email")):
        found.append(("email", email))
    if phone := normalize_phone(traits.get("phone")):
        found.append(("phone", phone))
    return found


class IdentityMap:
    """The (kind, value) → contact id map for one processing batch, backed by the table."""

    def __init__(self, session: Session, tenant_id: uuid.UUID) -> None:
        self.session, self.tenant_id = session, tenant_id
        self.owner: dict[Identifier, int] = {}

    def preload(self, identifiers: Iterable[Identifier]) -> None:
        wanted = list(set(identifiers) - set(self.owner))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self.session.exec(
                select(
                    ContactIdentity.kind, ContactIdentity.value, ContactIdentity.contact_id
                ).where(
                    ContactIdentity.tenant_id == self.tenant_id,
                    tuple_(ContactIdentity.kind, ContactIdentity.value).in_(chunk),
                )
            )
            self.owner.update({(kind, value): contact_id for kind, value, contact_id in rows})

    def contacts_for(self, identifiers: list[Identifier]) -> list[int]:
        return sorted({self.owner[i] for i in identifiers if i in self.owner})

    def attach(self, contact_id: int, identifiers: list[Identifier]) -> None:
        new = [i for i in dict.fromkeys(identifiers) if i not in self.owner]
        rows = [
            {"tenant_id": self.tenant_id, "contact_id": contact_id, "kind": k, "value": v}
            for k, v in new
        ]
        insert_ignoring_duplicates(session=self.session, model=ContactIdentity, rows=rows)
        self.owner.update({i: contact_id for i in new})

    def reassign(self, loser: int, winner: int) -> None:
        self.owner = {i: (winner if c == loser else c) for i, c in self.owner.items()}


def choose_profile(
    session: Session, ids: IdentityMap, event: Event, candidates: list[int]
) -> tuple[int | None, list[int]]:
    """The profile the event belongs to (None: a new one) and the profiles to merge into it.

    Profiles that carry another userId are other people and are never merged.
    """
    users = dict(
        session.exec(
            select(Contact.id, Contact.user_id).where(col(Contact.id).in_(candidates))
        ).all()
    )
    if event.user_id:
        owner = ids.owner.get(("user_id", event.user_id))
        mergeable = [c for c in candidates if users[c] in (None, event.user_id)]
        if owner is None and not mergeable:
            return None, []
        winner = owner if owner is not None else mergeable[0]
        return winner, [c for c in mergeable if c != winner]
    with_user = [c for c in candidates if users[c]]
    winner = with_user[0] if with_user else candidates[0]
    return winner, [c for c in candidates if c != winner and users[c] in (None, users[winner])]


def _move_memberships(session: Session, winner_id: int, loser_id: int) -> list[int]:
    """Lists and segments the loser was in now hold the winner (dynamic ones refold anyway).

    Returns the segments whose member count may change when the loser's row goes."""
    affected = list(
        session.exec(select(SegmentMember.segment_id).where(SegmentMember.contact_id == loser_id))
    )
    theirs = select(SegmentMember.segment_id).where(SegmentMember.contact_id == winner_id)
    session.exec(
        update(SegmentMember)
        .where(
            SegmentMember.contact_id == loser_id,
            col(SegmentMember.segment_id).not_in(theirs),
        )
        .values(contact_id=winner_id)
    )
    return affected


def _recount_members(session: Session, segment_ids: list[int]) -> None:
    for segment_id in segment_ids:
        session.exec(
            update(Segment)
            .where(Segment.id == segment_id)
            .values(member_count=count_members(session, segment_id))
        )


def _move_messages(session: Session, tenant_id: uuid.UUID, winner_id: int, loser_id: int) -> None:
    """The loser's emails become the winner's (its history, the frequency cap); where both got
    the same campaign, the loser's row keeps its statistics with no profile, as a deleted
    profile's do (one row per campaign and profile)."""
    mine = (EmailMessage.tenant_id == tenant_id, EmailMessage.contact_id == loser_id)
    both = select(EmailMessage.campaign_id).where(
        EmailMessage.tenant_id == tenant_id, EmailMessage.contact_id == winner_id
    )
    session.exec(
        update(EmailMessage)
        .where(*mine, col(EmailMessage.campaign_id).in_(both))
        .values(contact_id=None)
    )
    session.exec(update(EmailMessage).where(*mine).values(contact_id=winner_id))


def merge_profiles(session: Session, ids: IdentityMap, winner_id: int, loser_id: int) -> None:
    """Move everything of the loser to the winner, combine facts, delete the loser."""
    winner, loser = session.get(Contact, winner_id), session.get(Contact, loser_id)
    for model in (ContactIdentity, Event, Order, WebSession):
        session.exec(update(model).where(model.contact_id == loser_id).values(contact_id=winner_id))
    winner.order_count += loser.order_count
    winner.total_spent_cents += loser.total_spent_cents
    winner.last_order_at = max(
        filter(None, [winner.last_order_at, loser.last_order_at]), default=None
    )
    winner.last_seen_at = max(filter(None, [winner.last_seen_at, loser.last_seen_at]), default=None)
    winner.first_seen_at = min(
        filter(None, [winner.first_seen_at, loser.first_seen_at]), default=None
    )
    winner.created_at = min(winner.created_at, loser.created_at)
    moved = {
        f: getattr(loser, f)
        for f in ("user_id", "email", "phone", "first_name", "last_name", "birthday")
        if not getattr(winner, f)
    }
    winner.traits = {**(loser.traits or {}), **(winner.traits or {})}
    # Points and list memberships would otherwise go with the loser's row (cascades).
    merge_loyalty(
        session=session, tenant_id=winner.tenant_id, winner_id=winner_id, loser_id=loser_id
    )
    affected = _move_memberships(session, winner_id, loser_id)
    _move_messages(session, winner.tenant_id, winner_id, loser_id)
    session.exec(delete(Contact).where(Contact.id == loser_id))
    session.flush()
    _recount_members(
        session, affected
    )  # the loser's unique email/phone must be gone before the winner takes them
    for name, value in moved.items():
        setattr(winner, name, value)
    session.add(winner)
    ids.reassign(loser_id, winner_id)
