"""What every provider's webhook module shares: errors, the parse result, small readers."""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from marketing_app.domain.email_events import EmailEventIn
from marketing_app.providers.wire import SkippedRecord


class WebhookSignatureError(Exception):
    """The request is not signed (or authenticated) by the tenant's provider account."""


class WebhookPayloadError(Exception):
    """The body is not what the provider documents; nothing of it is used."""


@dataclass(slots=True)
class ParsedWebhook:
    events: list[EmailEventIn] = field(default_factory=list)
    skipped: list[SkippedRecord] = field(default_factory=list)  # bad events, with reasons
    ignored: int = 0  # well-formed events we do not track (e.g. resubscribes)
    subscribe_url: str | None = None  # an SNS subscription waiting for confirmation


# Malformed base64 and undecodable bytes raise these (binascii.Error is a ValueError).
DECODING_ERRORS = (ValueError, binascii.Error, UnicodeDecodeError)


def load_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise WebhookPayloadError(f"Body is not valid JSON: {exc}") from exc


def load_object(body: bytes) -> dict[str, Any]:
    payload = load_json(body)
    if not isinstance(payload, dict):
        raise WebhookPayloadError("Body must be a JSON object.")
    return payload


def lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def our_message_id(value: Any) -> int | None:
    """Our EmailMessage id as carried in custom args, tags or metadata (a digit string)."""
    if isinstance(value, list | tuple):  # SES tags hold lists of values
        value = value[0] if value else None
    text = str(value).strip() if isinstance(value, str | int) else ""
    return int(text) if text.isdigit() and len(text) < 19 else None


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return isinstance(value, list | tuple) and any(_holds_nul(v) for v in value)


def keep_storable(parsed: ParsedWebhook) -> ParsedWebhook:
    """Skip events holding a NUL character: PostgreSQL refuses it in text, and one such
    event must not fail the rest of the batch."""
    storable = []
    for event in parsed.events:
        fields = (event.event_id, event.provider_message_id, event.email, event.url, event.reason)
        if _holds_nul(fields) or _holds_nul(event.detail):
            parsed.skipped.append(SkippedRecord(event.event_id[:100], "holds a NUL character"))
        else:
            storable.append(event)
    parsed.events = storable
    return parsed


def derived_event_id(*parts: object) -> str:
    """A stable id for providers that give none: the same event resent gives the same id."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:40]
