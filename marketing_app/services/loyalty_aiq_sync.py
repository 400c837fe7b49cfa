"""Alpine IQ balances: every contact's points into `ExternalLoyaltyBalance`, set-based.

The account (credentials, client, the reads started early, the state) is
`loyalty_aiq_account`.

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
from sqlmodel import Session

from marketing_app.domain.errors import ProviderError, ProviderUnavailable
from marketing_app.models import ExternalLoyaltyBalance
from marketing_app.models.base import utcnow
from marketing_app.providers.alpineiq import AiqContact
from marketing_app.providers.wire import Page
from marketing_app.services.bulk_reads import StatisticsWatch
from marketing_app.services.identity import IdentityMap
from marketing_app.services.loyalty_aiq_account import (
    PROVIDER,
    AiqReads,
    program_state,
    save_aiq_state,
    start_alpineiq_reads,
)

# The account's helpers, importable from here too (the UI and tests connect through these).
from marketing_app.services.loyalty_aiq_account import aiq_state as aiq_state
from marketing_app.services.loyalty_aiq_account import alpineiq_program as alpineiq_program
from marketing_app.services.loyalty_aiq_account import (
    save_alpineiq_credentials as save_alpineiq_credentials,
)
from marketing_app.services.loyalty_sync import KEPT_SKIPS, Progress
from marketing_app.services.loyalty_sync_people import (
    IDENTITY_TABLES,
    contact_person,
    map_people,
    owner,
)
from marketing_app.services.loyalty_sync_state import describe_error, outcome_state
from marketing_app.services.provider_calls import FLUSH_EVERY, CallLog


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
    watch: StatisticsWatch = field(init=False)
    seen: dict[int, str] = field(default_factory=dict)  # profile -> contact id it got

    def __post_init__(self) -> None:
        self.ids = IdentityMap(self.session, self.tenant_id)
        self.watch = StatisticsWatch(self.session, IDENTITY_TABLES)


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


def _store_page(run: _AiqRun, page: Page[AiqContact], now: datetime) -> None:
    result = run.result
    people = [contact_person(contact) for contact in page.records]
    result.contacts += len(people)
    run.watch.check()  # earlier pages' profiles may have outgrown the statistics
    created = map_people(run.session, run.tenant_id, run.ids, people)
    result.profiles_created += created
    run.watch.wrote(len(people) + created)
    result.balances += upsert_balances(run.session, _balance_rows(run, page.records, people, now))
    result.skipped += len(page.skipped)
    for skipped in page.skipped:
        _skip(result, skipped.record_id, skipped.reason)
    result.pages += 1
    run.log.flush(run.session, at_least=FLUSH_EVERY)
    if run.progress is not None:
        total = max(page.total_pages, result.pages)
        run.progress(
            result.pages, total, f"Synced Alpine IQ contacts page {page.number} of {total}"
        )


def _read_program(reads: AiqReads, session, tenant_id, result: AiqSyncResult) -> None:
    """Alpine IQ's settings into the state; a refusal or garbage is noted and the balances
    still sync (an outage is not: it stops the sync)."""
    try:
        settings = reads.settings.result()
    except ProviderUnavailable:
        raise
    except ProviderError as exc:
        result.program_error = describe_error(exc)
        save_aiq_state(session, tenant_id, {"program_error": result.program_error})
        return
    program = program_state(settings, utcnow())
    changes = {"program": program, "program_error": None}
    # Where reconciliation reads Alpine IQ's accrual rate (RATE_KEYS there).
    changes["points_per_dollar"] = program["points_per_dollar"]
    save_aiq_state(session, tenant_id, changes)


def sync_alpineiq_balances(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    progress: Progress | None = None,
    job_id: uuid.UUID | None = None,
    now: datetime | None = None,
    reads: AiqReads | None = None,
    **client_options: Any,
) -> AiqSyncResult:
    """Read every Alpine IQ contact's points into the tenant's external balances.

    `reads` continues reads a caller started earlier (`start_alpineiq_reads`, closed by the
    caller); otherwise `client_options` go to `AlpineIQClient` (retry, rate_limits,
    limiter_storage_uri, contacts_page_size, on_call...). Every call is logged under `job_id`.
    A provider failure is recorded in the state and returned as `result.error`; the caller
    commits either way.
    """
    started, clock = now or utcnow(), time.perf_counter()
    own = reads is None
    if own:
        reads = start_alpineiq_reads(
            session=session, tenant_id=tenant_id, job_id=job_id, **client_options
        )
    run = _AiqRun(session, tenant_id, AiqSyncResult(), reads.log, progress)
    try:
        _read_program(reads, session, tenant_id, run.result)
        for page, read_at in reads.pages():
            _store_page(run, page, read_at)
    except ProviderError as exc:
        run.result.error = describe_error(exc)
    finally:
        if own:
            reads.close()
    reads.log.flush(session)
    run.result.calls, run.result.rate_limited = reads.log.calls, reads.log.rate_limited
    run.result.seconds = round(time.perf_counter() - clock, 3)
    save_aiq_state(session, tenant_id, outcome_state(started, run.result))
    return run.result
