"""The Alpine IQ client against the fake account over real local HTTP: loyalty profiles,
contacts, writes, the hourly budget (shared through Redis) and the call log."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from marketing_app.domain.errors import ProviderBadData, ProviderRateLimited, ProviderRejected
from marketing_app.providers.alpineiq import (
    AiqContactUpsert,
    AiqSale,
    AiqSaleLine,
    AlpineIQClient,
)
from marketing_app.providers.http import CallOutcome, ProviderCall, RateLimiter
from tests.fakes.alleaves_server import seed_alleaves
from tests.fakes.alpineiq_server import FakeAlpineIQ, seed_alpineiq
from tests.fakes.server import TEST_RETRY


def client_for(fake: FakeAlpineIQ, **options) -> AlpineIQClient:
    options.setdefault("retry", TEST_RETRY)
    return AlpineIQClient(
        api_key=fake.api_key, uid=fake.data.uid, base_url=fake.base_url, **options
    )


@pytest.fixture
def fake():
    with FakeAlpineIQ(seed_alpineiq(contacts=250)) as server:
        yield server


def test_loyalty_profile_by_phone_has_points_rewards_and_tier(fake):
    contact = fake.data.contacts[0]
    contact["loyaltyPoints"] = 450

    with client_for(fake) as client:
        settings = client.get_loyalty_settings()
        profile = client.get_loyalty_profile(contact["mobilePhone"], settings=settings)
        bare = client.get_loyalty_profile(contact["mobilePhone"])
        unknown = client.get_loyalty_profile("+15550000000")

    assert profile is not None and bare is not None
    assert profile.contact_id == contact["contactID"]
    assert profile.points == 450
    assert [reward.points_required for reward in profile.rewards] == [100, 200, 400]
    assert profile.tier is not None and profile.tier.discount_percent == Decimal(15)
    assert bare.tier is None
    assert unknown is None


def test_loyalty_settings_are_the_five_tier_table(fake):
    with client_for(fake) as client:
        settings = client.get_loyalty_settings()

    assert [(t.points, t.discount_percent) for t in settings.tiers] == [
        (100, 5),
        (200, 10),
        (400, 15),
        (600, 20),
        (800, 25),
    ]
    assert settings.points_per_dollar == 1 and settings.expiration_days == 365
    assert settings.tier_for(99) is None
    assert settings.tier_for(100).discount_percent == 5
    assert settings.tier_for(799).discount_percent == 20
    assert settings.tier_for(5000).discount_percent == 25


def test_loyalty_status_by_phone_or_email(fake):
    contact = fake.data.contacts[3]
    with client_for(fake) as client:
        by_email = client.get_loyalty_status(contact["email"])
        by_phone = client.get_loyalty_status(contact["mobilePhone"])
        nobody = client.get_loyalty_status("nobody@example.com")

    assert by_email == by_phone
    assert by_email.contact_id == contact["contactID"] and by_email.is_member
    assert nobody is None


def test_contacts_are_paged_with_their_points():
    with FakeAlpineIQ(seed_alpineiq(contacts=2500)) as fake:
        with client_for(fake, contacts_page_size=1000) as client:
            paged = client.list_contacts()
        with client_for(fake, contacts_page_size=5000) as client:
            capped = client.list_contacts()  # the server serves at most 2,000 a page

    assert paged.calls == 3 and capped.calls == 2
    for result in (paged, capped):
        assert len({c.contact_id for c in result.records}) == 2500
    points = {c["contactID"]: c["loyaltyPoints"] for c in fake.data.contacts}
    assert all(c.points == points[c.contact_id] for c in paged.records)


def test_contacts_from_a_pos_seed_share_its_codes_and_phones():
    pos = seed_alleaves(customers=50, orders=0)
    with FakeAlpineIQ(seed_alpineiq(customers=pos.customers)) as fake, client_for(fake) as client:
        contacts = client.list_contacts().records

    linked = {c["alpine_user_code"]: c["phone"] for c in pos.customers if c["alpine_user_code"]}
    assert {c.contact_id: c.phone for c in contacts} == linked


def test_garbage_contacts_are_skipped_with_reasons(fake):
    fake.data.corrupt_contact(fake.data.contacts[1]["contactID"], "negative_points")
    fake.data.corrupt_contact(fake.data.contacts[2]["contactID"], "missing_id")
    fake.data.corrupt_contact(fake.data.contacts[3]["contactID"], "not_an_object")

    with client_for(fake) as client:
        result = client.list_contacts()

    assert len(result.records) == 247
    assert sorted(skip.reason for skip in result.skipped) == [
        "contactID: Field required",
        "loyaltyPoints: Input should be greater than or equal to 0",
        "record is not an object (list)",
    ]


def test_account_listings(fake):
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 3, 23, tzinfo=UTC)
    with client_for(fake) as client:
        campaigns = client.list_campaigns().records
        audiences = client.list_audiences().records
        stores = client.list_stores().records
        groups = client.list_discount_groups().records
        redemptions = client.list_discount_redemptions(start=start, end=end).records

    assert len(campaigns) == 8 and campaigns[0].kind == "sms"
    assert audiences[0].name == "Signed Up" and audiences[0].size == 250
    assert [s.id for s in stores] == ["1", "2", "3", "4", "5"]
    assert [g.name for g in groups] == ["Loyalty tiers", "Birthday"]
    assert [r.id for r in redemptions] == ["red-0", "red-1", "red-2"]
    assert redemptions[0].redeemed_at == datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_contact_upsert_opt_in_and_sale(fake):
    new = AiqContactUpsert(phone="+15551230000", email="new@example.com", first_name="Nia")
    sale = AiqSale(
        order_id="100042",
        sold_at=datetime(2026, 3, 1, 17, 30, tzinfo=UTC),
        total_cents=57_50,
        location="Store 2",
        phone="+15551230000",
        lines=[
            AiqSaleLine("ED-GUM10", "Gummies", "edibles", 1, 22_50),
            AiqSaleLine("FL-BD35", "Blue Dream", "flower", 1, 35_00),
        ],
    )
    with client_for(fake) as client:
        created = client.upsert_contact(new)
        again = client.upsert_contact(AiqContactUpsert(phone="+15551230000", last_name="Ode"))
        client.set_sms_opt_in(phone="+15551230000", opted_in=True, double_opt_in=True)
        client.record_sale(sale)
        client.record_sale(sale)  # the same order again updates, never duplicates

    assert created == again
    assert fake.data.find_contact("+15551230000")["lastName"] == "Ode"
    assert fake.data.opt_ins == [{"phone": "+15551230000", "optin": True, "doubleopt": "true"}]
    assert len(fake.data.sales) == 1
    visit = fake.data.sales[0]["visit"]
    assert visit["transaction_total"] == 57.5
    assert visit["transaction_date"] == "2026-03-01 17:30:00 +0000"
    assert [line["price"] for line in visit["visit_details_attributes"]] == [22.5, 35.0]


def test_refusals_and_garbage_are_typed_and_not_retried(fake):
    with client_for(fake) as client:
        with pytest.raises(ProviderRejected, match="pos_id required"):
            client.record_sale(AiqSale("", datetime.now(UTC), 0, "Store 1"))
        fake.simulation.garbage_next(1)
        with pytest.raises(ProviderBadData):
            client.list_campaigns()
    with (
        AlpineIQClient(api_key="wrong", uid="1234", base_url=fake.base_url) as client,
        pytest.raises(ProviderRejected) as raised,
    ):
        client.list_campaigns()

    assert raised.value.status == 401
    assert fake.simulation.count() == 3


def test_a_503_is_retried(fake):
    fake.simulation.fail_next(2, status=503)
    with client_for(fake) as client:
        assert len(client.list_campaigns().records) == 8
    assert fake.simulation.count() == 3


def test_the_call_log_sees_every_call_without_phone_numbers(fake):
    calls: list[ProviderCall] = []
    phone = fake.data.contacts[0]["mobilePhone"]
    fake.simulation.fail_next(1, status=502, path_prefix="/api/v2/wallet")

    with client_for(fake, on_call=calls.append) as client:
        client.get_loyalty_profile(phone)
        client.get_loyalty_status(phone)
        client.get_loyalty_profile("+15550000000")
        client.list_contacts()

    assert len(calls) == fake.simulation.count() == 5
    assert [(c.method, c.route, c.status, c.outcome) for c in calls] == [
        ("POST", "/api/v2/wallet", 502, CallOutcome.SERVER_ERROR),
        ("POST", "/api/v2/wallet", 200, CallOutcome.OK),
        ("GET", "/api/v2/loyalty/lookup/{pii}", 200, CallOutcome.OK),
        ("POST", "/api/v2/wallet", 404, CallOutcome.REJECTED),
        ("GET", "/api/v1.1/piis/{uid}", 200, CallOutcome.OK),
    ]
    assert all(phone not in c.route and c.duration_ms > 0 for c in calls)


def test_the_hourly_budget_stops_calls_before_the_provider_refuses_them(fake):
    with client_for(fake, rate_limits="3/hour", max_limiter_wait_seconds=0.2) as client:
        for _ in range(3):
            client.list_campaigns()
        with pytest.raises(ProviderRateLimited) as raised:
            client.list_campaigns()

    assert raised.value.client_side and raised.value.retry_after_seconds > 3000
    assert fake.simulation.count() == 3 and fake.simulation.rate_limited == 0


def test_a_thousand_contacts_at_100ms_latency_take_one_call(capsys):
    pos = seed_alleaves(customers=1100, orders=0)
    with (
        FakeAlpineIQ(seed_alpineiq(customers=pos.customers), latency_seconds=0.1) as fake,
        client_for(fake) as client,
    ):
        started = time.perf_counter()
        contacts = client.list_contacts()
        elapsed = time.perf_counter() - started

    assert len(contacts.records) == 990 and contacts.calls == 1
    with capsys.disabled():
        print(
            f"\nalpineiq fake, 100 ms latency: {len(contacts.records)} contacts with points "
            f"in {elapsed:.2f} s, {contacts.calls} call"
        )


@pytest.fixture
def redis_url():
    """REDIS_URL when set (CI), else a throwaway redis-server, else skip."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no Redis: set REDIS_URL or install redis-server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="mk-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with socket.socket() as conn:
                if conn.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=5)


