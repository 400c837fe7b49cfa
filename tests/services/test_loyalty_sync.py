"""The POS order sync against the fake Alleaves server over real local HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from marketing_app.models import (
    Contact,
    ContactIdentity,
    ExternalLoyaltyBalance,
    JobRun,
    JobStatus,
    LedgerKind,
    LoyaltyLedgerEntry,
    Order,
    OrderItem,
)
from marketing_app.models.base import utcnow
from marketing_app.services.job_execution import run_job
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_schedule import schedule_call_pruning, schedule_loyalty_syncs
from marketing_app.services.loyalty_sync import (
    save_alleaves_credentials,
    sync_pos_orders,
    sync_state,
)
from marketing_app.services.loyalty_sync_runs import request_sync
from marketing_app.services.loyalty_sync_status import sync_status
from marketing_app.services.provider_calls import recent_calls
from tests.fakes.alleaves_server import FakeAlleaves, seed_alleaves
from tests.fakes.alpineiq_server import FakeAlpineIQ, seed_alpineiq
from tests.fakes.server import TEST_RETRY
from tests.services.test_loyalty_aiq_sync import connect as connect_alpineiq
from tests.services.test_loyalty_support import assert_ledger_consistent, make_program


def connect(session, tenant, fake: FakeAlleaves) -> None:
    save_alleaves_credentials(
        session=session, tenant_id=tenant.id, api_key=fake.api_key, base_url=fake.base_url
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

    kept = [o for o in data.orders if o["status"] != "cancelled"]  # cancelled before we saw them
    assert first.error is None and limited == 0
    assert first.orders == 3000 and first.orders_created == len(kept)
    assert first.cancelled_not_stored == 3000 - len(kept)
    assert count(session, Order, tenant, Order.source == "pos") == len(kept)
    items = sum(len(o["items"]) for o in kept)
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
    # nothing the sync stored is left for a later crediting (or reconciliation) to pick up
    assert credit_orders(session=session, tenant_id=tenant.id).orders_credited == 0
    assert_ledger_consistent(session, tenant)
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

    good = [o for o in small.data.orders if str(o["id"]) not in bad]
    kept = [o for o in good if o["status"] != "cancelled"]
    assert (result.skipped, result.orders, result.orders_created) == (3, 197, len(kept))
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


def test_a_credited_order_cancelled_later_gives_its_points_back_once(session, tenant, small):
    make_program(session, tenant, points_per_dollar=1)
    connect(session, tenant, small)
    sync(session, tenant)
    order = next(o for o in small.data.orders if o["status"] == "completed" and o["customer_id"])
    order.update(status="cancelled", updated_at=datetime.now(UTC))
    small.data.orders.sort(key=lambda o: (o["updated_at"], o["id"]))

    second = sync(session, tenant)
    third = sync(session, tenant)

    ours = session.exec(
        select(Order.id).where(Order.tenant_id == tenant.id, Order.external_id == str(order["id"]))
    ).one()
    entries = session.exec(
        select(LoyaltyLedgerEntry.kind, LoyaltyLedgerEntry.points, LoyaltyLedgerEntry.reason).where(
            LoyaltyLedgerEntry.order_id == ours
        )
    ).all()
    assert (second.cancellations, third.cancellations) == (1, 0)
    assert sorted(kind for kind, _, _ in entries) == [LedgerKind.EARN, LedgerKind.REVERSE]
    assert sum(points for _, points, _ in entries) == 0
    assert "cancelled order" in [reason for _, _, reason in entries]
    assert_ledger_consistent(session, tenant)


# --- the loyalty_sync job: both providers, the schedule, the status ---------------------------


@pytest.fixture
def both():
    pos = seed_alleaves(customers=30, orders=90)
    aiq = seed_alpineiq(customers=pos.customers)
    with FakeAlleaves(pos) as alleaves, FakeAlpineIQ(aiq) as alpineiq:
        yield alleaves, alpineiq


def connect_both(session, tenant, both) -> None:
    alleaves, alpineiq = both
    connect(session, tenant, alleaves)
    connect_alpineiq(session, tenant, alpineiq)


def run_sync_job(session, tenant) -> JobRun:
    job, created = request_sync(session=session, tenant_id=tenant.id, enqueue_now=False)
    session.commit()
    assert created
    run_job(session=session, job_id=job.id)  # what the worker does
    session.expire_all()
    return session.get(JobRun, job.id)


def test_the_job_syncs_pos_orders_then_alpine_iq_balances_then_reconciles(session, tenant, both):
    make_program(session, tenant, points_per_dollar=1)
    connect_both(session, tenant, both)

    job = run_sync_job(session, tenant)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.done == job.total == 3_000  # POS, Alpine IQ and reconciliation share the bar
    pos, aiq = job.result["pos"], job.result["alpineiq"]
    kept = [o for o in both[0].data.orders if o["status"] != "cancelled"]
    assert (pos["customers"], pos["orders_created"], pos["error"]) == (30, len(kept), None)
    assert (aiq["contacts"], aiq["balances"], aiq["profiles_created"]) == (27, 27, 0)
    assert job.result["errors"] == [] and job.result["reconciliation"]["compared"] > 0
    assert count(session, ExternalLoyaltyBalance, tenant) == 27  # mapped onto POS customers
    assert count(session, Contact, tenant) == 30
    logged = recent_calls(session=session, tenant_id=tenant.id, job_id=job.id, limit=500)
    assert {line.provider for line in logged} == {"alleaves", "alpineiq"}
    assert len(logged) == pos["calls"] + aiq["calls"]


def test_a_failing_provider_fails_the_job_and_keeps_the_others_data(session, tenant, both):
    alleaves, alpineiq = both
    connect_both(session, tenant, both)
    alleaves.simulation.fail_next(1, status=400, path_prefix="/api/v1/orders")  # not retried

    job = run_sync_job(session, tenant)

    assert job.status == JobStatus.FAILED
    assert "POS: ProviderRejected" in job.error and "last good data kept" in job.error
    assert job.result["alpineiq"]["balances"] == 27 and job.result["alpineiq"]["error"] is None
    assert count(session, ExternalLoyaltyBalance, tenant) == 27
    assert count(session, Contact, tenant) == 30  # the POS customers read before the failure
    status = sync_status(session=session, tenant_id=tenant.id)
    assert (
        status.pos.last_error.startswith("ProviderRejected") and status.pos.last_synced_at is None
    )
    assert status.alpineiq.last_error is None and status.alpineiq.last_synced_at is not None
    assert (status.running, status.job.id, status.job.status) == (False, job.id, JobStatus.FAILED)


def test_only_alpine_iq_connected_syncs_balances(session, tenant, both):
    connect_alpineiq(session, tenant, both[1])

    job = run_sync_job(session, tenant)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["pos"] is None and job.result["alpineiq"]["balances"] == 27
    assert job.result["reconciliation"] is None  # no program: nothing to reconcile
    status = sync_status(session=session, tenant_id=tenant.id)
    assert (status.pos.configured, status.alpineiq.configured) == (False, True)
    assert status.alpineiq.counts["balances"] == 27 and status.job.percent == 100
    assert status.alpineiq_program["points_per_dollar"] == "1"


def test_the_schedule_queues_one_sync_per_connected_tenant_and_never_a_second(
    session, tenant, other_tenant, both
):
    connect_both(session, tenant, both)  # other_tenant connects nothing
    hour = timedelta(minutes=60)

    first = schedule_loyalty_syncs(session=session, every=hour)
    again = schedule_loyalty_syncs(session=session, every=hour)  # the first is still pending
    session.commit()

    mine = session.exec(
        select(JobRun).where(JobRun.tenant_id == tenant.id, JobRun.kind == "loyalty_sync")
    ).all()
    theirs = session.exec(select(JobRun).where(JobRun.tenant_id == other_tenant.id)).all()
    assert first >= 1 and again == 0 and len(mine) == 1 and theirs == []
    assert request_sync(session=session, tenant_id=tenant.id)[0].id == mine[0].id  # the same

    run_job(session=session, job_id=mine[0].id)
    soon = schedule_loyalty_syncs(session=session, every=hour, now=utcnow() + timedelta(minutes=5))
    later = schedule_loyalty_syncs(session=session, every=hour, now=utcnow() + 2 * hour)
    session.commit()
    assert soon == 0 and later >= 1
    assert count(session, JobRun, tenant, JobRun.kind == "loyalty_sync") == 2


def test_the_call_log_is_pruned_once_a_day(session):
    # A day no other test (or a worker's beat, which uses the real date) schedules for.
    today = datetime(2031, 3, 14, 12, tzinfo=UTC)
    queued = [schedule_call_pruning(session=session, now=today) for _ in range(2)]
    tomorrow = schedule_call_pruning(session=session, now=today + timedelta(days=1))
    session.commit()
    assert queued[1] == 0 and tomorrow == 1
