"""POS order sync: a tenant's Alleaves customers and orders into profiles, orders and points.

Credentials: a `ProviderCredential` with provider "alleaves"; its encrypted secret is the
POS `api_key` and its `config` holds `{"base_url": "https://..."}` (`save_alleaves_credentials`
in `loyalty_sync_state`, with the sync state).

One sync reads the customers and then the orders updated since the cursor, page by page
(`AlleavesClient`: paged, a few pages in flight, rate limited, retried), and for each page,
set-based:
- maps each POS person to a profile (`loyalty_sync_people`): identity "pos" (the POS customer
  id), then "alpineiq" (alpine_user_code), then the normalized email or phone; creates a
  profile when none matches; attaches the identities it does not hold yet;
- inserts the orders (source "pos", external_id = POS id; COPY on PostgreSQL) and, for the new
  ones, their items, ignoring orders already present; an order cancelled before any sync saw
  it is not stored (it would look uncredited to every later crediting);
- queues the points: completed and refunded orders are credited, refunded ones reversed in full
  (refund id "pos-refund-<POS order id>"), cancelled ones that had been credited reversed; the
  queue and the order facts are applied every few thousand orders and at the end
  (`loyalty_sync_points`), also after a provider failure.
Garbage records come back from the client as skipped and are counted with their reasons.
Every HTTP attempt lands in the provider call log (`provider_calls.CallLog`) with the job id.

The cursor and outcome live in `tenant.settings["loyalty_sync"]`: last_synced_at (the start
of the last successful sync, read back less OVERLAP), last_attempt_at, last_error, counts, a
few skip reasons and the POS location id → Location id map (Alpine IQ's part sits under its
own key there, see `loyalty_aiq_sync`). A provider failure (outage, rate limit, garbage page,
rejected key) keeps the cursor and the data already written, and records the error.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from marketing_app.domain.errors import NotFound, ProviderError
from marketing_app.models import Location, Order, OrderItem
from marketing_app.models.base import utcnow
from marketing_app.providers.alleaves import AlleavesClient, PosCustomer, PosOrder
from marketing_app.providers.read_ahead import ReadAhead
from marketing_app.providers.wire import Page
from marketing_app.services.bulk import insert_ignoring_duplicates, write_returning_new_keys
from marketing_app.services.bulk_reads import StatisticsWatch, one_of
from marketing_app.services.identity import IdentityMap
from marketing_app.services.loyalty_programs import LoyaltySettings, get_program, require_settings
from marketing_app.services.loyalty_refunds import CANCELLATION
from marketing_app.services.loyalty_sync_people import (
    IDENTITY_TABLES,
    customer_person,
    map_people,
    order_person,
    owner,
)
from marketing_app.services.loyalty_sync_points import (
    POINTS_BATCH,
    PendingPoints,
    apply_points,
)
from marketing_app.services.loyalty_sync_state import (
    ALLEAVES,
    alleaves_credentials,
    describe_error,
    outcome_state,
    save_sync_state,
    sync_state,
)
from marketing_app.services.loyalty_sync_state import (  # the names callers know from here
    save_alleaves_credentials as save_alleaves_credentials,
)
from marketing_app.services.provider_calls import FLUSH_EVERY, CallLog

PROVIDER = ALLEAVES
SOURCE = "pos"
OVERLAP = timedelta(minutes=2)  # records updated while pages were read are read again
KEPT_SKIPS = 20  # skip reasons kept in the sync state
Progress = Callable[[int, int, str], None]


@dataclass
class PosSyncResult:
    customers: int = 0
    orders: int = 0
    profiles_created: int = 0
    orders_created: int = 0
    items_created: int = 0
    skipped: int = 0
    orders_credited: int = 0
    points: int = 0
    refunds: int = 0
    cancellations: int = 0
    cancelled_not_stored: int = 0  # orders cancelled before any sync saw them
    pages: int = 0
    calls: int = 0
    rate_limited: int = 0  # calls the provider answered 429
    seconds: float = 0.0
    error: str | None = None
    skip_reasons: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}


def _cursor(state: dict[str, Any]) -> datetime | None:
    raw = state.get("last_synced_at")
    return datetime.fromisoformat(raw) - OVERLAP if raw else None


# --- orders ----------------------------------------------------------------------------------


def _locations(session: Session, tenant_id, orders: list[PosOrder], state: dict) -> dict:
    """POS location id -> our Location id, creating "POS location <id>" for new ones."""
    known = dict(state.get("locations") or {})
    for pos_id in sorted({o.location_id for o in orders if o.location_id} - set(known)):
        location = Location(tenant_id=tenant_id, name=f"POS location {pos_id}"[:200])
        session.add(location)
        session.flush()
        known[pos_id] = location.id
    if known != state.get("locations"):
        state["locations"] = known
        save_sync_state(session, tenant_id, {"locations": known})
    return known


def _order_rows(tenant_id, orders: list[PosOrder], buyers: list, ids, locations) -> list:
    return [
        {
            "tenant_id": tenant_id,
            "contact_id": owner(ids, buyer) if buyer else None,
            "location_id": locations.get(order.location_id),
            "source": SOURCE,
            "external_id": order.id,
            "total_cents": order.total_cents,
            "item_count": sum(item.quantity for item in order.items) or 1,
            "placed_at": order.created_at,
        }
        for order, buyer in zip(orders, buyers, strict=True)
    ]


def _item_rows(tenant_id, orders: list[PosOrder], order_ids: dict[str, int], new) -> list:
    return [
        {
            "tenant_id": tenant_id,
            "order_id": order_ids[order.id],
            "sku": item.sku,
            "product_name": item.name,
            "category": item.category,
            "quantity": item.quantity,
            "price_cents": item.price_cents,
        }
        for order in orders
        if order.id in new
        for item in order.items
    ]


def _order_ids(session: Session, tenant_id, external_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for match in one_of(session, Order.external_id, external_ids):
        rows = session.exec(
            select(Order.external_id, Order.id).where(
                Order.tenant_id == tenant_id, Order.source == SOURCE, match
            )
        )
        found.update(rows.all())
    return found


def _store_orders(run: _PosRun, orders: list[PosOrder], buyers: list) -> dict[str, int]:
    """Insert-or-ignore the page's orders and the new ones' items; POS id -> our order id.
    Queues the page's points and the facts of the contacts that got new orders.

    An order cancelled before we ever saw it is not stored: as an order without an earn entry
    it would look uncredited to every later crediting and to reconciliation. One stored earlier
    keeps its row, and its points are reversed."""
    session, tenant_id = run.session, run.tenant_id
    locations = _locations(session, tenant_id, orders, run.state)
    live = [(o, b) for o, b in zip(orders, buyers, strict=True) if o.status != "cancelled"]
    rows = _order_rows(tenant_id, [o for o, _ in live], [b for _, b in live], run.ids, locations)
    new = write_returning_new_keys(session=session, model=Order, rows=rows, key="external_id")
    order_ids = _order_ids(session, tenant_id, [o.id for o in orders])
    items = _item_rows(tenant_id, orders, order_ids, new)
    insert_ignoring_duplicates(session=session, model=OrderItem, rows=items, copy_key="sku")
    run.result.orders_created += len(new)
    run.result.items_created += len(items)
    run.result.cancelled_not_stored += sum(1 for o in orders if o.id not in order_ids)
    run.watch.wrote(len(new) + len(items))
    touched = {row["contact_id"] for row in rows if row["external_id"] in new}
    _queue_points(run.pending, [o for o in orders if o.id in order_ids], order_ids, touched)
    return order_ids


def _queue_points(pending: PendingPoints, orders, order_ids, touched: set) -> None:
    for order in orders:
        order_id = order_ids[order.id]
        if order.status != "cancelled":
            pending.earning.append(order_id)
        if order.status == "refunded":
            pending.reversals[order_id] = f"pos-refund-{order.id}"
        elif order.status == "cancelled":
            pending.reversals[order_id] = CANCELLATION
    pending.contacts |= touched - {None}


# --- the sync --------------------------------------------------------------------------------


@dataclass
class _PosRun:
    """One sync's working set: what the page handlers share."""

    session: Session
    tenant_id: uuid.UUID
    state: dict[str, Any]
    result: PosSyncResult
    log: CallLog
    now: datetime
    progress: Progress | None = None
    settings: LoyaltySettings | None = None
    ids: IdentityMap = field(init=False)
    watch: StatisticsWatch = field(init=False)
    pending: PendingPoints = field(default_factory=PendingPoints)
    totals: dict[str, int] = field(default_factory=lambda: {"customers": 0, "orders": 1})

    def __post_init__(self) -> None:
        self.ids = IdentityMap(self.session, self.tenant_id)
        self.watch = StatisticsWatch(self.session, (*IDENTITY_TABLES, "orders"))

    def map_people(self, people: list) -> None:
        """Profiles for these people; tables the earlier pages outgrew are analyzed first."""
        self.watch.check()
        created = map_people(self.session, self.tenant_id, self.ids, people)
        self.result.profiles_created += created
        self.watch.wrote(len(people) + created)

    def page_done(self, page: Page, kind: str) -> None:
        result = self.result
        result.pages += 1
        result.skipped += len(page.skipped)
        for skip in page.skipped[: max(KEPT_SKIPS - len(result.skip_reasons), 0)]:
            result.skip_reasons.append(f"{kind} {skip.record_id or '?'}: {skip.reason}")
        self.log.flush(self.session, at_least=FLUSH_EVERY)
        self.totals[kind] = page.total_pages
        if self.progress is not None:
            total = max(self.totals["customers"] + self.totals["orders"], result.pages)
            message = f"Synced {kind} page {page.number} of {page.total_pages}"
            self.progress(result.pages, total, message)

    def apply_points(self) -> None:
        outcome = apply_points(self.session, self.tenant_id, self.settings, self.pending, self.now)
        self.result.orders_credited += outcome.orders_credited
        self.result.points += outcome.points
        self.result.refunds += outcome.refunds
        self.result.cancellations += outcome.cancellations


