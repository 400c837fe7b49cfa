"""Management API for loyalty reconciliation (/api/v1/loyalty): discrepancies to review with
filters and paging, their summary, resolving one or accepting many, queueing a reconciliation,
and where alerts go.

Thin routes over services/loyalty_discrepancies.py, loyalty_alerts.py and the reconcile job,
scoped by a secret key (a secret key acts for the whole tenant: it may read and resolve).
Decisions record the key's display prefix as who decided. Shapes in
`loyalty_reconciliation_schemas.py`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlmodel import Session

from marketing_app.api.deps import get_session, key_from_request, secret_key_tenant
from marketing_app.api.loyalty_reconciliation_schemas import (
    CONFLICT,
    INVALID,
    KINDS_DOC,
    NOT_FOUND,
    AlertSettingsPublic,
    AlertSettingsWrite,
    BulkAccepted,
    BulkAcceptRequest,
    DiscrepancyIdPath,
    DiscrepancyPage,
    DiscrepancyPublic,
    DiscrepancySummary,
    ResolveRequest,
)
from marketing_app.api.loyalty_schemas import MAX_OFFSET, refuse_nul
from marketing_app.api.segment_schemas import JobAccepted, job_accepted
from marketing_app.models import Tenant
from marketing_app.services import job_runs
from marketing_app.services.api_keys import DISPLAY_PREFIX_LENGTH
from marketing_app.services.loyalty_alerts import get_alert_settings, save_alert_settings
from marketing_app.services.loyalty_discrepancies import (
    bulk_accept,
    discrepancy_summary,
    list_discrepancies,
    resolve_discrepancy,
)
from marketing_app.services.loyalty_programs import require_settings

router = APIRouter(prefix="/api/v1/loyalty", tags=["loyalty reconciliation"])
RECONCILE_JOB_KIND = "loyalty_reconcile"  # services.loyalty_reconcile_jobs


def _actor(request: Request) -> str:
    """Who decided, as the audit log and the discrepancy show it: the key's display prefix."""
    return f"API key {key_from_request(request)[:DISPLAY_PREFIX_LENGTH]}…"


@router.get(
    "/discrepancies",
    response_model=DiscrepancyPage,
    summary="Discrepancies to review",
    responses=INVALID,
)
def read_discrepancies(
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
    status: str = Query("open", description="open | resolved | cleared | all"),
    kind: str | None = Query(None, description=KINDS_DOC),
    over_threshold_only: bool = Query(False),
    search: str = Query("", max_length=200, description="Part of the customer's name or email."),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> DiscrepancyPage:
    """Over the threshold first, then the biggest differences; `total` counts all matching."""
    refuse_nul(None, search=search, status=status, kind=kind)
    lines, total = list_discrepancies(
        session=session,
        tenant_id=tenant.id,
        status=status,
        kind=kind,
        over_threshold_only=over_threshold_only,
        search=search,
        limit=limit,
        offset=offset,
    )
    items = [DiscrepancyPublic.model_validate(line) for line in lines]
    return DiscrepancyPage(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/discrepancies/summary",
    response_model=DiscrepancySummary,
    summary="Open discrepancies per kind and the last reconciliation",
)
def read_discrepancy_summary(
    tenant: Tenant = Depends(secret_key_tenant), session: Session = Depends(get_session)
) -> DiscrepancySummary:
    return DiscrepancySummary.model_validate(
        discrepancy_summary(session=session, tenant_id=tenant.id)
    )


@router.post(
    "/discrepancies/{discrepancy_id}/resolve",
    response_model=DiscrepancyPublic,
    summary="Resolve a discrepancy",
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
)
def resolve(
    discrepancy_id: DiscrepancyIdPath,
    body: ResolveRequest,
    request: Request,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> DiscrepancyPublic:
    """`accept_external` sets the balance to Alpine IQ's figure, `keep_ours` keeps it,
    `adjust` sets it to `points`; orders not credited yet are credited first, and one ledger
    entry records the decision with the reason. A second decision answers 409."""
    refuse_nul(body)
    line = resolve_discrepancy(
        session=session,
        tenant_id=tenant.id,
        discrepancy_id=discrepancy_id,
        resolution=body.resolution,
        actor=_actor(request),
        reason=body.reason,
        points=body.points,
    )
    session.commit()
    return DiscrepancyPublic.model_validate(line)


@router.post(
    "/discrepancies/bulk-accept",
    response_model=BulkAccepted,
    summary="Accept the source of truth's figure for many",
    responses={**NOT_FOUND, **INVALID},
)
def accept_many(
    body: BulkAcceptRequest,
    request: Request,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> BulkAccepted:
    """Alpine IQ's figure where Alpine IQ is the source of truth and has one, else ours.
    Ids that are not open (or not this tenant's) are skipped."""
    refuse_nul(body)
    resolved = bulk_accept(
        session=session,
        tenant_id=tenant.id,
        discrepancy_ids=body.ids,
        actor=_actor(request),
        reason=body.reason,
    )
    session.commit()
    return BulkAccepted(resolved=resolved)


@router.post(
    "/reconcile",
    response_model=JobAccepted,
    status_code=202,
    summary="Reconcile every customer's points now",
    responses=NOT_FOUND,
)
def queue_reconciliation(
    tenant: Tenant = Depends(secret_key_tenant), session: Session = Depends(get_session)
) -> JobAccepted:
    """Runs in the background (poll `status_url`): compares, records discrepancies, alerts."""
    require_settings(session=session, tenant_id=tenant.id)
    job = job_runs.create_job_run(
        session=session,
        tenant_id=tenant.id,
        kind=RECONCILE_JOB_KIND,
        label="Reconcile loyalty balances",
        enqueue_now=True,
    )
    return job_accepted(session, job)


@router.get("/alerts", response_model=AlertSettingsPublic, summary="Where alerts go")
def read_alert_settings(
    tenant: Tenant = Depends(secret_key_tenant), session: Session = Depends(get_session)
) -> AlertSettingsPublic:
    settings = get_alert_settings(session=session, tenant_id=tenant.id)
    return AlertSettingsPublic(
        emails=settings.emails, webhook=settings.webhook, has_webhook=settings.has_webhook
    )


@router.put(
    "/alerts",
    response_model=AlertSettingsPublic,
    summary="Set where alerts go",
    responses=INVALID,
)
def save_alerts(
    body: AlertSettingsWrite,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> AlertSettingsPublic:
    """Addresses for the email and an optional Discord/Slack webhook (https), sent when a
    reconciliation finds new discrepancies over the threshold. The webhook is shown masked."""
    refuse_nul(body)
    settings = save_alert_settings(
        session=session, tenant_id=tenant.id, emails=body.emails, webhook_url=body.webhook_url
    )
    session.commit()
    return AlertSettingsPublic(
        emails=settings.emails, webhook=settings.webhook, has_webhook=settings.has_webhook
    )
