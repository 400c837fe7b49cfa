"""The Alleaves POS client against the fake POS over real local HTTP: paging, retries,
rate limits, garbage records and the call log."""

from __future__ import annotations

import math
import time
from datetime import timedelta

import pytest

from marketing_app.domain.errors import (
    ProviderBadData,
    ProviderRejected,
    ProviderUnavailable,
)
from marketing_app.providers.alleaves import AlleavesClient
from marketing_app.providers.http import CallOutcome, ProviderCall, RetryPolicy
from tests.fakes.alleaves_server import FakeAlleaves, seed_alleaves
from tests.fakes.server import TEST_RETRY


def client_for(fake: FakeAlleaves, **options) -> AlleavesClient:
    options.setdefault("retry", TEST_RETRY)
    return AlleavesClient(base_url=fake.base_url, api_key=fake.api_key, **options)


@pytest.fixture
def fake():
    with FakeAlleaves(seed_alleaves(customers=300, orders=1050)) as server:
        yield server


def test_paging_fetches_every_order_with_the_fewest_calls(fake):
    with client_for(fake, page_size=200) as client:
        result = client.list_orders()

    assert sorted(int(order.id) for order in result.records) == sorted(
        order["id"] for order in fake.data.orders
    )
    assert result.skipped == []
    assert result.pages == result.calls == math.ceil(1050 / 200)
    assert fake.simulation.count("/api/v1/orders") == 6


def test_orders_carry_items_loyalty_and_status_in_cents_and_utc(fake):
    with client_for(fake) as client:
        orders = {order.id: order for order in client.list_orders().records}

    redeemed = next(o for o in fake.data.orders if o["loyalties"])
    order = orders[str(redeemed["id"])]
    assert order.total_cents == redeemed["total"]
    assert order.subtotal_cents == order.total_cents + order.loyalty_discount_cents
    assert order.loyalty_discount_cents == redeemed["loyalty"] > 0
    assert order.loyalties[0].kind == "redeem" and order.loyalties[0].points == 100
    assert order.customer_phone == redeemed["customer_phone"]
    assert [(i.sku, i.quantity, i.price_cents) for i in order.items] == [
        (i["sku"], i["quantity"], i["price"]) for i in redeemed["items"]
    ]
    assert order.updated_at.utcoffset() == timedelta(0)
    statuses = {o.status for o in orders.values()}
    assert statuses == {"completed", "refunded", "cancelled"}
    assert any(o.points_earned is None for o in orders.values())
    assert any(o.customer_id is None for o in orders.values())


def test_updated_since_reads_only_newer_orders(fake):
    since = fake.data.orders[700]["updated_at"]
    expected = [o for o in fake.data.orders if o["updated_at"] >= since]

    with client_for(fake, page_size=100) as client:
        result = client.list_orders(updated_since=since)

    assert len(result.records) == len(expected)
    assert result.calls == math.ceil(len(expected) / 100)
    assert "updated_since=" in fake.simulation.requests[0].query


def test_naive_updated_since_is_refused(fake):
    with client_for(fake) as client, pytest.raises(ValueError, match="timezone"):
        client.list_orders(updated_since=fake.data.orders[0]["updated_at"].replace(tzinfo=None))


def test_a_page_size_above_the_servers_cap_still_reads_everything():
    with (
        FakeAlleaves(seed_alleaves(orders=1050), max_page_size=300) as fake,
        client_for(fake, page_size=1000) as client,
    ):
        result = client.list_orders()

    assert len({order.id for order in result.records}) == 1050
    assert result.calls == math.ceil(1050 / 300)


def test_customers_are_paged_and_read_one_by_one(fake):
    with client_for(fake, page_size=128) as client:
        customers = client.list_customers()
        one = client.get_customer("7")
        missing = client.get_customer("999999")

    assert len(customers.records) == 300 and customers.calls == 3
    assert one is not None and one.alpine_user_code == "aiq-0000007"
    assert one.phone == "+19190000007"
    assert next(c for c in customers.records if c.id == "10").alpine_user_code is None
    assert missing is None


def test_a_429_is_retried_after_its_retry_after(fake):
    calls: list[ProviderCall] = []
    fake.simulation.fail_next(1, status=429, retry_after=1)

    with client_for(fake, on_call=calls.append) as client:
        started = time.monotonic()
        customer = client.get_customer("3")
        waited = time.monotonic() - started

    assert customer is not None
    assert waited >= 1.0
    assert [c.outcome for c in calls] == [CallOutcome.RATE_LIMITED, CallOutcome.OK]
    assert [c.attempt for c in calls] == [1, 2]


def test_the_limiter_keeps_a_fast_sync_free_of_rate_limit_errors():
    data = seed_alleaves(customers=100, orders=1000)
    with FakeAlleaves(data, latency_seconds=0.02, rate_limit=(10, 1.0)) as fake:
        with client_for(fake, page_size=50, rate_limits="10/second") as client:
            limited = client.list_orders()
        limited_429s = fake.simulation.rate_limited
        fake.simulation.clear_log()

        unlimited_retry = RetryPolicy(attempts=10, timeout_seconds=30, wait_initial_seconds=0.05)
        with client_for(fake, page_size=50, rate_limits=None, retry=unlimited_retry) as client:
            unlimited = client.list_orders()
        unlimited_429s = fake.simulation.rate_limited

    assert len(limited.records) == len(unlimited.records) == 1000
    assert limited.calls == 20
    assert limited_429s == 0
    assert unlimited_429s > 0  # the fake does enforce its limit: the limiter is what kept it at 0


