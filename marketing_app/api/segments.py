"""Management API for segments, static lists and RFM (/api/v1/segments, /api/v1/rfm).

Thin routes over the segments, static lists, presets and RFM services, scoped by a secret key.
A change that needs background work (a recompute, a list import, RFM scoring) writes its job
row in the same transaction and enqueues it after commit; the beat tick covers a lost enqueue.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from jobs.dispatch import enqueue_job_run
from marketing_app.api.deps import get_session, secret_key_tenant
from marketing_app.api.schemas import ErrorResponse
from marketing_app.domain.errors import InvalidInput
from marketing_app.models import JobRun, Segment, Tenant
from marketing_app.models.segments import SegmentKind
from marketing_app.services import rfm, segments, static_lists
from marketing_app.services.csv_import import MAX_FILE_BYTES
from marketing_app.services.segment_presets import PRESETS, preset_definition
from marketing_app.services.segment_schedule import rfm_job

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])
rfm_router = APIRouter(prefix="/api/v1/rfm", tags=["rfm"])

MAX_SEGMENT_ID = 2**31 - 1  # segments.id is a 32-bit integer
MAX_CONTACT_ID = 2**63 - 1
# Numbers in a definition or preset parameters: finite and small enough that dollars in cents,
# times an order count, stay within 64 bits on every database (Python's JSON parser accepts
# NaN, Infinity and integers of any size; the services do not bound them).
MAX_NUMBER = 10**12
MAX_IDS_PER_REQUEST = 10_000

SegmentId = Annotated[
    int, Path(ge=1, le=MAX_SEGMENT_ID, description="The segment's or list's id.", examples=[12])
]
ContactId = Annotated[int, Field(ge=1, le=MAX_CONTACT_ID)]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


NOT_FOUND = {404: _error("No such segment in this tenant (another tenant's answers the same)")}
INVALID = {422: _error("Invalid input: `detail` says what, `field` names the field")}
CONFLICT = {409: _error("The name is taken, or another segment uses this one")}

THREE_CONDITIONS: dict[str, Any] = {
    "root": {
        "kind": "group",
        "op": "and",
        "negate": False,
        "children": [
            {
                "kind": "orders",
                "metric": "total_spent",
                "op": "gt",
                "value": 500,
                "within_days": 90,
            },
            {"kind": "no_order_in", "days": 60},
            {"kind": "engagement", "action": "opened", "channel": "email", "within_days": 30},
        ],
    }
}
DEFINITION_DOC = (
    "A segment definition (see `marketing_app/domain/segment_definition.py`): a root group "
    "`{kind: group, op: and|or, negate, children}` of conditions such as `trait`, `event`, "
    "`event_time`, `orders`, `ordered_product`, `no_order_in`, `engagement`, `consent`, "
    "`segment`, `rfm`, `top_spenders` and `random_bucket`. Numbers must be finite and within "
    "±10^12. Omitted: every profile."
)


# --- shapes -----------------------------------------------------------------------------------


class SegmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: Literal["dynamic", "static"]
    description: str
    preset: str = Field(description="The smart-list preset it came from ('' when none).")
    member_count: int = Field(description="Members as of the last recompute (lists: now).")
    computed_at: datetime | None
    version: int = Field(description="Bumped on every definition change.")
    computed_version: int = Field(description="The version the members were computed for.")
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class SegmentSaved(SegmentPublic):
    job_id: uuid.UUID | None = Field(description="The queued recompute, when one was queued.")
    status_url: str | None


class _DefinitionSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    definition: Any = Field(None, description=DEFINITION_DOC, json_schema_extra={"type": "object"})
    preset: str | None = Field(None, description="Instead of a definition: a preset's key.")
    params: dict[str, Any] | None = Field(None, description="The preset's parameter, by name.")


class SegmentCreate(_DefinitionSource):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Lapsed big spenders who still read email",
                    "description": "Win-back audience",
                    "kind": "dynamic",
                    "definition": THREE_CONDITIONS,
                },
                {"name": "Lapsed 60 days", "preset": "lapsed", "params": {"days": 60}},
                {"name": "Tasting guests", "kind": "static"},
            ]
        },
    )

    name: str = Field(description="Unique in the tenant (case-insensitive), up to 200 characters.")
    description: str = Field("", max_length=1000)
    kind: Literal["dynamic", "static"] = Field(
        "dynamic", description="dynamic: members follow the definition; static: a list."
    )


class SegmentUpdate(BaseModel):
    """Fields to change; omitted fields stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Win-back", "definition": THREE_CONDITIONS}]},
    )

    name: str | None = None
    description: str | None = Field(None, max_length=1000)
    definition: Any = Field(None, description=DEFINITION_DOC, json_schema_extra={"type": "object"})


