"""Delivery and engagement events of email messages, in one shape whatever their source.

Provider webhooks (SendGrid, SES, Postmark, Resend) and our own tracking endpoints (open
pixel, click redirect, unsubscribe) turn what they receive into `EmailEventIn` values;
services.email_events applies them: deduplicated by (provider, event id), message status
never moving backwards, suppressions for hard bounces and complaints, and a CDP event per
engagement ("Email Delivered", "Email Opened", "Email Link Clicked", ...) for segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class EmailEventKind:
    PROCESSED = "processed"
    DEFERRED = "deferred"
    DELIVERED = "delivered"
    BOUNCE = "bounce"  # hard bounce unless `soft`
    DROPPED = "dropped"
    SPAM_REPORT = "spam_report"
    UNSUBSCRIBE = "unsubscribe"
    OPEN = "open"
    CLICK = "click"

    ALL = (PROCESSED, DEFERRED, DELIVERED, BOUNCE, DROPPED, SPAM_REPORT, UNSUBSCRIBE, OPEN, CLICK)


@dataclass(frozen=True, slots=True)
class EmailEventIn:
    provider: str  # sendgrid | ses | postmark | resend | tracking
    event_id: str  # the provider's id of the event, unique per provider
    kind: str  # EmailEventKind
    occurred_at: datetime
    message_id: int | None = None  # our EmailMessage id when the event carries it
    provider_message_id: str | None = None  # else the provider's message id
    email: str | None = None
    machine: bool = False  # an open/click by a privacy proxy or security scanner
    soft: bool = False  # a soft bounce: no suppression
    url: str | None = None  # the clicked link
    reason: str = ""  # bounce/drop reason from the provider
    detail: dict[str, Any] = field(default_factory=dict)
