"""Management API (/api/v1): tenant-scoped by a secret key."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from marketing_app.api.deps import get_session, secret_key_tenant
from marketing_app.api.schemas import AuditEntryPublic, JobRunPublic, TenantPublic
from marketing_app.domain.stats import HeadlineStats, MonthlyRevenue
from marketing_app.models import JobRun, Tenant
from marketing_app.services import dashboard, job_runs
from marketing_app.services.audit import list_audit

router = APIRouter(prefix="/api/v1", tags=["management"])


def _job_public(job: JobRun) -> JobRunPublic:
    return JobRunPublic(**job.model_dump(), percent=job_runs.progress_percent(job))


@router.get("/tenant", response_model=TenantPublic)
def read_tenant(tenant: Tenant = Depends(secret_key_tenant)) -> Tenant:
    """The tenant the key belongs to."""
    return tenant


@router.get("/stats", response_model=HeadlineStats)
def read_stats(
    tenant: Tenant = Depends(secret_key_tenant), session: Session = Depends(get_session)
) -> HeadlineStats:
    """Headline numbers for the last 30 days."""
    return dashboard.headline_stats(session=session, tenant_id=tenant.id)


@router.get("/stats/monthly-revenue", response_model=list[MonthlyRevenue])
def read_monthly_revenue(
    tenant: Tenant = Depends(secret_key_tenant), session: Session = Depends(get_session)
) -> list[MonthlyRevenue]:
    return dashboard.monthly_revenue(session=session, tenant_id=tenant.id)


@router.get("/jobs", response_model=list[JobRunPublic])
def list_jobs(
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
    limit: int = Query(20, ge=1, le=100),
) -> list[JobRunPublic]:
    return [
        _job_public(j)
        for j in job_runs.list_job_runs(session=session, tenant_id=tenant.id, limit=limit)
    ]


@router.get(
    "/jobs/{job_id}", response_model=JobRunPublic, responses={404: {"description": "Not found"}}
)
def read_job(
    job_id: uuid.UUID,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> JobRunPublic:
    """A job's progress; another tenant's job answers 404."""
    return _job_public(job_runs.get_job_run(session=session, tenant_id=tenant.id, job_id=job_id))


@router.get("/audit-log", response_model=list[AuditEntryPublic])
def read_audit_log(
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
) -> list[AuditEntryPublic]:
    entries = list_audit(session=session, tenant_id=tenant.id, limit=limit, offset=offset)
    return [AuditEntryPublic.model_validate(e, from_attributes=True) for e in entries]
