"""Segments and static lists: validate, save, estimate live, list members.

Saving a definition bumps the segment's version and leaves the recompute to a job (the caller
creates it with `recompute_job` in the same transaction), so a stale recompute is dropped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketing_app.domain import segment_definition as sd
from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import Contact, JobRun, Location, Segment, SegmentMember, StaffMember
from marketing_app.models.base import utcnow
from marketing_app.models.segments import SegmentKind
from marketing_app.services import job_runs
from marketing_app.services.loyalty_programs import get_program, parse_settings
from marketing_app.services.rfm import load_boundaries
from marketing_app.services.segment_sql import CompileContext, members_query
from marketing_app.services.segment_sql_parts import allow_big_sorts

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class Estimate:
    count: int
    total_profiles: int
    sample: list[dict[str, Any]]


def _describe_location(loc: tuple) -> str:
    """'condition 2 of group 1' from a pydantic error location inside the root group."""
    words, parts = [], list(loc)
    if parts[:1] == ["root"]:
        parts = parts[1:]
    depth = 0
    while len(parts) >= 2 and parts[0] == "children" and isinstance(parts[1], int):
        words.append(parts[1] + 1)
        depth += 1
        parts = parts[2:]
        if parts and parts[0] == "group":
            parts = parts[1:]
    if not words:
        return "the definition"
    path = " > ".join(f"#{n}" for n in words)
    return f"condition {path}"


def parse_definition(raw: Any) -> sd.SegmentDefinition:
    """Shape and types only; raises InvalidInput naming the condition at fault."""
    if isinstance(raw, dict) and "root" not in raw and raw.get("kind") == "group":
        raw = {"root": raw}
    try:
        return sd.SegmentDefinition.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        where = _describe_location(tuple(error["loc"]))
        raise InvalidInput(f"{where}: {message}", field="definition") from None


def validate_definition(
    *, session: Session, tenant_id: uuid.UUID, raw: Any, segment_id: int | None = None
) -> sd.SegmentDefinition:
    """Parse, then check what the definition names exists in this tenant and has no cycle."""
    definition = parse_definition(raw)
    _check_places(session, tenant_id, definition)
    _check_loyalty_tiers(session, tenant_id, definition)
    _check_segment_references(session, tenant_id, definition, segment_id)
    return definition


def _check_places(session: Session, tenant_id: uuid.UUID, definition) -> None:
    for cond in sd.iter_conditions(definition.root):
        if not isinstance(cond, sd.TraitCondition) or cond.field not in ("location", "staff"):
            continue
        if cond.op not in ("in", "not_in"):
            continue
        model = Location if cond.field == "location" else StaffMember
        found = set(
            session.exec(
                select(model.id).where(model.tenant_id == tenant_id, col(model.id).in_(cond.value))
            )
        )
        missing = [v for v in cond.value if v not in found]
        if missing:
            raise InvalidInput(f"{cond.field} {missing[0]} does not exist", field="definition")


def _numbered_conditions(group: sd.Group, path: str = ""):
    """(position, condition) pairs, the position as messages give it: "#2", "#1 > #3"."""
    for n, child in enumerate(group.children, start=1):
        here = f"{path} > #{n}" if path else f"#{n}"
        if isinstance(child, sd.Group):
            yield from _numbered_conditions(child, here)
        else:
            yield here, child


def _check_loyalty_tiers(session: Session, tenant_id: uuid.UUID, definition) -> None:
    """Tier conditions name tiers of this tenant's program ("" is no tier, always known)."""
    tier_conditions = [
        (where, cond)
        for where, cond in _numbered_conditions(definition.root)
        if isinstance(cond, sd.LoyaltyCondition) and cond.field == "tier"
    ]
    if not tier_conditions:
        return
    tiers = loyalty_tier_names(session=session, tenant_id=tenant_id)
    known = {"", *(tier.lower() for tier in tiers)}
    for where, cond in tier_conditions:
        if cond.op == "in_top":
            if not tiers:
                message = f"condition {where}: the loyalty program has no tiers yet"
                raise InvalidInput(message, field="definition")
            continue
        names = [cond.value] if cond.op == "at_least" else cond.value
        unknown = [name for name in names if name.strip().lower() not in known]
        if unknown:
            message = f"condition {where}: unknown tier '{unknown[0]}'"
            raise InvalidInput(message, field="definition")


