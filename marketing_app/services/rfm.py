"""RFM scoring: recency, frequency and monetary quintiles per customer, and the named groups.

A score is the quintile of the customer's cumulative share among the tenant's customers who
ordered: ceil(5 * customers at or below this value / customers), so ties share a score and a
tenant with three customers still gets scores. That is the same as counting how many of four
boundaries the value reaches, boundary s being the smallest value held by more than (s-1)/5 of
the customers. A recompute stores only those twelve boundaries (in the tenant's settings);
scores and groups are then computed from each profile's current facts wherever they are needed
(segment conditions, the RFM page), so rescoring a million customers writes no rows at all.
Groups follow the usual recency x FM grid, FM being the rounded-up mean of F and M.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, select, type_coerce
from sqlmodel import Session, col

from marketing_app.domain.segment_definition import RFM_GROUPS
from marketing_app.models import Contact, Tenant
from marketing_app.models.base import utcnow
from marketing_app.services.segment_sql_parts import allow_big_sorts

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
# (recency score, low FM, high FM) -> group.
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
METRICS = {
    "recency": Contact.last_order_at,
    "frequency": Contact.order_count,
    "monetary": Contact.total_spent_cents,
}


@dataclass(frozen=True)
class RfmBoundaries:
    """For each metric, the values at which scores 2, 3, 4 and 5 begin."""

    recency: tuple[datetime, ...]
    frequency: tuple[int, ...]
    monetary: tuple[int, ...]
    customers: int
    computed_at: datetime


def group_for(recency: int, frequency: int, monetary: int) -> str:
    fm = (frequency + monetary + 1) // 2
    return next(name for r, low, high, name in GRID if r == recency and low <= fm <= high)


def _key_group(key: int) -> str:
    """Group of a key r * 10 + fm (the form SQL computes)."""
    fm = key % 10
    return next(name for r, low, high, name in GRID if r == key // 10 and low <= fm <= high)


ALL_KEYS = [r * 10 + fm for r in range(1, 6) for fm in range(1, 6)]


def keys_of(groups: list[str]) -> list[int]:
    return [key for key in ALL_KEYS if _key_group(key) in groups]


def scored_profiles() -> ColumnElement[bool]:
    """Who gets RFM scores: customers with at least one order."""
    return and_(Contact.order_count > 0, col(Contact.last_order_at).is_not(None))


def _score(column, bounds) -> ColumnElement[int]:
    return 1 + sum(case((column >= bound, 1), else_=0) for bound in bounds)


def rfm_key(bounds: RfmBoundaries) -> ColumnElement[int]:
    """SQL: recency score x 10 + FM score of a contacts row (meaningful for scored profiles)."""
    r = _score(Contact.last_order_at, bounds.recency)
    f = _score(Contact.order_count, bounds.frequency)
    m = _score(Contact.total_spent_cents, bounds.monetary)
    return r * 10 + (f + m + 1) // 2


def scores_of(contact: dict, bounds: RfmBoundaries | None) -> tuple[int, int, int] | None:
    """(R, F, M) of one profile's facts in Python, or None when it has no score."""
    if bounds is None or not contact.get("order_count") or contact.get("last_order_at") is None:
        return None
    return tuple(
        1 + sum(contact[key] >= b for b in getattr(bounds, name))
        for name, key in (
            ("recency", "last_order_at"),
            ("frequency", "order_count"),
            ("monetary", "total_spent_cents"),
        )
    )


def _boundaries_of(session: Session, tenant_id: uuid.UUID, column) -> tuple[int, list]:
    ranked = (
        select(
            column.label("v"),
            func.count().over(order_by=column).label("k"),
            func.count().over().label("n"),
        )
        .where(Contact.tenant_id == tenant_id, scored_profiles())
        .subquery()
    )
    starts = [
        type_coerce(
            func.min(case((ranked.c.k * 5 > (s - 1) * ranked.c.n, ranked.c.v))), column.type
        )
        for s in range(2, 6)
    ]
    row = session.execute(select(func.max(ranked.c.n), *starts)).one()
    return row[0] or 0, list(row[1:])


def compute_rfm(*, session: Session, tenant_id: uuid.UUID, now: datetime | None = None) -> int:
    """Recompute the tenant's quintile boundaries; returns how many customers are scored."""
    allow_big_sorts(session)
    stored: dict = {"computed_at": (now or utcnow()).isoformat()}
    customers = 0
    for name, column in METRICS.items():
        customers, bounds = _boundaries_of(session, tenant_id, column)
        stored[name] = [b.isoformat() if isinstance(b, datetime) else b for b in bounds]
    stored["customers"] = customers
    tenant = session.get(Tenant, tenant_id)
    tenant.settings = {**(tenant.settings or {}), "rfm": stored}
    session.add(tenant)
    session.flush()
    return customers


def load_boundaries(session: Session, tenant_id: uuid.UUID) -> RfmBoundaries | None:
    tenant = session.get(Tenant, tenant_id)
    stored = (tenant.settings or {}).get("rfm") if tenant else None
    if not stored or not stored.get("customers"):
        return None
    return RfmBoundaries(
        recency=tuple(datetime.fromisoformat(b) for b in stored["recency"]),
        frequency=tuple(stored["frequency"]),
        monetary=tuple(stored["monetary"]),
        customers=stored["customers"],
        computed_at=datetime.fromisoformat(stored["computed_at"]),
    )


def rfm_summary(*, session: Session, tenant_id: uuid.UUID) -> list[dict]:
    """Customers per group now (current facts, last computed boundaries), in RFM_GROUPS order."""
    counts = dict.fromkeys(RFM_GROUPS, 0)
    bounds = load_boundaries(session, tenant_id)
    if bounds is not None:
        key = rfm_key(bounds).label("key")
        rows = session.execute(
            select(key, func.count())
            .where(Contact.tenant_id == tenant_id, scored_profiles())
            .group_by(key)
        )
        for value, count in rows:
            counts[_key_group(value)] += count
    return [
        {"group": g, "customers": counts[g], "explanation": GROUP_EXPLANATIONS[g]}
        for g in RFM_GROUPS
    ]


def last_computed(*, session: Session, tenant_id: uuid.UUID) -> datetime | None:
    tenant = session.get(Tenant, tenant_id)
    stored = (tenant.settings or {}).get("rfm") if tenant else None
    return datetime.fromisoformat(stored["computed_at"]) if stored else None
