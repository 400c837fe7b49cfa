"""Applying delivery and engagement events to email messages, a batch at a time.

Provider webhooks (SendGrid, SES, Postmark, Resend) and our own tracking endpoints hand
`EmailEventIn` values to `apply_email_events`. Per batch, in a handful of statements:

- each event's message is found by our message id, else by the provider's message id (and the
  recipient, since SendGrid shares one X-Message-Id among a request's recipients); the message
  rows are locked, so concurrent batches for the same message apply one after the other;
- an `EmailEvent` receipt is inserted or ignored on (provider, event id): a duplicate does
  nothing else;
- the message status only moves up `STATUS_RANK`, and each timestamp keeps its earliest value;
- hard bounces, drops for a bounced address and spam reports add the address to the tenant's
  suppression list; unsubscribes write a "not subscribed" preference;
- engagement becomes CDP events on the profile ("Email Delivered", "Email Opened", ...), the
  rows segment conditions read (services/segment_sql.py: `_engagement`).

The tenant always comes from the message row, never from the payload.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from marketing_app.domain.email_events import EmailEventIn
from marketing_app.domain.email_events import EmailEventKind as K
from marketing_app.domain.errors import InvalidInput, NotFound
from marketing_app.models import (
    Campaign,
    Contact,
    EmailEvent,
    EmailMessage,
    Event,
    SubscriptionPreference,
    Suppression,
)
from marketing_app.models import MessageStatus as S
from marketing_app.models.base import utcnow
from marketing_app.services.bulk import insert_ignoring_duplicates, insert_returning_new_keys
from marketing_app.services.campaign_audience import ALL_TOPICS

# How far along a message is. A status only moves to a higher rank: a late "processed" after
# "delivered" changes nothing, and neither does "delivered" after a bounce or a drop (both are
# terminal failures, equal in rank, so one never replaces the other). A bounce reported after
# "delivered" does win: receiving servers accept and bounce later. Statuses from before
# sending (queued, skipped, failed) rank lowest: a provider event proves the message went out.
STATUS_RANK: dict[str, int] = {
    S.QUEUED: 0,
    S.SKIPPED: 0,
    S.FAILED: 0,
    S.SENT: 1,
    S.PROCESSED: 2,
    S.DEFERRED: 3,
    S.DELIVERED: 4,
    S.BOUNCED: 5,
    S.DROPPED: 5,
}
# The status each kind of event implies: opens, clicks, complaints and unsubscribes prove
# the message was delivered.
STATUS_OF_KIND: dict[str, str] = {
    K.PROCESSED: S.PROCESSED,
    K.DEFERRED: S.DEFERRED,
    K.DELIVERED: S.DELIVERED,
    K.BOUNCE: S.BOUNCED,
    K.DROPPED: S.DROPPED,
    K.SPAM_REPORT: S.DELIVERED,
    K.UNSUBSCRIBE: S.DELIVERED,
    K.OPEN: S.DELIVERED,
    K.CLICK: S.DELIVERED,
}
# The CDP event each kind writes on the profile (segment conditions read the first three).
CDP_EVENT_NAMES: dict[str, str] = {
    K.DELIVERED: "Email Delivered",
    K.OPEN: "Email Opened",
    K.CLICK: "Email Link Clicked",
    K.BOUNCE: "Email Bounced",
    K.SPAM_REPORT: "Email Marked as Spam",
    K.UNSUBSCRIBE: "Email Unsubscribed",
}


@dataclass(frozen=True, slots=True)
class AppliedEvents:
    stored: int = 0  # new events, each applied to its message
    duplicates: int = 0  # seen before (or twice in this batch): nothing done
    unknown_message: int = 0  # no message of ours (of this tenant) matches: not stored
    status_changes: int = 0  # messages whose status moved forward
    suppressions: int = 0  # addresses newly added to a suppression list
    contact_ids: tuple[int, ...] = ()  # profiles that got CDP events (for segment folds)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _distinct(events: Sequence[EmailEventIn]) -> list[EmailEventIn]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for event in events:
        if event.kind not in K.ALL:
            raise InvalidInput(f"Unknown email event kind '{event.kind}'.", field="kind")
        key = (event.provider, event.event_id)
        if key not in seen:
            seen.add(key)
            unique.append(event)
    return unique


def _locked_messages(
    session: Session, events: list[EmailEventIn], tenant_id: uuid.UUID | None
) -> list[EmailMessage]:
    ids = {e.message_id for e in events if e.message_id is not None}
    provider_ids = {e.provider_message_id for e in events if e.provider_message_id}
    if not ids and not provider_ids:
        return []
    query = select(EmailMessage).where(
        or_(col(EmailMessage.id).in_(ids), col(EmailMessage.provider_message_id).in_(provider_ids))
    )
    if tenant_id is not None:
        query = query.where(EmailMessage.tenant_id == tenant_id)
    return list(session.exec(query.order_by(col(EmailMessage.id)).with_for_update()))


def _matcher(messages: list[EmailMessage]):
    by_id = {m.id: m for m in messages}
    by_provider_id: dict[str, list[EmailMessage]] = {}
    for message in messages:
        if message.provider_message_id:
            by_provider_id.setdefault(message.provider_message_id, []).append(message)

    def message_of(event: EmailEventIn) -> EmailMessage | None:
        if event.message_id is not None and event.message_id in by_id:
            return by_id[event.message_id]
        candidates = by_provider_id.get(event.provider_message_id or "", [])
        email = (event.email or "").strip().lower()
        matching = [m for m in candidates if m.email.lower() == email] if email else []
        if matching:
            return matching[0]
        return candidates[0] if len(candidates) == 1 and not email else None

    return message_of


def _receipt_row(event: EmailEventIn, message: EmailMessage) -> dict[str, Any]:
    return {
        "tenant_id": message.tenant_id,
        "message_id": message.id,
        "provider": event.provider,
        "event_id": event.event_id[:200],
        "kind": event.kind,
        "machine": event.machine,
        "url": event.url[:2000] if event.url else None,
        "detail": {"reason": event.reason, **event.detail} if event.reason else event.detail,
        "occurred_at": _aware(event.occurred_at),
    }


def _store_receipts(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert-or-ignore the receipts; (provider, event id) -> receipt id of the new ones."""
    if not rows:
        return {}
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        module.insert(EmailEvent)
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(col(EmailEvent.id), col(EmailEvent.provider), col(EmailEvent.event_id))
    )
    return {(p, e): i for i, p, e in session.execute(statement, rows).all()}


