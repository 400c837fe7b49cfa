"""Who an email campaign reaches: members of its segments and lists, minus the exclusions,
minus profiles without an address, without email consent, suppressed, or unsubscribed from
the campaign's topic. One SQL query; the builder's live count and the send use the same one.

Suppressions hold normalized addresses (lower case), as contacts do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, and_, case, exists, func, literal, select
from sqlmodel import Session, col

from marketing_app.domain.campaigns import Audience
from marketing_app.domain.errors import InvalidInput
from marketing_app.models import (
    Contact,
    Segment,
    SegmentMember,
    SubscriptionPreference,
    Suppression,
)

ALL_TOPICS = "all"  # a preference row for every topic at once (the one-click unsubscribe)


@dataclass(frozen=True)
class AudienceCount:
    members: int  # in any chosen segment or list
    excluded: int  # in an exclusion segment
    no_address: int
    unconsented: int
    suppressed: int
    unsubscribed: int  # from this topic, or from everything
    eligible: int


def check_segments(*, session: Session, tenant_id: uuid.UUID, audience: Audience) -> None:
    """InvalidInput naming a segment id that is not the tenant's."""
    wanted = set(audience.segment_ids) | set(audience.exclude_segment_ids)
    if not wanted:
        return
    found = set(
        session.exec(
            select(Segment.id).where(Segment.tenant_id == tenant_id, col(Segment.id).in_(wanted))
        ).scalars()
    )
    missing = sorted(wanted - found)
    if missing:
        raise InvalidInput(f"Segment {missing[0]} does not exist.", field="audience")


def _member_of(tenant_id: uuid.UUID, segment_ids: list[int]):
    return exists().where(
        SegmentMember.contact_id == Contact.id,
        SegmentMember.tenant_id == tenant_id,
        col(SegmentMember.segment_id).in_(segment_ids),
    )


def _suppressed(tenant_id: uuid.UUID):
    return exists().where(
        Suppression.tenant_id == tenant_id,
        Suppression.channel == "email",
        Suppression.address == Contact.email,
    )


def unsubscribed_condition(tenant_id: uuid.UUID, topic: str, channel: str = "email"):
    """SQL: the profile opted out of `topic` (or of everything) on `channel`."""
    return exists().where(
        SubscriptionPreference.tenant_id == tenant_id,
        SubscriptionPreference.contact_id == Contact.id,
        SubscriptionPreference.channel == channel,
        col(SubscriptionPreference.topic).in_([topic, ALL_TOPICS]),
        SubscriptionPreference.subscribed.is_(False),  # type: ignore[attr-defined]
    )


def _parts(tenant_id: uuid.UUID, audience: Audience, topic: str):
    member = _member_of(tenant_id, audience.segment_ids)
    excluded = (
        _member_of(tenant_id, audience.exclude_segment_ids)
        if audience.exclude_segment_ids
        else None
    )
    has_address = and_(col(Contact.email).is_not(None), Contact.email != "")
    return member, excluded, has_address


def eligible_query(
    *, tenant_id: uuid.UUID, audience: Audience, topic: str, transactional: bool = False
) -> Select:
    """SELECT contact id, email of the profiles the campaign may email now.

    Transactional mail ignores consent and topic preferences, never suppressions."""
    member, excluded, has_address = _parts(tenant_id, audience, topic)
    conditions = [Contact.tenant_id == tenant_id, member, has_address, ~_suppressed(tenant_id)]
    if excluded is not None:
        conditions.append(~excluded)
    if not transactional:
        conditions += [
            Contact.email_consent.is_(True),  # type: ignore[attr-defined]
            ~unsubscribed_condition(tenant_id, topic),
        ]
    return select(Contact.id, Contact.email).where(*conditions)


def _reason(tenant_id: uuid.UUID, audience: Audience, topic: str, transactional: bool):
    """SQL CASE: why a member is not reached (the first reason that applies) or "eligible"."""
    _, excluded, has_address = _parts(tenant_id, audience, topic)
    whens = []
    if excluded is not None:
        whens.append((excluded, "excluded"))
    whens += [(~has_address, "no_address"), (_suppressed(tenant_id), "suppressed")]
    if not transactional:
        whens += [
            (Contact.email_consent.is_(False), "unconsented"),  # type: ignore[attr-defined]
            (unsubscribed_condition(tenant_id, topic), "unsubscribed"),
        ]
    return case(*whens, else_=literal("eligible"))


def count_audience(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    audience: Audience,
    topic: str = "marketing",
    transactional: bool = False,
) -> AudienceCount:
    """Why each member of the audience is or is not reached, counted in one query."""
    if not audience.segment_ids:
        return AudienceCount(0, 0, 0, 0, 0, 0, 0)
    reason = _reason(tenant_id, audience, topic, transactional).label("reason")
    rows = session.exec(
        select(reason, func.count())
        .where(Contact.tenant_id == tenant_id, _member_of(tenant_id, audience.segment_ids))
        .group_by(reason)
    ).all()
    counts = {name: int(n) for name, n in rows}
    return AudienceCount(
        members=sum(counts.values()),
        excluded=counts.get("excluded", 0),
        no_address=counts.get("no_address", 0),
        unconsented=counts.get("unconsented", 0),
        suppressed=counts.get("suppressed", 0),
        unsubscribed=counts.get("unsubscribed", 0),
        eligible=counts.get("eligible", 0),
    )


def any_eligible(
    *, session: Session, tenant_id: uuid.UUID, audience: Audience, topic: str, transactional: bool
) -> bool:
    query = eligible_query(
        tenant_id=tenant_id, audience=audience, topic=topic, transactional=transactional
    )
    return session.exec(query.limit(1)).first() is not None