def loyalty_tier_names(*, session: Session, tenant_id: uuid.UUID) -> tuple[str, ...]:
    """The tenant's loyalty tiers, lowest threshold first; none without a program."""
    program = get_program(session=session, tenant_id=tenant_id)
    if program is None:
        return ()
    return tuple(tier.name for tier in parse_settings(program.settings).tiers)


def _check_segment_references(session, tenant_id, definition, segment_id) -> None:
    """Referenced segments must be this tenant's; following references must not loop back."""
    pending, seen = list(sd.referenced_segments(definition)), set()
    while pending:
        ref = pending.pop()
        if ref == segment_id:
            raise InvalidInput(
                "a segment cannot depend on itself (directly or through other segments)",
                field="definition",
            )
        if ref in seen:
            continue
        seen.add(ref)
        other = session.get(Segment, ref)
        if other is None or other.tenant_id != tenant_id:
            raise InvalidInput(f"segment {ref} does not exist", field="definition")
        if other.kind == SegmentKind.DYNAMIC:
            pending.extend(sd.referenced_segments(parse_definition(other.definition)))


def _stored(definition: sd.SegmentDefinition) -> dict:
    return definition.model_dump(mode="json", exclude_none=True)


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("Give the segment a name (up to 200 characters).", field="name")
    return name


def _name_taken(session, tenant_id, name, segment_id=None) -> bool:
    query = select(Segment.id).where(
        Segment.tenant_id == tenant_id, func.lower(Segment.name) == name.lower()
    )
    found = session.exec(query).first()
    return found is not None and found != segment_id


def create_segment(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    name: str,
    definition: Any = None,
    kind: str = SegmentKind.DYNAMIC,
    description: str = "",
    preset: str = "",
) -> Segment:
    name = _clean_name(name)
    if kind not in (SegmentKind.DYNAMIC, SegmentKind.STATIC):
        raise InvalidInput("kind must be dynamic or static", field="kind")
    if _name_taken(session, tenant_id, name):
        raise Conflict(f"A segment named {name!r} already exists.", field="name")
    if kind == SegmentKind.STATIC and definition:
        raise InvalidInput("A static list has no definition.", field="definition")
    parsed = (
        validate_definition(session=session, tenant_id=tenant_id, raw=definition or {})
        if kind == SegmentKind.DYNAMIC
        else sd.SegmentDefinition()
    )
    segment = Segment(
        tenant_id=tenant_id,
        name=name,
        kind=kind,
        description=(description or "")[:1000],
        definition=_stored(parsed),
        preset=preset[:40],
    )
    _save(session, segment)
    return segment


def _save(session: Session, segment: Segment) -> None:
    """Flush; two simultaneous saves of one name end as a Conflict, not a database error."""
    try:
        with session.begin_nested():
            session.add(segment)
            session.flush()
    except IntegrityError:
        raise Conflict(f"A segment named {segment.name!r} already exists.", field="name") from None


def update_segment(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    segment_id: int,
    name: str | None = None,
    definition: Any = None,
    description: str | None = None,
) -> Segment:
    segment = get_segment(session=session, tenant_id=tenant_id, segment_id=segment_id)
    if name is not None:
        name = _clean_name(name)
        if _name_taken(session, tenant_id, name, segment_id):
            raise Conflict(f"A segment named {name!r} already exists.", field="name")
        segment.name = name
    if description is not None:
        segment.description = description[:1000]
    if definition is not None:
        if segment.kind != SegmentKind.DYNAMIC:
            raise InvalidInput("A static list has no definition.", field="definition")
        parsed = validate_definition(
            session=session, tenant_id=tenant_id, raw=definition, segment_id=segment_id
        )
        if _stored(parsed) != segment.definition:
            segment.definition, segment.version = _stored(parsed), segment.version + 1
            segment.preset = ""  # no longer the preset's definition
    segment.updated_at = utcnow()
    _save(session, segment)
    return segment


