"""Keeping segment members current: full recomputes, incremental folds, entered/exited history.

Both paths write the matching ids into a temporary table once, then move the difference with
four set-based statements (history first, then members), so a million-member segment never
crosses into Python. The segment row is locked while its members change: a recompute and a
fold of the same segment never interleave, and a recompute for an older version is dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, column, delete, exists, func, insert, literal, select, table, text
from sqlmodel import Session, col

from marketing_app.domain import segment_definition as sd
from marketing_app.models import Segment, SegmentMember, SegmentMembershipChange
from marketing_app.models.base import utcnow
from marketing_app.models.segments import SegmentKind
from marketing_app.services.segment_sql import members_query
from marketing_app.services.segment_sql_parts import allow_big_sorts
from marketing_app.services.segments import (
    compile_context,
    count_members,
    get_segment,
    parse_definition,
)

SCRATCH = "segment_scratch"
FOLD_IDS = "segment_fold_ids"
SCRATCH_TABLE = table(SCRATCH, column("contact_id"))
FOLD_IDS_TABLE = table(FOLD_IDS, column("contact_id"))


@dataclass(frozen=True)
class MembershipChange:
    entered: int
    exited: int
    members: int
    stale: bool = False  # the run was for an older version and changed nothing


def _temp_table(session: Session, name: str) -> None:
    session.exec(text(f"CREATE TEMP TABLE IF NOT EXISTS {name} (contact_id BIGINT PRIMARY KEY)"))
    session.exec(text(f"DELETE FROM {name}"))


def _analyze(session: Session, name: str) -> None:
    # A fresh temp table has no statistics: without them PostgreSQL guesses the join badly.
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text(f"ANALYZE {name}"))


def _scratch_ids(name: str) -> Select:
    return select(text("contact_id")).select_from(text(name))


def _lock(session: Session, tenant_id: uuid.UUID, segment_id: int) -> Segment:
    get_segment(session=session, tenant_id=tenant_id, segment_id=segment_id)
    return session.exec(
        select(Segment).where(Segment.id == segment_id).with_for_update()
    ).scalar_one()


def _move_members(
    session: Session, segment: Segment, now: datetime, scope: Select | None
) -> tuple[int, int]:
    """Make members (within `scope`, or all) equal the ids in the scratch table."""
    member = (SegmentMember.segment_id == segment.id,)
    in_scope = (col(SegmentMember.contact_id).in_(scope),) if scope is not None else ()
    leaving = select(SegmentMember.contact_id).where(
        *member, *in_scope, ~col(SegmentMember.contact_id).in_(_scratch_ids(SCRATCH))
    )
    history = [
        SegmentMembershipChange.tenant_id,
        SegmentMembershipChange.segment_id,
        SegmentMembershipChange.contact_id,
        SegmentMembershipChange.change,
        SegmentMembershipChange.changed_at,
    ]
    # INSERT ... SELECT reports no row count through SQLAlchemy on PostgreSQL: count first.
    exited = _count(session, leaving)
    session.execute(
        insert(SegmentMembershipChange).from_select(
            [c.key for c in history],
            leaving.with_only_columns(
                literal(segment.tenant_id),
                literal(segment.id),
                SegmentMember.contact_id,
                literal("exited"),
                literal(now, SegmentMembershipChange.__table__.c.changed_at.type),
            ),
        )
    )
    session.exec(delete(SegmentMember).where(*member, col(SegmentMember.contact_id).in_(leaving)))
    scratch = text(SCRATCH + ".contact_id")
    arriving = (
        select(scratch)
        .select_from(text(SCRATCH))
        .where(~exists().where(*member, SegmentMember.contact_id == scratch))
    )
    entered = _count(session, arriving)
    session.execute(
        insert(SegmentMembershipChange).from_select(
            [c.key for c in history],
            arriving.with_only_columns(
                literal(segment.tenant_id),
                literal(segment.id),
                scratch,
                literal("entered"),
                literal(now, SegmentMembershipChange.__table__.c.changed_at.type),
            ),
        )
    )
    session.exec(
        insert(SegmentMember).from_select(
            ["segment_id", "contact_id", "tenant_id", "entered_at"],
            arriving.with_only_columns(
                literal(segment.id),
                scratch,
                literal(segment.tenant_id),
                literal(now, SegmentMember.__table__.c.entered_at.type),
            ),
        )
    )
    return entered, exited


def _count(session: Session, query: Select) -> int:
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def recompute_segment(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    segment_id: int,
    version: int | None = None,
    now: datetime | None = None,
) -> MembershipChange:
    """Full recompute. A run asked for an older `version` than the saved one does nothing."""
    now = now or utcnow()
    segment = _lock(session, tenant_id, segment_id)
    if segment.kind != SegmentKind.DYNAMIC or (version is not None and version < segment.version):
        return MembershipChange(0, 0, segment.member_count, stale=segment.kind == "dynamic")
    definition = parse_definition(segment.definition)
    allow_big_sorts(session)
    _temp_table(session, SCRATCH)
    query = members_query(definition, compile_context(session, tenant_id, now))
    session.exec(insert(SCRATCH_TABLE).from_select(["contact_id"], query))
    _analyze(session, SCRATCH)
    entered, exited = _move_members(session, segment, now, scope=None)
    segment.member_count = count_members(session, segment.id)
    segment.computed_at, segment.computed_version = now, segment.version
    session.add(segment)
    session.flush()
    return MembershipChange(entered, exited, segment.member_count)


def _store_fold_ids(session: Session, ids: list[int]) -> None:
    if session.get_bind().dialect.name == "postgresql":  # one statement, one array parameter
        session.execute(
            text(f"INSERT INTO {FOLD_IDS} (contact_id) SELECT unnest(CAST(:ids AS BIGINT[]))"),
            {"ids": ids},
        )
        return
    for start in range(0, len(ids), 5000):
        chunk = [{"contact_id": i} for i in ids[start : start + 5000]]
        session.execute(insert(FOLD_IDS_TABLE), chunk)


def dependency_order(segments: list[Segment]) -> list[Segment]:
    """Dynamic segments, each after the segments its definition refers to."""
    by_id = {s.id: s for s in segments if s.kind == SegmentKind.DYNAMIC}
    ordered, placed = [], set()

    def place(segment: Segment, trail: frozenset) -> None:
        if segment.id in placed or segment.id in trail:
            return
        for ref in sd.referenced_segments(parse_definition(segment.definition)):
            if ref in by_id:
                place(by_id[ref], trail | {segment.id})
        placed.add(segment.id)
        ordered.append(segment)

    for segment in by_id.values():
        place(segment, frozenset())
    return ordered


def fold_contacts(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    contact_ids: Iterable[int],
    now: datetime | None = None,
) -> MembershipChange:
    """Re-evaluate every dynamic segment of the tenant for these profiles only."""
    now = now or utcnow()
    _temp_table(session, FOLD_IDS)
    ids = sorted(set(contact_ids))
    _store_fold_ids(session, ids)
    if not ids:
        return MembershipChange(0, 0, 0)
    _analyze(session, FOLD_IDS)
    allow_big_sorts(session)
    scope = _scratch_ids(FOLD_IDS)
    entered = exited = 0
    segments = (
        session.exec(
            select(Segment).where(
                Segment.tenant_id == tenant_id, Segment.kind == SegmentKind.DYNAMIC
            )
        )
        .scalars()
        .all()
    )
    for segment in dependency_order(list(segments)):
        segment = _lock(session, tenant_id, segment.id)
        _temp_table(session, SCRATCH)
        ctx = compile_context(session, tenant_id, now, only_contacts=scope)
        query = members_query(parse_definition(segment.definition), ctx)
        session.exec(insert(SCRATCH_TABLE).from_select(["contact_id"], query))
        moved = _move_members(session, segment, now, scope=scope)
        entered, exited = entered + moved[0], exited + moved[1]
        if any(moved):
            segment.member_count = count_members(session, segment.id)
            session.add(segment)
    session.flush()
    return MembershipChange(entered, exited, 0)
