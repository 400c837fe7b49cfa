"""The Celery app, with the reliability settings every task relies on (see DESIGN.md)."""

from __future__ import annotations

import contextlib
import ctypes

from celery import Celery
from celery.signals import worker_process_init

from marketing_app.gc_tuning import tune_gc_for_batches
from marketing_app.settings import DATA_DIR, get_settings

settings = get_settings()
BROKER_VISIBILITY_TIMEOUT = 3600  # seconds; Redis redelivers unacked tasks after this
TASK_TIME_LIMIT = 1800  # seconds; below the visibility timeout so no task runs twice at once

app = Celery("marketing_app", broker=settings.broker_url, include=["jobs.tasks"])
app.conf.update(
    task_default_queue=settings.celery_queue,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=TASK_TIME_LIMIT,
    task_soft_time_limit=TASK_TIME_LIMIT - 60,
    # kombu's SQLAlchemy transport passes these options to create_engine, which rejects them.
    broker_transport_options=(
        {"visibility_timeout": BROKER_VISIBILITY_TIMEOUT}
        if settings.broker_url.startswith("redis")
        else {}
    ),
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    timezone="UTC",
    enable_utc=True,
    worker_hijack_root_logger=False,
    beat_schedule_filename=str(DATA_DIR / "celerybeat-schedule"),
    beat_schedule={
        "tick": {"task": "jobs.tasks.tick", "schedule": settings.beat_interval_seconds},
        "purge-sessions": {"task": "jobs.tasks.schedule_session_purge", "schedule": 3600.0},
        "segment-refresh": {"task": "jobs.tasks.schedule_segment_refresh", "schedule": 300.0},
    },
)


M_ARENA_MAX = -8  # glibc's mallopt parameter number
WORKER_MALLOC_ARENAS = 2


@worker_process_init.connect
def _cap_malloc_arenas(**_kwargs) -> None:
    """Two glibc malloc arenas per pool process, as MALLOC_ARENA_MAX=2 would set. A campaign
    sender's provider threads (SMTP: one per pooled connection) each got an arena of their
    own (up to 16 on 2 cores) and what they freed stayed reserved there: senders peaked at
    210-240 MB, 145 MB with two arenas. Elsewhere than glibc there is nothing to set."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, WORKER_MALLOC_ARENAS)


@worker_process_init.connect
def _tune_gc(**_kwargs) -> None:
    """After the fork, once the tasks' code is loaded (see tune_gc_for_batches)."""
    tune_gc_for_batches()
