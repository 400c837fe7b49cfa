"""Demo data: deterministic, idempotent, shaped like the three businesses."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import select

from marketing_app.models import Contact, Event, Location, Order, StaffMember
from marketing_app.services import dashboard
from marketing_app.services.demo_data import generate_business_data
from tests.factories import make_tenant

DAY = date(2026, 6, 1)


def _snapshot(session, tenant_id):
    contacts = session.exec(
        select(Contact.email, Contact.order_count, Contact.total_spent_cents)
        .where(Contact.tenant_id == tenant_id)
        .order_by(Contact.email)
    ).all()
    orders = session.exec(
        select(Order.external_id, Order.total_cents)
        .where(Order.tenant_id == tenant_id)
        .order_by(Order.external_id)
    ).all()
    return contacts, orders


def test_same_seed_gives_same_data_and_rerun_adds_nothing(session):
    first, second = make_tenant(session), make_tenant(session)
    for tenant in (first, second):
        generate_business_data(
            session=session, tenant_id=tenant.id, kind="wine", scale=0.05, reference_date=DAY
        )
    session.commit()
    assert _snapshot(session, first.id) == _snapshot(session, second.id)
    before = _snapshot(session, first.id)
    generate_business_data(
        session=session, tenant_id=first.id, kind="wine", scale=0.05, reference_date=DAY
    )
    session.commit()
    assert _snapshot(session, first.id) == before


def test_dispensary_has_the_five_locations_and_a_year_of_orders(session):
    tenant = make_tenant(session)
    summary = generate_business_data(
        session=session, tenant_id=tenant.id, kind="dispensary", scale=0.05, reference_date=DAY
    )
    session.commit()
    names = set(session.exec(select(Location.name).where(Location.tenant_id == tenant.id)))
    assert names == {
        "Charlotte - Monroe Road",
        "Blowing Rock",
        "North Charlotte / University",
        "Salisbury",
        "Elizabethton",
    }
    oldest, newest = session.exec(
        select(func.min(Order.placed_at), func.max(Order.placed_at)).where(
            Order.tenant_id == tenant.id
        )
    ).one()
    assert (newest - oldest).days > 300
    assert summary.contacts == 150 and summary.orders > 150 and summary.events == summary.orders * 4
    spent = session.exec(
        select(func.sum(Contact.total_spent_cents)).where(Contact.tenant_id == tenant.id)
    ).one()
    assert (
        spent
        == session.exec(
            select(func.sum(Order.total_cents)).where(Order.tenant_id == tenant.id)
        ).one()
    )


def test_wine_has_reps_and_territories_and_barbershop_has_barbers(session):
    wine, barber = make_tenant(session), make_tenant(session)
    generate_business_data(session=session, tenant_id=wine.id, kind="wine", scale=0.02)
    generate_business_data(session=session, tenant_id=barber.id, kind="barbershop", scale=0.02)
    session.commit()
    roles = dict(session.exec(select(StaffMember.tenant_id, StaffMember.role)).all())
    assert roles[wine.id] == "sales_rep" and roles[barber.id] == "barber"
    kinds = set(session.exec(select(Location.kind).where(Location.tenant_id == wine.id)))
    assert kinds == {"territory"}
    sample = session.exec(select(Contact).where(Contact.tenant_id == wine.id)).first()
    assert {"account_type", "priority", "equity_status"} <= set(sample.traits)


def test_dashboard_numbers_come_from_the_tenants_own_rows(session):
    busy, empty = make_tenant(session), make_tenant(session)
    generate_business_data(session=session, tenant_id=busy.id, kind="barbershop", scale=0.05)
    session.commit()
    stats = dashboard.headline_stats(session=session, tenant_id=busy.id)
    assert stats.customers == 60 and stats.orders_30d > 0 and stats.events_30d > 0
    assert stats.average_order_cents == stats.revenue_30d_cents // stats.orders_30d
    months = dashboard.monthly_revenue(session=session, tenant_id=busy.id)
    assert len(months) == 12 and sum(m.orders for m in months) > 0
    nothing = dashboard.headline_stats(session=session, tenant_id=empty.id)
    assert (nothing.customers, nothing.orders_30d, nothing.events_30d) == (0, 0, 0)
    assert all(
        m.orders == 0 for m in dashboard.monthly_revenue(session=session, tenant_id=empty.id)
    )
    assert session.exec(select(func.count()).where(Event.tenant_id == empty.id)).one() == 0
