"""A tenant's email providers: their settings, secrets and priority order.

Each provider's secret (API key, SES secret key, SMTP password) is a `ProviderCredential`
row, encrypted; its plain settings (host, region, rate limit, ...) are the row's config.
The order to try them in is `tenant.settings["email_providers"]`. Saving a provider first
checks the credentials against the provider, so a typo is refused with the provider's reason
instead of failing a campaign later. A tenant with nothing configured sends to the console
outbox (development).
"""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from typing import Any, Literal

from limits import parse_many
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import Session, select

from marketing_app.domain.errors import InvalidInput, NotFound, ProviderError
from marketing_app.models import ProviderCredential, Tenant
from marketing_app.models.base import utcnow
from marketing_app.providers.email.registry import (
    EMAIL_PROVIDERS,
    ProviderAccount,
    build_email_provider,
)
from marketing_app.providers.wire import describe_invalid
from marketing_app.services.credentials import masked
from marketing_app.services.crypto import decrypt_secret, encrypt_secret

ORDER_SETTING = "email_providers"
DEFAULT_PROVIDER = "console"
LABELS = {
    "sendgrid": "SendGrid",
    "ses": "Amazon SES",
    "smtp": "SMTP",
    "resend": "Resend",
    "postmark": "Postmark",
    "console": "Console outbox",
}
SECRET_LABELS = {
    "sendgrid": "API key",
    "ses": "secret access key",
    "smtp": "password",
    "resend": "API key",
    "postmark": "server token",
}


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rate_limit: str | None = Field(default=None, max_length=60)  # calls, e.g. "50/second"
    timeout_seconds: float = Field(default=30.0, gt=0, le=120)

    @field_validator("rate_limit")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value:
            try:
                parse_many(value)
            except ValueError as exc:
                raise ValueError("write a rate like '50/second' or '10/second;1000/hour'") from exc
        return value or None


def _url(value: str | None) -> str | None:
    if value and not value.startswith(("https://", "http://")):
        raise ValueError("must start with https:// (or http:// for a local server)")
    return value or None


class SendGridConfig(_Config):
    host: str | None = Field(default=None, max_length=300)
    _host = field_validator("host")(_url)


class SesConfig(_Config):
    access_key_id: str = Field(pattern=r"^[A-Z0-9]{16,128}$")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
    endpoint: str | None = Field(default=None, max_length=300)
    configuration_set: str = Field(default="", max_length=64)
    rate_limit: str | None = Field(default="14/second", max_length=60)  # SES's usual quota
    _endpoint = field_validator("endpoint")(_url)


class SmtpConfig(_Config):
    host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-:\[\]]+$")
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = Field(default="", max_length=200)
    pool_size: int = Field(default=20, ge=1, le=200)  # connections at once


class ResendConfig(_Config):
    base_url: str | None = Field(default=None, max_length=300)
    rate_limit: str | None = Field(default="2/second", max_length=60)  # Resend's default
    _base_url = field_validator("base_url")(_url)


class PostmarkConfig(_Config):
    base_url: str | None = Field(default=None, max_length=300)
    message_stream: str = Field(default="broadcast", pattern=r"^[a-z0-9\-]{1,30}$")
    _base_url = field_validator("base_url")(_url)


CONFIG_MODELS: dict[str, type[_Config]] = {
    "sendgrid": SendGridConfig,
    "ses": SesConfig,
    "smtp": SmtpConfig,
    "resend": ResendConfig,
    "postmark": PostmarkConfig,
}


def save_email_provider(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    provider: str,
    secret: str | None,
    config: dict[str, Any] | None = None,
) -> ProviderCredential | None:
    """Validate, test against the provider, then store (and append to the priority order).

    `secret=None` keeps the stored secret (editing settings without retyping it). The console
    provider has nothing to store: it is only added to the order (None is returned).
    """
    tenant = _tenant(session, tenant_id)
    if provider == DEFAULT_PROVIDER:
        _append_to_order(tenant, provider)
        session.flush()
        return None
    model = CONFIG_MODELS.get(provider)
    if model is None:
        raise InvalidInput(f"Unknown email provider '{provider}'.", field="provider")
    clean = _validated(model, config or {})
    row = _credential(session, tenant_id, provider)
    plain = _secret_to_store(provider, secret, row, clean)
    account = ProviderAccount(provider, plain, clean)
    check_email_provider(session=session, tenant_id=tenant_id, account=account)
    row = row or ProviderCredential(tenant_id=tenant_id, provider=provider, encrypted_secret="")
    row.encrypted_secret = encrypt_secret(plain)
    row.secret_hint = plain[-4:]
    row.config = clean
    row.updated_at = utcnow()
    session.add(row)
    _append_to_order(tenant, provider)
    session.flush()
    return row


