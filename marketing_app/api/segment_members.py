"""Management API for the members of segments and static lists (/api/v1/segments/{id}/...).

Reading members, adding and removing profiles of a static list, CSV export and CSV import,
scoped by a secret key. An import writes its job row in the same transaction and enqueues it
after commit; the beat tick covers a lost enqueue. Same prefix and tag as `segments.py`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from sqlmodel import Session

from marketing_app.api.deps import get_session, secret_key_tenant
from marketing_app.api.segment_schemas import (
    INVALID,
    MAX_SEGMENT_ID,
    NOT_FOUND,
    JobAccepted,
    MemberPage,
    MembersChange,
    MembersChanged,
    SegmentId,
    job_accepted,
    member_row,
)
from marketing_app.models import Segment, Tenant
from marketing_app.services import segments, static_lists
from marketing_app.services.csv_import import MAX_FILE_BYTES

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])


@router.get(
    "/{segment_id}/members",
    response_model=MemberPage,
    summary="List a segment's members",
    responses=NOT_FOUND,
)
def list_members(
    segment_id: SegmentId,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
    limit: int = Query(25, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_SEGMENT_ID),
) -> MemberPage:
    """Members as of the last recompute (lists: now), biggest spenders first."""
    rows, total = segments.segment_members(
        session=session, tenant_id=tenant.id, segment_id=segment_id, limit=limit, offset=offset
    )
    segment = segments.get_segment(session=session, tenant_id=tenant.id, segment_id=segment_id)
    return MemberPage(
        total=total,
        limit=limit,
        offset=offset,
        computed_at=segment.computed_at,
        items=[member_row(row) for row in rows],
    )


def _members_changed(
    session: Session, segment_id: int, body: MembersChange, changed: int
) -> MembersChanged:
    session.commit()
    segment = session.get(Segment, segment_id)
    return MembersChanged(
        changed=changed,
        ignored=len(set(body.contact_ids)) - changed,
        member_count=segment.member_count if segment else 0,
    )


@router.post(
    "/{segment_id}/members",
    response_model=MembersChanged,
    summary="Add profiles to a static list",
    responses={**NOT_FOUND, **INVALID},
)
def add_members(
    segment_id: SegmentId,
    body: MembersChange,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> MembersChanged:
    """Profiles already in the list, and ids that are not this tenant's, are ignored."""
    added = static_lists.add_members(
        session=session, tenant_id=tenant.id, list_id=segment_id, contact_ids=body.contact_ids
    )
    return _members_changed(session, segment_id, body, added)


@router.delete(
    "/{segment_id}/members",
    response_model=MembersChanged,
    summary="Remove profiles from a static list",
    responses={**NOT_FOUND, **INVALID},
)
def remove_members(
    segment_id: SegmentId,
    body: MembersChange,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> MembersChanged:
    removed = static_lists.remove_members(
        session=session, tenant_id=tenant.id, list_id=segment_id, contact_ids=body.contact_ids
    )
    return _members_changed(session, segment_id, body, removed)


@router.get(
    "/{segment_id}/export",
    response_class=Response,
    summary="Download the members as CSV",
    responses={
        200: {
            "description": "One row per member",
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "email,phone,first_name,last_name,user_id,entered_at\n"
                    "ann@example.com,+17045550142,Ann,Lee,,2026-05-01T10:00:00+00:00\n",
                }
            },
        },
        **NOT_FOUND,
    },
)
def export_members(
    segment_id: SegmentId,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> Response:
    content = static_lists.export_members_csv(
        session=session, tenant_id=tenant.id, segment_id=segment_id
    )
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="segment-{segment_id}.csv"'},
    )


@router.post(
    "/{segment_id}/import",
    response_model=JobAccepted,
    status_code=202,
    summary="Import a CSV of customers into a static list",
    responses={**NOT_FOUND, **INVALID},
)
def import_members(
    segment_id: SegmentId,
    file: UploadFile = File(
        description="CSV with a header naming email, phone or user_id (names, birthday, "
        "consent and custom columns optional)."
    ),
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> JobAccepted:
    """Send the file as multipart/form-data field `file`. Matching profiles are reused, new
    ones created, and all of them join the list; poll `status_url` for counts and the refused
    rows (`result`)."""
    job = static_lists.start_list_import(
        session=session,
        tenant_id=tenant.id,
        list_id=segment_id,
        filename=file.filename or "import.csv",
        content=file.file.read(MAX_FILE_BYTES + 1),
    )
    return job_accepted(session, job)
