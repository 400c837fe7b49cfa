"""Order events become orders with their lines, once per order id, whatever their properties."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from marketing_app.models import Event, Order, OrderItem
from marketing_app.services.event_processing import pending_event_count, process_pending_events
from tests.services.test_identity import profiles, send

BASKET = [
    {"sku": "BD-35", "name": "Blue Dream 3.5g", "category": "flower", "price": 35, "quantity": 1},
    {
        "product_id": "GUM-10",
        "name": "Watermelon Gummies",
        "category": "edibles",
        "price": "7.475",
        "quantity": "2",
    },
]


def order_event(message_id: str, **properties) -> dict:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": "buyer-1",
        "messageId": message_id,
        "timestamp": "2026-11-05T15:30:00Z",
        "properties": properties,
    }


def orders_of(session, tenant) -> list[Order]:
    session.expire_all()
    query = select(Order).where(Order.tenant_id == tenant.id).order_by(Order.id)
    return list(session.exec(query))


def lines_of(session, order) -> list[tuple]:
    query = (
        select(
            OrderItem.sku,
            OrderItem.product_name,
            OrderItem.category,
            OrderItem.quantity,
            OrderItem.price_cents,
        )
        .where(OrderItem.order_id == order.id)
        .order_by(OrderItem.sku)
    )
    return list(session.exec(query).all())


def test_order_completed_with_products_creates_one_order_with_its_items(session, tenant):
    send(session, tenant, order_event("m-1", order_id="A-1001", revenue=49.95, products=BASKET))
    [person] = profiles(session, tenant)
    [order] = orders_of(session, tenant)
    assert (order.source, order.external_id, order.total_cents) == ("tracking", "A-1001", 4995)
    assert order.contact_id == person.id and order.item_count == 3
    assert order.placed_at == datetime(2026, 11, 5, 15, 30, tzinfo=UTC)
    assert lines_of(session, order) == [
        ("BD-35", "Blue Dream 3.5g", "flower", 1, 3500),
        ("GUM-10", "Watermelon Gummies", "edibles", 2, 748),
    ]
    assert (person.order_count, person.total_spent_cents) == (1, 4995)
    assert person.last_order_at == order.placed_at


def test_a_replay_or_a_second_event_for_the_same_order_counts_once(session, tenant):
    first = order_event("m-1", order_id="A-1001", revenue=49.95, products=BASKET)
    send(session, tenant, first)
    send(session, tenant, dict(first))  # the same messageId again: stored once
    again = order_event("m-2", order_id="A-1001", revenue=99, products=BASKET)
    send(session, tenant, {**again, "event": "Checkout Completed"})
    # A processed event run through the pipeline again (say, after a restore).
    for event in session.exec(select(Event).where(Event.tenant_id == tenant.id)):
        event.processed_at = None
        session.add(event)
    session.commit()
    process_pending_events(session=session, tenant_id=tenant.id)
    [order] = orders_of(session, tenant)
    assert len(lines_of(session, order)) == 2 and order.total_cents == 4995
    [person] = profiles(session, tenant)
    assert (person.order_count, person.total_spent_cents) == (1, 4995)


def test_the_order_id_falls_back_to_checkout_id_then_message_id(session, tenant):
    send(
        session,
        tenant,
        order_event("m-1", checkout_id="chk-9", total="20.00"),
        {**order_event("m-2", value=12.5), "event": "Purchase"},
        {**order_event("m-3", revenue=5), "event": "Product Viewed"},
    )
    orders = orders_of(session, tenant)
    assert [(o.external_id, o.total_cents, o.item_count) for o in orders] == [
        ("chk-9", 2000, 1),
        ("m-2", 1250, 1),
    ]
    [person] = profiles(session, tenant)
    assert (person.order_count, person.total_spent_cents) == (2, 3250)


def test_another_tenants_orders_and_facts_are_untouched(session, tenant, other_tenant):
    send(session, other_tenant, order_event("m-1", order_id="A-1001", revenue=10))
    send(session, tenant, order_event("m-1", order_id="A-1001", revenue=49.95, products=BASKET))
    [theirs] = orders_of(session, other_tenant)
    assert theirs.total_cents == 1000 and lines_of(session, theirs) == []
    [their_buyer] = profiles(session, other_tenant)
    assert (their_buyer.order_count, their_buyer.total_spent_cents) == (1, 1000)
    [mine] = orders_of(session, tenant)
    assert mine.id != theirs.id and mine.contact_id != theirs.contact_id


def test_weird_properties_are_skipped_never_raised(session, tenant):
    good = {"sku": "OK-1", "name": "Fine", "price": 2, "quantity": 3.0}
    bad_entries = [
        42,
        None,
        "Blue Dream",
        ["sku", "X"],
        {"category": "no sku or name", "price": 1},
        {"sku": "P-1", "price": "abc"},
        {"sku": "P-2", "price": "NaN"},
        {"sku": "P-3", "price": "Infinity"},
        {"sku": "P-4", "price": "1e400"},
        {"sku": "P-5", "price": -3},
        {"sku": "P-6", "price": True},
        {"sku": "P-7", "price": {"amount": 3}},
        {"sku": "P-8", "quantity": -1},
        {"sku": "P-9", "quantity": 1.5},
        {"sku": "P-10", "quantity": "many"},
        {"sku": "P-11", "quantity": "1e9"},
        {"sku": "P-12", "quantity": False},
    ]
    send(
        session,
        tenant,
        order_event(
            "m-1", order_id={"nested": 1}, revenue="free", total=[1], products=[*bad_entries, good]
        ),
        order_event("m-2", order_id=777, revenue="Infinity", products="lots"),
        order_event("m-3", order_id="", value="1e400", products={"sku": "X"}),
        {**order_event("m-4"), "properties": {}},
    )
    assert pending_event_count(session=session, tenant_id=tenant.id) == 0
    orders = {o.external_id: o for o in orders_of(session, tenant)}
    assert set(orders) == {"m-1", "777", "m-3", "m-4"}
    assert lines_of(session, orders["m-1"]) == [("OK-1", "Fine", "", 3, 200)]
    assert orders["m-1"].total_cents == 600  # no readable total: the lines' sum
    assert all(orders[ref].total_cents == 0 for ref in ("777", "m-3", "m-4"))
    [person] = profiles(session, tenant)
    assert (person.order_count, person.total_spent_cents) == (4, 600)
