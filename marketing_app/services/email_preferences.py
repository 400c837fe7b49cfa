"""The preference center: which topics a profile hears about, on which channel.

A tenant lists its topics in `tenant.settings["email_topics"]` (key and label); every
marketing campaign has one topic. A profile with no preference row for a topic hears about
it when it has consent for the channel; a row with `subscribed = False` for the topic or
for "all" (the one-click unsubscribe) stops it. Choosing a topic again after "all" writes
"all" back to subscribed, so the topic rows decide.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from marketing_app.domain.email_events import EmailEventIn, EmailEventKind
from marketing_app.domain.errors import InvalidInput, NotFound
from marketing_app.models import Contact, EmailMessage, SubscriptionPreference, Tenant
from marketing_app.models.base import utcnow
from marketing_app.services.bulk import insert_ignoring_duplicates
from marketing_app.services.campaign_audience import ALL_TOPICS
from marketing_app.services.email_events import apply_email_events, unsubscribe_contact
from marketing_app.services.email_tokens import read_message_token, read_preference_token

CHANNELS = ("email", "sms")
DEFAULT_TOPICS = (
    {"key": "marketing", "label": "News, specials and new products"},
    {"key": "loyalty", "label": "Rewards and points"},
    {"key": "events", "label": "Events and tastings"},
)


@dataclass(frozen=True)
class TopicChoice:
    channel: str
    topic: str
    label: str
    subscribed: bool


def tenant_topics(tenant: Tenant) -> list[dict[str, str]]:
    topics = (tenant.settings or {}).get("email_topics") or DEFAULT_TOPICS
    return [{"key": str(t["key"]), "label": str(t.get("label") or t["key"])} for t in topics]


def _contact(session: Session, tenant_id: uuid.UUID, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.tenant_id != tenant_id:
        raise NotFound("This link is not valid.")
    return contact


def _rows(session: Session, tenant_id, contact_id) -> dict[tuple[str, str], bool]:
    rows = session.exec(
        select(SubscriptionPreference).where(
            SubscriptionPreference.tenant_id == tenant_id,
            SubscriptionPreference.contact_id == contact_id,
        )
    ).all()
    return {(row.channel, row.topic): row.subscribed for row in rows}


def preferences_of(*, session: Session, tenant_id: uuid.UUID, contact_id: int) -> list[TopicChoice]:
    """Each channel x topic with whether the profile hears about it now."""
    contact = _contact(session, tenant_id, contact_id)
    tenant = session.get(Tenant, tenant_id)
    chosen = _rows(session, tenant_id, contact_id)
    consent = {"email": contact.email_consent, "sms": contact.sms_consent}
    choices = []
    for channel in CHANNELS:
        everything = chosen.get((channel, ALL_TOPICS), True)
        for topic in tenant_topics(tenant):
            own = chosen.get((channel, topic["key"]))
            heard = own if own is not None else (everything and consent[channel])
            choices.append(TopicChoice(channel, topic["key"], topic["label"], bool(heard)))
    return choices


def set_preference(
    session: Session,
    tenant_id: uuid.UUID,
    contact_id: int,
    *,
    channel: str,
    topic: str,
    subscribed: bool,
    source: str,
    now: datetime | None = None,
) -> None:
    """Insert or update one preference row."""
    now = now or utcnow()
    row = {
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "channel": channel,
        "topic": topic,
        "subscribed": subscribed,
        "source": source[:30],
        "updated_at": now,
    }
    insert_ignoring_duplicates(session=session, model=SubscriptionPreference, rows=[row])
    existing = session.exec(
        select(SubscriptionPreference).where(
            SubscriptionPreference.tenant_id == tenant_id,
            SubscriptionPreference.contact_id == contact_id,
            SubscriptionPreference.channel == channel,
            SubscriptionPreference.topic == topic,
        )
    ).one()
    existing.subscribed, existing.source, existing.updated_at = subscribed, source[:30], now
    session.add(existing)
    session.flush()


def save_preferences(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    contact_id: int,
    subscribed: set[tuple[str, str]],
    source: str = "preference_center",
) -> list[TopicChoice]:
    """Store the whole form: the (channel, topic) pairs in `subscribed` on, the rest off.
    Choosing any email topic also grants email consent (the profile asked for it)."""
    contact = _contact(session, tenant_id, contact_id)
    tenant = session.get(Tenant, tenant_id)
    keys = {topic["key"] for topic in tenant_topics(tenant)}
    unknown = {pair for pair in subscribed if pair[0] not in CHANNELS or pair[1] not in keys}
    if unknown:
        raise InvalidInput("Unknown topic or channel.", field="topics")
    for channel in CHANNELS:
        wanted = {topic for ch, topic in subscribed if ch == channel}
        set_preference(
            session,
            tenant_id,
            contact_id,
            channel=channel,
            topic=ALL_TOPICS,
            subscribed=bool(wanted),
            source=source,
        )
        for topic in keys:
            set_preference(
                session,
                tenant_id,
                contact_id,
                channel=channel,
                topic=topic,
                subscribed=topic in wanted,
                source=source,
            )
    if any(ch == "email" for ch, _ in subscribed) and not contact.email_consent:
        contact.email_consent, contact.email_consent_source = True, source[:30]
        contact.email_consent_at = utcnow()
        session.add(contact)
        session.flush()
    return preferences_of(session=session, tenant_id=tenant_id, contact_id=contact_id)


@dataclass(frozen=True)
class LinkOwner:
    """Whose unsubscribe or preference link this is."""

    tenant_id: uuid.UUID
    tenant_name: str
    contact_id: int
    message_id: int | None  # None for a preference link outside any message


def link_owner(*, session: Session, token: str) -> LinkOwner:
    """The profile a message token or a preference token names; NotFound when forged."""
    try:
        tenant_id, message_id = read_message_token(token)
        message = session.get(EmailMessage, message_id) if message_id else None
        if message is None or message.tenant_id != tenant_id or message.contact_id is None:
            raise NotFound("This link is not valid.")
        contact_id: int = message.contact_id
    except NotFound:
        tenant_id, contact_id = read_preference_token(token)
        message_id = None
    contact = _contact(session, tenant_id, contact_id)
    tenant = session.get(Tenant, tenant_id)
    return LinkOwner(tenant_id, tenant.name, contact.id, message_id)


def unsubscribe_by_link(
    *, session: Session, token: str, source: str, now: datetime | None = None
) -> LinkOwner:
    """The one-click unsubscribe: from every marketing topic on email, at once."""
    now = now or utcnow()
    owner = link_owner(session=session, token=token)
    if owner.message_id is not None:
        event = EmailEventIn(
            provider="tracking",
            event_id=f"unsubscribe:{owner.message_id}",
            kind=EmailEventKind.UNSUBSCRIBE,
            occurred_at=now,
            message_id=owner.message_id,
            detail={"source": source},
        )
        apply_email_events(session=session, events=[event], now=now)
    # Written here too: a second click (after a resubscribe) is a duplicate event that
    # applies nothing, yet must unsubscribe again.
    unsubscribe_contact(
        session=session,
        tenant_id=owner.tenant_id,
        contact_id=owner.contact_id,
        source=source,
        at=now,
    )
    return owner
