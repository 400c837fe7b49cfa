"""RFM scoring: recency, frequency and monetary quintiles per customer, and the named groups.

A score is the quintile of the customer's cumulative share among the tenant's customers who
ordered: ceil(5 * customers at or below this value / customers), computed with integer window
arithmetic so PostgreSQL and SQLite agree and ties share a score. A tenant with three customers
still gets scores (no minimum count). Groups follow the usual R x FM grid, FM being the
rounded-up mean of frequency and monetary scores.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, case, delete, exists, func, literal, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from marketing_app.domain.segment_definition import RFM_GROUPS
from marketing_app.models import Contact, RfmScore, Tenant
from marketing_app.models.base import utcnow
from marketing_app.services.segments import allow_big_sorts

GROUP_EXPLANATIONS = {
    "Champions": "Bought recently, buy often and spend the most.",
    "Loyal": "Buy regularly and spend well; not quite as recent as Champions.",
    "Potential Loyalist": "Recent customers with a few orders: nurture them into Loyal.",
    "New": "Bought very recently for the first time.",
    "Promising": "Recent first-time buyers who spent little so far.",
    "Needs Attention": "Middling recency, frequency and spend: slipping without a nudge.",
    "At Risk": "Used to buy and spend well, but not lately.",
    "Can't Lose Them": "Were among the best customers and have not come back for a while.",
    "Hibernating": "Low spend, few orders, and some time since the last one.",
    "Lost": "Lowest recency, frequency and spend.",
}
# (recency score, low FM, high FM) -> group; checked top to bottom.
GRID = (
    (5, 1, 1, "New"),
    (5, 2, 3, "Potential Loyalist"),
    (5, 4, 5, "Champions"),
    (4, 1, 1, "Promising"),
    (4, 2, 3, "Potential Loyalist"),
    (4, 4, 5, "Loyal"),
    (3, 1, 3, "Needs Attention"),
    (3, 4, 5, "Loyal"),
    (2, 1, 2, "Hibernating"),
    (1, 1, 2, "Lost"),
    (2, 3, 4, "At Risk"),
    (1, 3, 4, "At Risk"),
    (2, 5, 5, "Can't Lose Them"),
    (1, 5, 5, "Can't Lose Them"),
)


def group_for(recency: int, frequency: int, monetary: int) -> str:
    fm = (frequency + monetary + 1) // 2
    return next(name for r, low, high, name in GRID if r == recency and low <= fm <= high)


def _quintile(value) -> object:
    at_or_below = func.count().over(order_by=value)
    everyone = func.count().over()
    return (5 * at_or_below + everyone - 1) // everyone


def _scores_query(tenant_id: uuid.UUID, now: datetime):
    scored = (
        select(
            Contact.id.label("contact_id"),
            _quintile(Contact.last_order_at).label("recency"),
            _quintile(Contact.order_count).label("frequency"),
            _quintile(Contact.total_spent_cents).label("monetary"),
        )
        .where(
            Contact.tenant_id == tenant_id,
            Contact.order_count > 0,
            col(Contact.last_order_at).is_not(None),
        )
        .subquery()
    )
    fm = (scored.c.frequency + scored.c.monetary + 1) // 2
    group = case(
        *[
            (and_(scored.c.recency == r, fm >= low, fm <= high), name)
            for r, low, high, name in GRID
        ],
        else_="Needs Attention",
    )
    return select(
        scored.c.contact_id,
        literal(tenant_id),
        scored.c.recency,
        scored.c.frequency,
        scored.c.monetary,
        group,
        literal(now, RfmScore.__table__.c.computed_at.type),
    ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT


def compute_rfm(*, session: Session, tenant_id: uuid.UUID, now: datetime | None = None) -> int:
    """Rescore every customer of the tenant who ordered; rows only change when scores do."""
    now = now or utcnow()
    allow_big_sorts(session)
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    columns = [
        "contact_id",
        "tenant_id",
        "recency",
        "frequency",
        "monetary",
        "group_name",
        "computed_at",
    ]
    statement = insert(RfmScore).from_select(columns, _scores_query(tenant_id, now))
    changed = [statement.excluded[c] for c in ("recency", "frequency", "monetary")]
    current = [RfmScore.recency, RfmScore.frequency, RfmScore.monetary]
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "contact_id"],
        set_={c: statement.excluded[c] for c in columns[2:]},
        where=or_(*[a != b for a, b in zip(current, changed, strict=True)]),
    )
    session.execute(statement)
    # Customers who no longer qualify (orders refunded away, profile merged) lose their score.
    still_scored = exists().where(
        Contact.id == RfmScore.contact_id,
        Contact.tenant_id == tenant_id,
        Contact.order_count > 0,
        col(Contact.last_order_at).is_not(None),
    )
    session.execute(delete(RfmScore).where(RfmScore.tenant_id == tenant_id, ~still_scored))
    tenant = session.get(Tenant, tenant_id)
    tenant.settings = {**(tenant.settings or {}), "rfm_computed_at": now.isoformat()}
    session.add(tenant)
    session.flush()
    return session.execute(select(func.count()).where(RfmScore.tenant_id == tenant_id)).scalar_one()


def rfm_summary(*, session: Session, tenant_id: uuid.UUID) -> list[dict]:
    """Customers per group, in the order of RFM_GROUPS, with what each group means."""
    counts = dict(
        session.execute(
            select(RfmScore.group_name, func.count())
            .where(RfmScore.tenant_id == tenant_id)
            .group_by(RfmScore.group_name)
        ).all()
    )
    return [
        {"group": g, "customers": counts.get(g, 0), "explanation": GROUP_EXPLANATIONS[g]}
        for g in RFM_GROUPS
    ]


def last_computed(*, session: Session, tenant_id: uuid.UUID) -> datetime | None:
    stamp = (session.get(Tenant, tenant_id).settings or {}).get("rfm_computed_at")
    return datetime.fromisoformat(stamp) if stamp else None