def check_email_provider(
    *, session: Session, tenant_id: uuid.UUID, account: ProviderAccount
) -> None:
    """Ask the provider whether these settings work; InvalidInput with its reason if not."""
    provider = build_email_provider(
        account, tenant_id=tenant_id, session_factory=lambda: nullcontext(session)
    )
    try:
        provider.check_credentials()
    except ProviderError as exc:
        label = LABELS[account.name]
        raise InvalidInput(
            f"{label} did not accept these settings: {exc.message}", field="secret"
        ) from exc
    except (ValueError, OSError) as exc:  # a host or URL no client can use
        label = LABELS[account.name]
        raise InvalidInput(f"{label} could not be reached with these settings: {exc}") from exc
    finally:
        provider.close()


def configured_providers(*, session: Session, tenant_id: uuid.UUID) -> list[ProviderAccount]:
    """The tenant's providers in priority order, secrets decrypted (for the sender only)."""
    order = email_provider_order(session=session, tenant_id=tenant_id)
    rows = {
        row.provider: row
        for row in session.exec(
            select(ProviderCredential).where(
                ProviderCredential.tenant_id == tenant_id,
                ProviderCredential.provider.in_(order),  # type: ignore[attr-defined]
            )
        )
    }
    accounts = []
    for name in order:
        if name == DEFAULT_PROVIDER:
            accounts.append(ProviderAccount(name))
        elif name in rows:
            row = rows[name]
            accounts.append(ProviderAccount(name, decrypt_secret(row.encrypted_secret), row.config))
    return accounts or [ProviderAccount(DEFAULT_PROVIDER)]


def email_provider_order(*, session: Session, tenant_id: uuid.UUID) -> list[str]:
    order = (_tenant(session, tenant_id).settings or {}).get(ORDER_SETTING) or []
    return [name for name in order if name in EMAIL_PROVIDERS]


def set_email_provider_order(
    *, session: Session, tenant_id: uuid.UUID, order: list[str]
) -> list[str]:
    """Replace the priority order; every name must be configured (or the console)."""
    if len(set(order)) != len(order):
        raise InvalidInput("A provider can appear only once in the order.", field="order")
    saved = {
        row.provider
        for row in session.exec(
            select(ProviderCredential).where(ProviderCredential.tenant_id == tenant_id)
        )
    }
    for name in order:
        if name != DEFAULT_PROVIDER and name not in saved:
            label = LABELS.get(name, name)
            raise InvalidInput(f"{label} is not configured for this account.", field="order")
    tenant = _tenant(session, tenant_id)
    tenant.settings = {**(tenant.settings or {}), ORDER_SETTING: list(order)}
    session.add(tenant)
    session.flush()
    return list(order)


def remove_email_provider(*, session: Session, tenant_id: uuid.UUID, provider: str) -> None:
    tenant = _tenant(session, tenant_id)
    order = [name for name in (tenant.settings or {}).get(ORDER_SETTING) or [] if name != provider]
    tenant.settings = {**(tenant.settings or {}), ORDER_SETTING: order}
    session.add(tenant)
    row = _credential(session, tenant_id, provider)
    if row is not None:
        session.delete(row)
    session.flush()


def describe_email_providers(*, session: Session, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    """What the settings page shows: name, label, config and the masked secret, in order."""
    order = email_provider_order(session=session, tenant_id=tenant_id)
    rows = {row.provider: row for row in session.exec(
        select(ProviderCredential).where(ProviderCredential.tenant_id == tenant_id)
    )}  # fmt: skip
    return [
        {
            "name": name,
            "label": LABELS[name],
            "config": dict(rows[name].config) if name in rows else {},
            "secret": masked(rows[name].secret_hint) if name in rows else "",
        }
        for name in order
        if name == DEFAULT_PROVIDER or name in rows
    ]


def _validated(model: type[_Config], config: dict[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(config).model_dump(exclude_none=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or None
        raise InvalidInput(describe_invalid(exc), field=field) from exc


def _secret_to_store(
    provider: str, secret: str | None, row: ProviderCredential | None, config: dict[str, Any]
) -> str:
    if secret is None or not secret.strip():
        if row is not None:
            return decrypt_secret(row.encrypted_secret)
        if provider == "smtp" and not config.get("username"):
            return ""  # a relay without authentication
        label = SECRET_LABELS[provider]
        raise InvalidInput(f"Enter the {LABELS[provider]} {label}.", field="secret")
    secret = secret.strip()
    if provider != "smtp" and len(secret) < 8:
        raise InvalidInput(
            f"The {SECRET_LABELS[provider]} looks too short to be real.", field="secret"
        )
    return secret


def _credential(session: Session, tenant_id: uuid.UUID, provider: str) -> ProviderCredential | None:
    return session.exec(
        select(ProviderCredential).where(
            ProviderCredential.tenant_id == tenant_id, ProviderCredential.provider == provider
        )
    ).first()


def _tenant(session: Session, tenant_id: uuid.UUID) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("No such account.")
    return tenant


def _append_to_order(tenant: Tenant, provider: str) -> None:
    order = list((tenant.settings or {}).get(ORDER_SETTING) or [])
    if provider not in order:
        tenant.settings = {**(tenant.settings or {}), ORDER_SETTING: [*order, provider]}