class EstimateRequest(_DefinitionSource):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"definition": THREE_CONDITIONS},
                {"preset": "high_value", "params": {"amount": 250}},
            ]
        },
    )


class MemberRow(BaseModel):
    id: int
    name: str
    email: str
    phone: str
    order_count: int
    total_spent_cents: int
    last_order_at: datetime | None


class MemberPage(BaseModel):
    total: int
    limit: int
    offset: int
    computed_at: datetime | None = Field(description="When the members were last computed.")
    items: list[MemberRow]


class EstimateResult(BaseModel):
    count: int = Field(description="Profiles matching right now.")
    total_profiles: int
    sample: list[MemberRow] = Field(description="A few of them, biggest spenders first.")


class MembersChange(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"contact_ids": [101, 102, 103]}]}
    )

    contact_ids: list[ContactId] = Field(max_length=MAX_IDS_PER_REQUEST)


class MembersChanged(BaseModel):
    changed: int = Field(description="Profiles added (or removed).")
    ignored: int = Field(
        description="Ids left alone: already in (or not in) the list, or not this tenant's."
    )
    member_count: int


class JobAccepted(BaseModel):
    job_id: uuid.UUID
    status_url: str = Field(examples=["/api/v1/jobs/0b6f7c1e-8a8e-4d55-9c7e-2f7d0b1a9e11"])


class PresetParameterPublic(BaseModel):
    name: str
    label: str
    kind: str = Field(description="number | text | location | staff")
    default: Any = None


class PresetPublic(BaseModel):
    key: str
    title: str
    description: str
    parameter: PresetParameterPublic | None


class RfmGroupPublic(BaseModel):
    group: str
    customers: int
    explanation: str


class RfmSummary(BaseModel):
    last_computed_at: datetime | None
    customers: int = Field(description="Customers with a score (those who ordered).")
    groups: list[RfmGroupPublic]


# --- helpers ----------------------------------------------------------------------------------


def _unusable_number(item: Any) -> bool:
    if not isinstance(item, int | float) or isinstance(item, bool):
        return False
    return abs(item) > MAX_NUMBER or not math.isfinite(item)  # abs first: ints beyond float


def _check_numbers(value: Any, field: str) -> None:
    """Refuse NaN, Infinity and numbers beyond ±10^12 anywhere in a JSON value."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif _unusable_number(item):
            raise InvalidInput(
                f"{field}: numbers must be finite and between -10^12 and 10^12", field=field
            )


def _definition_from(body: _DefinitionSource) -> tuple[Any, str]:
    """The raw definition a request asks for, and the preset it came from ('' when none)."""
    if body.preset is None:
        if body.params is not None:
            raise InvalidInput("params go with a preset.", field="params")
        _check_numbers(body.definition, "definition")
        return ({} if body.definition is None else body.definition), ""  # {}: every profile
    if body.definition is not None:
        raise InvalidInput("Send either a definition or a preset, not both.", field="preset")
    _check_numbers(body.params, "params")
    try:
        definition = preset_definition(body.preset, body.params)
    except (ValueError, OverflowError):  # e.g. {"days": "nan"}: float() accepts it, int() not
        raise InvalidInput(
            "The preset's parameter is not a usable number.", field="params"
        ) from None
    _check_numbers(definition, "params")
    return definition, body.preset


def _member_row(row: dict[str, Any]) -> MemberRow:
    return MemberRow(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        phone=row["phone"],
        order_count=row["order_count"],
        total_spent_cents=round(row["total_spent"] * 100),
        last_order_at=row["last_order_at"] or None,
    )


def _accepted(session: Session, job: JobRun) -> JobAccepted:
    """Commit the change with its job row, then enqueue it."""
    session.commit()
    enqueue_job_run(job.id)
    return JobAccepted(job_id=job.id, status_url=f"/api/v1/jobs/{job.id}")


def _saved(session: Session, segment: Segment, job: JobRun | None) -> SegmentSaved:
    public = SegmentPublic.model_validate(segment).model_dump()
    if job is None:
        session.commit()
        return SegmentSaved(**public, job_id=None, status_url=None)
    accepted = _accepted(session, job)
    return SegmentSaved(**public, **accepted.model_dump())


# --- segments ---------------------------------------------------------------------------------


@router.get("", response_model=list[SegmentPublic], summary="List segments and lists")
def list_segments(
    tenant: Tenant = Depends(secret_key_tenant), session: Session = Depends(get_session)
) -> list[Segment]:
    """Every segment and static list of the tenant, by name."""
    return segments.list_segments(session=session, tenant_id=tenant.id)


@router.post(
    "",
    response_model=SegmentSaved,
    status_code=201,
    summary="Create a segment or a static list",
    responses={**CONFLICT, **INVALID},
)
def create_segment(
    body: SegmentCreate,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> SegmentSaved:
    """A dynamic segment takes a `definition` or a `preset` with its `params`, and its first
    recompute is queued (`job_id`). A static list takes neither: add members afterwards."""
    if body.kind == SegmentKind.STATIC:
        if body.definition is not None or body.preset is not None or body.params is not None:
            raise InvalidInput(
                "A static list has no definition; add members instead.", field="definition"
            )
        definition, preset = None, ""
    else:
        definition, preset = _definition_from(body)
    segment = segments.create_segment(
        session=session,
        tenant_id=tenant.id,
        name=body.name,
        kind=body.kind,
        description=body.description,
        definition=definition,
        preset=preset,
    )
    dynamic = body.kind == SegmentKind.DYNAMIC
    job = segments.recompute_job(session=session, segment=segment) if dynamic else None
    return _saved(session, segment, job)


@router.post(
    "/estimate",
    response_model=EstimateResult,
    summary="Count the profiles a definition matches now",
    responses=INVALID,
)
def estimate_segment(
    body: EstimateRequest,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> EstimateResult:
    """The builder's live count: nothing is saved."""
    definition, _ = _definition_from(body)
    found = segments.estimate(session=session, tenant_id=tenant.id, definition=definition)
    return EstimateResult(
        count=found.count,
        total_profiles=found.total_profiles,
        sample=[_member_row(row) for row in found.sample],
    )


