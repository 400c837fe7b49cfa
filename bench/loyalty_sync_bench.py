"""Loyalty sync end to end against the local fake Alleaves and Alpine IQ servers, on PostgreSQL.

--customers POS customers (default 1,000; BENCH_LOYALTY_SYNC_CUSTOMERS in scripts/bench.sh)
with --orders orders (default 3,000) and an Alpine IQ contact for 90% of them, both fakes
answering after 100 ms and enforcing the providers' limits (Alleaves 10 requests/second,
Alpine IQ 2,000/hour). One tenant with a program and both credentials; the timed run is the
"loyalty_sync" job as a worker runs it (`run_job`): POS customers and orders, points, Alpine IQ
settings and balances, reconciliation. Checked: every profile, balance and order stored (but
the 3% of orders cancelled before any sync saw them), no 429 from either fake.

Reported beside it, from the same run: the calls each provider saw, the API-limit floor
(calls / allowed rate) and the latency floor (the longest chain of round trips that must follow
one another x 100 ms), and the bare limit: the same pages fetched with plain httpx on the same
schedule (Alpine IQ beside the POS, the same pages in flight, within the same limits, no
parsing, no database). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--customers", type=int, default=1_000)
parser.add_argument("--orders", type=int, default=3_000)
ARGS = parser.parse_args()

from common import drop_database, use_fresh_database

DB_URL = use_fresh_database("mk_bench_loyalty_sync")

import httpx
import orjson
from sqlalchemy import func
from sqlmodel import Session, select

from marketing_app.cli import migrate
from marketing_app.db import get_engine
from marketing_app.models import Contact, ExternalLoyaltyBalance, JobRun, Order
from marketing_app.providers.alleaves import DEFAULT_PAGE_CONCURRENCY, DEFAULT_PAGE_SIZE
from marketing_app.providers.alpineiq import CONTACTS_PAGE_SIZE
from marketing_app.providers.alpineiq import DEFAULT_RATE_LIMITS as DEFAULT_AIQ_LIMITS
from marketing_app.providers.rate_limit import RateLimiter
from marketing_app.services.job_execution import run_job
from marketing_app.services.loyalty_aiq_account import save_alpineiq_credentials
from marketing_app.services.loyalty_programs import preset_settings, save_program
from marketing_app.services.loyalty_sync import save_alleaves_credentials
from marketing_app.services.loyalty_sync_runs import request_sync
from marketing_app.services.tenants import create_tenant
from tests.fakes.alleaves_server import FakeAlleaves, seed_alleaves
from tests.fakes.alpineiq_server import HOURLY_LIMIT, FakeAlpineIQ, seed_alpineiq

LATENCY_S = 0.1
ALLEAVES_LIMIT = (10, 1.0)  # requests per window of seconds, as the POS allows
TARGET_S = 5.0
AIQ_PAGE_CONCURRENCY = 2  # AlpineIQClient's default


def pages(records: int, size: int) -> int:
    return max(1, math.ceil(records / size))


def waves(page_count: int, concurrency: int) -> int:
    """Round trips one after another: page 1 tells the count, the rest go `concurrency` at once."""
    return 1 + math.ceil((page_count - 1) / concurrency)


def paced(client: httpx.Client, limiter: RateLimiter):
    """GET through the provider's limit (a burst past it would only be answered 429)."""

    def get(route: str, params: dict | None = None) -> httpx.Response:
        limiter.acquire()
        response = client.get(route, params=params)
        response.raise_for_status()
        return response

    return get


def _bare_pos(pos, pool: ThreadPoolExecutor) -> None:
    """Customers' page 1 beside orders' page 1, then the rest of each, a few in flight."""
    params = {"limit": DEFAULT_PAGE_SIZE, "page": 1}
    routes = ("/api/v1/customers", "/api/v1/orders")
    firsts = [pool.submit(pos, route, params) for route in routes]
    for route, first in zip(routes, firsts, strict=True):
        count = first.result().json()["pagination"]["pages"]
        rest = [{**params, "page": n} for n in range(2, count + 1)]
        list(pool.map(lambda p, route=route: pos(route, p).content, rest))


