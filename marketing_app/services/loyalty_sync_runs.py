"""A tenant's loyalty sync as one run: POS orders, then Alpine IQ balances, then reconciliation
(when the tenant has a program). The API, the UI and the schedule request it as a
"loyalty_sync" job, for the whole tenant or one customer.

Each provider's part runs when the tenant has its credentials. A provider failure stops only
that part: what it stored so far and the other provider's data stay (the caller's
`checkpoint` commits after each part), and the error lands in the sync state and the outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from marketing_app.domain.errors import Conflict, DomainError, ProviderError
from marketing_app.models import ContactIdentity, JobRun, ProviderCredential
from marketing_app.models.base import utcnow
from marketing_app.providers.alleaves import AlleavesClient
from marketing_app.services import job_runs
from marketing_app.services.bulk import insert_ignoring_duplicates
from marketing_app.services.identity import IdentityMap
from marketing_app.services.job_runs import ACTIVE_STATUSES
from marketing_app.services.loyalty_adjustments import require_contact
from marketing_app.services.loyalty_aiq_account import PROVIDER as ALPINEIQ
from marketing_app.services.loyalty_aiq_account import (
    alpineiq_credentials,
    client_for,
    start_alpineiq_reads,
)
from marketing_app.services.loyalty_aiq_sync import (
    AiqSyncResult,
    sync_alpineiq_balances,
    upsert_balances,
)
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_programs import get_program
from marketing_app.services.loyalty_reconciliation import reconcile
from marketing_app.services.loyalty_sync import PosSyncResult, Progress, sync_pos_orders
from marketing_app.services.loyalty_sync_people import customer_person, map_people
from marketing_app.services.loyalty_sync_state import (
    ALLEAVES,
    alleaves_credentials,
    describe_error,
)
from marketing_app.services.provider_calls import CallLog

SYNC_JOB_KIND = "loyalty_sync"  # services.loyalty_jobs runs it
PROVIDERS = (ALLEAVES, ALPINEIQ)  # in the order a sync runs them
PHASE_UNITS = 1_000  # progress units per part, so two parts share one bar
NOTHING_CONFIGURED = (
    "No loyalty provider is connected: save Alleaves POS or Alpine IQ credentials first "
    "(Settings, Provider credentials)."
)
POS_ORDERS_NOT_FILTERABLE = (
    "Alleaves lists orders by update time only, not by customer: this customer's new POS "
    "orders arrive with the next full sync."
)


class LoyaltySyncFailed(DomainError):
    """A provider's part failed; the other part's data and the last good data are kept."""


def configured_providers(*, session: Session, tenant_id: uuid.UUID) -> list[str]:
    """The loyalty providers the tenant has usable credentials for, in sync order."""
    rows = session.exec(
        select(ProviderCredential.provider, ProviderCredential.config).where(
            ProviderCredential.tenant_id == tenant_id,
            col(ProviderCredential.provider).in_(PROVIDERS),
        )
    ).all()
    needed = {ALLEAVES: "base_url", ALPINEIQ: "uid"}
    usable = {provider for provider, config in rows if (config or {}).get(needed[provider])}
    return [provider for provider in PROVIDERS if provider in usable]


def active_sync_job(*, session: Session, tenant_id: uuid.UUID) -> JobRun | None:
    """The tenant's whole-tenant sync that is pending, enqueued or running, if any."""
    jobs = session.exec(
        select(JobRun)
        .where(
            JobRun.tenant_id == tenant_id,
            JobRun.kind == SYNC_JOB_KIND,
            col(JobRun.status).in_(ACTIVE_STATUSES),
        )
        .order_by(col(JobRun.created_at))
    ).all()
    return next((job for job in jobs if not (job.params or {}).get("contact_id")), None)


def request_sync(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    contact_id: int | None = None,
    enqueue_now: bool = True,
) -> tuple[JobRun, bool]:
    """Queue a sync of the tenant (or of one customer); returns (job, created).

    A whole-tenant sync already pending or running is returned instead of a second one
    (created False: the caller must not enqueue it again). Conflict when no provider is
    connected; NotFound for a customer of another tenant.
    """
    if contact_id is not None:
        require_contact(session, tenant_id, contact_id)
    if not configured_providers(session=session, tenant_id=tenant_id):
        raise Conflict(NOTHING_CONFIGURED)
    if contact_id is None and (running := active_sync_job(session=session, tenant_id=tenant_id)):
        return running, False
    job = job_runs.create_job_run(
        session=session,
        tenant_id=tenant_id,
        kind=SYNC_JOB_KIND,
        label="Sync loyalty" + (f" of customer {contact_id}" if contact_id else ""),
        params={} if contact_id is None else {"contact_id": contact_id},
        enqueue_now=enqueue_now,
    )
    return job, True


