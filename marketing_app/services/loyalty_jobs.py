"""Background work of loyalty as job handlers.

Handlers take the job row, call one service and commit; each is safe to run twice (the
ledger's source keys see to that). job_execution registers them under LOYALTY_JOB_KINDS.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from marketing_app.models import JobRun, Tenant
from marketing_app.models.base import utcnow
from marketing_app.services import job_runs
from marketing_app.services.loyalty_adjustments import expire_inactive_points
from marketing_app.services.loyalty_alerts import send_reconciliation_alert
from marketing_app.services.loyalty_earning import award_birthday_bonuses, credit_orders
from marketing_app.services.loyalty_sync_runs import (
    LoyaltySyncFailed,
    sync_loyalty,
    sync_one_customer,
)
from marketing_app.services.provider_calls import prune_calls
from marketing_app.services.segment_schedule import fold_recent_loyalty
from marketing_app.settings import get_settings


def _credit_orders(session: Session, job: JobRun, progress) -> str:
    progress(0, 1, "Crediting orders")
    contact_id = job.params.get("contact_id")
    result = credit_orders(
        session=session,
        tenant_id=job.tenant_id,
        contact_id=int(contact_id) if contact_id is not None else None,
    )
    session.commit()
    return (
        f"Credited {result.orders_credited} orders ({result.points} points), "
        f"{len(result.tier_changes)} tier changes; skipped {result.skipped_no_customer} "
        f"without a customer and {result.skipped_bad_total} with a bad total"
    )


def _expire_points(session: Session, job: JobRun, progress) -> str:
    progress(0, 1, "Expiring inactive balances")
    result = expire_inactive_points(session=session, tenant_id=job.tenant_id)
    session.commit()
    return f"Expired {-result.points} points of {len(result.contacts)} members"


def _birthday_bonuses(session: Session, job: JobRun, progress) -> str:
    progress(0, 1, "Giving birthday bonuses")
    tenant = session.get(Tenant, job.tenant_id)
    today = datetime.now(ZoneInfo(tenant.time_zone)).date()
    result = award_birthday_bonuses(session=session, tenant_id=job.tenant_id, on=today)
    session.commit()
    return f"Birthday bonus for {len(result.contacts)} members"


def _client_options() -> dict[str, Any]:
    """Provider rate limits shared by every worker through Redis when it is configured."""
    return {"limiter_storage_uri": get_settings().redis_url}


def _sync_customer(session: Session, job: JobRun, progress) -> str:
    progress(0, 1, "Syncing the customer")
    options = _client_options()
    result = sync_one_customer(
        session=session,
        tenant_id=job.tenant_id,
        contact_id=int(job.params["contact_id"]),
        job_id=job.id,
        pos_options=options,
        aiq_options=options,
    )
    session.commit()  # what one provider gave is kept whatever the other did
    job_runs.store_result(session=session, job_id=job.id, result=asdict(result))
    if result.errors:
        raise LoyaltySyncFailed("; ".join(result.errors))
    points = "not in Alpine IQ" if result.alpineiq_points is None else result.alpineiq_points
    return (
        f"Customer synced: Alpine IQ points {points}; credited {result.orders_credited} "
        f"orders ({result.points_credited} points)"
    )


def _sync_loyalty(session: Session, job: JobRun, progress) -> str:
    """The tenant's POS orders, then its Alpine IQ balances (or one customer's)."""
    if job.params.get("contact_id") is not None:
        return _sync_customer(session, job, progress)
    options = _client_options()
    outcome = sync_loyalty(
        session=session,
        tenant_id=job.tenant_id,
        job_id=job.id,
        progress=progress,
        checkpoint=session.commit,  # each provider's part is kept whatever the next does
        pos_options=options,
        aiq_options=options,
    )
    session.commit()
    result = outcome.as_result()
    if outcome.reconciliation is not None:  # new discrepancies over the threshold are told
        result["alert"] = send_reconciliation_alert(session=session, tenant_id=job.tenant_id)
        session.commit()
    job_runs.store_result(session=session, job_id=job.id, result=result)
    if outcome.errors():
        raise LoyaltySyncFailed(outcome.summary())
    return outcome.summary()


def _prune_provider_calls(session: Session, job: JobRun, progress) -> str:
    progress(0, 1, "Pruning the provider call log")
    removed = prune_calls(session=session)
    session.commit()
    return f"Removed {removed} logged provider calls"


def _then_fold(handler):
    """The handler, then the profiles whose points it changed folded into segments (tier and
    points conditions follow within the job, not at the next scheduled refresh)."""

    def run(session: Session, job: JobRun, progress) -> str:
        started = utcnow()
        message = handler(session, job, progress)
        fold_recent_loyalty(session=session, tenant_id=job.tenant_id, since=started)
        session.commit()
        return message

    return run


LOYALTY_JOB_KINDS = {
    "loyalty_credit_orders": _then_fold(_credit_orders),  # params: contact_id (optional)
    "loyalty_expire_points": _then_fold(_expire_points),
    "loyalty_birthday_bonuses": _then_fold(_birthday_bonuses),
    # POS orders (Alleaves) then Alpine IQ balances; params: contact_id (optional)
    "loyalty_sync": _then_fold(_sync_loyalty),
    "loyalty_prune_calls": _prune_provider_calls,  # every tenant's calls past retention
}
