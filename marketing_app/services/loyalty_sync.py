"""POS order sync: a tenant's Alleaves customers and orders into profiles, orders and points.

Credentials: a `ProviderCredential` with provider "alleaves"; its encrypted secret is the
POS `api_key` and its `config` holds `{"base_url": "https://..."}` (see `alleaves_credentials`).

One sync reads the customers and then the orders updated since the cursor, page by page
(`AlleavesClient`: paged, rate limited, retried), and for each page, set-based:
- maps each POS person to a profile: identity "pos" (the POS customer id) first, else the
  normalized email or phone; creates a profile when none matches; attaches the "pos", email,
  phone and "alpineiq" (alpine_user_code) identities it does not hold yet;
- inserts the orders (source "pos", external_id = POS id) and, for the new ones, their items,
  ignoring orders already present; refreshes order_count / total_spent_cents / last_order_at
  of the contacts that got new orders;
- credits the completed and refunded orders (`credit_orders`), reverses refunded ones in full
  (refund id "pos-refund-<POS order id>") and cancelled ones that had been credited.
Garbage records come back from the client as skipped and are counted with their reasons.

The cursor and outcome live in `tenant.settings["loyalty_sync"]`: last_synced_at (the start
of the last successful sync, read back less OVERLAP), last_error, counts, a few skip reasons
and the POS location id → Location id map. A provider failure (outage, rate limit, garbage
page, rejected key) keeps the cursor and the data already written, and records the error.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from marketing_app.domain.errors import DomainError, NotFound, ProviderError
from marketing_app.models import (
    Contact,
    LedgerSource,
    Location,
    LoyaltyLedgerEntry,
    Order,
    OrderItem,
    ProviderCredential,
    Tenant,
)
from marketing_app.models.base import utcnow
from marketing_app.providers.alleaves import AlleavesClient, PosOrder
from marketing_app.providers.wire import Page
from marketing_app.services.bulk import insert_ignoring_duplicates, insert_returning_new_keys
from marketing_app.services.credentials import reveal_credential
from marketing_app.services.identity import IdentityMap
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_programs import get_program
from marketing_app.services.loyalty_refunds import cancel_order, refund_order
from marketing_app.services.loyalty_sync_people import (
    customer_person,
    map_people,
    order_person,
    owner,
)

PROVIDER = "alleaves"
SOURCE = "pos"
STATE_KEY = "loyalty_sync"
OVERLAP = timedelta(minutes=2)  # records updated while pages were read are read again
KEPT_SKIPS = 20  # skip reasons kept in the sync state
Progress = Callable[[int, int, str], None]


class PosSyncFailed(DomainError):
    """The POS could not be read; the cursor and the data already synced stay as they were."""


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
    pages: int = 0
    calls: int = 0
    error: str | None = None
    skip_reasons: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}


def alleaves_credentials(*, session: Session, tenant_id: uuid.UUID) -> tuple[str, str] | None:
    """(base_url, api_key) of the tenant's Alleaves account, or None when not configured."""
    row = session.exec(
        select(ProviderCredential).where(
            ProviderCredential.tenant_id == tenant_id, ProviderCredential.provider == PROVIDER
        )
    ).first()
    base_url = (row.config or {}).get("base_url") if row else None
    if not base_url:
        return None
    api_key = reveal_credential(session=session, tenant_id=tenant_id, provider=PROVIDER)
    return str(base_url), api_key


def sync_state(*, session: Session, tenant_id: uuid.UUID) -> dict[str, Any]:
    tenant = session.get(Tenant, tenant_id)
    return dict((tenant.settings or {}).get(STATE_KEY) or {}) if tenant else {}


def _save_state(session: Session, tenant_id: uuid.UUID, changes: dict[str, Any]) -> None:
    tenant = session.get(Tenant, tenant_id)
    state = {**((tenant.settings or {}).get(STATE_KEY) or {}), **changes}
    tenant.settings = {**(tenant.settings or {}), STATE_KEY: state}  # a new dict: JSON column
    session.add(tenant)
    session.flush()


