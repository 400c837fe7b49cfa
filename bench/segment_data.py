"""Segmentation benchmark: the planted cohorts and the rows written from Python.

Background profiles (ids 1 .. Plan.background) come from SQL (segment_load.py) and can never
match either benchmark segment; the planted profiles above them are members and near misses,
so every result can be checked exactly.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from functools import partial

import orjson

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)
LATENCY_SAMPLES = 50  # profiles that enter segment A one event at a time
FOLD_EVENTS, FOLD_PROFILES = 10_000, 5_000
FOLD_AGE_DAYS = 2 / 1440  # the folded batch happened two minutes ago


def ago(days: float) -> datetime:
    return NOW - days * DAY


class Plan:
    """Planted profiles (ids above the background's) and what each kind must do."""

    def __init__(self, profiles: int) -> None:
        unit = max(10, min(1000, profiles // 50))
        fifth = max(2, unit // 5)
        self.sizes = {
            "a_member": unit,
            "a_spend_49999": fifth,
            "a_spend_50000": fifth,
            "a_old_order": fifth,
            "a_recent_order": fifth,
            "a_machine_open": fifth,
            "a_open_31": fifth + LATENCY_SAMPLES,  # the last LATENCY_SAMPLES feed the latency
            "b_member": unit // 2,
            "b_two_views": unit // 2,
            "b_recreational": unit // 4,
            "b_no_trait": unit // 4,
        }
        self.background = profiles - sum(self.sizes.values())
        self.ids: dict[str, list[int]] = {}
        next_id = self.background + 1
        for kind, size in self.sizes.items():
            self.ids[kind] = list(range(next_id, next_id + size))
            next_id += size
        self.a_exit = self.ids["a_member"][: max(1, unit // 10)]
        self.a_enter = self.ids["a_open_31"][:-LATENCY_SAMPLES]
        self.latency = self.ids["a_open_31"][-LATENCY_SAMPLES:]

    def members_after_fold(self) -> tuple[set[int], set[int]]:
        """Members of segments A and B once the fold batch is in."""
        a = set(self.ids["a_member"]) - set(self.a_exit) | set(self.a_enter)
        return a, set(self.ids["b_member"]) | set(self.ids["b_two_views"])


class Rows:
    """Contacts, orders and events for COPY, in the column order of segment_load's lists."""

    def __init__(self, tenant_id, prefix: str) -> None:
        self.tenant_id, self.prefix = tenant_id, prefix
        self.contacts: list[tuple] = []
        self.orders: list[tuple] = []
        self.events: list[tuple] = []
        self._seq = itertools.count()

    def _next_id(self) -> str:
        return f"{self.prefix}-{next(self._seq)}"

    def order(self, cid: int, days: float, cents: int, external_id: str = "") -> None:
        placed = ago(days)
        self.orders.append(
            (self.tenant_id, cid, "pos", external_id or self._next_id(), cents, 1, placed)
        )

    def event(self, cid: int, name: str, days: float, properties: dict) -> None:
        at, data = ago(days), orjson.dumps(properties).decode()
        self.events.append((self.tenant_id, cid, self._next_id(), "track", name, data, at, at, at))

    def opened(self, cid: int, days: float, machine: bool = False, campaign="cmp-1") -> None:
        self.event(cid, "Email Opened", days, {"campaign_id": campaign, "machine_open": machine})

    def viewed(self, cid: int, days: float, sku: str = "sku-1") -> None:
        self.event(cid, "Product Viewed", days, {"product_id": sku, "price": 25})

    def spend(self, cid: int, n: int, total: int) -> None:
        """Two orders in the 90-day window, none in the last 60 days, summing to `total`."""
        self.order(cid, 88.5 - n % 10, total // 2)
        self.order(cid, 61.5 + n % 10, total - total // 2)


# --- planted cohorts: what each kind writes for its n-th profile ----------------------------


def _a_member(rows: Rows, cid: int, n: int) -> None:
    rows.spend(cid, n, 50001 + (n * 37) % 70000)
    if n % 3 == 0:
        rows.order(cid, 200, 12000)
    rows.opened(cid, 1.3 + n % 28)
    if n % 4 == 0:
        rows.opened(cid, 2.2, machine=True)


def _a_spend_exactly(rows: Rows, cid: int, n: int, total: int) -> None:
    rows.spend(cid, n, total)
    rows.opened(cid, 3.5)


def _a_orders(rows: Rows, cid: int, n: int, orders: tuple) -> None:
    for days, cents in orders:
        rows.order(cid, days, cents)
    rows.opened(cid, 3.5)


def _a_machine_open(rows: Rows, cid: int, n: int) -> None:
    rows.spend(cid, n, 60000)
    rows.opened(cid, 5, machine=True)
    rows.opened(cid, 45)


def _a_open_31(rows: Rows, cid: int, n: int) -> None:
    rows.spend(cid, n, 60000)
    rows.opened(cid, 31.2)
    rows.opened(cid, 3, machine=True)


def _b_views(rows: Rows, cid: int, n: int, days: tuple | None = None) -> None:
    for when in days or [1.5 + 4 * j for j in range(3 + n % 4)]:
        rows.viewed(cid, when)


PLANTERS = {
    "a_member": _a_member,
    "a_spend_49999": partial(_a_spend_exactly, total=49999),
    "a_spend_50000": partial(_a_spend_exactly, total=50000),
    "a_old_order": partial(_a_orders, orders=((91.5, 30000), (70, 30000))),
    "a_recent_order": partial(_a_orders, orders=((75, 40000), (59.5, 20000))),
    "a_machine_open": _a_machine_open,
    "a_open_31": _a_open_31,
    "b_member": _b_views,
    "b_two_views": partial(_b_views, days=(2.5, 10.5, 31.5)),
    "b_recreational": partial(_b_views, days=(1.5, 5.5, 9.5, 13.5, 17.5)),
    "b_no_trait": partial(_b_views, days=(1.5, 5.5, 9.5, 13.5, 17.5)),
}


def _traits(kind: str) -> str:
    traits = {"tier": "silver"}
    if kind.startswith("a_") or kind == "b_recreational":
        traits["account_type"] = "recreational"
    elif kind != "b_no_trait":
        traits["account_type"] = "medical"
    return orjson.dumps(traits).decode()


def _contact(rows: Rows, cid: int, traits: str, placed: list[tuple]) -> tuple:
    """A planted contact whose order facts agree with its orders."""
    last_order = max((r[6] for r in placed), default=None)
    spent = sum(r[4] for r in placed)
    names = (f"u{cid}", f"p{cid}@bench.example", "Pat", f"Doe {cid}")
    consent = (True, False, "import", "")
    facts = (len(placed), spent, last_order)
    return (cid, rows.tenant_id, *names, traits, *consent, ago(400), *facts, ago(400), ago(1))


def planted_rows(plan: Plan, tenant_id) -> Rows:
    """Contacts, orders and events of the planted cohorts."""
    rows = Rows(tenant_id, "pl")
    for kind, ids in plan.ids.items():
        for n, cid in enumerate(ids):
            PLANTERS[kind](rows, cid, n)
    by_contact: dict[int, list] = {}
    for row in rows.orders:
        by_contact.setdefault(row[1], []).append(row)
    for kind, ids in plan.ids.items():
        rows.contacts += [
            _contact(rows, cid, _traits(kind), by_contact.get(cid, [])) for cid in ids
        ]
    return rows


# --- the fold batch --------------------------------------------------------------------------


def fold_batch(plan: Plan, tenant_id) -> Rows:
    """FOLD_EVENTS new events for about FOLD_PROFILES profiles, and the orders among them.

    Planted: a real open for a_enter (enter A), a third product view for b_two_views (enter B),
    an order for a_exit (leave A). The rest are background profiles with events that cannot
    change membership (page views, deliveries, machine opens, product views of non-medical).
    """
    rows = Rows(tenant_id, "fold")
    for cid in plan.a_enter:
        rows.opened(cid, FOLD_AGE_DAYS, campaign="cmp-9")
    for cid in plan.ids["b_two_views"]:
        rows.viewed(cid, FOLD_AGE_DAYS, sku="sku-2")
    for cid in plan.a_exit:
        rows.order(cid, FOLD_AGE_DAYS, 5000, external_id=f"fold-{cid}")
        order = {"order_id": f"fold-{cid}", "revenue": 50.0}
        rows.event(cid, "Order Completed", FOLD_AGE_DAYS, order)
    _harmless_events(plan, rows)
    return rows


def _harmless_events(plan: Plan, rows: Rows) -> None:
    """Fill the batch up to FOLD_EVENTS with background profiles' events that change nothing."""
    others = max(1, min(FOLD_PROFILES, plan.background) - len(rows.events))
    stride = max(1, plan.background // others)
    filler = [1 + (n * stride + 7) % plan.background for n in range(others)]
    harmless = ("Page Viewed", "Email Delivered", "Email Opened", "Product Viewed")
    for n in itertools.count():
        if len(rows.events) >= FOLD_EVENTS:
            return
        cid, name = filler[n % len(filler)], harmless[n % len(harmless)]
        if name == "Product Viewed" and cid % 10 in (0, 3):  # medical: never a product view
            name = "Page Viewed"
        properties = {"campaign_id": "cmp-9", "machine_open": True} if "Email" in name else {}
        rows.event(cid, name, FOLD_AGE_DAYS, properties)
