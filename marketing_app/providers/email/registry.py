"""The one place that maps a provider name and its stored settings to a concrete provider.

`config` has been validated by services.email_provider_config; keys not given take the
provider's defaults. A `rate_limit` ("50/second") paces the provider's calls, shared by
every worker using the same account (keyed by a digest of the credential, so two tenants
on one account share one budget).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marketing_app.providers.email.base import EmailProvider
from marketing_app.providers.email.console import ConsoleEmailProvider, SessionFactory
from marketing_app.providers.email.pacing import PacedLimiter
from marketing_app.providers.email.postmark import PostmarkEmailProvider
from marketing_app.providers.email.resend import ResendEmailProvider
from marketing_app.providers.email.sendgrid import SendGridEmailProvider
from marketing_app.providers.email.ses import SesEmailProvider
from marketing_app.providers.email.smtp import SmtpEmailProvider, SmtpSettings

EMAIL_PROVIDERS = ("sendgrid", "ses", "smtp", "resend", "postmark", "console")


@dataclass(frozen=True)
class ProviderAccount:
    """A tenant's settings for one provider: the decrypted secret and the plain config."""

    name: str
    secret: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)


def build_email_provider(
    account: ProviderAccount,
    *,
    tenant_id: uuid.UUID,
    session_factory: SessionFactory,
    limiter_storage_uri: str | None = None,
) -> EmailProvider:
    if account.name == "console":
        return ConsoleEmailProvider(tenant_id=tenant_id, session_factory=session_factory)
    builder = _BUILDERS.get(account.name)
    if builder is None:
        raise ValueError(f"unknown email provider {account.name!r}")
    return builder(account, _limiter(account, limiter_storage_uri))


def _timeout(config: Mapping[str, Any]) -> float:
    return float(config.get("timeout_seconds", 30.0))


def _sendgrid(account: ProviderAccount, limiter: PacedLimiter | None) -> EmailProvider:
    return SendGridEmailProvider(
        api_key=account.secret,
        host=account.config.get("host") or "https://api.sendgrid.com",
        limiter=limiter,
        timeout_seconds=_timeout(account.config),
    )


def _ses(account: ProviderAccount, limiter: PacedLimiter | None) -> EmailProvider:
    config = account.config
    return SesEmailProvider(
        access_key_id=config["access_key_id"],
        secret_access_key=account.secret,
        region=config["region"],
        endpoint=config.get("endpoint") or None,
        configuration_set=config.get("configuration_set", ""),
        limiter=limiter,
        timeout_seconds=_timeout(config),
    )


def _smtp(account: ProviderAccount, limiter: PacedLimiter | None) -> EmailProvider:
    config = account.config
    settings = SmtpSettings(
        host=config["host"],
        port=int(config.get("port", 587)),
        security=config.get("security", "starttls"),
        username=config.get("username", ""),
        password=account.secret,
        timeout_seconds=_timeout(config),
        pool_size=int(config.get("pool_size", 20)),
    )
    return SmtpEmailProvider(settings, limiter=limiter)


def _resend(account: ProviderAccount, limiter: PacedLimiter | None) -> EmailProvider:
    return ResendEmailProvider(
        api_key=account.secret,
        base_url=account.config.get("base_url") or "https://api.resend.com",
        limiter=limiter,
        timeout_seconds=_timeout(account.config),
    )


def _postmark(account: ProviderAccount, limiter: PacedLimiter | None) -> EmailProvider:
    return PostmarkEmailProvider(
        server_token=account.secret,
        base_url=account.config.get("base_url") or "https://api.postmarkapp.com",
        message_stream=account.config.get("message_stream") or "broadcast",
        limiter=limiter,
        timeout_seconds=_timeout(account.config),
    )


_BUILDERS: dict[str, Callable[[ProviderAccount, PacedLimiter | None], EmailProvider]] = {
    "sendgrid": _sendgrid,
    "ses": _ses,
    "smtp": _smtp,
    "resend": _resend,
    "postmark": _postmark,
}


def _limiter(account: ProviderAccount, storage_uri: str | None) -> PacedLimiter | None:
    rate_limit = account.config.get("rate_limit")
    if not rate_limit:
        return None
    where = "|".join(str(account.config.get(k, "")) for k in ("host", "region", "base_url"))
    digest = hashlib.sha256(f"{account.secret}|{where}".encode()).hexdigest()[:20]
    return PacedLimiter(
        rate_limit, provider=f"email-{account.name}", account=digest, storage_uri=storage_uri
    )
