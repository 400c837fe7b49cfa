"""Request and response shapes of the segments API, with the documented examples.

Shared by the segment routes (`segments.py`), the member routes (`segment_members.py`) and
the RFM routes (`rfm.py`), together with the error documentation, the id types and the
helpers that build a member row and a 202 answer for a queued job.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from jobs.dispatch import enqueue_job_run
from marketing_app.api.schemas import ErrorResponse
from marketing_app.models import JobRun

MAX_SEGMENT_ID = 2**31 - 1  # segments.id is a 32-bit integer
MAX_CONTACT_ID = 2**63 - 1
MAX_IDS_PER_REQUEST = 10_000

SegmentId = Annotated[
    int, Path(ge=1, le=MAX_SEGMENT_ID, description="The segment's or list's id.", examples=[12])
]
ContactId = Annotated[int, Field(ge=1, le=MAX_CONTACT_ID)]


def error_doc(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


NOT_FOUND = {404: error_doc("No such segment in this tenant (another tenant's answers the same)")}
INVALID = {422: error_doc("Invalid input: `detail` says what, `field` names the field")}
CONFLICT = {409: error_doc("The name is taken, or another segment uses this one")}

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
    "`segment`, `rfm`, `top_spenders`, `random_bucket` and `loyalty`. Numbers must be finite "
    "and within ±10^12. Omitted: every profile."
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


class DefinitionSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    definition: Any = Field(None, description=DEFINITION_DOC, json_schema_extra={"type": "object"})
    preset: str | None = Field(None, description="Instead of a definition: a preset's key.")
    params: dict[str, Any] | None = Field(None, description="The preset's parameter, by name.")


class SegmentCreate(DefinitionSource):
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


class EstimateRequest(DefinitionSource):
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


# --- helpers ----------------------------------------------------------------------------------


def member_row(row: dict[str, Any]) -> MemberRow:
    return MemberRow(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        phone=row["phone"],
        order_count=row["order_count"],
        total_spent_cents=round(row["total_spent"] * 100),
        last_order_at=row["last_order_at"] or None,
    )


def job_accepted(session: Session, job: JobRun) -> JobAccepted:
    """Commit the change with its job row, then enqueue it."""
    session.commit()
    enqueue_job_run(job.id)
    return JobAccepted(job_id=job.id, status_url=f"/api/v1/jobs/{job.id}")
