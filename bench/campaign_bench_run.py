"""One campaign benchmark target: a fake provider, real workers, one campaign sent through them.

The clock starts at the schedule call ("Send now") and stops at the last message the fake
accepted, read as the last `sent_at` the workers recorded (each row is marked sent right
after its provider accepted it). While the campaign sends, this process polls only the
campaign's status and, for the HTTP fakes, their own counts (cheap: a primary-key read and
a local request every POLL_SECONDS), so its own load on the two cores stays small.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from campaign_bench_data import (
    create_campaign,
    delivery_rows,
    schedule_now,
    use_provider,
    vacuum_messages,
)
from campaign_bench_procs import (
    Fake,
    cpu_seconds,
    start_profilers,
    start_workers,
    stop_profilers,
)

POLL_SECONDS = 0.1
# Workers in a deployment run for days: the clock starts once the fresh ones have run their
# first ticks (connected to the database and the broker, loaded what a task loads).
WARM_UP_SECONDS = 3.0
FINISHED = ("sent", "cancelled")


@dataclass
class Target:
    """A provider to send to: its fake, how to configure it, the recipients' list."""

    name: str
    provider: str
    secret: str
    config: dict
    list_id: int
    recipients: int
    counted_by: str = ""  # the fake's stats key holding accepted messages ("" for the sink)


@dataclass
class Timeline:
    """(seconds since the schedule call, the fake's accepted count) while sending."""

    points: list[tuple[float, int]] = field(default_factory=list)

    def held_rate(self) -> float | None:
        """Messages a second between the first and the last acceptance the polls saw."""
        moving = [p for p in self.points if p[1] > 0]
        if len(moving) < 2:
            return None
        first = next(p for p in moving if p[1] == moving[0][1])
        last = next(p for p in moving if p[1] == moving[-1][1])
        if last[0] <= first[0]:
            return None
        return (last[1] - first[1]) / (last[0] - first[0])


@dataclass
class Settings:
    pg_url: str
    tenant_id: uuid.UUID
    workers: int
    concurrency: int
    worker_env: dict[str, str]
    profile_dir: Path | None = None  # py-spy the workers' pool processes into this folder


def _cpu_by_role(pg_url: str, workers, fake: Fake) -> dict[str, float]:
    """CPU seconds so far of the workers, the fake, and the PostgreSQL backends serving this
    benchmark's database (each backend lives as long as its worker's connection)."""
    with psycopg.connect(pg_url) as conn:
        backends = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    return {
        "workers": workers.cpu_seconds(),
        "fake": cpu_seconds(fake.process.pid),
        "postgres": sum(cpu_seconds(pid) for (pid,) in backends),
    }


def _wait_until_sent(run: Settings, target: Target, fake: Fake, campaign_id: int, began: float):
    """Poll on one connection: a new one each time started a PostgreSQL backend 10 times a
    second on the cores the send runs on."""
    timeline = Timeline()
    deadline = began + 120 + target.recipients / 10
    with psycopg.connect(run.pg_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if target.counted_by:
                count = fake.stats()[target.counted_by]
                timeline.points.append((time.monotonic() - began, count))
            status = conn.execute("SELECT status FROM campaigns WHERE id = %s", (campaign_id,))
            if status.fetchone()[0] in FINISHED:
                return timeline, True
            time.sleep(POLL_SECONDS)
    return timeline, False


def send_campaign(run: Settings, target: Target, fake: Fake) -> dict:
    """Configure the provider, start workers, send; what the rows, the fake and /proc say."""
    use_provider(run.tenant_id, target.provider, target.secret, target.config)
    campaign_id = create_campaign(run.tenant_id, f"Bench {target.name}", target.list_id)
    vacuum_messages(run.pg_url)
    workers = start_workers(run.workers, run.concurrency, run.worker_env)
    time.sleep(WARM_UP_SECONDS)
    load_start = os.getloadavg()[0]
    profilers, finished = [], False
    if run.profile_dir is not None:
        profilers = start_profilers(workers.child_pids(), run.profile_dir, target.name)
    try:
        cpu_before = _cpu_by_role(run.pg_url, workers, fake)
        began = time.monotonic()
        scheduled = schedule_now(run.tenant_id, campaign_id)
        timeline, finished = _wait_until_sent(run, target, fake, campaign_id, began)
        cpu = _cpu_by_role(run.pg_url, workers, fake)
        peaks = workers.peak_rss_mb()
    finally:
        stop_profilers(profilers)
        workers.stop(keep_logs=not finished)
        sink_count = fake.stop() if not target.counted_by else ""
    if target.counted_by:
        accepted = timeline.points[-1][1] if timeline.points else 0
    else:
        accepted = int(sink_count or 0)
    rows = delivery_rows(run.pg_url, campaign_id)
    per_thousand = {
        role: round((cpu[role] - cpu_before.get(role, 0.0)) * 1000 / max(accepted, 1), 3)
        for role in cpu
    }
    return (
        _summary(target, rows, scheduled, accepted, peaks, finished)
        | {
            "cpu_s_per_1000_msgs": per_thousand,
            "held_rate": timeline.held_rate(),
            "loadavg_start_end": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        }
        | ({} if finished else {"worker_logs": str(workers.logs[0].parent)})
    )


def _seconds(moment, since) -> float | None:
    return round((moment - since).total_seconds(), 2) if moment else None


def _summary(target: Target, rows: dict, scheduled, accepted: int, peaks, finished) -> dict:
    last, started = rows["last_sent_at"], rows["started_at"]
    total_s = (last - scheduled).total_seconds() if last else None
    sending_s = (last - started).total_seconds() if last and started else None
    exact = (
        finished
        and accepted == target.recipients
        and rows["rows"] == rows["sent"] == rows["distinct_contacts"] == target.recipients
        and rows["max_attempts"] == 1
    )
    return {
        "recipients": target.recipients,
        "finished": finished,
        "start_to_last_accepted_s": round(total_s, 2) if total_s else None,
        "msgs_per_s": round(rows["sent"] / total_s) if total_s else 0,
        "schedule_to_started_s": round((started - scheduled).total_seconds(), 2)
        if started
        else None,
        "sending_msgs_per_s": round(rows["sent"] / sending_s) if sending_s else 0,
        "schedule_to_first_recorded_s": _seconds(rows["first_sent_at"], scheduled),
        "fake_accepted": accepted,
        "rows": rows["rows"],
        "rows_sent": rows["sent"],
        "distinct_recipients": rows["distinct_contacts"],
        "max_attempts": rows["max_attempts"],
        "rows_claimed_more_than_once": rows["rows_claimed_more_than_once"],
        "exact_once": exact,
        "worker_peak_rss_mb": max(peaks.values()) if peaks else None,
        "worker_peak_rss_by_process_mb": peaks,
    }
