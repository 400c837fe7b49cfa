"""Email campaign sending by real Celery workers to three local fakes (issue 5's targets).

One tenant with --recipients consented profiles (default 100,000; BENCH_RECIPIENTS) in a
static list, a personalized template (bench/campaign_bench_data.py), and per target a fresh
campaign scheduled "now" and sent by real workers (`celery worker`, the first with the
embedded beat) through the tenant's saved provider, pointed at a fake in its own process:

  smtp      the lean SMTP sink taking 20 ms per message (tests/fakes/smtp_sink.py --lean)
  sendgrid  a SendGrid-like endpoint answering after 150 ms, at most 1,000 personalizations
            a request (tests/fakes/sendgrid_server.py)
  ses       an SES-like endpoint throttling over 50 messages a second (tests/fakes/ses_server.py);
            at 50/s a full audience would take 2,000 s, so it gets --ses-recipients (3,000)

Per target: start-to-last-accepted time and messages/s, time to start (the beat's tick
writes the message rows), peak RSS (VmHWM) of every worker process, exactness (the fake's
count, every row sent once, attempts), and for SES the rate the fake saw and its 429s.
Beside them, the bare single-process render ceiling on the same compile
(bench/campaign_bench_ceiling.py). Prints ONE JSON line. Needs PostgreSQL and Redis
(REDIS_URL, default the local one).

    python bench/campaign_bench.py [--recipients N] [--ses-recipients N] [--targets smtp,ses]
        [--workers CORES+1] [--concurrency 1] [--batch 1000] [--smtp-pool 50]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

SMTP_DELAY_SECONDS = 0.02
SENDGRID_LATENCY_SECONDS = 0.15
SES_LIMIT_PER_SECOND = 50
TARGETS = {"smtp_msgs_per_s": 2000, "sendgrid_recipients_per_s": 20000, "worker_rss_mb": 200}
SES_TOLERANCE = 0.02  # the rate held within 2% of the limit


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env = os.environ.get
    parser.add_argument("--recipients", type=int, default=int(env("BENCH_RECIPIENTS", 100_000)))
    parser.add_argument(
        "--ses-recipients", type=int, default=int(env("BENCH_SES_RECIPIENTS", 3000))
    )
    parser.add_argument("--targets", default="smtp,sendgrid,ses")
    # One more than the cores: a sender waiting for a provider's answers leaves its core to
    # another (SendGrid on 2 cores: 3 processes ~15% faster than 2, five runs each).
    parser.add_argument(
        "--workers", type=int, default=(os.cpu_count() or 1) + 1, help="celery worker processes"
    )
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes per worker")
    parser.add_argument("--batch", type=int, default=1000, help="EMAIL_BATCH_SIZE")
    parser.add_argument("--senders", type=int, default=0, help="EMAIL_SENDERS_PER_CAMPAIGN")
    parser.add_argument("--smtp-pool", type=int, default=50, help="SMTP connections per worker")
    parser.add_argument("--ceiling", type=int, default=20_000, help="recipients rendered bare")
    parser.add_argument("--profile", type=Path, help="py-spy the workers into this folder")
    return parser.parse_args()


ARGS = _arguments()
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
# The workers' own queue, set before jobs.tasks is imported: "Send now" enqueues the start there.
QUEUE = os.environ["CELERY_QUEUE"] = f"mk-bench-campaign-{uuid.uuid4().hex[:8]}"
from common import drop_database, use_fresh_database

DB_URL = use_fresh_database("mk_bench_campaign")
if not DB_URL.startswith("postgresql"):
    sys.exit("campaign_bench: needs PostgreSQL (DATABASE_URL=postgresql+psycopg://...)")
PG_URL = DB_URL.replace("postgresql+psycopg", "postgresql")

from campaign_bench_ceiling import render_ceiling
from campaign_bench_data import create_audience, create_campaign
from campaign_bench_procs import start_fake
from campaign_bench_run import Settings, Target, send_campaign

from marketing_app.cli import migrate

SES_KEY_ID, SES_SECRET = "AKIAFAKE0000EXAMPLE", "fake/secret/key/0123456789abcdefEXAMPLE"


def _fake_and_target(name: str, lists: dict) -> tuple:
    everyone, sample = lists["all"], lists["sample"]
    if name == "smtp":
        fake = start_fake("tests.fakes.smtp_sink", "--lean", "--delay", str(SMTP_DELAY_SECONDS))
        config = {"host": "127.0.0.1", "port": int(fake.address), "security": "none",
                  "pool_size": ARGS.smtp_pool}  # fmt: skip
        return fake, Target(name, "smtp", "", config, everyone, ARGS.recipients)
    if name == "sendgrid":
        fake = start_fake("tests.fakes.sendgrid_server", "--latency", str(SENDGRID_LATENCY_SECONDS))
        config = {"host": fake.address}
        secret = "SG.test-key-0123456789"
        fake.headers = {"Authorization": f"Bearer {secret}"}
        return fake, Target(name, "sendgrid", secret, config, everyone, ARGS.recipients,
                            counted_by="personalizations")  # fmt: skip
    fake = start_fake("tests.fakes.ses_server", "--rate", str(SES_LIMIT_PER_SECOND))
    config = {"access_key_id": SES_KEY_ID, "region": "us-east-1", "endpoint": fake.address,
              "rate_limit": f"{SES_LIMIT_PER_SECOND}/second"}  # fmt: skip
    recipients = min(ARGS.ses_recipients, ARGS.recipients)
    return fake, Target(name, "ses", SES_SECRET, config, sample, recipients, counted_by="accepted")


def _run_target(settings: Settings, name: str, lists: dict) -> dict:
    fake, target = _fake_and_target(name, lists)
    try:
        result = send_campaign(settings, target, fake)
        held = result.pop("held_rate", None)
        result |= _fake_figures(name, target, fake, held)
    finally:
        fake.stop()
    return result


def _fake_figures(name: str, target: Target, fake, polled_rate: float | None) -> dict:
    """What the target's fake says beyond its count, and how it was set up."""
    if name == "smtp":
        connections = ARGS.workers * ARGS.concurrency * ARGS.smtp_pool
        return {
            "sink_delay_ms": SMTP_DELAY_SECONDS * 1000,
            "smtp_connections": connections,
            "connections_ceiling_per_s": round(connections / SMTP_DELAY_SECONDS),
        }
    stats = fake.stats()
    if name == "sendgrid":
        return {
            "latency_ms": SENDGRID_LATENCY_SECONDS * 1000,
            "requests": stats["requests"],
            "personalizations_per_request": round(target.recipients / max(stats["requests"], 1)),
        }
    held = stats.get("arrival_rate") or polled_rate or 0.0  # the fake's clock when it has one
    return {
        "note": f"{target.recipients} recipients: at 50/s a full audience takes 2,000 s",
        "held_per_s": round(held, 2),
        "limit_per_s": SES_LIMIT_PER_SECOND,
        "held_vs_limit": round(held / SES_LIMIT_PER_SECOND, 4),
        "throttled_429": stats["throttled"],
    }


