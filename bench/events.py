"""Realistic Segment events (about 1 KB each: 80% track, 15% identify, 5% page) and batches."""

from __future__ import annotations

import random
from collections.abc import Iterator

import orjson

BATCH_EVENTS = 400  # about 400 KB per /v1/batch body, under the 500 KB limit
PRODUCTS = ["Blue Dream 3.5g", "Gummies 10pk", "Pre-roll 5pk", "Vape cart 1g", "Tincture 30ml"]
DESCRIPTION = (
    "Indica-dominant hybrid with notes of berry and pine, lab tested, grown indoors in "
    "North Carolina; pairs with the loyalty double-points weekend promotion. "
) * 2
USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


def make_event(n: int, rng: random.Random, prefix: str) -> dict:
    person = rng.randrange(200_000)
    roll = rng.random()
    base = {
        "messageId": f"{prefix}-{n}",
        "anonymousId": f"anon-{person}",
        "timestamp": f"2026-11-{1 + n % 20:02d}T{n % 24:02d}:{n % 60:02d}:00Z",
        "context": {
            "ip": f"24.5.{person % 250}.{n % 250}",
            "userAgent": USER_AGENT,
            "library": {"name": "analytics-python", "version": "2.4.0"},
            "page": {
                "url": f"https://shop.example.com/menu?item={n % 500}&utm_source=google",
                "referrer": "https://www.google.com/",
                "title": "Menu - Carolina Leaf",
            },
            "campaign": {"source": "google", "medium": "cpc", "name": "fall-sale"},
        },
    }
    if roll < 0.80:
        product = rng.choice(PRODUCTS)
        return {
            **base,
            "type": "track",
            "userId": f"user-{person}",
            "event": "Product Viewed",
            "properties": {
                "product_id": f"sku-{n % 900}",
                "name": product,
                "price": 24.99,
                "category": "flower",
                "location": "Charlotte - Monroe Road",
                "quantity": 1 + n % 3,
                "currency": "USD",
                "description": DESCRIPTION,
            },
        }
    if roll < 0.95:
        return {
            **base,
            "type": "identify",
            "userId": f"user-{person}",
            "traits": {
                "email": f"user{person}@example.com",
                "firstName": "Sam",
                "lastName": "Lee",
                "phone": f"+1704555{person % 10000:04d}",
                "birthday": "1990-04-02",
                "territory": "Metrolina",
                "address": {
                    "street": "4400 Monroe Rd",
                    "city": "Charlotte",
                    "state": "NC",
                    "postalCode": "28205",
                },
                "notes": DESCRIPTION,
            },
        }
    return {
        **base,
        "type": "page",
        "name": "Menu",
        "properties": {"path": "/menu", "description": DESCRIPTION},
    }


def batch_bodies(
    total: int, write_key: str, prefix: str, seed: int = 7, size: int = BATCH_EVENTS
) -> Iterator[tuple[int, bytes]]:
    """(events in batch, JSON body) pairs, generated lazily so 1M events never sit in memory."""
    rng = random.Random(seed)
    for start in range(0, total, size):
        events = [make_event(n, rng, prefix) for n in range(start, min(total, start + size))]
        yield len(events), orjson.dumps({"batch": events, "writeKey": write_key})