@router.get("/presets", response_model=list[PresetPublic], summary="List smart-list presets")
def list_presets(tenant: Tenant = Depends(secret_key_tenant)) -> list[PresetPublic]:
    """Ready-made definitions; create one with `{"name", "preset", "params"}`."""
    return [
        PresetPublic(
            key=p.key,
            title=p.title,
            description=p.description,
            parameter=PresetParameterPublic(**p.parameter.__dict__) if p.parameter else None,
        )
        for p in PRESETS
    ]


@router.get(
    "/{segment_id}", response_model=SegmentPublic, summary="Read a segment", responses=NOT_FOUND
)
def read_segment(
    segment_id: SegmentId,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> Segment:
    return segments.get_segment(session=session, tenant_id=tenant.id, segment_id=segment_id)


@router.patch(
    "/{segment_id}",
    response_model=SegmentSaved,
    summary="Rename, describe or redefine a segment",
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
)
def update_segment(
    segment_id: SegmentId,
    body: SegmentUpdate,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> SegmentSaved:
    """A changed definition bumps `version` and queues a recompute (`job_id`)."""
    _check_numbers(body.definition, "definition")
    before = segments.get_segment(session=session, tenant_id=tenant.id, segment_id=segment_id)
    old_version = before.version
    segment = segments.update_segment(
        session=session,
        tenant_id=tenant.id,
        segment_id=segment_id,
        name=body.name,
        description=body.description,
        definition=body.definition,
    )
    changed = segment.version != old_version
    job = segments.recompute_job(session=session, segment=segment) if changed else None
    return _saved(session, segment, job)


@router.delete(
    "/{segment_id}",
    status_code=204,
    summary="Delete a segment or list",
    responses={**NOT_FOUND, 409: _error("Another segment's definition uses this one")},
)
def delete_segment(
    segment_id: SegmentId,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> Response:
    segments.delete_segment(session=session, tenant_id=tenant.id, segment_id=segment_id)
    return Response(status_code=204)


@router.post(
    "/{segment_id}/recalculate",
    response_model=JobAccepted,
    status_code=202,
    summary="Recompute a dynamic segment's members",
    responses={**NOT_FOUND, **INVALID},
)
def recalculate_segment(
    segment_id: SegmentId,
    tenant: Tenant = Depends(secret_key_tenant),
    session: Session = Depends(get_session),
) -> JobAccepted:
    """Runs in the background; poll `status_url`."""
    segment = segments.get_segment(session=session, tenant_id=tenant.id, segment_id=segment_id)
    if segment.kind != SegmentKind.DYNAMIC:
        raise InvalidInput("A static list has no definition to recalculate.", field="segment_id")
    return _accepted(session, segments.recompute_job(session=session, segment=segment))


# --- members ----------------------------------------------------------------------------------


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
        items=[_member_row(row) for row in rows],
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
    return _accepted(session, job)


# --- RFM --------------------------------------------------------------------------------------


@rfm_router.get("", response_model=RfmSummary, summary="Customers per RFM group")
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


@rfm_router.post(
    "/recalculate",
    response_model=JobAccepted,
    status_code=202,
    summary="Rescore every customer",
)
def recalculate_rfm(
    tenant: Tenant = Depends(secret_key_tenant), session: Session = Depends(get_session)
) -> JobAccepted:
    """Runs in the background; poll `status_url`."""
    return _accepted(session, rfm_job(session=session, tenant_id=tenant.id))
