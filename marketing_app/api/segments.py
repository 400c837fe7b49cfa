"""Management API for segments (/api/v1/segments): CRUD, estimate, presets and recalculate.

Thin routes over the segments and presets services, scoped by a secret key. A change that
needs a recompute writes its job row in the same transaction and enqueues it after commit;
the beat tick covers a lost enqueue. Members of lists, import and export are in
`segment_members.py`; RFM in `rfm.py`; the shapes in `segment_schemas.py`.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Depends, Response
from sqlmodel import Session

from marketing_app.api.deps import get_session, secret_key_tenant
from marketing_app.api.segment_schemas import (
    CONFLICT,
    INVALID,
    NOT_FOUND,
    DefinitionSource,
    EstimateRequest,
    EstimateResult,
    JobAccepted,
    PresetParameterPublic,
    PresetPublic,
    SegmentCreate,
    SegmentId,
    SegmentPublic,
    SegmentSaved,
    SegmentUpdate,
    error_doc,
    job_accepted,
    member_row,
)
from marketing_app.domain.errors import InvalidInput
from marketing_app.models import JobRun, Segment, Tenant
from marketing_app.models.segments import SegmentKind
from marketing_app.services import segments
from marketing_app.services.segment_presets import PRESETS, preset_definition

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])

# Numbers in a definition or preset parameters: finite and small enough that dollars in cents,
# times an order count, stay within 64 bits on every database (Python's JSON parser accepts
# NaN, Infinity and integers of any size; the services do not bound them).
MAX_NUMBER = 10**12


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


def _definition_from(body: DefinitionSource) -> tuple[Any, str]:
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


def _saved(session: Session, segment: Segment, job: JobRun | None) -> SegmentSaved:
    public = SegmentPublic.model_validate(segment).model_dump()
    if job is None:
        session.commit()
        return SegmentSaved(**public, job_id=None, status_url=None)
    accepted = job_accepted(session, job)
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
        sample=[member_row(row) for row in found.sample],
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
    responses={**NOT_FOUND, 409: error_doc("Another segment's definition uses this one")},
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
    return job_accepted(session, segments.recompute_job(session=session, segment=segment))
