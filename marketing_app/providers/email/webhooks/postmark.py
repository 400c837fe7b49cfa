"""Postmark webhooks: one JSON record per request, authenticated by HTTP Basic credentials.

Postmark signs nothing; its documented protection is credentials in the webhook URL
(`https://user:password@host/...`), which arrive as an `Authorization: Basic` header and are
compared in constant time with the tenant's. Records: Delivery, Bounce, SpamComplaint, Open,
Click, SubscriptionChange. Our message id travels in `Metadata.message_id`; else Postmark's
`MessageID` names the message. Bounces and complaints carry Postmark's own `ID`; the other
records get an id derived from what identifies them, so a resent record is a duplicate.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError, model_validator

from marketing_app.domain.email_events import EmailEventIn
from marketing_app.domain.email_events import EmailEventKind as K
from marketing_app.providers.email.webhooks.common import (
    DECODING_ERRORS,
    ParsedWebhook,
    WebhookPayloadError,
    WebhookSignatureError,
    derived_event_id,
    load_object,
    lower_keys,
    our_message_id,
)
from marketing_app.providers.wire import UtcDatetime, WireModel, describe_invalid

PROVIDER = "postmark"
# Bounce types after which Postmark deactivates the address: the address is gone for good.
HARD_BOUNCES = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated"})


def verify(headers: Mapping[str, str], credentials: str) -> None:
    """`credentials` is the tenant's "user:password" from the webhook URL."""
    scheme, _, value = lower_keys(headers).get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise WebhookSignatureError("Postmark webhooks need the Basic credentials of the URL.")
    try:
        given = base64.b64decode(value.strip(), validate=True)
    except DECODING_ERRORS as exc:
        raise WebhookSignatureError("Malformed Basic authorization header.") from exc
    if not hmac.compare_digest(given, credentials.encode()):
        raise WebhookSignatureError("The Postmark webhook credentials do not match.")


class PostmarkRecord(WireModel):
    RecordType: str
    MessageID: str
    ID: int | None = None  # bounces and complaints
    Recipient: str | None = None
    Email: str | None = None  # bounces and complaints name the address here
    Metadata: dict[str, Any] = {}
    Type: str = ""  # bounce type
    Inactive: bool = False
    Description: str = ""
    OriginalLink: str | None = None
    SuppressSending: bool = False
    SuppressionReason: str | None = None
    at: UtcDatetime

    @model_validator(mode="before")
    @classmethod
    def _time(cls, raw: Any) -> Any:
        if isinstance(raw, dict):
            times = ("DeliveredAt", "BouncedAt", "ReceivedAt", "ChangedAt")
            raw = {**raw, "at": next((raw[t] for t in times if raw.get(t)), None)}
        return raw


def _kind(record: PostmarkRecord) -> str | None:
    if record.RecordType == "SubscriptionChange":
        # Bounces and complaints arrive as their own records; this one is the recipient's.
        unsubscribed = record.SuppressSending and record.SuppressionReason == "ManualSuppression"
        return K.UNSUBSCRIBE if unsubscribed else None
    return {
        "Delivery": K.DELIVERED,
        "Bounce": K.BOUNCE,
        "SpamComplaint": K.SPAM_REPORT,
        "Open": K.OPEN,
        "Click": K.CLICK,
    }.get(record.RecordType)


def _event_id(record: PostmarkRecord, at: datetime) -> str:
    if record.ID is not None:
        return f"{record.RecordType}:{record.ID}"
    parts = (record.RecordType, record.MessageID, at.isoformat(), record.OriginalLink or "")
    return f"{record.RecordType}:{derived_event_id(*parts)}"


def parse(body: bytes) -> ParsedWebhook:
    try:
        record = PostmarkRecord.model_validate(load_object(body))
    except ValidationError as exc:
        raise WebhookPayloadError(
            f"Not a Postmark webhook record: {describe_invalid(exc)}"
        ) from exc
    kind = _kind(record)
    if kind is None:
        return ParsedWebhook(ignored=1)
    hard = record.Type in HARD_BOUNCES or record.Inactive
    event = EmailEventIn(
        provider=PROVIDER,
        event_id=_event_id(record, record.at),
        kind=kind,
        occurred_at=record.at,
        message_id=our_message_id(record.Metadata.get("message_id")),
        provider_message_id=record.MessageID,
        email=record.Recipient or record.Email,
        soft=kind == K.BOUNCE and not hard,
        url=record.OriginalLink if kind == K.CLICK else None,
        reason=(record.Description or record.Type)[:500] if kind == K.BOUNCE else "",
        detail={"record_type": record.RecordType, "bounce_type": record.Type}
        if record.Type
        else {"record_type": record.RecordType},
    )
    return ParsedWebhook(events=[event])