# --- the whole tenant ------------------------------------------------------------------------


@dataclass
class LoyaltySyncOutcome:
    pos: PosSyncResult | None = None
    alpineiq: AiqSyncResult | None = None
    reconciliation: dict[str, Any] | None = None  # the run's summary; None: no program

    def errors(self) -> list[str]:
        parts = [("POS", self.pos), ("Alpine IQ", self.alpineiq)]
        return [f"{name}: {part.error}" for name, part in parts if part and part.error]

    def summary(self) -> str:
        lines = []
        if self.pos is not None:
            pos = self.pos
            lines.append(
                f"POS: {pos.customers} customers, {pos.orders} orders ({pos.orders_created} new), "
                f"{pos.orders_credited} credited, {pos.refunds} refunds, {pos.skipped} skipped"
            )
        if self.alpineiq is not None:
            aiq = self.alpineiq
            lines.append(
                f"Alpine IQ: {aiq.contacts} contacts, {aiq.balances} balances "
                f"({aiq.profiles_created} new profiles), {aiq.skipped} skipped"
            )
        if self.reconciliation is not None:
            lines.append(f"Reconciled {self.reconciliation.get('compared', 0)} customers")
        errors = self.errors()
        if errors:
            lines.append("Failed, last good data kept: " + "; ".join(errors))
        return ". ".join(lines) or "Nothing to sync"

    def as_result(self) -> dict[str, Any]:
        """The job's result: each part's counts, error and skip reasons."""
        return {
            "pos": asdict(self.pos) if self.pos else None,
            "alpineiq": asdict(self.alpineiq) if self.alpineiq else None,
            "errors": self.errors(),
            "reconciliation": self.reconciliation,
        }


