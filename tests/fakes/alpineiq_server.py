"""Fake Alpine IQ: one account (`uid`, `X-APIKEY`) behind a real local HTTP server.

Serves what `marketing_app.providers.alpineiq` calls, in Alpine IQ's `{"success", "data"}`
envelopes: campaigns, audiences, stores, the 5-tier loyalty settings (100 points = 5% off ...
800 = 25%), the wallet by phone (`loyaltyPoints` and the rewards the balance unlocks), the
loyalty lookup, contacts paged by start/limit (limit 100-2000) with their points, contact
upserts, opt-ins, sales (kept in `data.sales`), discount groups and redemptions. The default
rate limit is the real one, 2,000 requests an hour. `seed_alpineiq(customers=...)` mirrors
a fake POS's customers (contact id = their `alpine_user_code`) so the two fakes agree.
`data.corrupt_contact(contact_id, kind)` makes one contact garbage on the wire.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.server import FakeProviderServer, Simulation

HOURLY_LIMIT = (2000, 3600.0)  # Alpine IQ's allowance per account
TIERS = [(100, 5), (200, 10), (400, 15), (600, 20), (800, 25)]  # points, percent off
CONTACT_CORRUPTIONS = ("negative_points", "missing_id", "not_an_object")


@dataclass
class AlpineIQData:
    uid: str
    contacts: list[dict[str, Any]]
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    audiences: list[dict[str, Any]] = field(default_factory=list)
    stores: list[dict[str, Any]] = field(default_factory=list)
    discount_groups: list[dict[str, Any]] = field(default_factory=list)
    redemptions: list[dict[str, Any]] = field(default_factory=list)
    sales: list[dict[str, Any]] = field(default_factory=list)
    opt_ins: list[dict[str, Any]] = field(default_factory=list)
    corruptions: dict[str, str] = field(default_factory=dict)

    def find_contact(self, pii: str) -> dict[str, Any] | None:
        pii = pii.strip().lower()
        for contact in self.contacts:
            if pii in (
                str(contact.get("mobilePhone", "")).lower(),
                str(contact.get("email", "")).lower(),
                contact["contactID"],
            ):
                return contact
        return None

    def corrupt_contact(self, contact_id: str, kind: str) -> None:
        if kind not in CONTACT_CORRUPTIONS:
            raise ValueError(f"unknown corruption {kind!r}")
        self.corruptions[contact_id] = kind

    def contact_wire(self, contact: dict[str, Any]) -> Any:
        kind = self.corruptions.get(contact["contactID"])
        if kind == "not_an_object":
            return ["contact", contact["contactID"]]
        wire = dict(contact)
        if kind == "negative_points":
            wire["loyaltyPoints"] = -50
        elif kind == "missing_id":
            del wire["contactID"]
        return wire


def _contact(contact_id: str, phone: str, email: str, rng: random.Random) -> dict[str, Any]:
    return {
        "contactID": contact_id,
        "firstName": rng.choice(["Ava", "Ben", "Cara", "Dev"]),
        "lastName": rng.choice(["Reyes", "Smith", "Okafor"]),
        "mobilePhone": phone,
        "email": email,
        "loyaltyPoints": rng.randint(0, 1200),
        "loyalty": True,
        "optedIn": rng.random() < 0.7,
        "inserted": int(datetime(2025, 6, 1, tzinfo=UTC).timestamp()) + rng.randint(0, 10**7),
    }


def seed_alpineiq(
    *,
    uid: str = "1234",
    contacts: int = 100,
    seed: int = 11,
    customers: list[dict[str, Any]] | None = None,
) -> AlpineIQData:
    """An account with `contacts` contacts, or one per POS customer with an alpine_user_code."""
    rng = random.Random(seed)
    if customers is not None:
        people = [
            _contact(c["alpine_user_code"], c["phone"], c["email"], rng)
            for c in customers
            if c.get("alpine_user_code")
        ]
    else:
        people = [
            _contact(f"aiq-{n:07d}", f"+1919{n:07d}", f"customer{n}@example.com", rng)
            for n in range(1, contacts + 1)
        ]
    return AlpineIQData(
        uid=uid,
        contacts=people,
        campaigns=[
            {"id": f"cmp-{n}", "name": f"Weekend deal {n}", "type": "sms", "status": "sent"}
            for n in range(1, 9)
        ],
        audiences=[
            {"id": n, "name": name, "audienceSize": size}
            for n, (name, size) in enumerate(
                [("Signed Up", len(people)), ("VIP", len(people) // 10)], 1
            )
        ],
        stores=[
            {"id": n, "name": f"Carolina Leaf #{n}", "nickname": f"Store {n}"} for n in range(1, 6)
        ],
        discount_groups=[
            {"id": "grp-1", "name": "Loyalty tiers"},
            {"id": "grp-2", "name": "Birthday"},
        ],
        redemptions=[
            {
                "id": f"red-{n}",
                "contactID": people[n % len(people)]["contactID"] if people else None,
                "name": "5% off",
                "ts": 1767268800 + n * 86_400,
            }
            for n in range(5)
        ],
    )


def _ok(data: Any) -> JSONResponse:
    return JSONResponse({"success": True, "data": data})


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"success": False, "errors": [{"message": message}]}, status)


def _rewards(points: int) -> list[dict[str, Any]]:
    return [
        {"id": f"tier-{needed}", "name": f"{percent}% off", "pointsDeduct": needed}
        for needed, percent in TIERS
        if needed <= points
    ]


def create_alpineiq_app(data: AlpineIQData) -> Starlette:
    def account(handler: Any) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            if request.path_params.get("uid", data.uid) != data.uid:
                return _error(403, "uid does not match the API key")
            return await handler(request)

        return endpoint

    def rows(get: Any) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            return _ok(get())

        return endpoint

    async def stores(request: Request) -> JSONResponse:
        return _ok({"stores": data.stores})

    async def settings(request: Request) -> JSONResponse:
        return _ok(
            {
                "id": "default",
                "name": "Carolina Leaf Rewards",
                "accrual": 1,
                "expiration": 365,
                "tiers": [{"points": p, "discount": d, "max": 1} for p, d in TIERS],
            }
        )

    async def wallet(request: Request) -> JSONResponse:
        body = await _json(request)
        contact = data.find_contact(str(body.get("phone") or body.get("email") or ""))
        if contact is None:
            return _error(404, "contact not found")
        points = contact["loyaltyPoints"]
        return _ok(
            {
                "contactID": contact["contactID"],
                "loyaltyPoints": points,
                "hidePointsInWallet": False,
                "discountTemplates": _rewards(points),
            }
        )

    async def lookup(request: Request) -> JSONResponse:
        contact = data.find_contact(request.path_params["pii"])
        if contact is None:
            return _error(404, "contact not found")
        return _ok(
            {
                "contactID": contact["contactID"],
                "loyalty": contact["loyalty"],
                "optedIn": contact["optedIn"],
            }
        )

    async def contacts(request: Request) -> JSONResponse:
        try:
            start = int(request.query_params.get("start", "0"))
            limit = min(max(int(request.query_params.get("limit", "100")), 100), 2000)
        except ValueError:
            return _error(400, "start and limit must be integers")
        chunk = data.contacts[start : start + limit]
        return _ok(
            {
                "results": [data.contact_wire(c) for c in chunk],
                "start": start,
                "total": len(data.contacts),
                "limit": limit,
                "size": len(chunk),
            }
        )

    async def upsert(request: Request) -> JSONResponse:
        body = await _json(request)
        pii = str(body.get("mobilePhone") or body.get("email") or "")
        if not pii:
            return _error(400, "mobilePhone or email required")
        contact = data.find_contact(pii)
        if contact is None:
            contact = {
                "contactID": f"aiq-new-{len(data.contacts) + 1}",
                "loyaltyPoints": 0,
                "optedIn": False,
                "inserted": int(datetime.now(UTC).timestamp()),
            }
            data.contacts.append(contact)
        contact.update(
            {
                "mobilePhone": body.get("mobilePhone"),
                "email": body.get("email"),
                "firstName": body.get("firstName"),
                "lastName": body.get("lastName"),
                "loyalty": bool(body.get("loyalty")),
            }
        )
        return _ok({"contactID": contact["contactID"]})

    async def opt_in(request: Request) -> JSONResponse:
        body = await _json(request)
        if not body.get("phone"):
            return _error(400, "phone required")
        data.opt_ins.append({**body, "doubleopt": request.query_params.get("doubleopt")})
        return _ok({"phone": body["phone"], "optin": bool(body.get("optin"))})

    async def sale(request: Request) -> JSONResponse:
        body = await _json(request)
        visit = body.get("visit") if isinstance(body.get("visit"), dict) else {}
        if not visit.get("pos_id"):
            return _error(400, "visit.pos_id required")
        data.sales = [s for s in data.sales if s["visit"]["pos_id"] != visit["pos_id"]]
        data.sales.append(body)
        return _ok({"pos_id": visit["pos_id"]})

    async def redemptions(request: Request) -> JSONResponse:
        start, end = int(request.path_params["start"]), int(request.path_params["end"])
        return _ok([r for r in data.redemptions if start <= r["ts"] <= end])

    return Starlette(
        routes=[
            Route("/api/v2/campaigns", rows(lambda: data.campaigns)),
            Route("/api/v1.1/audiences/{uid}", account(rows(lambda: data.audiences))),
            Route("/api/v1.1/stores/{uid}", account(stores)),
            Route("/api/v2/loyalty/default/{uid}", account(settings)),
            Route("/api/v2/wallet", wallet, methods=["POST"]),
            Route("/api/v2/loyalty/lookup/{pii}", lookup),
            Route("/api/v1.1/piis/{uid}", account(contacts)),
            Route("/api/v2/loyalty", upsert, methods=["POST"]),
            Route("/api/v2/optin", opt_in, methods=["PUT"]),
            Route("/api/v1.1/createUpdateSale/{uid}", account(sale), methods=["POST"]),
            Route("/api/v2/discount/groups", rows(lambda: data.discount_groups)),
            Route(
                "/api/v1.1/discountRedemptions/{uid}/{start:int}/{end:int}", account(redemptions)
            ),
        ]
    )


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class FakeAlpineIQ(FakeProviderServer):
    """The fake Alpine IQ account on a free local port (2,000 requests/hour by default)."""

    def __init__(
        self,
        data: AlpineIQData | None = None,
        *,
        api_key: str = "aiq-test-key",
        latency_seconds: float = 0.0,
        rate_limit: tuple[int, float] | None = HOURLY_LIMIT,
    ) -> None:
        self.data = data or seed_alpineiq()
        self.api_key = api_key
        simulation = Simulation(latency_seconds=latency_seconds, rate_limit=rate_limit)
        app = create_alpineiq_app(self.data)
        super().__init__(app, simulation, lambda headers: headers.get("x-apikey") == api_key)
