"""Orders that arrive as tracked events ("Order Completed" and its synonyms).

One order per (tenant, order id): the event's `order_id`, else its `checkout_id`, else its
messageId. Lines come from Segment's `properties.products`; an entry that cannot be read is
skipped, and no property value, however odd, raises. The profile's order facts move only when
the order is new, so a replayed event or a second event for the same order counts once.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from marketing_app.models import Contact, Event, Order, OrderItem
from marketing_app.services.bulk import insert_returning_new_keys
from marketing_app.services.segment_values import money_cents

ORDER_EVENTS = {"Order Completed", "Checkout Completed", "Purchase"}
TRACKING_SOURCE = "tracking"
MAX_CENTS = 10**11  # a billion dollars: beyond it a value is a mistake, not an order
MAX_QUANTITY = 100_000
MAX_LINES = 500  # with MAX_CENTS and MAX_QUANTITY, sums stay far inside a bigint


def _text(value: Any, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value).strip()[:limit]


def _cents(value: Any) -> int | None:
    """Dollars as whole cents; None for anything that is not a sane non-negative amount."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        cents = money_cents(value)
    except (ArithmeticError, ValueError):  # InvalidOperation, NaN, infinities
        return None
    return cents if 0 <= cents <= MAX_CENTS else None


def _quantity(value: Any) -> int | None:
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or not 1 <= number <= MAX_QUANTITY or number % 1:
        return None
    return int(number)


def _line(entry: Any) -> dict[str, Any] | None:
    """One `products` entry as order item fields, or None when it cannot be read."""
    if not isinstance(entry, dict):
        return None
    sku = _text(entry.get("sku"), 100) or _text(entry.get("product_id"), 100)
    name = _text(entry.get("name"), 200)
    price = 0 if entry.get("price") is None else _cents(entry["price"])
    quantity = _quantity(entry.get("quantity"))
    if not (sku or name) or price is None or quantity is None:
        return None
    category = _text(entry.get("category"), 100)
    return {
        "sku": sku,
        "product_name": name,
        "category": category,
        "quantity": quantity,
        "price_cents": price,
    }


def order_lines(properties: dict[str, Any]) -> list[dict[str, Any]]:
    products = properties.get("products")
    if not isinstance(products, list):
        return []
    return [line for line in map(_line, products[:MAX_LINES]) if line is not None]


def order_reference(event: Event) -> str:
    properties = event.properties if isinstance(event.properties, dict) else {}
    for key in ("order_id", "checkout_id"):
        if reference := _text(properties.get(key), 100):
            return reference
    return event.message_id


def order_total_cents(properties: dict[str, Any], lines: list[dict[str, Any]]) -> int:
    """`revenue`, `total` or `value`, the first that reads as money; else the lines' sum."""
    for key in ("revenue", "total", "value"):
        if (cents := _cents(properties.get(key))) is not None:
            return cents
    return min(MAX_CENTS, sum(line["price_cents"] * line["quantity"] for line in lines))


def _count_order(contact: Contact, total_cents: int, placed_at: datetime) -> None:
    contact.order_count += 1
    contact.total_spent_cents += total_cents
    contact.last_order_at = max(filter(None, [contact.last_order_at, placed_at]))


def record_tracked_order(session: Session, contact: Contact, event: Event) -> bool:
    """Store the order an order event describes, with its lines; True when it was new."""
    if event.type != "track" or event.name not in ORDER_EVENTS:
        return False
    properties = event.properties if isinstance(event.properties, dict) else {}
    lines = order_lines(properties)
    total = order_total_cents(properties, lines)
    row = {
        "tenant_id": event.tenant_id,
        "contact_id": contact.id,
        "source": TRACKING_SOURCE,
        "external_id": order_reference(event),
        "total_cents": total,
        "item_count": sum(line["quantity"] for line in lines) or 1,
        "placed_at": event.occurred_at,
    }
    new_ids = insert_returning_new_keys(session=session, model=Order, rows=[row], key="id")
    if not new_ids:
        return False
    [order_id] = new_ids
    if lines:
        session.execute(
            insert(OrderItem),
            [{**line, "tenant_id": event.tenant_id, "order_id": order_id} for line in lines],
        )
    _count_order(contact, total, event.occurred_at)
    return True
