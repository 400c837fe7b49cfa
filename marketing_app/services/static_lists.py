"""Static lists: members added and removed by hand or by CSV, exported as CSV.

They share the segments table (kind "static") and the members and history tables, so every
place that takes a segment (campaigns, flows, conditions) takes a list too.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from marketing_app.domain.errors import InvalidInput
from marketing_app.models import Contact, JobRun, Segment, SegmentMember, SegmentMembershipChange
from marketing_app.models.base import utcnow
from marketing_app.models.segments import SegmentKind
from marketing_app.services.csv_import import start_customer_import
from marketing_app.services.segments import count_members, get_segment

EXPORT_COLUMNS = ("email", "phone", "first_name", "last_name", "user_id", "entered_at")


def _static_list(session: Session, tenant_id: uuid.UUID, list_id: int) -> Segment:
    segment = get_segment(session=session, tenant_id=tenant_id, segment_id=list_id)
    if segment.kind != SegmentKind.STATIC:
        raise InvalidInput(
            "Members of a dynamic segment follow its definition; add them to a static list.",
            field="segment_id",
        )
    return segment


def _valid_ids(contact_ids: Iterable[int]) -> set[int]:
    """Ids that can exist; anything else cannot be a member and is ignored."""
    return {int(c) for c in contact_ids if isinstance(c, int) and 0 < c < 2**63}


def _history(segment: Segment, contact_ids: Iterable[int], change: str, now) -> list[dict]:
    return [
        {
            "tenant_id": segment.tenant_id,
            "segment_id": segment.id,
            "contact_id": cid,
            "change": change,
            "changed_at": now,
        }
        for cid in contact_ids
    ]


def _refresh_count(session: Session, segment: Segment) -> None:
    segment.member_count = count_members(session, segment.id)
    segment.computed_at = segment.updated_at = utcnow()
    session.add(segment)
    session.flush()


def add_members(
    *, session: Session, tenant_id: uuid.UUID, list_id: int, contact_ids: Iterable[int]
) -> int:
    """Add the tenant's profiles among `contact_ids`; already-members and strangers are skipped."""
    segment = _static_list(session, tenant_id, list_id)
    wanted = _valid_ids(contact_ids)
    if not wanted:
        return 0
    mine = set(
        session.exec(
            select(Contact.id).where(Contact.tenant_id == tenant_id, col(Contact.id).in_(wanted))
        )
    )
    present = set(
        session.exec(
            select(SegmentMember.contact_id).where(
                SegmentMember.segment_id == list_id, col(SegmentMember.contact_id).in_(mine)
            )
        )
    )
    new = sorted(mine - present)
    now = utcnow()
    if new:
        session.execute(
            insert(SegmentMember),
            [
                {
                    "segment_id": list_id,
                    "contact_id": cid,
                    "tenant_id": tenant_id,
                    "entered_at": now,
                }
                for cid in new
            ],
        )
        session.execute(insert(SegmentMembershipChange), _history(segment, new, "entered", now))
    _refresh_count(session, segment)
    return len(new)


def remove_members(
    *, session: Session, tenant_id: uuid.UUID, list_id: int, contact_ids: Iterable[int]
) -> int:
    segment = _static_list(session, tenant_id, list_id)
    wanted = _valid_ids(contact_ids)
    present = (
        sorted(
            session.exec(
                select(SegmentMember.contact_id).where(
                    SegmentMember.segment_id == list_id, col(SegmentMember.contact_id).in_(wanted)
                )
            )
        )
        if wanted
        else []
    )
    if present:
        session.execute(
            delete(SegmentMember).where(
                SegmentMember.segment_id == list_id, col(SegmentMember.contact_id).in_(present)
            )
        )
        session.execute(
            insert(SegmentMembershipChange), _history(segment, present, "exited", utcnow())
        )
    _refresh_count(session, segment)
    return len(present)


def start_list_import(
    *, session: Session, tenant_id: uuid.UUID, list_id: int, filename: str, content: bytes
) -> JobRun:
    """Import a CSV of customers into the list: matching profiles are reused (dedupe by
    user_id, email, phone), new ones created, bad rows reported. Enqueue after commit."""
    _static_list(session, tenant_id, list_id)
    return start_customer_import(
        session=session,
        tenant_id=tenant_id,
        filename=filename,
        content=content,
        list_id=list_id,
    )


def export_members_csv(*, session: Session, tenant_id: uuid.UUID, segment_id: int) -> str:
    """Members of a list or segment (as last computed) as CSV, one row per profile."""
    get_segment(session=session, tenant_id=tenant_id, segment_id=segment_id)
    rows = session.exec(
        select(Contact, SegmentMember.entered_at)
        .join(SegmentMember, col(SegmentMember.contact_id) == col(Contact.id))
        .where(SegmentMember.segment_id == segment_id)
        .order_by(col(Contact.id))
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for contact, entered_at in rows:
        writer.writerow(
            [
                contact.email or "",
                contact.phone or "",
                contact.first_name,
                contact.last_name,
                contact.user_id or "",
                entered_at.isoformat(),
            ]
        )
    return out.getvalue()