def _bare_aiq(aiq, uid: str, pool: ThreadPoolExecutor) -> None:
    """The loyalty settings beside the contacts' page 1, then the remaining pages."""
    route = f"/api/v1.1/piis/{uid}"
    settings = pool.submit(aiq, f"/api/v2/loyalty/default/{uid}")
    total = aiq(route, {"start": 0, "limit": CONTACTS_PAGE_SIZE}).json()["data"]["total"]
    starts = range(CONTACTS_PAGE_SIZE, total, CONTACTS_PAGE_SIZE)
    list(pool.map(lambda s: aiq(route, {"start": s, "limit": CONTACTS_PAGE_SIZE}).content, starts))
    settings.result()


def bare_fetch(alleaves: FakeAlleaves, alpineiq: FakeAlpineIQ) -> float:
    """Every page the sync reads, fetched with plain httpx on the sync's schedule (Alpine IQ
    beside the POS), within the providers' limits; no parsing past page counts, no database."""
    pos_headers = {"Authorization": f"Bearer {alleaves.api_key}"}
    # Arrivals jitter on a loaded machine: a wider margin than the clients' keeps plain httpx
    # clear of 429s (which would end the bare run), at a cost of ~2% of the floor.
    limit = {"provider": "bare", "max_wait_seconds": 600.0, "margin_seconds": 0.25}
    pos_limit = RateLimiter(f"{ALLEAVES_LIMIT[0]}/second", account=alleaves.base_url, **limit)
    aiq_limit = RateLimiter(DEFAULT_AIQ_LIMITS, account=alpineiq.base_url, **limit)
    started = time.perf_counter()
    with (
        httpx.Client(base_url=alleaves.base_url, headers=pos_headers) as pos_client,
        httpx.Client(base_url=alpineiq.base_url, headers={"X-APIKEY": alpineiq.api_key}) as aiq_c,
        ThreadPoolExecutor(DEFAULT_PAGE_CONCURRENCY) as pos_pool,
        ThreadPoolExecutor(AIQ_PAGE_CONCURRENCY + 1) as aiq_pool,
    ):
        aiq = aiq_pool.submit(_bare_aiq, paced(aiq_c, aiq_limit), alpineiq.data.uid, aiq_pool)
        _bare_pos(paced(pos_client, pos_limit), pos_pool)
        aiq.result()
    return time.perf_counter() - started


def set_up(alleaves: FakeAlleaves, alpineiq: FakeAlpineIQ):
    with Session(get_engine(), expire_on_commit=False) as session:
        tenant = create_tenant(session=session, name="Bench dispensary", slug="bench")
        save_program(session=session, tenant_id=tenant.id, settings=preset_settings("alpineiq"))
        save_alleaves_credentials(
            session=session,
            tenant_id=tenant.id,
            api_key=alleaves.api_key,
            base_url=alleaves.base_url,
        )
        save_alpineiq_credentials(
            session=session,
            tenant_id=tenant.id,
            api_key=alpineiq.api_key,
            uid=alpineiq.data.uid,
            base_url=alpineiq.base_url,
        )
        job, _ = request_sync(session=session, tenant_id=tenant.id, enqueue_now=False)
        session.commit()
        return tenant.id, job.id


def stored(session: Session, tenant_id) -> dict:
    def count(model) -> int:
        query = select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
        return session.exec(query).one()

    return {
        "profiles": count(Contact),
        "orders": count(Order),
        "balances": count(ExternalLoyaltyBalance),
    }


