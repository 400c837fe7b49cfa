"""What the loyalty syncs keep per tenant: the Alleaves credentials, and the sync state in
`tenant.settings["loyalty_sync"]` (the POS part's keys at its top level, Alpine IQ's under
"alpineiq"): last_synced_at, last_attempt_at, last_error, counts, skip reasons.

Errors kept there pass through `provider_calls.scrub`: no email, phone number or key.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, select

from marketing_app.domain.errors import InvalidInput
from marketing_app.models import ProviderCredential, Tenant
from marketing_app.services.credentials import reveal_credential, set_credential
from marketing_app.services.loyalty_programs import refuse_nul
from marketing_app.services.provider_calls import scrub

ALLEAVES = "alleaves"
STATE_KEY = "loyalty_sync"
ERROR_LENGTH = 300  # characters of a provider error kept in the sync state


def validated_base_url(value: str, *, field: str = "base_url") -> str:
    """An http(s) URL with a host, without its trailing slash; InvalidInput otherwise."""
    url = refuse_nul(str(value or "").strip(), field, "A base URL").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 300:
        raise InvalidInput("Give the provider's address as https://host[/path].", field=field)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidInput("The base URL takes no query, fragment or login.", field=field)
    return url


def save_alleaves_credentials(
    *, session: Session, tenant_id: uuid.UUID, api_key: str, base_url: str
) -> ProviderCredential:
    """Store the tenant's Alleaves key (encrypted) and address; the next sync uses them."""
    config = {"base_url": validated_base_url(base_url)}
    refuse_nul(api_key or "", "secret", "An API key")
    return set_credential(
        session=session, tenant_id=tenant_id, provider=ALLEAVES, secret=api_key, config=config
    )


def alleaves_credentials(*, session: Session, tenant_id: uuid.UUID) -> tuple[str, str] | None:
    """(base_url, api_key) of the tenant's Alleaves account, or None when not configured."""
    row = session.exec(
        select(ProviderCredential).where(
            ProviderCredential.tenant_id == tenant_id, ProviderCredential.provider == ALLEAVES
        )
    ).first()
    base_url = (row.config or {}).get("base_url") if row else None
    if not base_url:
        return None
    api_key = reveal_credential(session=session, tenant_id=tenant_id, provider=ALLEAVES)
    return str(base_url), api_key


def sync_state(*, session: Session, tenant_id: uuid.UUID) -> dict[str, Any]:
    tenant = session.get(Tenant, tenant_id)
    return dict((tenant.settings or {}).get(STATE_KEY) or {}) if tenant else {}


def save_sync_state(session: Session, tenant_id: uuid.UUID, changes: dict[str, Any]) -> None:
    """Merge `changes` into the tenant's sync state (top-level keys replace)."""
    tenant = session.get(Tenant, tenant_id)
    state = {**((tenant.settings or {}).get(STATE_KEY) or {}), **changes}
    tenant.settings = {**(tenant.settings or {}), STATE_KEY: state}  # a new dict: JSON column
    session.add(tenant)
    session.flush()


def describe_error(exc: Exception) -> str:
    """A provider failure as the sync state and the job show it, free of personal data."""
    return scrub(f"{type(exc).__name__}: {exc}", ERROR_LENGTH)


def outcome_state(started: datetime, result: Any) -> dict[str, Any]:
    """A sync's outcome as its sync state keeps it (`result` has error, counts, skips)."""
    changes: dict[str, Any] = {
        "last_attempt_at": started.isoformat(),
        "last_error": result.error,
        "counts": result.counts(),
        "skip_reasons": result.skip_reasons,
    }
    if result.error is None:
        changes["last_synced_at"] = started.isoformat()
    return changes