def _time_column(event: EmailEventIn) -> str | None:
    """The message's first-time column this event sets (None: it sets none)."""
    if event.kind == K.OPEN:
        return "machine_opened_at" if event.machine else "opened_at"
    if event.kind == K.CLICK:
        return None if event.machine else "clicked_at"
    return {
        K.DELIVERED: "delivered_at",
        K.BOUNCE: "bounced_at",
        K.SPAM_REPORT: "complained_at",
        K.UNSUBSCRIBE: "unsubscribed_at",
    }.get(event.kind)


def _keep_earliest(message: EmailMessage, column: str, moment: datetime) -> None:
    current = getattr(message, column)
    if current is None or _aware(current) > moment:
        setattr(message, column, moment)


def _move_message(message: EmailMessage, event: EmailEventIn) -> bool:
    """Apply one event to its message; True when the status moved forward."""
    moment = _aware(event.occurred_at)
    column = _time_column(event)
    if column is not None:
        _keep_earliest(message, column, moment)
    target = STATUS_OF_KIND[event.kind]
    if target == S.DELIVERED:
        _keep_earliest(message, "delivered_at", moment)
    if STATUS_RANK[target] <= STATUS_RANK.get(message.status, 0):
        return False
    message.status = target
    if target in (S.BOUNCED, S.DROPPED) and event.reason:
        message.error = event.reason[:500]
    return True


def _suppression_reason(event: EmailEventIn) -> str | None:
    """Why this event blocks the address for good (None: it does not)."""
    if event.kind == K.BOUNCE and not event.soft:
        return "bounce"
    if event.kind == K.SPAM_REPORT:
        return "complaint"
    if event.kind == K.DROPPED:
        reason = event.reason.lower()
        if "bounce" in reason:
            return "bounce"
        if "spam" in reason:
            return "complaint"
    return None


def _cdp_properties(event: EmailEventIn, message: EmailMessage, names: dict[int, str]):
    properties: dict[str, Any] = {
        # Strings: segment conditions compare campaign_id as text.
        "campaign_id": str(message.campaign_id) if message.campaign_id else None,
        "campaign_name": names.get(message.campaign_id or 0),
        "message_id": str(message.id),
        "provider": event.provider,
    }
    if event.kind == K.OPEN:
        properties["machine_open"] = event.machine
    elif event.kind == K.CLICK:
        properties["url"] = event.url
    elif event.kind == K.BOUNCE:
        properties["bounce_type"] = "soft" if event.soft else "hard"
        properties["reason"] = event.reason
    elif event.kind == K.UNSUBSCRIBE:
        properties["source"] = _unsubscribe_source(event)
    return properties


def _unsubscribe_source(event: EmailEventIn) -> str:
    return str(event.detail.get("source") or event.provider)[:30]


@dataclass
class _Writes:
    """The rows one batch adds beside the message updates."""

    suppressions: list[dict[str, Any]] = field(default_factory=list)
    unsubscribes: list[dict[str, Any]] = field(default_factory=list)
    cdp_events: list[dict[str, Any]] = field(default_factory=list)


def _cdp_row(event: EmailEventIn, message: EmailMessage, receipt_id: int, names, now):
    return {
        "tenant_id": message.tenant_id,
        "contact_id": message.contact_id,
        "message_id": f"email-event:{receipt_id}",
        "type": "track",
        "name": CDP_EVENT_NAMES[event.kind],
        "properties": _cdp_properties(event, message, names),
        "occurred_at": _aware(event.occurred_at),
        "received_at": now,
        "processed_at": now,  # attached to its profile already
    }


