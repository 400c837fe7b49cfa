"""Accepting tracked events: check each, store the good ones once, report the rest.

On PostgreSQL the checked events go straight to COPY text (the ingestion path's hot loop:
one line per event from the already serialized JSON parts, no row dicts in between); on
SQLite they become rows for an insert-or-ignore.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlmodel import Session

from marketing_app.models import Event
from marketing_app.models.base import utcnow
from marketing_app.services.bulk import (
    copy_escaped,
    copy_returning_new_keys_of,
    insert_returning_new_keys,
)
from marketing_app.services.tracking import CheckedEvent, Rejection, checked_event

EVENT_COLUMNS = (
    "tenant_id", "message_id", "type", "name", "user_id", "anonymous_id", "properties",
    "traits", "context", "occurred_at", "received_at",
)  # fmt: skip
_NULL = b"\\N"


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def _message_id_of(message: Any) -> str | None:
    value = message.get("messageId") if isinstance(message, dict) else None
    return str(value)[:100] if value is not None else None


def ingest_messages(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    messages: list[Any],
    default_type: str | None = None,
    shared_context: dict[str, Any] | None = None,
) -> IngestResult:
    """Store every valid message once per (tenant, messageId); duplicates store nothing.

    `shared_context` is a batch-level context merged under each message's own.
    """
    received_at = utcnow()
    result = IngestResult()
    events = []
    for index, message in enumerate(messages):
        try:
            events.append(
                checked_event(
                    message,
                    received_at=received_at,
                    default_type=default_type,
                    shared_context=shared_context,
                )
            )
        except (ValueError, TypeError, orjson.JSONEncodeError) as exc:
            result.rejected.append(Rejection(index, _message_id_of(message), str(exc)))
    new_ids = _store(session, tenant_id, received_at, events)
    result.accepted = len(new_ids)
    result.duplicates = len(events) - len(new_ids)
    return result


def _store(
    session: Session, tenant_id: uuid.UUID, received_at: datetime, events: list[CheckedEvent]
) -> set[str]:
    if not events:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        payload = events_copy_text(events, tenant_id=tenant_id, received_at=received_at)
        keys = [event.message_id for event in events]
        return copy_returning_new_keys_of(
            session=session, table=Event.__tablename__, columns=EVENT_COLUMNS, payload=payload,
            keys=keys, key="message_id",
        )  # fmt: skip
    rows = [_row(event, tenant_id, received_at) for event in events]
    return insert_returning_new_keys(session=session, model=Event, rows=rows, key="message_id")


def _row(event: CheckedEvent, tenant_id: uuid.UUID, received_at: datetime) -> dict[str, Any]:
    loaded = {name: _loaded(getattr(event, name)) for name in ("properties", "traits", "context")}
    return event._asdict() | loaded | {"tenant_id": tenant_id, "received_at": received_at}


def _loaded(part: bytes | None) -> Any:
    return None if part is None else orjson.loads(part)


def _text(value: str | None) -> bytes:
    if value is None:
        return _NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return copy_escaped(value).encode()
    return value.encode()


def _json_text(part: bytes | None) -> bytes:
    """Serialized JSON holds no raw tab or line break (they are escaped): only backslashes
    need doubling for COPY's text format."""
    if part is None:
        return _NULL
    return part.replace(b"\\", b"\\\\") if b"\\" in part else part


def events_copy_text(
    events: Sequence[CheckedEvent], *, tenant_id: uuid.UUID, received_at: datetime
) -> bytes:
    """COPY text of the events in EVENT_COLUMNS order, a line each."""
    tenant, received = str(tenant_id).encode(), received_at.isoformat().encode()
    lines = [
        b"\t".join(
            (
                tenant,
                _text(message_id),
                kind.encode(),
                _text(name),
                _text(user_id),
                _text(anonymous_id),
                _json_text(properties),
                _json_text(traits),
                _json_text(context),
                occurred_at.isoformat().encode(),
                received,
            )
        )  # fmt: skip
        for (
            message_id,
            kind,
            name,
            user_id,
            anonymous_id,
            properties,
            traits,
            context,
            occurred_at,
        ) in events  # fmt: skip
    ]
    lines.append(b"")
    return b"\n".join(lines)