@pytest.mark.parametrize("status", [502, 503, 504])
def test_transient_server_errors_are_retried(fake, status):
    fake.simulation.fail_next(2, status=status)

    with client_for(fake, page_size=500) as client:
        result = client.list_orders()

    assert len(result.records) == 1050
    assert result.calls == 3 + 2
    assert fake.simulation.count(status=status) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ProviderRejected),
        (401, ProviderRejected),
        (404, ProviderRejected),
        (500, ProviderUnavailable),
    ],
)
def test_other_errors_are_not_retried(fake, status, error):
    fake.simulation.fail_next(1, status=status, path_prefix="/api/v1/orders")

    with client_for(fake) as client, pytest.raises(error) as raised:
        client.list_orders()

    assert raised.value.status == status
    assert fake.simulation.count() == 1


def test_a_wrong_api_key_is_rejected_at_once(fake):
    with (
        AlleavesClient(base_url=fake.base_url, api_key="wrong", retry=TEST_RETRY) as client,
        pytest.raises(ProviderRejected) as raised,
    ):
        client.list_customers()
    assert raised.value.status == 401
    assert fake.simulation.count() == 1


def test_a_timeout_is_retried(fake):
    calls: list[ProviderCall] = []
    fake.simulation.hang_next(1, seconds=1.5)

    with client_for(fake, timeout_seconds=0.3, on_call=calls.append) as client:
        customer = client.get_customer("5")

    assert customer is not None
    assert [c.outcome for c in calls] == [CallOutcome.TIMEOUT, CallOutcome.OK]


def test_a_refused_connection_is_retried_then_reported_unavailable(fake):
    calls: list[ProviderCall] = []
    url = fake.base_url
    fake.stop()

    client = AlleavesClient(base_url=url, api_key="k", retry=TEST_RETRY, on_call=calls.append)
    with client, pytest.raises(ProviderUnavailable) as raised:
        client.list_orders()

    assert raised.value.retryable
    assert [c.outcome for c in calls] == [CallOutcome.CONNECTION_ERROR] * TEST_RETRY.attempts


def test_garbage_records_are_skipped_with_reasons_and_good_ones_come_through(fake):
    kinds = [
        "negative_total",
        "missing_total",
        "not_an_object",
        "bad_status",
        "bad_items",
        "naive_time",
    ]
    corrupted = [str(order["id"]) for order in fake.data.orders[10 : 10 + len(kinds)]]
    for order_id, kind in zip(corrupted, kinds, strict=True):
        fake.data.corrupt_order(order_id, kind)

    with client_for(fake, page_size=500) as client:
        result = client.list_orders()

    assert len(result.records) == 1050 - len(kinds)
    assert not {order.id for order in result.records} & set(corrupted)
    reasons = {skip.record_id: skip.reason for skip in result.skipped}
    assert reasons[corrupted[0]] == "total: Input should be greater than or equal to 0"
    assert reasons[corrupted[1]] == "total: Field required"
    assert reasons[None] == "record is not an object (str)"
    assert reasons[corrupted[3]].startswith("status: Input should be")
    assert reasons[corrupted[4]].startswith("items: Input should be a valid list")
    assert reasons[corrupted[5]] == "updated_at: Input should have timezone info"


def test_a_page_that_is_not_json_raises_bad_data_without_retrying(fake):
    fake.simulation.garbage_next(1, path_prefix="/api/v1/orders")

    with client_for(fake) as client, pytest.raises(ProviderBadData, match="not JSON"):
        client.list_orders()
    assert fake.simulation.count() == 1


def test_the_call_log_sees_every_call(fake):
    calls: list[ProviderCall] = []
    fake.simulation.fail_next(1, status=503, path_prefix="/api/v1/orders")
    fake.simulation.fail_next(1, status=429, retry_after=0, path_prefix="/api/v1/customers")

    with client_for(fake, page_size=500, on_call=calls.append) as client:
        client.list_orders()
        client.list_customers()
        client.get_customer("1")

    assert len(calls) == fake.simulation.count() == 3 + 1 + 1 + 1 + 1
    assert [c.status for c in calls] == [r.status for r in fake.simulation.requests]
    assert {c.route for c in calls} == {
        "/api/v1/orders",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
    }
    assert [c.outcome for c in calls].count(CallOutcome.OK) == 5
    assert all(c.duration_ms > 0 and c.provider == "alleaves" for c in calls)


def test_a_thousand_customers_and_three_thousand_orders_at_100ms_latency(capsys):
    data = seed_alleaves(customers=1000, orders=3000)
    with FakeAlleaves(data, latency_seconds=0.1, rate_limit=(10, 1.0)) as fake:
        with client_for(fake, rate_limits="10/second") as client:
            started = time.perf_counter()
            customers = client.list_customers()
            orders = client.list_orders()
            elapsed = time.perf_counter() - started
        rate_limited = fake.simulation.rate_limited

    assert len(customers.records) == 1000 and len(orders.records) == 3000
    assert rate_limited == 0
    with capsys.disabled():
        print(
            f"\nalleaves fake, 100 ms latency, 10 req/s: 1,000 customers + 3,000 orders in "
            f"{elapsed:.2f} s, {customers.calls + orders.calls} calls, {rate_limited} 429s"
        )