def _sync_customers(run: _PosRun, pages: Iterator[tuple[Page[PosCustomer], list]]) -> None:
    for page, people in pages:
        run.result.customers += len(people)
        run.map_people(people)
        run.page_done(page, "customers")


def _sync_orders(run: _PosRun, pages: Iterator[tuple[Page[PosOrder], list]]) -> None:
    for page, buyers in pages:
        orders = page.records
        run.result.orders += len(orders)
        run.map_people([buyer for buyer in buyers if buyer])
        _store_orders(run, orders, buyers)
        if len(run.pending) >= POINTS_BATCH:
            run.apply_points()
        run.page_done(page, "orders")


def _read_pos(run: _PosRun, credentials: tuple[str, str], options: dict[str, Any]) -> None:
    """Customers, then orders. Both listings are read ahead on threads, a couple of pages
    deep, while the pages before them are being stored; their people's emails and phones are
    normalized there too (while the storing thread waits for the database)."""
    base_url, api_key = credentials
    since = _cursor(run.state)
    try:
        with AlleavesClient(base_url=base_url, api_key=api_key, on_call=run.log, **options) as c:
            customers = c.iter_customer_pages(updated_since=since)
            orders = c.iter_order_pages(updated_since=since)
            with (
                ReadAhead((p, list(map(customer_person, p.records))) for p in customers) as ahead,
                ReadAhead((p, list(map(order_person, p.records))) for p in orders) as behind,
            ):
                _sync_customers(run, ahead)
                _sync_orders(run, behind)
    except ProviderError as exc:
        run.result.error = describe_error(exc)


