"""Email provider webhooks: the tenant's verification keys, and receiving one request.

Each tenant's webhook URL is `/webhooks/email/{provider}/{tenant slug}`: the slug only says
whose keys to check the request with (it never changes once the tenant exists); the
signature, not the URL, proves the request comes from the tenant's provider account.

What verifies a provider's requests is stored like any provider secret (encrypted, shown
only as its last four characters), as its own credential `<provider>_webhook`, apart from
the API key used for sending, so either can be rotated alone:

| provider | secret | config |
|---|---|---|
| sendgrid | the Signed Event Webhook verification key (base64, as SendGrid shows it) | |
| ses | the SNS signing certificate (PEM) | `topic_arns`: the SNS topics allowed |
| postmark | "user:password", the Basic credentials put in the webhook URL | |
| resend | the endpoint's signing secret ("whsec_...") | |

A request is verified on its raw bytes, parsed, and applied inline by
services.email_events (set-based: a batch of 1,000 events takes a fraction of a second).
Bad signatures raise before anything is written; the caller's transaction then stores nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from marketing_app.domain.errors import (
    DomainError,
    InvalidCredentials,
    InvalidInput,
    PermissionDenied,
)
from marketing_app.models import ProviderCredential, Tenant
from marketing_app.models.base import utcnow
from marketing_app.providers.email.webhooks import postmark, resend, sendgrid, ses
from marketing_app.providers.email.webhooks.common import (
    ParsedWebhook,
    WebhookPayloadError,
    WebhookSignatureError,
    keep_storable,
)
from marketing_app.providers.wire import SkippedRecord
from marketing_app.services.audit import record_audit
from marketing_app.services.crypto import decrypt_secret, encrypt_secret
from marketing_app.services.email_events import AppliedEvents, apply_email_events

logger = logging.getLogger(__name__)

WEBHOOK_PROVIDERS = ("sendgrid", "ses", "postmark", "resend")


class WebhookNotConfigured(PermissionDenied):
    """No tenant with this slug, or it has no webhook key for the provider (403)."""


class WebhookUnauthorized(InvalidCredentials):
    """The signature or credentials do not verify (401)."""


class BadWebhookPayload(DomainError):
    """The body is not what the provider sends (400)."""

    http_status = 400


@dataclass(frozen=True, slots=True)
class WebhookReceipt:
    provider: str
    tenant_id: uuid.UUID
    applied: AppliedEvents
    skipped: list[SkippedRecord]  # bad events of the batch, with reasons
    ignored: int  # well-formed events we do not track
    subscribe_url: str | None = None  # SNS: open this URL to confirm the subscription


def credential_name(provider: str) -> str:
    return f"{provider}_webhook"


def _validated_material(provider: str, secret: str, topic_arns: Sequence[str]) -> dict:
    """Check the key parses; the config stored beside it. InvalidInput names the field."""
    try:
        if provider == "sendgrid":
            sendgrid.load_public_key(secret)
        elif provider == "resend":
            resend.load_secret(secret)
        elif provider == "ses":
            ses.load_signing_key(secret)
        elif provider == "postmark" and not all(secret.partition(":")[::2]):
            raise ValueError("expected user:password")
    except ValueError as exc:
        raise InvalidInput(f"This is not a {provider} webhook key: {exc}.", field="secret") from exc
    if provider != "ses":
        return {}
    arns = [a.strip() for a in topic_arns if a.strip()]
    if not arns or not all(a.startswith("arn:aws:sns:") for a in arns):
        raise InvalidInput("Give the SNS topic ARNs (arn:aws:sns:...).", field="topic_arns")
    return {"topic_arns": arns}


def configure_email_webhook(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    provider: str,
    secret: str,
    topic_arns: Sequence[str] = (),
) -> ProviderCredential:
    """Store (or replace) what verifies `provider`'s webhook requests for the tenant."""
    if provider not in WEBHOOK_PROVIDERS:
        raise InvalidInput(f"Unknown email webhook provider '{provider}'.", field="provider")
    secret = secret.strip()
    config = _validated_material(provider, secret, topic_arns)
    name = credential_name(provider)
    row = _credential(session, tenant_id, provider) or ProviderCredential(
        tenant_id=tenant_id, provider=name, encrypted_secret=""
    )
    row.encrypted_secret, row.secret_hint = encrypt_secret(secret), secret[-4:]
    row.config, row.updated_at = config, utcnow()
    session.add(row)
    session.flush()
    return row


