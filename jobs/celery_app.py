"""The Celery app, with the reliability settings every task relies on (see DESIGN.md)."""

from __future__ import annotations

from celery import Celery

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
