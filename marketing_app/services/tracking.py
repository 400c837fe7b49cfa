"""Segment-spec messages: checked one by one and turned into event rows.

A message that breaks the spec is rejected with a reason; the rest of its batch still
counts (Segment clients drop a whole batch on a 4xx, so a batch answers 200 and lists
what it refused).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson

MAX_EVENT_BYTES = 32 * 1024  # Segment's per-event limit
MAX_BATCH_BYTES = 500 * 1024  # Segment's per-batch limit
MAX_ID_LENGTH = 200
MAX_MESSAGE_ID_LENGTH = 100
MAX_NESTING = 32  # objects inside objects; deeper payloads are refused, not stored
MESSAGE_TYPES = {"track", "identify", "page", "screen", "group", "alias"}
# Timestamps further in the future than this are the sender's clock, not the event's.
MAX_CLOCK_SKEW = timedelta(days=1)


@dataclass(frozen=True)
class Rejection:
    index: int
    message_id: str | None
    reason: str


def parse_timestamp(value: Any, received_at: datetime) -> datetime:
    """ISO 8601 → aware UTC; a missing timestamp means 'now'. Raises ValueError."""
    if value in (None, ""):
        return received_at
    if not isinstance(value, str):
        raise ValueError("timestamp must be an ISO 8601 string")
    parsed = datetime.fromisoformat(value)  # takes "Z" since Python 3.11
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    elif parsed.tzinfo is not UTC:
        parsed = parsed.astimezone(UTC)
    return min(parsed, received_at + MAX_CLOCK_SKEW)


def _optional_id(message: dict[str, Any], key: str, max_length: int = MAX_ID_LENGTH) -> str | None:
    value = message.get(key)
    if type(value) is str and 0 < len(value) <= max_length:  # the usual case, checked first
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{key} must be a string")
    text = str(value)
    if len(text) > max_length:
        raise ValueError(f"{key} is longer than {max_length} characters")
    return text


def _object(message: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = message.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be an object")
    return value


def _event_name(message: dict[str, Any], kind: str) -> str:
    if kind == "track":
        name = message.get("event")
        if not isinstance(name, str) or not name.strip():
            raise ValueError("track needs an event name")
        return name.strip()[:200]
    if kind in ("page", "screen"):
        name = message.get("name")
        return name[:200] if isinstance(name, str) else ""
    return ""


def _carries_email(*traits_objects: dict[str, Any] | None) -> bool:
    """Our own simple routes identify people by email alone (in traits or context.traits)."""
    for traits in traits_objects:
        if (
            isinstance(traits, dict)
            and isinstance(traits.get("email"), str)
            and "@" in traits["email"]
        ):
            return True
    return False


def from_simple_message(body: Any, message_type: str) -> Any:
    """Translate our simple shape ({email, event, properties} or {email, traits}) to Segment's."""
    if not isinstance(body, dict):
        return body
    email = body.get("email")
    message = {k: v for k, v in body.items() if k != "email"}
    message["type"] = message_type
    if message_type == "identify":
        traits = message.get("traits") if isinstance(message.get("traits"), dict) else {}
        message["traits"] = {**traits, **({"email": email} if email else {})}
    elif email:
        context = message.get("context") if isinstance(message.get("context"), dict) else {}
        context_traits = context.get("traits") if isinstance(context.get("traits"), dict) else {}
        message["context"] = {**context, "traits": {**context_traits, "email": email}}
    return message


def check_nesting(value: Any, limit: int = MAX_NESTING) -> None:
    """Raise ValueError when containers nest deeper than `limit` (walks containers only)."""
    level = [value]
    for _depth in range(limit + 1):
        level = [
            child
            for container in level
            for child in (container.values() if isinstance(container, dict) else container)
            if isinstance(child, dict | list)
        ]
        if not level:
            return
    raise ValueError(f"nested deeper than {limit} levels")


def has_nul(value: Any) -> bool:
    """True when a NUL character is in any key or string: PostgreSQL text cannot store it."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


class CheckedEvent(NamedTuple):
    """One accepted message, its JSON parts already serialized (they are written as JSON)."""

    message_id: str
    type: str
    name: str
    user_id: str | None
    anonymous_id: str | None
    properties: bytes
    traits: bytes | None
    context: bytes | None
    occurred_at: datetime


_STORED_OBJECTS = ("properties", "traits", "context")


def _json(value: Any) -> bytes | None:
    return None if value is None else orjson.dumps(value)


def _properties(message: dict[str, Any], kind: str) -> dict[str, Any]:
    properties = _object(message, "properties") or {}
    if kind == "alias":
        return {"previousId": _optional_id(message, "previousId")}
    if kind == "group":
        return {"groupId": _optional_id(message, "groupId"), **properties}
    return properties


def _check_serialized(message: dict[str, Any], parts: tuple[bytes | None, ...]) -> None:
    """Size, depth and NUL checks on the serialized parts: byte scans in C, with the exact
    walk of the message only when a scan says it might be needed."""
    joined = b"|".join([part for part in parts if part is not None])  # one buffer to scan
    if len(joined) + 12 * len(parts) > MAX_EVENT_BYTES:  # + `"context":` and commas
        raise ValueError(f"event larger than {MAX_EVENT_BYTES // 1024} KB")
    if joined.count(b"{") + joined.count(b"[") > MAX_NESTING:  # fewer cannot nest that deep
        check_nesting(message)
    if b"\\u0000" in joined and has_nul(message):
        raise ValueError("text may not contain NUL characters (\\u0000)")


def checked_event(
    message: Any,
    *,
    received_at: datetime,
    default_type: str | None = None,
    shared_context: dict[str, Any] | None = None,
) -> CheckedEvent:
    """What is stored of one message. Raises ValueError with the reason to report.

    `shared_context` is a batch-level context merged under the message's own.
    """
    if not isinstance(message, dict):
        raise ValueError("each message must be an object")
    kind = message.get("type") or default_type
    if kind not in MESSAGE_TYPES:
        raise ValueError(f"type must be one of {', '.join(sorted(MESSAGE_TYPES))}")
    user_id = _optional_id(message, "userId")
    anonymous_id = _optional_id(message, "anonymousId")
    traits, context = _object(message, "traits"), _object(message, "context")
    if shared_context:
        context = {**shared_context, **(context or {})}
    identified = user_id is not None or anonymous_id is not None
    if not identified and not _carries_email(traits, (context or {}).get("traits")):
        raise ValueError("userId or anonymousId is required")
    if kind == "alias" and _optional_id(message, "previousId") is None:
        raise ValueError("alias needs previousId")
    rest = message.copy()  # what is not stored as an object still counts in the checks
    for key in _STORED_OBJECTS:
        rest.pop(key, None)
    parts = (_json(_properties(message, kind)), _json(traits), _json(context), _json(rest))
    _check_serialized(message, parts)
    return CheckedEvent(  # positional: a hot loop builds one per event
        _optional_id(message, "messageId", MAX_MESSAGE_ID_LENGTH) or f"gen-{uuid.uuid4()}",
        kind,
        _event_name(message, kind),
        user_id,
        anonymous_id,
        parts[0],  # type: ignore[arg-type]  # never None: an empty object at least
        parts[1],
        parts[2],
        parse_timestamp(message.get("timestamp"), received_at),
    )
