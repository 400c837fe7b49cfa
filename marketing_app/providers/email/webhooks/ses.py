"""Amazon SES events delivered by SNS: a signed SNS envelope around an SES event.

SNS signs every message with the region's signing certificate (SignatureVersion 1:
SHA1withRSA, 2: SHA256withRSA over the canonical "Key\\nValue\\n" string of the envelope).
We cannot download certificates at run time, so the tenant configures the PEM, and since the
same certificate signs every AWS customer's topics, the topic ARN must also be one the tenant
configured. A SubscriptionConfirmation is verified like a notification and its SubscribeURL
handed back for someone to open (no outbound calls from here).

The SES payload follows the event publishing format (`eventType`) or the older notification
format (`notificationType`): Send, Delivery, Bounce, Complaint, DeliveryDelay, Reject, Open,
Click. Our message id travels as the SES tag `message_id`; else `mail.messageId` names it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import BaseModel, ValidationError

from marketing_app.domain.email_events import EmailEventIn
from marketing_app.domain.email_events import EmailEventKind as K
from marketing_app.providers.email.webhooks.common import (
    DECODING_ERRORS,
    ParsedWebhook,
    WebhookPayloadError,
    WebhookSignatureError,
    load_object,
    our_message_id,
)
from marketing_app.providers.wire import SkippedRecord, UtcDatetime, WireModel, describe_invalid

PROVIDER = "ses"
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
# The envelope keys each message type signs, in the order SNS signs them.
SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED_KEYS["UnsubscribeConfirmation"] = SIGNED_KEYS["SubscriptionConfirmation"]


def load_signing_key(pem: str) -> rsa.RSAPublicKey:
    """The RSA key of the SNS signing certificate; ValueError when the text is not one."""
    key = x509.load_pem_x509_certificate(pem.strip().encode()).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("SNS signing certificates hold an RSA key")
    return key


def read_envelope(body: bytes) -> dict[str, Any]:
    envelope = load_object(body)
    if envelope.get("Type") not in SIGNED_KEYS:
        raise WebhookPayloadError("Body is not an SNS notification or subscription message.")
    if not all(isinstance(envelope.get(k, ""), str) for k in SIGNED_KEYS[envelope["Type"]]):
        raise WebhookPayloadError("SNS message fields must be strings.")
    return envelope


def string_to_sign(envelope: dict[str, Any]) -> bytes:
    keys = SIGNED_KEYS[envelope["Type"]]
    return "".join(f"{k}\n{envelope[k]}\n" for k in keys if k in envelope).encode()


def verify(envelope: dict[str, Any], certificate_pem: str, topic_arns: Sequence[str]) -> None:
    if envelope.get("TopicArn") not in topic_arns:
        raise WebhookSignatureError("This SNS topic is not configured for the tenant.")
    algorithm = HASHES.get(str(envelope.get("SignatureVersion")))
    if algorithm is None:
        raise WebhookSignatureError("Unknown SNS SignatureVersion.")
    try:
        signature = base64.b64decode(str(envelope.get("Signature", "")), validate=True)
        load_signing_key(certificate_pem).verify(
            signature, string_to_sign(envelope), padding.PKCS1v15(), algorithm()
        )
    except (InvalidSignature, *DECODING_ERRORS) as exc:
        raise WebhookSignatureError("The SNS signature does not match this message.") from exc


class Recipient(WireModel):
    emailAddress: str
    diagnosticCode: str = ""


class SesMail(WireModel):
    messageId: str
    destination: list[str] = []
    tags: dict[str, list[str]] = {}


class SesDetail(WireModel):
    """The type-specific part (bounce, complaint, delivery, open, click, deliveryDelay...)."""

    bounceType: str = ""
    bounceSubType: str = ""
    bouncedRecipients: list[Recipient] = []
    complainedRecipients: list[Recipient] = []
    delayedRecipients: list[Recipient] = []
    recipients: list[str] = []
    link: str | None = None
    reason: str = ""


class SesEvent(BaseModel):
    eventType: str
    mail: SesMail
    detail: SesDetail
    timestamp: UtcDatetime


KINDS = {
    "Send": (K.PROCESSED, "send"),
    "Delivery": (K.DELIVERED, "delivery"),
    "Bounce": (K.BOUNCE, "bounce"),
    "Complaint": (K.SPAM_REPORT, "complaint"),
    "DeliveryDelay": (K.DEFERRED, "deliveryDelay"),
    "Reject": (K.DROPPED, "reject"),
    "Open": (K.OPEN, "open"),
    "Click": (K.CLICK, "click"),
}


def _ses_event(message: dict[str, Any], kind_key: str, sns_timestamp: str) -> SesEvent:
    kind = message.get("eventType") or message.get("notificationType")
    detail = message.get(kind_key) or {}
    return SesEvent.model_validate(
        {
            "eventType": kind,
            "mail": message.get("mail"),
            "detail": detail,
            "timestamp": (isinstance(detail, dict) and detail.get("timestamp")) or sns_timestamp,
        }
    )


def _addresses(event: SesEvent, kind: str) -> list[tuple[str, str]]:
    """(address, reason) per recipient the event is about."""
    detail = event.detail
    listed = {
        K.BOUNCE: detail.bouncedRecipients,
        K.SPAM_REPORT: detail.complainedRecipients,
        K.DEFERRED: detail.delayedRecipients,
    }.get(kind)
    if listed is not None:
        return [(r.emailAddress, r.diagnosticCode or detail.bounceSubType) for r in listed]
    if kind == K.DELIVERED and detail.recipients:
        return [(address, "") for address in detail.recipients]
    return [(address, detail.reason) for address in event.mail.destination[:1]]


def _events_of(event: SesEvent, kind: str, sns_message_id: str) -> list[EmailEventIn]:
    return [
        EmailEventIn(
            provider=PROVIDER,
            event_id=f"{sns_message_id}:{n}",
            kind=kind,
            occurred_at=event.timestamp,
            message_id=our_message_id(event.mail.tags.get("message_id")),
            provider_message_id=event.mail.messageId,
            email=address,
            soft=kind == K.BOUNCE and event.detail.bounceType != "Permanent",
            url=event.detail.link if kind == K.CLICK else None,
            reason=reason[:500],
            detail={"event": event.eventType},
        )
        for n, (address, reason) in enumerate(_addresses(event, kind))
    ]


def parse(envelope: dict[str, Any]) -> ParsedWebhook:
    """The events of a verified envelope (or the SubscribeURL of a subscription message)."""
    if envelope["Type"] != "Notification":
        return ParsedWebhook(subscribe_url=str(envelope.get("SubscribeURL") or "") or None)
    try:  # a signed message of the tenant's topic that is no SES event (a console test)
        message = load_object(str(envelope.get("Message", "")).encode())
    except WebhookPayloadError:
        return ParsedWebhook(ignored=1)
    name = message.get("eventType") or message.get("notificationType")
    if name not in KINDS:
        return ParsedWebhook(ignored=1)
    kind, kind_key = KINDS[name]
    try:
        event = _ses_event(message, kind_key, str(envelope.get("Timestamp")))
    except ValidationError as exc:
        skipped = SkippedRecord(str(envelope.get("MessageId"))[:100], describe_invalid(exc))
        return ParsedWebhook(skipped=[skipped])
    return ParsedWebhook(events=_events_of(event, kind, str(envelope["MessageId"])))
