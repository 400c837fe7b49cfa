"""Sample data on request: an owner asks, a background job fills the tenant."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from marketing_app.domain.errors import InvalidInput
from marketing_app.models import JobRun
from marketing_app.services.demo_profiles import PROFILES
from marketing_app.services.job_runs import create_job_run

SAMPLE_SIZES = {"small": 0.1, "medium": 0.5, "full": 1.0}  # share of the demo business's size
BUSINESS_KINDS = sorted(PROFILES)


def request_sample_data(
    *, session: Session, tenant_id: uuid.UUID, tenant_slug: str, kind: str, size: str
) -> JobRun:
    """The job row, born claimed: the caller enqueues it right after commit."""
    if kind not in PROFILES:
        raise InvalidInput(f"Choose a business kind: {', '.join(BUSINESS_KINDS)}.", field="kind")
    if size not in SAMPLE_SIZES:
        raise InvalidInput("Choose small, medium or full.", field="size")
    return create_job_run(
        session=session,
        tenant_id=tenant_id,
        kind="demo_data",
        label=f"Sample data: {kind}, {size}",
        params={
            "kind": kind,
            "scale": SAMPLE_SIZES[size],
            # Its own address space, so repeated requests of other kinds never collide.
            "email_domain": f"{kind}.{tenant_slug}.sample.example.com",
        },
        enqueue_now=True,
    )
