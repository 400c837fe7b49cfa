"""Management API for customer profiles (/api/v1/profiles), scoped by a secret key."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from jobs.dispatch import enqueue_job_run
from marketing_app.api.deps import get_session, secret_key_tenant
from marketing_app.db import session_scope
from marketing_app.models import Contact, Tenant
from marketing_app.services import csv_import, profiles

router = APIRouter(prefix="/api/v1/profiles", tags=["profiles"])
NOT_FOUND = {404: {"description": "No such profile in this tenant"}}


class ProfilePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: str | None
    email: str | None
    phone: str | None
    first_name: str
    last_name: str
    birthday: date | None
    traits: dict[str, Any]
    email_consent: bool
    sms_consent: bool
    order_count: int
    total_spent_cents: int
    last_order_at: datetime | None
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    created_at: datetime


class ProfileWrite(BaseModel):
    """Fields to set; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    birthday: date | None = None
    traits: dict[str, Any] | None = None
    email_consent: bool | None = None
    sms_consent: bool | None = None


class ProfilePage(BaseModel):
    total: int
    items: list[ProfilePublic]


class TimelineItem(BaseModel):
    at: datetime
    kind: str
    title: str
    detail: str


@router.get("", response_model=ProfilePage)
def list_profiles(
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
    search: str = Query("", max_length=200, description="name, email or phone fragment"),
    limit: int = Query(25, ge=1, le=200),
    offset: int = Query(0, ge=0),
) -> ProfilePage:
    rows, total = profiles.search_profiles(
        session=session, tenant_id=tenant.id, search=search, limit=limit, offset=offset
    )
    return ProfilePage(total=total, items=[ProfilePublic.model_validate(r) for r in rows])


@router.post("", response_model=ProfilePublic, status_code=201)
def create_profile(
    body: ProfileWrite,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> Contact:
    return profiles.save_profile(
        session=session,
        tenant_id=tenant.id,
        contact_id=None,
        fields=body.model_dump(exclude_unset=True),
    )


class ImportAccepted(BaseModel):
    job_id: uuid.UUID
    status_url: str


@router.post("/import", response_model=ImportAccepted, status_code=202)
async def import_profiles(
    request: Request,
    filename: str = Query("import.csv", max_length=255),
    tenant: Tenant = Depends(secret_key_tenant),
) -> ImportAccepted:
    """Send a CSV as the request body (`Content-Type: text/csv`). The import runs in the
    background; poll `status_url` for progress, counts and refused rows (`result`)."""
    content = await request.body()

    def start() -> uuid.UUID:
        with session_scope() as session:
            return csv_import.start_customer_import(
                session=session, tenant_id=tenant.id, filename=filename, content=content
            ).id

    job_id = await run_in_threadpool(start)
    enqueue_job_run(job_id)
    return ImportAccepted(job_id=job_id, status_url=f"/api/v1/jobs/{job_id}")


@router.get("/{profile_id}", response_model=ProfilePublic, responses=NOT_FOUND)
def read_profile(
    profile_id: int,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> Contact:
    return profiles.get_profile(session=session, tenant_id=tenant.id, contact_id=profile_id)


@router.patch("/{profile_id}", response_model=ProfilePublic, responses=NOT_FOUND)
def update_profile(
    profile_id: int,
    body: ProfileWrite,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> Contact:
    return profiles.save_profile(
        session=session,
        tenant_id=tenant.id,
        contact_id=profile_id,
        fields=body.model_dump(exclude_unset=True),
    )


@router.delete("/{profile_id}", status_code=204, responses=NOT_FOUND)
def delete_profile(
    profile_id: int,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> Response:
    profiles.delete_profile(session=session, tenant_id=tenant.id, contact_id=profile_id)
    return Response(status_code=204)


@router.get("/{profile_id}/events", response_model=list[TimelineItem], responses=NOT_FOUND)
def read_timeline(
    profile_id: int,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
    limit: int = Query(100, ge=1, le=500),
) -> list[TimelineItem]:
    """Events and orders of the profile, newest first."""
    entries = profiles.profile_timeline(
        session=session, tenant_id=tenant.id, contact_id=profile_id, limit=limit
    )
    return [TimelineItem(**entry.__dict__) for entry in entries]