LIMITER_PROBE = """
import sys
from marketing_app.domain.errors import ProviderRateLimited
from marketing_app.providers.http import RateLimiter

limiter = RateLimiter("4/minute", provider="alpineiq", account=sys.argv[1],
                      storage_uri=sys.argv[2] or None, max_wait_seconds=0.1)
try:
    limiter.acquire()
    print("acquired")
except ProviderRateLimited as exc:
    print(f"limited {exc.retry_after_seconds:.0f}")
"""


def test_the_limiter_budget_is_shared_across_processes_through_redis(redis_url):
    account = f"test-{uuid.uuid4()}"
    here = RateLimiter("4/minute", provider="alpineiq", account=account, storage_uri=redis_url)
    for _ in range(4):
        # Not limited: a limited call waits for the minute's window (the probe below: > 30 s);
        # the first one also connects to Redis, 0.2 s on a VM short of CPU.
        assert here.acquire() < 5

    def another_process(storage_uri: str) -> str:
        probe = [sys.executable, "-c", LIMITER_PROBE, account, storage_uri]
        return subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()

    shared = another_process(redis_url)
    alone = another_process("")  # memory: that process counts only its own calls

    assert shared.startswith("limited ") and int(shared.split()[1]) > 30
    assert alone == "acquired"


def test_without_redis_the_limiter_still_keeps_this_process_under_the_limit():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    limiter = RateLimiter(
        "3/second",
        provider="alpineiq",
        account=f"test-{uuid.uuid4()}",
        storage_uri=f"redis://127.0.0.1:{closed_port}/0",
    )

    waits = [limiter.acquire() for _ in range(4)]

    assert max(waits[:3]) < 0.5 and waits[3] >= 0.5