def _collect_writes(
    applied: list[tuple[EmailEventIn, EmailMessage, int]],
    campaign_names: dict[int, str],
    now: datetime,
) -> _Writes:
    writes = _Writes()
    for event, message, receipt_id in applied:
        reason = _suppression_reason(event)
        if reason and message.email:
            address = message.email.strip().lower()
            row = {"tenant_id": message.tenant_id, "channel": "email", "address": address}
            writes.suppressions.append(row | {"reason": reason, "created_at": now})
        if message.contact_id is None:
            continue
        if event.kind == K.UNSUBSCRIBE:
            at, source = _aware(event.occurred_at), _unsubscribe_source(event)
            writes.unsubscribes.append(
                _preference_row(message.tenant_id, message.contact_id, ALL_TOPICS, source, at)
            )
        if event.kind in CDP_EVENT_NAMES and not (event.kind == K.CLICK and event.machine):
            writes.cdp_events.append(_cdp_row(event, message, receipt_id, campaign_names, now))
    return writes


def _campaign_names(session: Session, messages: list[EmailMessage]) -> dict[int, str]:
    ids = {m.campaign_id for m in messages if m.campaign_id is not None}
    if not ids:
        return {}
    rows = session.exec(select(Campaign.id, Campaign.name).where(col(Campaign.id).in_(ids)))
    return {campaign_id: name for campaign_id, name in rows}


def apply_email_events(
    *,
    session: Session,
    events: Sequence[EmailEventIn],
    now: datetime | None = None,
    tenant_id: uuid.UUID | None = None,
) -> AppliedEvents:
    """Apply a batch of delivery and engagement events (see the module docstring).

    `tenant_id` limits the messages events may name to one tenant: webhooks pass the tenant
    their URL names, so a payload naming another tenant's message changes nothing.
    """
    now = now or utcnow()
    unique = _distinct(events)
    message_of = _matcher(_locked_messages(session, unique, tenant_id))
    resolved = [(event, message) for event in unique if (message := message_of(event))]
    receipt_ids = _store_receipts(session, [_receipt_row(e, m) for e, m in resolved])
    applied = [
        (event, message, receipt_ids[(event.provider, event.event_id[:200])])
        for event, message in resolved
        if (event.provider, event.event_id[:200]) in receipt_ids
    ]
    applied.sort(key=lambda item: _aware(item[0].occurred_at))
    moved = {message.id for event, message, _ in applied if _move_message(message, event)}
    session.flush()
    writes = _collect_writes(applied, _campaign_names(session, [m for _, m, _ in applied]), now)
    new_suppressions = insert_returning_new_keys(
        session=session,
        model=Suppression,
        rows=_distinct_suppressions(writes.suppressions),
        key="id",
    )
    _write_unsubscribes(session, writes.unsubscribes)
    insert_ignoring_duplicates(session=session, model=Event, rows=writes.cdp_events)
    session.flush()
    return AppliedEvents(
        stored=len(applied),
        duplicates=len(events) - len(unique) + len(resolved) - len(applied),
        unknown_message=len(unique) - len(resolved),
        status_changes=len(moved),
        suppressions=len(new_suppressions),
        contact_ids=tuple(sorted({row["contact_id"] for row in writes.cdp_events})),
    )


def _distinct_suppressions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_address = {(r["tenant_id"], r["address"]): r for r in reversed(rows)}
    return list(by_address.values())


# --- subscription preferences -----------------------------------------------------------------


def _preference_row(tenant_id, contact_id, topic: str, source: str, at: datetime):
    return {
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "channel": "email",
        "topic": topic,
        "subscribed": False,
        "source": source[:30],
        "updated_at": at,
    }


def _write_unsubscribes(session: Session, rows: list[dict[str, Any]]) -> None:
    """Upsert "not subscribed" rows; a row changed after `updated_at` (say, a resubscribe in
    the preference center after the provider's late report) is left as it is."""
    latest: dict[tuple, dict[str, Any]] = {}
    for row in rows:  # one row per key: an upsert may not touch a row twice
        key = (row["tenant_id"], row["contact_id"], row["channel"], row["topic"])
        if key not in latest or latest[key]["updated_at"] < row["updated_at"]:
            latest[key] = row
    if not latest:
        return
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = module.insert(SubscriptionPreference)
    statement = insert.on_conflict_do_update(
        index_elements=["tenant_id", "contact_id", "channel", "topic"],
        set_={
            "subscribed": False,
            "source": insert.excluded.source,
            "updated_at": insert.excluded.updated_at,
        },
        where=col(SubscriptionPreference.updated_at) <= insert.excluded.updated_at,
    )
    session.execute(statement, list(latest.values()))


def unsubscribe_contact(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    contact_id: int,
    topic: str = ALL_TOPICS,
    source: str,
    at: datetime | None = None,
) -> None:
    """Record that the profile wants no email on `topic` ("all": none at all), from `source`
    (one_click, preference_center, sendgrid, ...). A preference changed after `at` stays."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.tenant_id != tenant_id:
        raise NotFound("Customer not found.")
    row = _preference_row(tenant_id, contact_id, topic, source, _aware(at or utcnow()))
    _write_unsubscribes(session, [row])
    session.flush()
