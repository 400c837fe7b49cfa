"""Fake Alleaves-style POS: seeded customers and orders behind a real local HTTP server.

Serves what `marketing_app.providers.alleaves` reads: paged `/api/v1/orders` and
`/api/v1/customers` (oldest update first, `updated_since` inclusive, `limit` capped at
`max_page_size`) and `/api/v1/customers/{id}`, with `Authorization: Bearer <api key>`.
The seed is deterministic: orders carry 1-4 catalog items, some redeem loyalty points
(discount plus a `loyalties` entry), every 20th is refunded and every 33rd cancelled,
about a quarter have `points_earned` null (as the real POS often sends), a few have no
customer (walk-ins) and every 10th customer has no `alpine_user_code`.
`data.corrupt_order(id, kind)` makes one record garbage on the wire (see CORRUPTIONS); a test
that changes an order keeps `data.orders` sorted by (updated_at, id).

    with FakeAlleaves(seed_alleaves(customers=1000, orders=3000), latency_seconds=0.1,
                      rate_limit=(10, 1.0)) as fake:
        client = AlleavesClient(base_url=fake.base_url, api_key=fake.api_key)
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.server import FakeProviderServer, Simulation

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
CATALOG = [  # sku, name, category, unit price in cents
    ("FL-BD35", "Blue Dream 3.5g", "flower", 35_00),
    ("FL-GG35", "Gorilla Glue 3.5g", "flower", 40_00),
    ("FL-OG7", "OG Kush 7g", "flower", 65_00),
    ("PR-SD1", "Sour Diesel pre-roll", "pre-rolls", 12_00),
    ("ED-GUM10", "Watermelon gummies 10pk", "edibles", 22_50),
    ("ED-CHOC", "Dark chocolate bar", "edibles", 18_00),
    ("VP-LEM1", "Lemon haze cart 1g", "vapes", 45_00),
    ("CN-WAX1", "Live resin 1g", "concentrates", 55_00),
    ("TP-BALM", "CBD balm", "topicals", 30_00),
    ("AC-GRND", "Grinder", "accessories", 9_99),
]
CORRUPTIONS = (
    "negative_total",  # total below zero
    "missing_total",  # no total at all
    "not_an_object",  # a bare string where the order should be
    "bad_status",  # a status the client does not know
    "bad_items",  # items is not a list
    "naive_time",  # updated_at without a time zone
)


def _dollars(cents: int) -> float:
    return cents / 100


@dataclass
class AlleavesData:
    customers: list[dict[str, Any]]
    orders: list[dict[str, Any]]  # sorted by (updated_at, id)
    corruptions: dict[str, str] = field(default_factory=dict)

    def corrupt_order(self, order_id: str, kind: str) -> None:
        if kind not in CORRUPTIONS:
            raise ValueError(f"unknown corruption {kind!r}")
        self.corruptions[str(order_id)] = kind

    def order_wire(self, order: dict[str, Any]) -> Any:
        wire = {
            **order,
            "subtotal": _dollars(order["subtotal"]),
            "loyalty": _dollars(order["loyalty"]),
            "total": _dollars(order["total"]),
            "items": [{**item, "price": _dollars(item["price"])} for item in order["items"]],
            "loyalties": [
                {**entry, "amount": _dollars(entry["amount"])} for entry in order["loyalties"]
            ],
            "created_at": order["created_at"].isoformat(),
            "updated_at": order["updated_at"].isoformat(),
        }
        kind = self.corruptions.get(str(order["id"]))
        if kind == "negative_total":
            wire["total"] = -abs(wire["total"]) - 1
        elif kind == "missing_total":
            del wire["total"]
        elif kind == "not_an_object":
            return f"order {order['id']} unavailable"
        elif kind == "bad_status":
            wire["status"] = "voided??"
        elif kind == "bad_items":
            wire["items"] = "see receipt"
        elif kind == "naive_time":
            wire["updated_at"] = order["updated_at"].replace(tzinfo=None).isoformat()
        return wire


def _customer(number: int, start: datetime, rng: random.Random) -> dict[str, Any]:
    created = start - timedelta(days=rng.randint(1, 700))
    return {
        "id": number,
        "first_name": rng.choice(["Ava", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana"]),
        "last_name": rng.choice(["Reyes", "Smith", "Okafor", "Nguyen", "Baker", "Ivanova"]),
        "phone": f"+1919{number:07d}",
        "email": f"customer{number}@example.com",
        "alpine_user_code": None if number % 10 == 0 else f"aiq-{number:07d}",
        "created_at": created.isoformat(),
        "updated_at": created.isoformat(),
    }


def _order(
    number: int, customer: dict[str, Any] | None, start: datetime, days: int, rng: random.Random
) -> dict[str, Any]:
    items = []
    for sku, name, category, price in rng.sample(CATALOG, rng.randint(1, 4)):
        items.append(
            {
                "sku": sku,
                "name": name,
                "category": category,
                "quantity": rng.randint(1, 3),
                "price": price,
            }
        )
    subtotal = sum(item["quantity"] * item["price"] for item in items)
    redeems = number % 15 == 0 and customer is not None
    loyalty = subtotal * 5 // 100 if redeems else 0
    total = subtotal - loyalty
    status = "refunded" if number % 20 == 0 else "cancelled" if number % 33 == 0 else "completed"
    created = start + timedelta(seconds=rng.randint(0, days * 86_400))
    updated = created + timedelta(days=2) if status != "completed" else created
    return {
        "id": 100_000 + number,
        "customer_id": customer["id"] if customer else None,
        "customer_phone": customer["phone"] if customer else None,
        "customer_email": customer["email"] if customer else None,
        "location_id": rng.randint(1, 5),
        "subtotal": subtotal,
        "loyalty": loyalty,
        "total": total,
        "points_earned": None if number % 4 == 0 else total // 100,
        "loyalties": [{"type": "redeem", "points": 100, "amount": loyalty}] if redeems else [],
        "items": items,
        "status": status,
        "created_at": created,
        "updated_at": updated,
    }


def seed_alleaves(
    *,
    customers: int = 100,
    orders: int = 300,
    seed: int = 7,
    start: datetime = EPOCH,
    days: int = 365,
) -> AlleavesData:
    """A deterministic POS history: `customers` people and `orders` orders over `days`."""
    rng = random.Random(seed)
    people = [_customer(number, start, rng) for number in range(1, customers + 1)]
    history = []
    for number in range(1, orders + 1):
        buyer = None if number % 50 == 0 or not people else rng.choice(people)
        history.append(_order(number, buyer, start, days, rng))
    history.sort(key=lambda order: (order["updated_at"], order["id"]))
    return AlleavesData(people, history)


def _page_params(request: Request, max_page_size: int) -> tuple[int, int] | JSONResponse:
    try:
        page = int(request.query_params.get("page", "1"))
        limit = int(request.query_params.get("limit", "100"))
    except ValueError:
        return JSONResponse({"error": "page and limit must be integers"}, 400)
    if page < 1 or limit < 1:
        return JSONResponse({"error": "page and limit start at 1"}, 400)
    return page, min(limit, max_page_size)


def _since(request: Request) -> datetime | None | JSONResponse:
    raw = request.query_params.get("updated_since")
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return JSONResponse({"error": "updated_since is not ISO 8601"}, 400)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _paged(rows: list[Any], page: int, limit: int) -> dict[str, Any]:
    pages = -(-len(rows) // limit)
    chunk = rows[(page - 1) * limit : page * limit]
    return {
        "data": chunk,
        "pagination": {"page": page, "limit": limit, "total": len(rows), "pages": pages},
    }


def create_alleaves_app(data: AlleavesData, *, max_page_size: int = 500) -> Starlette:
    by_id = {str(customer["id"]): customer for customer in data.customers}

    def listing(rows_since: Any, serialize: Any) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            paging = _page_params(request, max_page_size)
            since = _since(request)
            for problem in (paging, since):
                if isinstance(problem, JSONResponse):
                    return problem
            page, limit = paging  # type: ignore[misc]
            rows = rows_since(since)
            body = _paged(rows, page, limit)
            body["data"] = [serialize(row) for row in body["data"]]
            return JSONResponse(body)

        return endpoint

    def orders_since(since: datetime | None) -> list[dict[str, Any]]:
        if since is None:
            return data.orders
        times = [order["updated_at"] for order in data.orders]  # a test may have changed them
        return data.orders[bisect.bisect_left(times, since) :]

    def customers_since(since: datetime | None) -> list[dict[str, Any]]:
        if since is None:
            return data.customers
        return [c for c in data.customers if datetime.fromisoformat(c["updated_at"]) >= since]

    async def customer(request: Request) -> JSONResponse:
        found = by_id.get(request.path_params["customer_id"])
        if found is None:
            return JSONResponse({"error": "customer not found"}, 404)
        return JSONResponse({"data": found})

    return Starlette(
        routes=[
            Route("/api/v1/orders", listing(orders_since, data.order_wire)),
            Route("/api/v1/customers", listing(customers_since, lambda row: row)),
            Route("/api/v1/customers/{customer_id}", customer),
        ]
    )


class FakeAlleaves(FakeProviderServer):
    """The fake POS on a free local port; `simulation` holds latency, limit and faults."""

    def __init__(
        self,
        data: AlleavesData | None = None,
        *,
        api_key: str = "alleaves-test-key",
        latency_seconds: float = 0.0,
        rate_limit: tuple[int, float] | None = None,
        max_page_size: int = 500,
    ) -> None:
        self.data = data or seed_alleaves()
        self.api_key = api_key
        simulation = Simulation(latency_seconds=latency_seconds, rate_limit=rate_limit)
        app = create_alleaves_app(self.data, max_page_size=max_page_size)
        expected = f"Bearer {api_key}"
        super().__init__(app, simulation, lambda headers: headers.get("authorization") == expected)
