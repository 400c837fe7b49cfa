"""Management API for RFM scores (/api/v1/rfm): the groups, and rescoring every customer.

Thin routes over the RFM service, scoped by a secret key. A rescore writes its job row in the
same transaction and enqueues it after commit; the beat tick covers a lost enqueue.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlmodel import Session

from marketing_app.api.deps import get_session, secret_key_tenant
from marketing_app.api.segment_schemas import JobAccepted, job_accepted
from marketing_app.models import Tenant
from marketing_app.services import rfm
from marketing_app.services.segment_schedule import rfm_job

router = APIRouter(prefix="/api/v1/rfm", tags=["rfm"])


class RfmGroupPublic(BaseModel):
    group: str
    customers: int
    explanation: str


class RfmSummary(BaseModel):
    last_computed_at: datetime | None
    customers: int = Field(description="Customers with a score (those who ordered).")
    groups: list[RfmGroupPublic]


@router.get("", response_model=RfmSummary, summary="Customers per RFM group")
def read_rfm(
    tenant: Tenant = Depends(secret_key_tenant), session: Session = Depends(get_session)
) -> RfmSummary:
    """Recency, frequency and monetary groups as last computed, with what each means."""
    groups = [RfmGroupPublic(**g) for g in rfm.rfm_summary(session=session, tenant_id=tenant.id)]
    return RfmSummary(
        last_computed_at=rfm.last_computed(session=session, tenant_id=tenant.id),
        customers=sum(g.customers for g in groups),
        groups=groups,
    )


@router.post(
    "/recalculate",
    response_model=JobAccepted,
    status_code=202,
    summary="Rescore every customer",
)
def recalculate_rfm(
    tenant: Tenant = Depends(secret_key_tenant), session: Session = Depends(get_session)
) -> JobAccepted:
    """Runs in the background; poll `status_url`."""
    return job_accepted(session, rfm_job(session=session, tenant_id=tenant.id))
