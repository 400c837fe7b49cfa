"""The tenant's Alpine IQ account: its credentials, its client and the reads a sync starts
early, and the sync state kept for it.

Credentials: a `ProviderCredential` with provider "alpineiq"; its encrypted secret is the API
key and its `config` holds `{"uid": "<account uid>", "base_url": "https://..."}`.
State: `tenant.settings["loyalty_sync"]["alpineiq"]` (see `loyalty_aiq_sync`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from marketing_app.domain.errors import InvalidInput, NotFound
from marketing_app.models import ProviderCredential
from marketing_app.models.base import utcnow
from marketing_app.providers.alpineiq import (
    DEFAULT_BASE_URL,
    AiqContact,
    AiqLoyaltySettings,
    AlpineIQClient,
)
from marketing_app.providers.wire import Page
from marketing_app.services.credentials import reveal_credential, set_credential
from marketing_app.services.loyalty_programs import refuse_nul
from marketing_app.services.loyalty_sync_state import (
    save_sync_state,
    sync_state,
    validated_base_url,
)
from marketing_app.services.provider_calls import CallLog

PROVIDER = "alpineiq"
UID_LENGTH = 100


@dataclass(frozen=True)
class AiqCredentials:
    api_key: str
    uid: str
    base_url: str


def save_alpineiq_credentials(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    api_key: str,
    uid: str,
    base_url: str = DEFAULT_BASE_URL,
) -> ProviderCredential:
    """Store the tenant's Alpine IQ key (encrypted), account uid and address."""
    uid = refuse_nul(str(uid or "").strip(), "uid", "An account uid")
    if not uid or len(uid) > UID_LENGTH or any(ch.isspace() or ch in "/?#" for ch in uid):
        raise InvalidInput("Give the Alpine IQ account uid (letters and digits).", field="uid")
    refuse_nul(api_key or "", "secret", "An API key")
    config = {"uid": uid, "base_url": validated_base_url(base_url)}
    return set_credential(
        session=session, tenant_id=tenant_id, provider=PROVIDER, secret=api_key, config=config
    )


def alpineiq_credentials(*, session: Session, tenant_id: uuid.UUID) -> AiqCredentials | None:
    """The tenant's Alpine IQ account, or None when not configured (no credential or uid)."""
    row = session.exec(
        select(ProviderCredential).where(
            ProviderCredential.tenant_id == tenant_id, ProviderCredential.provider == PROVIDER
        )
    ).first()
    config = (row.config or {}) if row else {}
    if not config.get("uid"):
        return None
    api_key = reveal_credential(session=session, tenant_id=tenant_id, provider=PROVIDER)
    return AiqCredentials(
        api_key, str(config["uid"]), str(config.get("base_url") or DEFAULT_BASE_URL)
    )


def aiq_state(*, session: Session, tenant_id: uuid.UUID) -> dict[str, Any]:
    return dict(sync_state(session=session, tenant_id=tenant_id).get(PROVIDER) or {})


def save_aiq_state(session: Session, tenant_id: uuid.UUID, changes: dict[str, Any]) -> None:
    state = {**aiq_state(session=session, tenant_id=tenant_id), **changes}
    save_sync_state(session, tenant_id, {PROVIDER: state})


def alpineiq_program(*, session: Session, tenant_id: uuid.UUID) -> dict[str, Any] | None:
    """Alpine IQ's loyalty settings as last read: {"name", "points_per_dollar" (a decimal
    string), "expiration_days", "tiers": [{"points", "discount_percent", "name"}], "read_at"};
    None before the first successful read."""
    return aiq_state(session=session, tenant_id=tenant_id).get("program")


def program_state(settings: AiqLoyaltySettings, now: datetime) -> dict[str, Any]:
    return {
        "name": settings.name,
        "points_per_dollar": str(settings.points_per_dollar),
        "expiration_days": settings.expiration_days,
        "tiers": [
            {"points": t.points, "discount_percent": str(t.discount_percent), "name": t.name}
            for t in settings.tiers
        ],
        "read_at": now.isoformat(),
    }


def client_for(credentials: AiqCredentials, log: CallLog, **options: Any) -> AlpineIQClient:
    return AlpineIQClient(
        api_key=credentials.api_key,
        uid=credentials.uid,
        base_url=credentials.base_url,
        on_call=log,
        **options,
    )


class AiqReads:
    """Alpine IQ's settings and first contacts page, requested at once on two threads, so the
    caller can start them before other work (the POS part of a sync) and read them after; then
    the remaining pages. Calls go to `log`. Close it (or use `with`)."""

    def __init__(self, credentials: AiqCredentials, log: CallLog, **client_options: Any) -> None:
        self.log = log
        self.client = client_for(credentials, log, **client_options)
        self._ahead = ThreadPoolExecutor(2, thread_name_prefix="alpineiq-ahead")
        self._pages = self.client.iter_contact_pages()
        self.settings = self._ahead.submit(self.client.get_loyalty_settings)
        self._first = self._ahead.submit(self._read_next)

    def _read_next(self) -> tuple[Page[AiqContact], datetime]:
        return next(self._pages), utcnow()

    def pages(self) -> Iterator[tuple[Page[AiqContact], datetime]]:
        """Each page with when it was read (what a balance's `synced_at` says: the first page
        may have arrived long before the caller got to it)."""
        yield self._first.result()
        for page in self._pages:
            yield page, utcnow()

    def close(self) -> None:
        self._ahead.shutdown(wait=True, cancel_futures=True)
        self.client.close()

    def __enter__(self) -> AiqReads:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def start_alpineiq_reads(
    *, session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID | None = None, **options: Any
) -> AiqReads:
    """Start reading the tenant's Alpine IQ account (see `AiqReads`); NotFound without one."""
    credentials = alpineiq_credentials(session=session, tenant_id=tenant_id)
    if credentials is None:
        raise NotFound("No Alpine IQ credentials configured.")
    log = CallLog(tenant_id=tenant_id, job_id=job_id, forward=options.pop("on_call", None))
    return AiqReads(credentials, log, **options)
