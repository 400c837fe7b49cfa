"""The POS order sync against the fake Alleaves server over real local HTTP."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func
from sqlmodel import select

from marketing_app.models import (
    Contact,
    ContactIdentity,
    LedgerKind,
    LoyaltyLedgerEntry,
    Order,
    OrderItem,
    ProviderCredential,
)
from marketing_app.services.crypto import encrypt_secret
from marketing_app.services.loyalty_sync import sync_pos_orders, sync_state
from tests.fakes.alleaves_server import FakeAlleaves, seed_alleaves
from tests.fakes.server import TEST_RETRY
from tests.services.test_loyalty_support import make_program


def connect(session, tenant, fake: FakeAlleaves) -> None:
    """The tenant's Alleaves credential (set_credential does not know "alleaves" yet)."""
    session.add(
        ProviderCredential(
            tenant_id=tenant.id,
            provider="alleaves",
            encrypted_secret=encrypt_secret(fake.api_key),
            secret_hint=fake.api_key[-4:],
            config={"base_url": fake.base_url},
        )
    )
    session.commit()


def sync(session, tenant, **options):
    options.setdefault("retry", TEST_RETRY)
    result = sync_pos_orders(session=session, tenant_id=tenant.id, **options)
    session.commit()
    return result


def count(session, model, tenant, *conditions) -> int:
    query = select(func.count()).select_from(model).where(model.tenant_id == tenant.id)
    return session.exec(query.where(*conditions)).one()


@pytest.fixture
def small():
    with FakeAlleaves(seed_alleaves(customers=50, orders=200)) as fake:
        yield fake


def test_a_thousand_customers_sync_once_and_a_rerun_adds_nothing(session, tenant, capsys):
    make_program(session, tenant, points_per_dollar=1)
    data = seed_alleaves(customers=1000, orders=3000)
    with FakeAlleaves(data, latency_seconds=0.1, rate_limit=(10, 1.0)) as fake:
        connect(session, tenant, fake)
        pages: list[tuple[int, int, str]] = []
        started = time.perf_counter()
        first = sync(session, tenant, progress=lambda *a: pages.append(a))
        elapsed = time.perf_counter() - started
        limited = fake.simulation.rate_limited
        entries = count(session, LoyaltyLedgerEntry, tenant)
        second = sync(session, tenant)

    assert first.error is None and limited == 0
    assert first.orders == 3000 and first.orders_created == 3000
    assert count(session, Order, tenant, Order.source == "pos") == 3000
    items = sum(len(o["items"]) for o in data.orders)
    assert count(session, OrderItem, tenant) == first.items_created == items
    assert count(session, Contact, tenant) == 1000 == first.profiles_created
    assert count(session, ContactIdentity, tenant, ContactIdentity.kind == "pos") == 1000
    assert count(session, ContactIdentity, tenant, ContactIdentity.kind == "alpineiq") == 900
    assert pages and pages[-1][0] == pages[-1][1] == first.pages
    refunded = sum(1 for o in data.orders if o["status"] == "refunded" and o["customer_id"])
    assert first.refunds == refunded
    # the re-run reads again from the cursor (less the overlap) and creates nothing new
    assert (second.orders_created, second.profiles_created, second.items_created) == (0, 0, 0)
    assert second.orders_credited == second.refunds == 0
    assert count(session, LoyaltyLedgerEntry, tenant) == entries
    with capsys.disabled():
        print(
            f"\nPOS sync, 1,000 customers / 3,000 orders, 100 ms latency: {elapsed:.2f} s, "
            f"{first.calls} calls, {limited} 429s"
        )


def test_contacts_get_facts_and_refunds_reverse(session, tenant, small):
    make_program(session, tenant, points_per_dollar=1)
    connect(session, tenant, small)
    result = sync(session, tenant)

    buyer = next(o for o in small.data.orders if o["customer_id"])
    theirs = [o for o in small.data.orders if o["customer_id"] == buyer["customer_id"]]
    owner = session.exec(
        select(ContactIdentity.contact_id).where(
            ContactIdentity.tenant_id == tenant.id,
            ContactIdentity.kind == "pos",
            ContactIdentity.value == str(buyer["customer_id"]),
        )
    ).one()
    contact = session.get(Contact, owner)
    session.refresh(contact)
    assert contact.order_count == len(theirs)
    assert contact.total_spent_cents == sum(o["total"] for o in theirs)
    assert contact.email == f"customer{buyer['customer_id']}@example.com"

    refunded = next(o for o in small.data.orders if o["status"] == "refunded" and o["customer_id"])
    order = session.exec(
        select(Order).where(Order.tenant_id == tenant.id, Order.external_id == str(refunded["id"]))
    ).one()
    kinds = session.exec(
        select(LoyaltyLedgerEntry.kind, LoyaltyLedgerEntry.points).where(
            LoyaltyLedgerEntry.order_id == order.id
        )
    ).all()
    assert sorted(k for k, _ in kinds) == sorted([LedgerKind.EARN, LedgerKind.REVERSE])
    assert sum(p for _, p in kinds) == 0
    assert result.refunds >= 1


def test_garbage_orders_are_skipped_and_counted(session, tenant, small):
    make_program(session, tenant)
    bad = [str(o["id"]) for o in small.data.orders[5:8]]
    for order_id, kind in zip(bad, ["negative_total", "missing_total", "bad_status"], strict=True):
        small.data.corrupt_order(order_id, kind)
    connect(session, tenant, small)

    result = sync(session, tenant)

    assert result.skipped == 3 and result.orders_created == 197
    assert len(sync_state(session=session, tenant_id=tenant.id)["skip_reasons"]) == 3
    assert count(session, Order, tenant, Order.external_id.in_(bad)) == 0


def test_an_outage_keeps_the_cursor_and_records_the_error(session, tenant, small):
    make_program(session, tenant)
    connect(session, tenant, small)
    sync(session, tenant)
    before = sync_state(session=session, tenant_id=tenant.id)
    orders = count(session, Order, tenant)
    small.simulation.fail_next(TEST_RETRY.attempts, status=503, path_prefix="/api/v1/orders")

    result = sync(session, tenant)

    state = sync_state(session=session, tenant_id=tenant.id)
    assert result.error and "ProviderUnavailable" in result.error
    assert state["last_synced_at"] == before["last_synced_at"]
    assert state["last_error"] == result.error
    assert count(session, Order, tenant) == orders

    recovered = sync(session, tenant)
    assert recovered.error is None
    assert sync_state(session=session, tenant_id=tenant.id)["last_error"] is None


def test_another_tenants_data_is_untouched(session, tenant, other_tenant, small):
    make_program(session, tenant)
    make_program(session, other_tenant)
    theirs = Contact(tenant_id=other_tenant.id, email="customer1@example.com")
    session.add(theirs)
    session.commit()
    connect(session, tenant, small)

    sync(session, tenant)

    assert count(session, Order, other_tenant) == 0
    assert count(session, ContactIdentity, other_tenant) == 0
    assert count(session, Contact, other_tenant) == 1
    mine = session.exec(
        select(Contact).where(Contact.tenant_id == tenant.id, Contact.email == theirs.email)
    ).one()
    assert mine.id != theirs.id
    assert "loyalty_sync" not in (other_tenant.settings or {})
