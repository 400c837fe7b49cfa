"""Enqueue a committed job row now, instead of waiting for the next tick."""

from __future__ import annotations

import logging
import uuid

from marketing_app.db import session_scope
from marketing_app.services import job_runs

log = logging.getLogger(__name__)


def enqueue_job_run(job_id: uuid.UUID) -> bool:
    """Send a row created with enqueue_now; if the broker is down, hand it back to the tick."""
    from jobs.tasks import run_job_run  # deferred: importing Celery costs ~0.3 s at app start

    try:
        run_job_run.delay(str(job_id))
    except Exception:  # broker unreachable: the beat tick will pick the row up
        log.exception("could not enqueue job %s; leaving it to the tick", job_id)
        with session_scope() as session:
            job_runs.release_job_run(session=session, job_id=job_id)
        return False
    return True


def enqueue_event_processing(tenant_id: uuid.UUID) -> None:
    """Ask a worker to process the tenant's new events; the tick retries if this fails."""
    from jobs.tasks import process_tenant_events

    try:
        process_tenant_events.delay(str(tenant_id))
    except Exception:  # broker unreachable: events are stored, the tick finds them
        log.exception("could not enqueue event processing for tenant %s", tenant_id)
