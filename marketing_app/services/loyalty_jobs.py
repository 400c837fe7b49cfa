"""Background work of loyalty as job handlers.

Handlers take the job row, call one service and commit; each is safe to run twice (the
ledger's source keys see to that). job_execution registers them under LOYALTY_JOB_KINDS.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from marketing_app.models import JobRun, Tenant
from marketing_app.services.loyalty_adjustments import expire_inactive_points
from marketing_app.services.loyalty_earning import award_birthday_bonuses, credit_orders
from marketing_app.services.loyalty_sync import PosSyncFailed, sync_pos_orders


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


def _sync_pos(session: Session, job: JobRun, progress) -> str:
    result = sync_pos_orders(session=session, tenant_id=job.tenant_id, progress=progress)
    session.commit()  # the sync state (and any error) is kept whatever happens next
    if result.error:
        raise PosSyncFailed(f"POS sync failed, last good data kept: {result.error}")
    return (
        f"Synced {result.customers} customers and {result.orders} orders "
        f"({result.orders_created} new, {result.profiles_created} new profiles); credited "
        f"{result.orders_credited} orders ({result.points} points), {result.refunds} refunds; "
        f"skipped {result.skipped} bad records"
    )


LOYALTY_JOB_KINDS = {
    "loyalty_credit_orders": _credit_orders,  # params: contact_id (optional)
    "loyalty_expire_points": _expire_points,
    "loyalty_birthday_bonuses": _birthday_bonuses,
    "loyalty_sync": _sync_pos,  # the tenant's POS customers and orders (Alleaves)
}
