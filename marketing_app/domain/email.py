"""What goes to an email provider and what comes back: messages, substitution batches, outcomes.

Frozen slotted dataclasses rather than pydantic models: a campaign builds tens of thousands of
these a second, and the renderer that fills them has already validated the content. Header
values must not hold CR or LF (providers refuse such a message on its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

MessageKey = int | str  # our EmailMessage id (or any caller key) carried through the provider

EMPTY: Mapping[str, str] = {}


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One rendered message for one recipient.

    `custom_args` (tenant, campaign and message ids) travel with the message so a provider's
    webhooks can name it again: SendGrid custom_args, SES tags, Postmark metadata, Resend
    tags, X- headers over SMTP.
    """

    message_id: MessageKey
    to: str
    from_email: str
    subject: str
    html: str = ""
    text: str = ""
    from_name: str = ""
    to_name: str = ""
    reply_to: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    custom_args: Mapping[str, str] = field(default_factory=dict)


@dataclass(
    slots=True
)  # not frozen: a frozen __init__ sets each field the slow way (100,000 a send)
class BatchRecipient:
    """A recipient of a `SubstitutionBatch`: values for the placeholder keys, own headers."""

    message_id: MessageKey
    to: str
    substitutions: Mapping[str, str] = field(default_factory=dict)
    to_name: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # e.g. List-Unsubscribe
    custom_args: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SubstitutionBatch:
    """One campaign variant for many recipients: templates holding placeholder keys (`-s3-`)
    shared by all, and per recipient the values for those keys.

    Substitutions apply to the subject, html and text (as SendGrid applies them); the shared
    headers and custom args go to every recipient, the recipient's own ones on top.
    """

    from_email: str
    subject: str
    html: str
    text: str
    recipients: tuple[BatchRecipient, ...]
    from_name: str = ""
    reply_to: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    custom_args: Mapping[str, str] = field(default_factory=dict)

    def with_recipients(self, recipients: tuple[BatchRecipient, ...]) -> SubstitutionBatch:
        """The same templates for another set of recipients (a chunk of this batch)."""
        return SubstitutionBatch(
            from_email=self.from_email,
            subject=self.subject,
            html=self.html,
            text=self.text,
            recipients=recipients,
            from_name=self.from_name,
            reply_to=self.reply_to,
            headers=self.headers,
            custom_args=self.custom_args,
        )


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """What became of one message at one provider.

    `transient` tells whether the failure is the message's own fault: False means the provider
    refused this message (bad address, bad content) and no other provider should get it; True
    means an outage, a rate limit or a refused account, so a retry or the next provider may
    succeed.
    """

    message_id: MessageKey
    accepted: bool
    provider: str = ""
    provider_message_id: str | None = None
    error: str = ""
    transient: bool = False

    @classmethod
    def sent(cls, message_id: MessageKey, provider: str, provider_id: str | None) -> SendOutcome:
        return cls(message_id, True, provider, provider_id)

    @classmethod
    def failed(
        cls, message_id: MessageKey, provider: str, error: str, *, transient: bool
    ) -> SendOutcome:
        return cls(message_id, False, provider, None, error[:500], transient)