def delete_segment(*, session: Session, tenant_id: uuid.UUID, segment_id: int) -> None:
    segment = get_segment(session=session, tenant_id=tenant_id, segment_id=segment_id)
    for other in list_segments(session=session, tenant_id=tenant_id):
        if other.id != segment_id and segment_id in sd.referenced_segments(
            parse_definition(other.definition)
        ):
            raise Conflict(f"Segment {other.name!r} uses this segment; change it first.")
    session.delete(segment)
    session.flush()


def get_segment(*, session: Session, tenant_id: uuid.UUID, segment_id: int) -> Segment:
    if not isinstance(segment_id, int) or not 1 <= segment_id <= sd.MAX_ID:
        raise NotFound("Segment not found.")
    segment = session.get(Segment, segment_id)
    if segment is None or segment.tenant_id != tenant_id:
        raise NotFound("Segment not found.")
    return segment


def count_members(session: Session, segment_id: int) -> int:
    """How many profiles a segment or list holds now (what `member_count` caches)."""
    return session.exec(select(func.count()).where(SegmentMember.segment_id == segment_id)).one()


def list_segments(*, session: Session, tenant_id: uuid.UUID) -> list[Segment]:
    return list(
        session.exec(
            select(Segment).where(Segment.tenant_id == tenant_id).order_by(col(Segment.name))
        )
    )


def compile_context(
    session: Session, tenant_id: uuid.UUID, now: datetime | None = None, **extra
) -> CompileContext:
    dialect = session.get_bind().dialect.name
    return CompileContext(
        tenant_id=tenant_id,
        now=now or utcnow(),
        dialect=dialect,
        rfm=load_boundaries(session, tenant_id),
        loyalty_tiers=loyalty_tier_names(session=session, tenant_id=tenant_id),
        **extra,
    )


def _profile_row(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": f"{contact.first_name} {contact.last_name}".strip() or "(no name)",
        "email": contact.email or "",
        "phone": contact.phone or "",
        "order_count": contact.order_count,
        "total_spent": contact.total_spent_cents / 100,  # for display
        "total_spent_cents": contact.total_spent_cents,
        "last_order_at": contact.last_order_at.isoformat() if contact.last_order_at else "",
    }


def estimate(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    definition: Any,
    sample_size: int = SAMPLE_SIZE,
    now: datetime | None = None,
) -> Estimate:
    """How many profiles match right now, and a few of them: the builder's live count."""
    parsed = validate_definition(session=session, tenant_id=tenant_id, raw=definition or {})
    allow_big_sorts(session)
    ids = members_query(parsed, compile_context(session, tenant_id, now)).subquery()
    count = session.exec(select(func.count()).select_from(ids)).one()
    total = session.exec(select(func.count()).where(Contact.tenant_id == tenant_id)).one()
    sample = session.exec(
        select(Contact)
        .where(col(Contact.id).in_(select(ids.c.id)))
        .order_by(col(Contact.total_spent_cents).desc(), col(Contact.id))
        .limit(sample_size)
    )
    return Estimate(count=count, total_profiles=total, sample=[_profile_row(c) for c in sample])


def segment_members(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    segment_id: int,
    limit: int = 25,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """The stored members (as of the last recompute), biggest spenders first."""
    get_segment(session=session, tenant_id=tenant_id, segment_id=segment_id)
    limit, offset = max(1, min(limit, 500)), max(0, min(offset, sd.MAX_ID))
    members = select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment_id)
    total = session.exec(select(func.count()).select_from(members.subquery())).one()
    rows = session.exec(
        select(Contact)
        .where(col(Contact.id).in_(members))
        .order_by(col(Contact.total_spent_cents).desc(), col(Contact.id))
        .offset(offset)
        .limit(limit)
    )
    return [_profile_row(c) for c in rows], total


def recompute_job(*, session: Session, segment: Segment, enqueue_now: bool = True) -> JobRun:
    """The job row that brings the segment's members up to date (written in the caller's txn)."""
    if segment.kind != SegmentKind.DYNAMIC:
        raise InvalidInput("A static list changes only when people are added or removed.")
    return job_runs.create_job_run(
        session=session,
        tenant_id=segment.tenant_id,
        kind="segment_recompute",
        label=f"Recalculate segment {segment.name}",
        params={"segment_id": segment.id, "version": segment.version},
        enqueue_now=enqueue_now,
    )
