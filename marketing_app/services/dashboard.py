"""Headline numbers and series for a tenant's dashboard."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from marketing_app.domain.stats import HeadlineStats, LocationRevenue, MonthlyRevenue
from marketing_app.models import Contact, Event, Location, Order, Tenant
from marketing_app.models.base import utcnow

MONTHS_SHOWN = 12


def headline_stats(*, session: Session, tenant_id: uuid.UUID) -> HeadlineStats:
    since = utcnow() - timedelta(days=30)
    customers, new_customers, consenting = session.exec(
        select(
            func.count(),
            func.count().filter(Contact.created_at >= since),
            func.count().filter(Contact.email_consent.is_(True)),
        ).where(Contact.tenant_id == tenant_id)
    ).one()
    orders, revenue = session.exec(
        select(func.count(), func.coalesce(func.sum(Order.total_cents), 0)).where(
            Order.tenant_id == tenant_id, Order.placed_at >= since
        )
    ).one()
    events = session.exec(
        select(func.count()).where(Event.tenant_id == tenant_id, Event.occurred_at >= since)
    ).one()
    return HeadlineStats(
        customers=customers,
        new_customers_30d=new_customers,
        orders_30d=orders,
        revenue_30d_cents=int(revenue),
        average_order_cents=int(revenue) // orders if orders else 0,
        events_30d=events,
        email_consent_rate=consenting / customers if customers else 0.0,
    )


def _month_expression(session: Session, time_zone: str):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(time_zone, Order.placed_at), "YYYY-MM")
    # SQLite stores UTC text; a month boundary shift of a few hours is acceptable there.
    return func.strftime("%Y-%m", Order.placed_at)


def monthly_revenue(*, session: Session, tenant_id: uuid.UUID) -> list[MonthlyRevenue]:
    """Revenue per calendar month in the tenant's time zone, oldest first, gaps filled."""
    tenant = session.get(Tenant, tenant_id)
    time_zone = tenant.time_zone if tenant else "UTC"
    now_local = utcnow().astimezone(ZoneInfo(time_zone))
    months = []
    year, month = now_local.year, now_local.month
    for _ in range(MONTHS_SHOWN):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    months.reverse()
    month_expr = _month_expression(session, time_zone).label("month")
    since = utcnow() - timedelta(days=31 * MONTHS_SHOWN + 1)
    rows = session.exec(
        select(month_expr, func.sum(Order.total_cents), func.count())
        .where(Order.tenant_id == tenant_id, Order.placed_at >= since)
        .group_by(month_expr)
    ).all()
    by_month = {m: (int(total or 0), count) for m, total, count in rows}
    return [
        MonthlyRevenue(
            month=m, revenue_cents=by_month.get(m, (0, 0))[0], orders=by_month.get(m, (0, 0))[1]
        )
        for m in months
    ]


def revenue_by_location(*, session: Session, tenant_id: uuid.UUID) -> list[LocationRevenue]:
    since = utcnow() - timedelta(days=90)
    rows = session.exec(
        select(Location.name, func.sum(Order.total_cents))
        .join(Location, Location.id == Order.location_id)
        .where(Order.tenant_id == tenant_id, Order.placed_at >= since)
        .group_by(Location.name)
        .order_by(func.sum(Order.total_cents).desc())
    ).all()
    return [LocationRevenue(location=name, revenue_cents=int(total or 0)) for name, total in rows]