@dataclass
class _Run:
    """One tenant sync's parts share these."""

    session: Session
    tenant_id: uuid.UUID
    job_id: uuid.UUID | None
    now: datetime | None
    progress: Progress | None
    phases: int
    done: Callable[[], None]

    def part_progress(self, index: int, label: str) -> Progress | None:
        """Progress of one part mapped onto its share of the whole bar, never moving back (a
        part learns its total page by page)."""
        if self.progress is None:
            return None
        progress, reached = self.progress, [0]

        def report(done: int, total: int, message: str) -> None:
            reached[0] = max(reached[0], min(PHASE_UNITS * done // max(total, 1), PHASE_UNITS))
            whole = self.phases * PHASE_UNITS
            progress(index * PHASE_UNITS + reached[0], whole, f"{label}: {message}")

        return report


def _provider_parts(run: _Run, providers: list[str], outcome, pos_options, aiq_options) -> None:
    """The POS part, then Alpine IQ's, whose first answers arrive while the POS part runs."""
    reads = None
    if ALPINEIQ in providers:
        options = aiq_options or {}
        reads = start_alpineiq_reads(
            session=run.session, tenant_id=run.tenant_id, job_id=run.job_id, **options
        )
    common = {"session": run.session, "tenant_id": run.tenant_id, "job_id": run.job_id}
    try:
        if ALLEAVES in providers:
            progress = run.part_progress(0, "POS")
            outcome.pos = sync_pos_orders(
                **common, progress=progress, now=run.now, **(pos_options or {})
            )
            run.done()
        if reads is not None:
            progress = run.part_progress(providers.index(ALPINEIQ), "Alpine IQ")
            outcome.alpineiq = sync_alpineiq_balances(
                **common, progress=progress, now=run.now, reads=reads
            )
            run.done()
    finally:
        if reads is not None:
            reads.close()


def sync_loyalty(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    job_id: uuid.UUID | None = None,
    progress: Progress | None = None,
    checkpoint: Callable[[], None] | None = None,
    now: datetime | None = None,
    pos_options: dict[str, Any] | None = None,
    aiq_options: dict[str, Any] | None = None,
) -> LoyaltySyncOutcome:
    """POS orders (Alleaves credentials), then Alpine IQ balances (Alpine IQ credentials),
    then reconciliation. `checkpoint` runs after each part (a job commits there)."""
    providers = configured_providers(session=session, tenant_id=tenant_id)
    if not providers:
        raise Conflict(NOTHING_CONFIGURED)
    reconciling = get_program(session=session, tenant_id=tenant_id) is not None
    phases = len(providers) + int(reconciling)
    run = _Run(session, tenant_id, job_id, now, progress, phases, checkpoint or (lambda: None))
    outcome = LoyaltySyncOutcome()
    _provider_parts(run, providers, outcome, pos_options, aiq_options)
    # --- final step: reconciliation (services/loyalty_reconciliation.py) -----------------
    # After both parts, also when one failed: the balances compared are the last good ones.
    if reconciling:
        if progress is not None:
            progress((phases - 1) * PHASE_UNITS, phases * PHASE_UNITS, "Reconciling balances")
        outcome.reconciliation = reconcile(session=session, tenant_id=tenant_id, now=now).summary()
        run.done()
    return outcome


# --- one customer ----------------------------------------------------------------------------


@dataclass
class CustomerSyncResult:
    contact_id: int
    alpineiq_contact_id: str | None = None
    alpineiq_points: int | None = None  # None: not looked up, or not in Alpine IQ
    pos_customer_found: bool = False
    orders_credited: int = 0
    points_credited: int = 0
    calls: int = 0
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _customer_balance(session, tenant_id, contact, log: CallLog, result, options) -> None:
    """The customer's Alpine IQ wallet (by phone, else email) into their external balance."""
    credentials = alpineiq_credentials(session=session, tenant_id=tenant_id)
    if not (contact.phone or contact.email):
        result.notes.append("Alpine IQ: the customer has no phone or email to look up.")
        return
    with client_for(credentials, log, **options) as client:
        wallet = client.get_loyalty_profile(contact.phone, email=contact.email)
    if wallet is None or not wallet.contact_id:
        result.notes.append("Alpine IQ: no contact with the customer's phone or email.")
        return
    result.alpineiq_contact_id, result.alpineiq_points = wallet.contact_id, wallet.points
    identity = {"tenant_id": tenant_id, "contact_id": contact.id, "kind": ALPINEIQ}
    row = {**identity, "value": wallet.contact_id[:320], "created_at": utcnow()}
    insert_ignoring_duplicates(session=session, model=ContactIdentity, rows=[row])
    balance = {"external_id": wallet.contact_id, "points": wallet.points, "synced_at": utcnow()}
    owner = {"tenant_id": tenant_id, "contact_id": contact.id, "provider": ALPINEIQ}
    upsert_balances(session, [{**owner, **balance}])


def _customer_pos(session, tenant_id, contact, log: CallLog, result, options) -> None:
    """The customer's POS record (by their POS id) and their orders not credited yet."""
    pos_id = session.exec(
        select(ContactIdentity.value).where(
            ContactIdentity.tenant_id == tenant_id,
            ContactIdentity.contact_id == contact.id,
            ContactIdentity.kind == "pos",
        )
    ).first()
    result.notes.append(POS_ORDERS_NOT_FILTERABLE)
    if pos_id is not None:
        base_url, api_key = alleaves_credentials(session=session, tenant_id=tenant_id)
        with AlleavesClient(base_url=base_url, api_key=api_key, on_call=log, **options) as client:
            customer = client.get_customer(pos_id)
        if customer is not None:
            result.pos_customer_found = True
            ids = IdentityMap(session, tenant_id)
            map_people(session, tenant_id, ids, [customer_person(customer)])
    if get_program(session=session, tenant_id=tenant_id) is not None:
        credit = credit_orders(session=session, tenant_id=tenant_id, contact_id=contact.id)
        result.orders_credited, result.points_credited = credit.orders_credited, credit.points


def sync_one_customer(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    contact_id: int,
    job_id: uuid.UUID | None = None,
    pos_options: dict[str, Any] | None = None,
    aiq_options: dict[str, Any] | None = None,
) -> CustomerSyncResult:
    """One customer: their Alpine IQ balance (a wallet lookup by phone or email), their POS
    customer record and their uncredited orders. Provider failures are collected in
    `errors`; what the other provider gave is kept."""
    contact = require_contact(session, tenant_id, contact_id)
    providers = configured_providers(session=session, tenant_id=tenant_id)
    if not providers:
        raise Conflict(NOTHING_CONFIGURED)
    result = CustomerSyncResult(contact_id=contact.id)
    log = CallLog(tenant_id=tenant_id, job_id=job_id)
    parts = [
        (ALPINEIQ, "Alpine IQ", _customer_balance, aiq_options),
        (ALLEAVES, "POS", _customer_pos, pos_options),
    ]
    for provider, label, part, options in parts:
        if provider in providers:
            try:
                part(session, tenant_id, contact, log, result, options or {})
            except ProviderError as exc:
                result.errors.append(f"{label}: {describe_error(exc)}")
    log.flush(session)
    result.calls = log.calls
    return result