def _credential(session: Session, tenant_id: uuid.UUID, provider: str):
    return session.exec(
        select(ProviderCredential).where(
            ProviderCredential.tenant_id == tenant_id,
            ProviderCredential.provider == credential_name(provider),
        )
    ).first()


def _tenant_credential(session: Session, provider: str, tenant_slug: str):
    not_configured = WebhookNotConfigured(f"No {provider} webhook is configured at this address.")
    if provider not in WEBHOOK_PROVIDERS:
        raise not_configured
    tenant = session.exec(select(Tenant).where(Tenant.slug == tenant_slug)).first()
    if tenant is None or not tenant.is_active:
        raise not_configured
    credential = _credential(session, tenant.id, provider)
    if credential is None:
        raise not_configured
    return tenant, decrypt_secret(credential.encrypted_secret), credential.config or {}


def _verified(provider: str, body: bytes, headers: Mapping[str, str], secret: str, config):
    if provider == "sendgrid":
        sendgrid.verify(body, headers, secret)
        return sendgrid.parse(body)
    if provider == "resend":
        resend.verify(body, headers, secret)
        return resend.parse(body, headers)
    if provider == "postmark":
        postmark.verify(headers, secret)
        return postmark.parse(body)
    envelope = ses.read_envelope(body)
    ses.verify(envelope, secret, config.get("topic_arns") or [])
    return ses.parse(envelope)


def _record_subscription(session: Session, tenant_id: uuid.UUID, parsed: ParsedWebhook) -> None:
    """SNS waits for someone to open the SubscribeURL; we make no outbound calls, so the
    URL goes to the log and the tenant's audit log for an owner to open."""
    logger.warning("SES/SNS subscription for tenant %s: open %s", tenant_id, parsed.subscribe_url)
    record_audit(
        session=session,
        tenant_id=tenant_id,
        actor_user_id=None,
        actor_label="ses webhook",
        action="email_webhook.sns_subscription",
        target_type="sns",
        details={"subscribe_url": parsed.subscribe_url},
    )


def receive_email_webhook(
    *,
    session: Session,
    provider: str,
    tenant_slug: str,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime | None = None,
) -> WebhookReceipt:
    """Verify one webhook request on its raw body and apply its events to the tenant's
    messages. WebhookNotConfigured (403), WebhookUnauthorized (401), BadWebhookPayload (400)."""
    tenant, secret, config = _tenant_credential(session, provider, tenant_slug)
    try:
        parsed = keep_storable(_verified(provider, body, headers, secret, config))
    except WebhookSignatureError as exc:
        raise WebhookUnauthorized(str(exc)) from exc
    except WebhookPayloadError as exc:
        raise BadWebhookPayload(str(exc)) from exc
    if parsed.subscribe_url:
        _record_subscription(session, tenant.id, parsed)
    applied = apply_email_events(
        session=session, events=parsed.events, now=now, tenant_id=tenant.id
    )
    return WebhookReceipt(
        provider, tenant.id, applied, parsed.skipped, parsed.ignored, parsed.subscribe_url
    )


def webhook_endpoints(
    *, session: Session, tenant_id: uuid.UUID, base_url: str
) -> list[dict[str, str]]:
    """Per provider: the URL to give it and whether a key is stored (its last characters)."""
    tenant = session.get(Tenant, tenant_id)
    found = []
    for provider in WEBHOOK_PROVIDERS:
        row = _credential(session, tenant_id, provider)
        found.append(
            {
                "provider": provider,
                "url": f"{base_url.rstrip('/')}/webhooks/email/{provider}/{tenant.slug}",
                "configured": "yes" if row is not None else "",
                "hint": f"…{row.secret_hint}" if row is not None and row.secret_hint else "",
            }
        )
    return found