def _cursor(state: dict[str, Any]) -> datetime | None:
    raw = state.get("last_synced_at")
    return datetime.fromisoformat(raw) - OVERLAP if raw else None


# --- profiles --------------------------------------------------------------------------------


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
        _save_state(session, tenant_id, {"locations": known})
    return known


def _order_rows(tenant_id, orders: list[PosOrder], ids: IdentityMap, locations: dict) -> list:
    rows = []
    for order in orders:
        person = order_person(order)
        rows.append(
            {
                "tenant_id": tenant_id,
                "contact_id": owner(ids, person) if person else None,
                "location_id": locations.get(order.location_id),
                "source": SOURCE,
                "external_id": order.id,
                "total_cents": order.total_cents,
                "item_count": sum(item.quantity for item in order.items) or 1,
                "placed_at": order.created_at,
            }
        )
    return rows


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
    rows = session.exec(
        select(Order.external_id, Order.id).where(
            Order.tenant_id == tenant_id,
            Order.source == SOURCE,
            col(Order.external_id).in_(external_ids),
        )
    )
    return dict(rows.all())


def refresh_order_facts(session: Session, tenant_id: uuid.UUID, contact_ids: set[int]) -> None:
    """order_count, total_spent_cents and last_order_at of these contacts, from their orders."""
    theirs = (Order.contact_id == Contact.id, Order.tenant_id == tenant_id)
    for start in range(0, len(contact_ids), 500):
        chunk = sorted(contact_ids)[start : start + 500]
        session.exec(
            update(Contact)
            .where(Contact.tenant_id == tenant_id, col(Contact.id).in_(chunk))
            .values(
                order_count=select(func.count()).where(*theirs).scalar_subquery(),
                total_spent_cents=select(func.coalesce(func.sum(Order.total_cents), 0))
                .where(*theirs)
                .scalar_subquery(),
                last_order_at=select(func.max(Order.placed_at)).where(*theirs).scalar_subquery(),
            )
        )


def _store_orders(session, tenant_id, orders, ids, locations, result) -> dict[str, int]:
    rows = _order_rows(tenant_id, orders, ids, locations)
    new = insert_returning_new_keys(session=session, model=Order, rows=rows, key="external_id")
    order_ids = _order_ids(session, tenant_id, [o.id for o in orders])
    items = _item_rows(tenant_id, orders, order_ids, new)
    insert_ignoring_duplicates(session=session, model=OrderItem, rows=items)
    touched = {row["contact_id"] for row in rows if row["external_id"] in new}
    refresh_order_facts(session, tenant_id, touched - {None})
    result.orders_created += len(new)
    result.items_created += len(items)
    return order_ids


# --- points ----------------------------------------------------------------------------------