def sync_pos_orders(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    progress: Progress | None = None,
    job_id: uuid.UUID | None = None,
    now: datetime | None = None,
    **client_options: Any,
) -> PosSyncResult:
    """Sync the tenant's POS customers and orders updated since the last successful sync.

    `client_options` go to `AlleavesClient` (retry, rate_limits, page_size, on_call...); every
    call is also logged under `job_id`. A provider failure is recorded in the sync state and
    returned as `result.error`, after the points of the orders stored so far are applied; the
    caller commits either way (the data of the pages read so far is good data).
    """
    credentials = alleaves_credentials(session=session, tenant_id=tenant_id)
    if credentials is None:
        raise NotFound("No Alleaves POS credentials configured.")
    started, clock = now or utcnow(), time.perf_counter()
    log = CallLog(tenant_id=tenant_id, job_id=job_id, forward=client_options.pop("on_call", None))
    state = sync_state(session=session, tenant_id=tenant_id)
    run = _PosRun(session, tenant_id, state, PosSyncResult(), log, started, progress)
    if get_program(session=session, tenant_id=tenant_id) is not None:
        run.settings = require_settings(session=session, tenant_id=tenant_id)
    _read_pos(run, credentials, client_options)
    run.apply_points()
    log.flush(session)
    run.result.calls, run.result.rate_limited = log.calls, log.rate_limited
    run.result.seconds = round(time.perf_counter() - clock, 3)
    save_sync_state(session, tenant_id, outcome_state(started, run.result))
    return run.result
