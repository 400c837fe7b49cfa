"""Per-tenant provider credentials, encrypted at rest and never shown again in full."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, select

from marketing_app.domain.errors import InvalidInput, NotFound
from marketing_app.models import ProviderCredential
from marketing_app.models.base import utcnow
from marketing_app.services.crypto import decrypt_secret, encrypt_secret

# Providers a tenant can hold a credential for, with the label shown in settings.
KNOWN_PROVIDERS = {
    "sendgrid": "SendGrid API key",
    "twilio": "Twilio auth token",
    "alpineiq": "Alpine IQ API key",
    "alleaves": "Alleaves POS API key (base URL in the config)",
    "shopify": "Shopify webhook secret",
    "mailchimp": "Mailchimp API key",
    "klaviyo": "Klaviyo private API key",
}


def masked(hint: str) -> str:
    return f"••••{hint}" if hint else "••••"


def set_credential(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    provider: str,
    secret: str,
    config: dict[str, Any] | None = None,
) -> ProviderCredential:
    if provider not in KNOWN_PROVIDERS:
        raise InvalidInput(f"Unknown provider '{provider}'.", field="provider")
    secret = secret.strip()
    if len(secret) < 8:
        raise InvalidInput("The secret looks too short to be real.", field="secret")
    row = session.exec(
        select(ProviderCredential).where(
            ProviderCredential.tenant_id == tenant_id, ProviderCredential.provider == provider
        )
    ).first() or ProviderCredential(tenant_id=tenant_id, provider=provider, encrypted_secret="")
    row.encrypted_secret = encrypt_secret(secret)
    row.secret_hint = secret[-4:]
    row.config = config or {}
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def list_credentials(*, session: Session, tenant_id: uuid.UUID) -> list[ProviderCredential]:
    query = select(ProviderCredential).where(ProviderCredential.tenant_id == tenant_id)
    return list(session.exec(query.order_by(ProviderCredential.provider)))


def reveal_credential(*, session: Session, tenant_id: uuid.UUID, provider: str) -> str:
    """The plaintext secret, for provider adapters only; the UI never calls this."""
    row = session.exec(
        select(ProviderCredential).where(
            ProviderCredential.tenant_id == tenant_id, ProviderCredential.provider == provider
        )
    ).first()
    if row is None:
        raise NotFound(f"No {provider} credential configured.")
    return decrypt_secret(row.encrypted_secret)


def delete_credential(*, session: Session, tenant_id: uuid.UUID, provider: str) -> None:
    row = session.exec(
        select(ProviderCredential).where(
            ProviderCredential.tenant_id == tenant_id, ProviderCredential.provider == provider
        )
    ).first()
    if row is None:
        raise NotFound(f"No {provider} credential configured.")
    session.delete(row)
    session.flush()
