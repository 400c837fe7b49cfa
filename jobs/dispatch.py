"""Enqueue a committed job row now, instead of waiting for the next tick."""

from __future__ import annotations

import logging
import time
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


def enqueue_campaign_start(campaign_id: int) -> None:
    """Start a committed campaign scheduled for now without waiting for the beat's next tick
    (up to a second, and longer when the beat is busy); if the broker is down, the tick does."""
    from jobs.tasks import start_campaign

    try:
        start_campaign.delay(campaign_id)
    except Exception:  # broker unreachable: the campaign is scheduled, the tick starts it
        log.exception(
            "could not enqueue the start of campaign %s; leaving it to the tick", campaign_id
        )


EVENT_PROCESSING_COALESCE_SECONDS = 0.5  # one request per tenant per process at most this often
_last_processing_request: dict[uuid.UUID, float] = {}
_trailing_request_until: dict[uuid.UUID, float] = {}


def enqueue_event_processing(tenant_id: uuid.UUID) -> None:
    """Ask a worker to process the tenant's new events; the tick retries if this fails.

    Under load many batches arrive per second and one task drains them all, so each
    process sends at most a leading and a trailing request per coalescing window.
    """
    from jobs.tasks import process_tenant_events

    now = time.monotonic()
    try:
        if now - _last_processing_request.get(tenant_id, 0.0) >= EVENT_PROCESSING_COALESCE_SECONDS:
            _last_processing_request[tenant_id] = now
            process_tenant_events.delay(str(tenant_id))
        elif _trailing_request_until.get(tenant_id, 0.0) <= now:
            # A trailing run catches events committed after the leading run finished.
            _trailing_request_until[tenant_id] = now + EVENT_PROCESSING_COALESCE_SECONDS
            process_tenant_events.apply_async(
                (str(tenant_id),), countdown=EVENT_PROCESSING_COALESCE_SECONDS
            )
    except Exception:  # broker unreachable: events are stored, the tick finds them
        log.exception("could not enqueue event processing for tenant %s", tenant_id)