def _targets_met(results: dict) -> dict:
    met = {}
    if "smtp" in results:
        met["smtp_2000_per_s"] = results["smtp"]["msgs_per_s"] >= TARGETS["smtp_msgs_per_s"]
    if "sendgrid" in results:
        rate = results["sendgrid"]["msgs_per_s"]
        met["sendgrid_20000_per_s"] = rate >= TARGETS["sendgrid_recipients_per_s"]
    if "ses" in results:
        ses = results["ses"]
        met["ses_within_2pct_no_429"] = (
            abs(ses["held_vs_limit"] - 1) <= SES_TOLERANCE and ses["throttled_429"] == 0
        )
    peaks = [r["worker_peak_rss_mb"] or 0 for r in results.values()]
    met["worker_rss_under_200mb"] = max(peaks, default=0) < TARGETS["worker_rss_mb"]
    met["exact_once"] = all(r["exact_once"] for r in results.values())
    return met


def _worker_env() -> dict[str, str]:
    return {
        "DATABASE_URL": DB_URL,
        "REDIS_URL": os.environ["REDIS_URL"],
        "CELERY_QUEUE": QUEUE,
        "EMAIL_BATCH_SIZE": str(ARGS.batch),
        "EMAIL_SENDERS_PER_CAMPAIGN": str(ARGS.senders or ARGS.workers * ARGS.concurrency),
        "BEAT_INTERVAL_SECONDS": "1",
        "SEGMENT_REFRESH_MINUTES": "0",
        "LOYALTY_SYNC_MINUTES": "0",
    }


def main() -> None:
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    migrate()
    tenant_id, lists = create_audience(PG_URL, ARGS.recipients, ARGS.ses_recipients)
    setup_s = time.perf_counter() - started
    settings = Settings(
        PG_URL, tenant_id, ARGS.workers, ARGS.concurrency, _worker_env(), ARGS.profile
    )
    results = {}
    for name in ARGS.targets.split(","):
        results[name] = _run_target(settings, name, lists)
    ceiling_campaign = create_campaign(tenant_id, "Bench ceiling", lists["all"])
    report = {
        "benchmark": "email_campaign",
        "recipients": ARGS.recipients,
        "workers": f"{ARGS.workers} x --concurrency={ARGS.concurrency}",
        "email_batch_size": ARGS.batch,
        "smtp_pool_per_worker": ARGS.smtp_pool,
        "beat_interval_s": 1,
        "cpu_note": "cpu_s_per_1000_msgs includes the workers' idle cost (beat, broker polls)",
        "setup_s": round(setup_s, 1),
        **results,
        "bare_ceiling_one_process": render_ceiling(tenant_id, ceiling_campaign, ARGS.ceiling),
        "targets_met": _targets_met(results),
        "total_s": round(time.perf_counter() - started, 1),
        "loadavg_start_end": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(report, default=str), flush=True)


def forget_queue() -> None:
    """The run's own queue and kombu's bindings of it: Redis would keep them after the run."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    for key in client.scan_iter(f"*{QUEUE}*"):
        client.delete(key)


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_database(DB_URL)
        forget_queue()
