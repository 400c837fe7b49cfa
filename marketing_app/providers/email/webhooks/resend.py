"""Resend webhooks: one JSON event per request, signed by Svix.

Svix signs "svix-id.svix-timestamp.body" with HMAC-SHA256 under the endpoint's `whsec_`
secret; the `standardwebhooks` library (the Svix scheme under neutral header names) checks
the signature and refuses timestamps more than five minutes away. The `svix-id` is the event
id: Svix keeps it across retries. Our message id travels as the tag `message_id`; else
`data.email_id` names the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError, field_validator
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

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

PROVIDER = "resend"
KINDS = {
    "email.sent": K.PROCESSED,
    "email.delivered": K.DELIVERED,
    "email.delivery_delayed": K.DEFERRED,
    "email.bounced": K.BOUNCE,
    "email.complained": K.SPAM_REPORT,
    "email.opened": K.OPEN,
    "email.clicked": K.CLICK,
}  # contact.*, domain.* and the rest: ignored


def load_secret(secret: str) -> Webhook:
    """The endpoint's signing secret ("whsec_..."); ValueError when it is not one."""
    secret = secret.strip()
    if not secret.startswith("whsec_"):
        raise ValueError("Resend signing secrets start with whsec_")
    return Webhook(secret)


def verify(body: bytes, headers: Mapping[str, str], secret: str) -> None:
    found = lower_keys(headers)
    names = ("id", "timestamp", "signature")
    if not all(found.get(f"svix-{name}") for name in names):
        raise WebhookSignatureError("The Svix signature headers are missing.")
    standard = {f"webhook-{name}": found[f"svix-{name}"] for name in names}
    try:
        load_secret(secret).verify(body, standard, json_parse=False)
    except (WebhookVerificationError, *DECODING_ERRORS) as exc:
        raise WebhookSignatureError(f"The Svix signature does not verify: {exc}") from exc


class ResendData(WireModel):
    email_id: str
    to: list[str] = []
    tags: dict[str, str] = {}
    bounce: dict[str, Any] = {}
    click: dict[str, Any] = {}

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_map(cls, value: Any) -> Any:
        if isinstance(value, list):  # [{"name": ..., "value": ...}] as sent
            return {str(t.get("name")): str(t.get("value")) for t in value if isinstance(t, dict)}
        return value


class ResendEvent(WireModel):
    type: str
    created_at: UtcDatetime
    data: ResendData


def parse(body: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
    payload = load_object(body)
    kind = KINDS.get(str(payload.get("type")))
    if kind is None:
        return ParsedWebhook(ignored=1)
    try:
        event = ResendEvent.model_validate(payload)
    except ValidationError as exc:
        raise WebhookPayloadError(f"Not a Resend email event: {describe_invalid(exc)}") from exc
    bounce = event.data.bounce
    return ParsedWebhook(
        events=[
            EmailEventIn(
                provider=PROVIDER,
                event_id=lower_keys(headers).get("svix-id") or derived_event_id(body),
                kind=kind,
                occurred_at=event.created_at,
                message_id=our_message_id(event.data.tags.get("message_id")),
                provider_message_id=event.data.email_id,
                email=event.data.to[0] if event.data.to else None,
                soft=kind == K.BOUNCE and bounce.get("type") != "Permanent",
                url=str(event.data.click.get("link") or "") or None,
                reason=str(bounce.get("message") or "")[:500],
                detail={"type": event.type, "bounce_type": bounce.get("type")},
            )
        ]
    )
