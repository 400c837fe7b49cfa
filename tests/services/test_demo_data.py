"""Demo data: deterministic, idempotent, shaped like the three businesses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import func
from sqlmodel import select

from marketing_app.models import Contact, Event, Location, Order, OrderItem, StaffMember
from marketing_app.services import dashboard
from marketing_app.services.demo_data import generate_business_data
from marketing_app.services.demo_engagement import demo_campaigns
from marketing_app.services.demo_profiles import PROFILES
from tests.factories import make_tenant

DAY = date(2026, 6, 1)
NOON = datetime.combine(DAY, time(12), UTC)  # "now" of the demo data made on DAY


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
    items = session.exec(
        select(Order.external_id, OrderItem.sku, OrderItem.quantity, OrderItem.price_cents)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(Order.tenant_id == tenant_id)
        .order_by(Order.external_id, OrderItem.sku)
    ).all()
    return contacts, orders, items


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
    assert summary.contacts == 150 and summary.orders > 150
    browsing = session.exec(
        select(func.count()).where(
            Event.tenant_id == tenant.id, Event.name.in_(PROFILES["dispensary"].event_names)
        )
    ).one()
    assert browsing == summary.orders * 4
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


def test_every_demo_order_has_items_that_add_up_to_its_total(session, tenant, other_tenant):
    summary = generate_business_data(
        session=session, tenant_id=tenant.id, kind="wine", scale=0.05, reference_date=DAY
    )
    session.commit()
    per_order = session.exec(
        select(
            Order.total_cents,
            Order.item_count,
            func.sum(OrderItem.price_cents * OrderItem.quantity),
            func.sum(OrderItem.quantity),
        )
        .join(OrderItem, OrderItem.order_id == Order.id, isouter=True)
        .where(Order.tenant_id == tenant.id)
        .group_by(Order.id, Order.total_cents, Order.item_count)
    ).all()
    assert len(per_order) == summary.orders
    assert all(total == lines and count == units for total, count, lines, units in per_order)
    items = session.exec(select(OrderItem).where(OrderItem.tenant_id == tenant.id)).all()
    assert len(items) == summary.order_items
    catalog = {p.sku: p for p in PROFILES["wine"].catalog}
    assert all(
        (i.product_name, i.category, i.price_cents)
        == (catalog[i.sku].name, catalog[i.sku].category, catalog[i.sku].price_cents)
        for i in items
    )
    assert {i.category for i in items} == {"red", "white", "sparkling", "rosé"}
    others = session.exec(select(func.count()).where(OrderItem.tenant_id == other_tenant.id))
    assert others.one() == 0


ENGAGEMENT = ["Email Delivered", "Email Opened", "Email Link Clicked"]
SMS = ["SMS Delivered", "SMS Link Clicked"]


def test_past_campaigns_leave_engagement_events_on_consenting_profiles(session, tenant):
    generate_business_data(
        session=session, tenant_id=tenant.id, kind="dispensary", scale=0.05, reference_date=DAY
    )
    session.commit()
    events = session.exec(
        select(Event, Contact.email_consent, Contact.sms_consent)
        .join(Contact, Contact.id == Event.contact_id)
        .where(Event.tenant_id == tenant.id, Event.name.in_(ENGAGEMENT + SMS))
    ).all()
    assert all(e.processed_at is not None for e, _, _ in events)
    assert all(email for e, email, _ in events if e.name.startswith("Email"))
    assert all(sms for e, _, sms in events if e.name.startswith("SMS"))
    stored = select(func.count()).where(
        Event.tenant_id == tenant.id, Event.name.in_(ENGAGEMENT + SMS)
    )
    assert len(events) == session.exec(stored).one()  # every one on a profile
    campaigns = {c.id: c.name for c in demo_campaigns(PROFILES["dispensary"], NOON)}
    assert all(
        campaigns[e.properties["campaign_id"]] == e.properties["campaign_name"]
        for e, _, _ in events
    )
    by_name = {name: [e for e, _, _ in events if e.name == name] for name in ENGAGEMENT + SMS}
    assert len({e.properties["campaign_id"] for e in by_name["Email Delivered"]}) == 8
    assert len({e.properties["campaign_id"] for e in by_name["SMS Delivered"]}) == 3
    delivered, opens = len(by_name["Email Delivered"]), by_name["Email Opened"]
    machine = [e for e in opens if e.properties.get("machine_open") is True]
    assert 0.05 < len(machine) / len(opens) < 0.3
    assert 0.25 < (len(opens) - len(machine)) / delivered < 0.45
    assert 0.03 < len(by_name["Email Link Clicked"]) / delivered < 0.09
    assert 0 < len(by_name["SMS Link Clicked"]) < len(by_name["SMS Delivered"]) * 0.2
    oldest = min(e.occurred_at for e in by_name["Email Delivered"])
    assert 119 <= (NOON - oldest).days <= 120


def test_progress_climbs_to_its_total(session, tenant):
    calls = []
    generate_business_data(
        session=session,
        tenant_id=tenant.id,
        kind="barbershop",
        scale=0.05,
        progress=lambda done, total, message: calls.append((done, total)),
    )
    done = [d for d, _ in calls]
    assert done == sorted(done) and calls[-1][0] == calls[-1][1]
    assert all(d <= t for d, t in calls)


def test_a_second_data_set_of_the_same_kind_gets_its_own_orders(session, tenant):
    for domain in ("one.example.com", "two.example.com"):
        summary = generate_business_data(
            session=session, tenant_id=tenant.id, kind="barbershop", scale=0.02, email_domain=domain
        )
    session.commit()
    second = session.exec(
        select(func.count(OrderItem.id))
        .join(Order, Order.id == OrderItem.order_id)
        .join(Contact, Contact.id == Order.contact_id)
        .where(Order.tenant_id == tenant.id, Contact.email.like("%@two.example.com"))
    ).one()
    assert summary.orders > 0 and second == summary.order_items
