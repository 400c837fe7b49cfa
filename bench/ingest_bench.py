"""Tracking-API ingestion vs a raw 2-stream COPY, on PostgreSQL, over loopback.

Sends BENCH_EVENTS (default 1,000,000) realistic Segment events as /v1/batch bodies to the API
served by granian (3 workers), waits until all are durable and queryable, replays 5% to count
duplicates (must be 0), then COPYs the same number of the same kind of rows into a copy of the
events table with two streams. Before the bulk run, on the fresh database, it measures latency at
2,000 events/s offered (30 s of 100-event batches, analytics-python's default upload size, then
30 s of 400-event ones). Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from common import (
    cpu_seconds,
    drop_database,
    postgres_cpu_seconds,
    process_tree,
    use_fresh_database,
)

DB_URL = use_fresh_database("mk_bench_ingest")
if not DB_URL.startswith("postgresql"):
    sys.exit("ingest_bench: needs PostgreSQL (DATABASE_URL=postgresql+psycopg://...)")

import httpx
import orjson
import psycopg
from events import BATCH_EVENTS, batch_bodies

from marketing_app.cli import migrate
from marketing_app.db import session_scope
from marketing_app.services.api_keys import create_api_key
from marketing_app.services.tenants import create_tenant

TOTAL = int(os.environ.get("BENCH_EVENTS", "1000000"))
PORT = int(os.environ.get("BENCH_PORT", "8191"))
# Requests in flight: enough that a batch's commit wait never leaves the cores idle.
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
# A new connection per batch, as from many storefronts: granian's workers accept connections,
# and a few long-lived ones all landed on one worker while the other idled.
# Cores + 1: a worker waiting on its commits leaves its core to another (2 left ~20% idle).
API_WORKERS = int(os.environ.get("BENCH_API_WORKERS", "3"))
PACED_RATE = 2000  # events/s offered for the latency runs
PACED_SECONDS = 30
# analytics-python's default upload size; a batch of 400 (~400 KB) is timed at the same rate too
PACED_BATCH = 100
COPY_ROWS = TOTAL  # the same rows as ours, so both tables grow to the same size


def start_server() -> subprocess.Popen:
    env = os.environ | {"TRACKING_RATE_LIMIT": "1000000/second", "DATABASE_URL": DB_URL}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--workers",
            str(API_WORKERS),
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--log-level",
            "warning",
            "marketing_app.api.asgi:app",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    for _ in range(120):
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/api/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.5)
    sys.exit("ingest_bench: the API did not start")


async def post_batch(body: bytes) -> tuple[int, bytes]:
    """POST one body to /v1/batch on a new connection in plain HTTP/1.1: a few µs of the shared
    cores a request, where httpx spent ~4 ms on each 400 KB body. Returns (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(
        f"POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n".encode()
    )
    writer.write(body)
    await writer.drain()
    status_line = await reader.readline()
    await reader.readuntil(b"\r\n\r\n")  # the headers
    answer = await reader.read()  # the server closes after its answer
    writer.close()
    return int(status_line.split()[1]), answer


async def send_all(bodies, rate: float | None = None) -> list[float]:
    """POST every body with CONCURRENCY in flight (or paced to `rate` events/s); latencies in s."""
    queue: asyncio.Queue = asyncio.Queue(maxsize=CONCURRENCY * 2)
    latencies: list[float] = []

    async def worker() -> None:
        while (item := await queue.get()) is not None:
            started = time.perf_counter()
            status, answer = await post_batch(item[1])
            latencies.append(time.perf_counter() - started)
            if status != 200 or b'"rejected":[]' not in answer:
                raise RuntimeError(f"batch refused: {status} {answer[:200]!r}")

    tasks = [asyncio.create_task(worker()) for _ in range(CONCURRENCY)]
    started = time.perf_counter()
    sent = 0
    for count, body in bodies:
        if rate:
            await asyncio.sleep(max(0.0, started + sent / rate - time.perf_counter()))
        await queue.put((count, body))
        sent += count
    for _ in tasks:
        await queue.put(None)
    await asyncio.gather(*tasks)
    return latencies


def checkpoint() -> None:
    """Each timed phase starts with nothing left dirty by the one before."""
    with psycopg.connect(
        DB_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True
    ) as conn:
        conn.execute("CHECKPOINT")


def stored_events(tenant_id: uuid.UUID) -> int:
    with psycopg.connect(DB_URL.replace("postgresql+psycopg", "postgresql")) as conn:
        return conn.execute(
            "SELECT count(*) FROM events WHERE tenant_id = %s", (tenant_id,)
        ).fetchone()[0]


def copy_rate(tenant_id: uuid.UUID) -> tuple[float, float]:
    """Rows/s of two parallel COPY streams of the same kind of rows into a copy of `events`,
    and PostgreSQL's CPU ms per 1,000 of them."""
    url = DB_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url, autocommit=True) as conn:
        # The same schema: LIKE copies indexes and checks, but not foreign keys.
        conn.execute("CREATE TABLE bare_events (LIKE events INCLUDING ALL)")
        conn.execute(
            "ALTER TABLE bare_events ADD FOREIGN KEY (contact_id) REFERENCES contacts (id)"
            " ON DELETE SET NULL"
        )
    halves: list[list[tuple]] = [[], []]
    for _count, body in batch_bodies(COPY_ROWS, "", "copy"):
        for n, event in enumerate(orjson.loads(body)["batch"]):
            halves[n % 2].append(
                (
                    tenant_id,
                    event["messageId"],
                    event["type"],
                    event.get("event", ""),
                    event.get("userId"),
                    event["anonymousId"],
                    orjson.dumps(event.get("properties", {})).decode(),
                    orjson.dumps(event["traits"]).decode() if "traits" in event else None,
                    orjson.dumps(event["context"]).decode(),
                    event["timestamp"],
                )
            )

    backends: list[int] = []

    def stream(rows: list[tuple]) -> None:
        with psycopg.connect(url) as conn:
            backends.append(conn.info.backend_pid)
            with conn.cursor().copy(
                "COPY bare_events (tenant_id, message_id, type, name, user_id, anonymous_id,"
                " properties, traits, context, occurred_at, received_at) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row((*row, "now"))
            conn.commit()

    postgres_before = postgres_cpu_seconds(url)
    started = time.perf_counter()
    threads = [threading.Thread(target=stream, args=(half,)) for half in halves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    # A backend's time moves to the postmaster's children total only once it is reaped.
    while any(Path(f"/proc/{pid}").exists() for pid in backends):
        time.sleep(0.05)
    return COPY_ROWS / elapsed, (postgres_cpu_seconds(url) - postgres_before) * 1e6 / COPY_ROWS


def paced_latencies(key: str, size: int) -> list[float]:
    """Latencies of PACED_SECONDS of batches of `size` events offered at PACED_RATE events/s."""
    bodies = list(batch_bodies(PACED_RATE * PACED_SECONDS, key, f"paced{size}", size=size))
    return asyncio.run(send_all(bodies, rate=PACED_RATE))


def cpu_by_role(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the API (granian and its workers), the PostgreSQL server, and
    this load generator."""
    return {
        "api": sum(cpu_seconds(pid) for pid in process_tree(server_pid)),
        "postgres": postgres_cpu_seconds(DB_URL.replace("postgresql+psycopg", "postgresql")),
        "load_generator": cpu_seconds(os.getpid()),
    }


def percentile(values: list[float], share: float) -> float:
    return (
        statistics.quantiles(values, n=100)[int(share * 100) - 1] if len(values) > 1 else values[0]
    )


def main() -> None:
    migrate()
    with session_scope() as session:
        tenant = create_tenant(session=session, name="Bench", slug="bench")
        key = create_api_key(
            session=session, tenant_id=tenant.id, kind="publishable", name="bench"
        ).plaintext
        tenant_id = tenant.id
    server = start_server()
    try:
        # Latency first, on a settled database: right after a 1 GB burst the OS writes back
        # what PostgreSQL left dirty and commits stall behind it (see the README).
        asyncio.run(send_all(batch_bodies(20 * BATCH_EVENTS, key, "warm")))
        checkpoint()
        paced = paced_latencies(key, PACED_BATCH)
        paced_big = paced_latencies(key, BATCH_EVENTS)
        before = stored_events(tenant_id)
        # Bodies are built before the clock starts, as a load tool sends canned requests: the
        # generator would otherwise take a share of the two cores the API and PostgreSQL need.
        bodies = list(batch_bodies(TOTAL, key, "ev"))
        checkpoint()
        cpu_before = cpu_by_role(server.pid)
        started = time.perf_counter()
        latencies = asyncio.run(send_all(bodies))
        cpu = cpu_by_role(server.pid)  # every batch was committed before its answer
        while stored_events(tenant_id) < before + TOTAL:
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        del bodies
        replay = max(1, TOTAL // 20)
        asyncio.run(send_all(batch_bodies(replay, key, "ev")))
        duplicates = stored_events(tenant_id) - before - TOTAL
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)
    checkpoint()
    bare, bare_postgres_cpu = copy_rate(tenant_id)
    ours = TOTAL / elapsed
    print(
        orjson.dumps(
            {
                "benchmark": "tracking_ingestion",
                "database": "postgresql",
                "events": TOTAL,
                "our_events_per_s": round(ours),
                "copy_2_streams_rows_per_s": round(bare),
                "ratio_to_copy": round(ours / bare, 2),
                "batch_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
                "batch_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
                "paced_2000_eps_p99_ms": round(percentile(paced, 0.99) * 1000, 1),
                "paced_2000_eps_p50_ms": round(percentile(paced, 0.5) * 1000, 1),
                "paced_batch_events": PACED_BATCH,
                "paced_2000_eps_400_event_batches_p99_ms": round(
                    percentile(paced_big, 0.99) * 1000, 1
                ),
                "queryable_p95_s": round(
                    percentile(paced, 0.95), 3
                ),  # stored before the API answers
                "duplicates_after_5pct_replay": duplicates,
                "cpu_ms_per_1000_events": {
                    role: round((cpu[role] - cpu_before[role]) * 1e6 / TOTAL, 1) for role in cpu
                },
                "copy_postgres_cpu_ms_per_1000_rows": round(bare_postgres_cpu, 1),
            }
        ).decode()
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_database(DB_URL)
