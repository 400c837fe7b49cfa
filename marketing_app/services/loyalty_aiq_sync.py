"""Alpine IQ balances: every contact's points into `ExternalLoyaltyBalance`, set-based.

Credentials: a `ProviderCredential` with provider "alpineiq"; its encrypted secret is the API
key and its `config` holds `{"uid": "<account uid>", "base_url": "https://..."}`
(`save_alpineiq_credentials`).

One sync reads Alpine IQ's loyalty settings once (accrual rate, tiers, expiry: kept in the
sync state so reconciliation can tell a configuration mismatch), then pages through the
contacts with their points (the paged piis call, 2,000 a call: never one call per customer)
and for each page:
- maps each contact to a profile (`loyalty_sync_people`): identity "alpineiq" (the contact id)
  first, else the normalized email or phone; a contact unknown to us becomes a new profile;
- upserts one balance row per profile (points, external_id, synced_at) in one statement.
Garbage contacts are skipped and counted with their reasons; two contacts that resolve to one
profile keep the first one's balance. An outage keeps the balances already stored (the last
good data) and records the error.

State: `tenant.settings["loyalty_sync"]["alpineiq"]` holds last_synced_at, last_attempt_at,
last_error, counts, skip_reasons, `program` (Alpine IQ's settings as last read, with `read_at`),
`points_per_dollar` (its accrual rate as a decimal string, what reconciliation compares with
ours) and `program_error` when the settings could not be read.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, select

from marketing_app.domain.errors import (
    DomainError,
    InvalidInput,
    NotFound,
    ProviderError,
    ProviderUnavailable,
)
from marketing_app.models import ExternalLoyaltyBalance, ProviderCredential
from marketing_app.models.base import utcnow
from marketing_app.providers.alpineiq import (
    DEFAULT_BASE_URL,
    AiqContact,
    AiqLoyaltySettings,
    AlpineIQClient,
)
from marketing_app.providers.wire import Page
from marketing_app.services.credentials import reveal_credential, set_credential
from marketing_app.services.identity import IdentityMap
from marketing_app.services.loyalty_programs import refuse_nul
from marketing_app.services.loyalty_sync import (
    KEPT_SKIPS,
    Progress,
    describe_error,
    outcome_state,
    save_sync_state,
    sync_state,
    validated_base_url,
)
from marketing_app.services.loyalty_sync_people import contact_person, map_people, owner
from marketing_app.services.provider_calls import CallLog

PROVIDER = "alpineiq"
UID_LENGTH = 100


class AiqSyncFailed(DomainError):
    """Alpine IQ could not be read; the balances already stored stay as they were."""


@dataclass(frozen=True)
class AiqCredentials:
    api_key: str
    uid: str
    base_url: str


@dataclass
class AiqSyncResult:
    contacts: int = 0  # usable contacts read
    balances: int = 0  # balance rows written (created or updated)
    profiles_created: int = 0
    without_points: int = 0  # contacts Alpine IQ sent no points for: no balance row
    shared_profiles: int = 0  # contacts that resolved to a profile another contact had
    skipped: int = 0  # garbage records
    pages: int = 0
    calls: int = 0
    rate_limited: int = 0  # calls Alpine IQ answered 429
    seconds: float = 0.0
    error: str | None = None
    program_error: str | None = None
    skip_reasons: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}


# --- credentials and state -------------------------------------------------------------------


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


def _save_aiq_state(session: Session, tenant_id: uuid.UUID, changes: dict[str, Any]) -> None:
    state = {**aiq_state(session=session, tenant_id=tenant_id), **changes}
    save_sync_state(session, tenant_id, {PROVIDER: state})


def alpineiq_program(*, session: Session, tenant_id: uuid.UUID) -> dict[str, Any] | None:
    """Alpine IQ's loyalty settings as last read: {"name", "points_per_dollar" (a decimal
    string), "expiration_days", "tiers": [{"points", "discount_percent", "name"}], "read_at"};
    None before the first successful read."""
    return aiq_state(session=session, tenant_id=tenant_id).get("program")


def _program_state(settings: AiqLoyaltySettings, now: datetime) -> dict[str, Any]:
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


# --- balances --------------------------------------------------------------------------------


UPSERT_BALANCES = text(
    """
    INSERT INTO loyalty_external_balances
        (tenant_id, provider, contact_id, external_id, points, synced_at)
    SELECT CAST(:tenant_id AS uuid), :provider, contact_id, external_id, points, synced_at
    FROM unnest(CAST(:contact_ids AS BIGINT[]), CAST(:external_ids AS VARCHAR[]),
                CAST(:points AS BIGINT[]), CAST(:synced_at AS TIMESTAMPTZ[]))
         AS offered (contact_id, external_id, points, synced_at)
    ON CONFLICT (tenant_id, provider, contact_id) DO UPDATE
    SET external_id = excluded.external_id, points = excluded.points,
        synced_at = excluded.synced_at
    """
)


def upsert_balances(session: Session, rows: list[dict[str, Any]]) -> int:
    """One balance per (tenant, provider, profile): insert, or update points, id and time.

    `rows` share tenant and provider and name each profile once. PostgreSQL takes them as
    four arrays in one statement (a multi-row VALUES list of thousands of parameters costs
    more to send than to run); SQLite as an executemany upsert.
    """
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        columns = {name: [row[name] for row in rows] for name in rows[0]}
        session.execute(
            UPSERT_BALANCES,
            {
                "tenant_id": rows[0]["tenant_id"],
                "provider": rows[0]["provider"],
                "contact_ids": columns["contact_id"],
                "external_ids": columns["external_id"],
                "points": columns["points"],
                "synced_at": columns["synced_at"],
            },
        )
        return len(rows)
    statement = sqlite.insert(ExternalLoyaltyBalance)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "provider", "contact_id"],
        set_={
            "external_id": statement.excluded.external_id,
            "points": statement.excluded.points,
            "synced_at": statement.excluded.synced_at,
        },
    )
    session.execute(statement, rows)
    return len(rows)


@dataclass
class _AiqRun:
    session: Session
    tenant_id: uuid.UUID
    result: AiqSyncResult
    log: CallLog
    progress: Progress | None
    ids: IdentityMap = field(init=False)
    seen: dict[int, str] = field(default_factory=dict)  # profile -> contact id it got

    def __post_init__(self) -> None:
        self.ids = IdentityMap(self.session, self.tenant_id)


def _balance_rows(run: _AiqRun, contacts: list[AiqContact], people, now: datetime) -> list:
    rows = []
    for contact, person in zip(contacts, people, strict=True):
        profile = owner(run.ids, person)
        if contact.points is None:
            run.result.without_points += 1
        elif profile in run.seen:
            run.result.shared_profiles += 1
            _skip(run.result, contact.contact_id, f"same customer as contact {run.seen[profile]}")
        else:
            run.seen[profile] = contact.contact_id
            rows.append(
                {
                    "tenant_id": run.tenant_id,
                    "provider": PROVIDER,
                    "contact_id": profile,
                    "external_id": contact.contact_id,
                    "points": contact.points,
                    "synced_at": now,
                }
            )
    return rows


def _skip(result: AiqSyncResult, record_id: str | None, reason: str) -> None:
    if len(result.skip_reasons) < KEPT_SKIPS:
        result.skip_reasons.append(f"contact {record_id or '?'}: {reason}"[:300])


def _store_page(run: _AiqRun, page: Page[AiqContact]) -> None:
    result, now = run.result, utcnow()
    people = [contact_person(contact) for contact in page.records]
    result.contacts += len(people)
    result.profiles_created += map_people(run.session, run.tenant_id, run.ids, people)
    result.balances += upsert_balances(run.session, _balance_rows(run, page.records, people, now))
    result.skipped += len(page.skipped)
    for skipped in page.skipped:
        _skip(result, skipped.record_id, skipped.reason)
    result.pages += 1
    run.log.flush(run.session)
    if run.progress is not None:
        total = max(page.total_pages, result.pages)
        run.progress(
            result.pages, total, f"Synced Alpine IQ contacts page {page.number} of {total}"
        )


def _read_program(client: AlpineIQClient, session, tenant_id, result: AiqSyncResult) -> None:
    """Alpine IQ's settings into the state; a refusal or garbage is noted and the balances
    still sync (an outage is not: it stops the sync)."""
    try:
        settings = client.get_loyalty_settings()
    except ProviderUnavailable:
        raise
    except ProviderError as exc:
        result.program_error = describe_error(exc)
        _save_aiq_state(session, tenant_id, {"program_error": result.program_error})
        return
    program = _program_state(settings, utcnow())
    changes = {"program": program, "program_error": None}
    # Where reconciliation reads Alpine IQ's accrual rate (RATE_KEYS there).
    changes["points_per_dollar"] = program["points_per_dollar"]
    _save_aiq_state(session, tenant_id, changes)


def sync_alpineiq_balances(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    progress: Progress | None = None,
    job_id: uuid.UUID | None = None,
    now: datetime | None = None,
    **client_options: Any,
) -> AiqSyncResult:
    """Read every Alpine IQ contact's points into the tenant's external balances.

    `client_options` go to `AlpineIQClient` (retry, rate_limits, limiter_storage_uri,
    contacts_page_size, on_call...); every call is logged under `job_id`. A provider failure
    is recorded in the state and returned as `result.error`; the caller commits either way.
    """
    credentials = alpineiq_credentials(session=session, tenant_id=tenant_id)
    if credentials is None:
        raise NotFound("No Alpine IQ credentials configured.")
    started, clock = now or utcnow(), time.perf_counter()
    log = CallLog(tenant_id=tenant_id, job_id=job_id, forward=client_options.pop("on_call", None))
    run = _AiqRun(session, tenant_id, AiqSyncResult(), log, progress)
    try:
        with client_for(credentials, log, **client_options) as client:
            _read_program(client, session, tenant_id, run.result)
            for page in client.iter_contact_pages():
                _store_page(run, page)
    except ProviderError as exc:
        run.result.error = describe_error(exc)
    log.flush(session)
    run.result.calls, run.result.rate_limited = log.calls, log.rate_limited
    run.result.seconds = round(time.perf_counter() - clock, 3)
    _save_aiq_state(session, tenant_id, outcome_state(started, run.result))
    return run.result
