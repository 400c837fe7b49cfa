"""Accepting tracked events: check each, store the good ones once, report the rest."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlmodel import Session

from marketing_app.models import Event
from marketing_app.models.base import utcnow
from marketing_app.services.bulk import write_returning_new_keys
from marketing_app.services.tracking import MAX_EVENT_BYTES, Rejection, event_row, has_nul


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
    rows = []
    for index, message in enumerate(messages):
        try:
            encoded = orjson.dumps(message)
            if len(encoded) > MAX_EVENT_BYTES:
                raise ValueError(f"event larger than {MAX_EVENT_BYTES // 1024} KB")
            if b"\\u0000" in encoded and has_nul(message):  # cheap scan, exact check after
                raise ValueError("text may not contain NUL characters (\\u0000)")
            if shared_context and isinstance(message, dict):
                message = {
                    **message,
                    "context": {**shared_context, **(message.get("context") or {})},
                }
            rows.append(
                event_row(
                    message, tenant_id=tenant_id, received_at=received_at, default_type=default_type
                )
            )
        except (ValueError, TypeError, orjson.JSONEncodeError) as exc:
            result.rejected.append(Rejection(index, _message_id_of(message), str(exc)))
    new_ids = write_returning_new_keys(session=session, model=Event, rows=rows, key="message_id")
    result.accepted = len(new_ids)
    result.duplicates = len(rows) - len(new_ids)
    return result
