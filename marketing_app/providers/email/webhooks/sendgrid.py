"""SendGrid Event Webhook: ECDSA-signed JSON arrays of events.

Verification is the `sendgrid` library's own `EventWebhook` helper over the timestamp header
plus the raw body, with the account's verification key (Mail Settings > Signed Event Webhook,
base64 as SendGrid shows it). Events name our message through the custom args we send
(`message_id`, beside `tenant_id` and `campaign_id`), else through `sg_message_id`, which
starts with the X-Message-Id of the send request. `sg_event_id` is the event id: SendGrid
documents it as unique per event (its own samples give a bounce and a block the same id;
the second then counts as a duplicate).
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.exceptions import UnsupportedAlgorithm
from pydantic import Field
from sendgrid.helpers.eventwebhook import EventWebhook

from marketing_app.domain.email_events import EmailEventIn
from marketing_app.domain.email_events import EmailEventKind as K
from marketing_app.domain.errors import ProviderBadData
from marketing_app.providers.email.webhooks.common import (
    DECODING_ERRORS,
    ParsedWebhook,
    WebhookPayloadError,
    WebhookSignatureError,
    load_json,
    lower_keys,
    our_message_id,
)
from marketing_app.providers.wire import OptionalText, UtcDatetime, WireModel, parse_records

PROVIDER = "sendgrid"
SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"
KINDS = {
    "processed": K.PROCESSED,
    "deferred": K.DEFERRED,
    "delivered": K.DELIVERED,
    "bounce": K.BOUNCE,
    "dropped": K.DROPPED,
    "spamreport": K.SPAM_REPORT,
    "unsubscribe": K.UNSUBSCRIBE,
    "group_unsubscribe": K.UNSUBSCRIBE,
    "open": K.OPEN,
    "click": K.CLICK,
}  # group_resubscribe and anything newer: ignored


def load_public_key(public_key: str):
    """The verification key as SendGrid shows it; ValueError when it is not one."""
    try:
        return EventWebhook().convert_public_key_to_ecdsa(public_key.strip())
    except (*DECODING_ERRORS, UnsupportedAlgorithm) as exc:
        raise ValueError("not a SendGrid webhook verification key") from exc


def verify(body: bytes, headers: Mapping[str, str], public_key: str) -> None:
    found = lower_keys(headers)
    signature, timestamp = found.get(SIGNATURE_HEADER), found.get(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise WebhookSignatureError("The SendGrid signature headers are missing.")
    helper = EventWebhook()
    try:
        valid = helper.verify_signature(
            body.decode("utf-8"), signature, timestamp, load_public_key(public_key)
        )
    except DECODING_ERRORS:
        valid = False
    if not valid:
        raise WebhookSignatureError("The SendGrid signature does not match this body.")


class SendGridRecord(WireModel):
    event: str
    sg_event_id: str = Field(min_length=1, max_length=200)
    timestamp: UtcDatetime
    email: OptionalText = None
    sg_message_id: OptionalText = None
    message_id: str | int | None = None  # our custom arg
    type: OptionalText = None  # bounce: "bounce" (hard) or "blocked" (temporary)
    reason: OptionalText = None
    response: OptionalText = None
    url: OptionalText = None
    sg_machine_open: bool = False
    asm_group_id: int | None = None


def _event_of(record: SendGridRecord) -> EmailEventIn | None:
    kind = KINDS.get(record.event)
    if kind is None:
        return None
    x_message_id = (record.sg_message_id or "").split(".filter")[0] or None
    return EmailEventIn(
        provider=PROVIDER,
        event_id=record.sg_event_id,
        kind=kind,
        occurred_at=record.timestamp,
        message_id=our_message_id(record.message_id),
        provider_message_id=x_message_id,
        email=record.email,
        machine=record.sg_machine_open,
        soft=kind == K.BOUNCE and record.type == "blocked",
        url=record.url if kind == K.CLICK else None,
        reason=(record.reason or record.response or "")[:500],
        detail={"event": record.event, "asm_group_id": record.asm_group_id}
        if record.asm_group_id is not None
        else {"event": record.event},
    )


def parse(body: bytes) -> ParsedWebhook:
    try:
        records, skipped = parse_records(
            load_json(body), SendGridRecord, provider=PROVIDER, id_field="sg_event_id"
        )
    except ProviderBadData as exc:
        raise WebhookPayloadError("SendGrid posts a JSON array of events.") from exc
    parsed = ParsedWebhook(skipped=skipped)
    for record in records:
        event = _event_of(record)
        if event is None:
            parsed.ignored += 1
        else:
            parsed.events.append(event)
    return parsed