def _existing_keys(session: Session, tenant_id, source: str, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    rows = session.exec(
        select(LoyaltyLedgerEntry.source_key).where(
            LoyaltyLedgerEntry.tenant_id == tenant_id,
            LoyaltyLedgerEntry.source == source,
            col(LoyaltyLedgerEntry.source_key).in_(keys),
        )
    )
    return set(rows.all())


def _apply_points(session, tenant_id, orders: list[PosOrder], order_ids, result) -> None:
    earning = [order_ids[o.id] for o in orders if o.status != "cancelled"]
    credit = credit_orders(session=session, tenant_id=tenant_id, order_ids=earning)
    result.orders_credited += credit.orders_credited
    result.points += credit.points
    refunds = {f"{order_ids[o.id]}:pos-refund-{o.id}": o for o in orders if o.status == "refunded"}
    done = _existing_keys(session, tenant_id, LedgerSource.REFUND, list(refunds))
    for key, order in refunds.items():
        if key not in done:
            outcome = refund_order(
                session=session,
                tenant_id=tenant_id,
                order_id=order_ids[order.id],
                refund_id=f"pos-refund-{order.id}",
            )
            result.refunds += int(not (outcome.skipped or outcome.replayed))
    _apply_cancellations(session, tenant_id, orders, order_ids, result)


def _apply_cancellations(session, tenant_id, orders, order_ids, result) -> None:
    """A cancelled order that had earned (it was completed at an earlier sync) gives back."""
    cancelled = [str(order_ids[o.id]) for o in orders if o.status == "cancelled"]
    earned = _existing_keys(session, tenant_id, LedgerSource.ORDER, cancelled)
    reversed_ = _existing_keys(
        session, tenant_id, LedgerSource.REFUND, [f"{i}:cancellation" for i in earned]
    )
    for order_id in sorted(earned):
        if f"{order_id}:cancellation" not in reversed_:
            cancel_order(session=session, tenant_id=tenant_id, order_id=int(order_id))
            result.cancellations += 1


# --- the sync --------------------------------------------------------------------------------


def _skips(page: Page, result: PosSyncResult, kind: str) -> None:
    result.skipped += len(page.skipped)
    for skip in page.skipped[: max(KEPT_SKIPS - len(result.skip_reasons), 0)]:
        result.skip_reasons.append(f"{kind} {skip.record_id or '?'}: {skip.reason}")


def _sync_pages(client, session, tenant_id, since, state, result, report) -> None:
    ids = IdentityMap(session, tenant_id)
    credit = get_program(session=session, tenant_id=tenant_id) is not None
    for page in client.iter_customer_pages(updated_since=since):
        result.customers += len(page.records)
        result.profiles_created += map_people(
            session, tenant_id, ids, [customer_person(c) for c in page.records]
        )
        _skips(page, result, "customer")
        report(page, "customers")
    for page in client.iter_order_pages(updated_since=since):
        orders = page.records
        result.orders += len(orders)
        people = [p for p in map(order_person, orders) if p]
        result.profiles_created += map_people(session, tenant_id, ids, people)
        locations = _locations(session, tenant_id, orders, state)
        order_ids = _store_orders(session, tenant_id, orders, ids, locations, result)
        if credit:
            _apply_points(session, tenant_id, orders, order_ids, result)
        _skips(page, result, "order")
        report(page, "orders")


def _reporter(progress: Progress | None, result: PosSyncResult) -> Callable[[Page, str], None]:
    totals = {"customers": 0, "orders": 1}

    def report(page: Page, kind: str) -> None:
        result.pages += 1
        totals[kind] = page.total_pages
        if progress is not None:
            total = max(totals["customers"] + totals["orders"], result.pages)
            progress(result.pages, total, f"Synced {kind} page {page.number} of {page.total_pages}")

    return report


def sync_pos_orders(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    progress: Progress | None = None,
    now: datetime | None = None,
    **client_options: Any,
) -> PosSyncResult:
    """Sync the tenant's POS customers and orders updated since the last successful sync.

    `client_options` go to `AlleavesClient` (retry, rate_limits, page_size, on_call...).
    A provider failure is recorded in the sync state and returned as `result.error`; the
    caller commits either way (the data of the pages read so far is good data).
    """
    credentials = alleaves_credentials(session=session, tenant_id=tenant_id)
    if credentials is None:
        raise NotFound("No Alleaves POS credentials configured.")
    started = now or utcnow()
    state = sync_state(session=session, tenant_id=tenant_id)
    result = PosSyncResult()
    on_call = client_options.pop("on_call", None)

    def count_call(call) -> None:
        result.calls += 1
        if on_call is not None:
            on_call(call)

    base_url, api_key = credentials
    client = AlleavesClient(
        base_url=base_url, api_key=api_key, on_call=count_call, **client_options
    )
    try:
        with client:
            _sync_pages(
                client,
                session,
                tenant_id,
                _cursor(state),
                state,
                result,
                _reporter(progress, result),
            )
    except ProviderError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    _record(session, tenant_id, started, result)
    return result


def _record(session: Session, tenant_id, started: datetime, result: PosSyncResult) -> None:
    changes: dict[str, Any] = {
        "last_attempt_at": started.isoformat(),
        "last_error": result.error,
        "counts": result.counts(),
        "skip_reasons": result.skip_reasons,
    }
    if result.error is None:
        changes["last_synced_at"] = started.isoformat()
    _save_state(session, tenant_id, changes)