def floors(alleaves_calls: int, aiq_calls: int, contacts: int) -> dict:
    """The API-limit floor (calls / allowed rate, per provider) and the latency floor: the
    longest chain of round trips that must follow one another on the sync's schedule."""
    pos_amount, pos_window = ALLEAVES_LIMIT
    aiq_amount, aiq_window = HOURLY_LIMIT
    customers = waves(pages(ARGS.customers, DEFAULT_PAGE_SIZE), DEFAULT_PAGE_CONCURRENCY)
    orders = waves(pages(ARGS.orders, DEFAULT_PAGE_SIZE), DEFAULT_PAGE_CONCURRENCY)
    pos_chain = customers + orders - 1  # orders' page 1 travels beside customers' page 1
    aiq_chain = waves(pages(contacts, CONTACTS_PAGE_SIZE), AIQ_PAGE_CONCURRENCY)  # beside POS
    chain = max(pos_chain, aiq_chain)
    return {
        "api_limit_floor_s": {
            "alleaves": round(alleaves_calls / (pos_amount / pos_window), 2),
            "alpineiq": round(aiq_calls / (aiq_amount / aiq_window), 2),
        },
        "latency_floor_s": round(chain * LATENCY_S, 2),
        "dependent_round_trips": chain,
    }


def measure(alleaves: FakeAlleaves, alpineiq: FakeAlpineIQ) -> dict:
    """The bare fetch, then the sync job as a worker runs it; what both fakes saw of the job."""
    tenant_id, job_id = set_up(alleaves, alpineiq)
    bare_s = bare_fetch(alleaves, alpineiq)
    time.sleep(ALLEAVES_LIMIT[1] + 0.2)  # the POS window forgets the bare fetch's calls
    for fake in (alleaves, alpineiq):
        fake.simulation.clear_log()
    with Session(get_engine(), expire_on_commit=False) as session:
        started, cpu = time.perf_counter(), time.process_time()
        run_job(session=session, job_id=job_id)
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        job = session.get(JobRun, job_id)
        counts = stored(session, tenant_id)
    return {
        "job": job,
        "seconds": seconds,
        "cpu_s": cpu_s,
        "bare_s": bare_s,
        "stored": counts,
        "calls": {"alleaves": alleaves.simulation.count(), "alpineiq": alpineiq.simulation.count()},
        "limited": alleaves.simulation.rate_limited + alpineiq.simulation.rate_limited,
    }


def main() -> None:
    load_before = os.getloadavg()[0]
    migrate()
    pos_data = seed_alleaves(customers=ARGS.customers, orders=ARGS.orders)
    aiq_data = seed_alpineiq(customers=pos_data.customers)
    with (
        FakeAlleaves(pos_data, latency_seconds=LATENCY_S, rate_limit=ALLEAVES_LIMIT) as alleaves,
        FakeAlpineIQ(aiq_data, latency_seconds=LATENCY_S) as alpineiq,
    ):
        run = measure(alleaves, alpineiq)
    job, counts, calls, contacts = run["job"], run["stored"], run["calls"], len(aiq_data.contacts)
    result = job.result or {}
    stored_orders = sum(1 for order in pos_data.orders if order["status"] != "cancelled")
    expected = {"profiles": ARGS.customers, "orders": stored_orders, "balances": contacts}
    correct = job.status == "succeeded" and counts == expected
    report = {
        "benchmark": "loyalty_sync",
        "database": get_engine().dialect.name,
        "redis": bool(os.environ.get("REDIS_URL")),
        **{"customers": ARGS.customers, "orders": ARGS.orders, "alpineiq_contacts": contacts},
        "latency_ms": int(LATENCY_S * 1000),
        "seconds": round(run["seconds"], 2),
        "cpu_s": round(run["cpu_s"], 2),  # this process: the sync and both fakes' threads
        "target_s": TARGET_S,
        "target_met": correct and run["seconds"] < TARGET_S and run["limited"] == 0,
        "parts_s": {
            name: (result.get(key) or {}).get("seconds")
            for name, key in (
                ("pos", "pos"),
                ("alpineiq", "alpineiq"),
                ("reconcile", "reconciliation"),
            )
        },
        "calls": calls,
        "rate_limit_errors": run["limited"],
        **floors(calls["alleaves"], calls["alpineiq"], contacts),
        "bare_fetch_s": round(run["bare_s"], 2),
        "stored": counts,
        "job": {"status": job.status, "error": job.error or None},
        "correct": correct,
        "loadavg_start_end": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(orjson.dumps(report).decode())


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_database(DB_URL)
