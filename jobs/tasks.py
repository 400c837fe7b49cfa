"""Tasks. Each takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from jobs.celery_app import app
from marketing_app.db import session_scope
from marketing_app.models.base import utcnow
from marketing_app.services import (
    campaign_schedule,
    campaign_send,
    campaign_send_rows,
    event_processing,
    job_runs,
    loyalty_schedule,
    segment_schedule,
)
from marketing_app.services.job_execution import RetryableJobError, run_job
from marketing_app.settings import get_settings


@app.task(name="jobs.tasks.tick", ignore_result=True)
def tick() -> int:
    """Claim due job rows and hand each to a worker."""
    with session_scope() as session:
        claimed = job_runs.claim_due_job_runs(session=session)
    for job in claimed:
        run_job_run.delay(str(job.id))
    with session_scope() as session:
        stale = event_processing.tenants_with_stale_events(session=session)
    for tenant_id in stale:
        process_tenant_events.delay(str(tenant_id))
    with session_scope() as session:
        campaigns = campaign_schedule.tick_campaigns(session=session)
    for campaign_id, senders in campaigns.senders_wanted.items():
        for _ in range(senders):
            send_campaign.delay(campaign_id)
    return len(claimed)


@app.task(name="jobs.tasks.start_campaign", ignore_result=True)
def start_campaign(campaign_id: int) -> int:
    """Start a campaign scheduled for now at once, and its senders; the tick would otherwise.
    The senders start on the first recipients' rows while this writes the rest."""
    with session_scope() as session:
        senders = campaign_schedule.start_now(session=session, campaign_id=campaign_id)
    for _ in range(senders):
        send_campaign.delay(campaign_id)
    if senders:
        with session_scope() as session:
            campaign_send_rows.write_pending_rows(session=session, campaign_id=campaign_id)
            campaign_send.summarize_send(session=session, campaign_id=campaign_id)
    return senders


@app.task(name="jobs.tasks.send_campaign", ignore_result=True)
def send_campaign(campaign_id: int) -> int:
    """Send a campaign's due messages for a while; safe to run twice (rows are leased)."""
    worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        return campaign_schedule.run_sender(session=session, campaign_id=campaign_id, worker=worker)


@app.task(name="jobs.tasks.process_tenant_events", ignore_result=True)
def process_tenant_events(tenant_id: str) -> int:
    """Attach a tenant's new events to profiles, batch by batch, until none are left."""
    started = utcnow()
    with session_scope() as session:
        handled = event_processing.process_all_pending(
            session=session, tenant_id=uuid.UUID(tenant_id)
        )
    if handled:  # loyalty and segments follow the profiles these events changed, in seconds
        with session_scope() as session:
            loyalty_schedule.credit_recent_orders(
                session=session, tenant_id=uuid.UUID(tenant_id), since=started
            )
        with session_scope() as session:
            segment_schedule.fold_recent_activity(
                session=session, tenant_id=uuid.UUID(tenant_id), since=started
            )
    return handled


@app.task(
    name="jobs.tasks.run_job_run",
    autoretry_for=(RetryableJobError,),
    retry_backoff=True,
    max_retries=3,
)
def run_job_run(job_id: str) -> str | None:
    with session_scope() as session:
        return run_job(session=session, job_id=uuid.UUID(job_id))


@app.task(name="jobs.tasks.schedule_session_purge", ignore_result=True)
def schedule_session_purge() -> None:
    with session_scope() as session:
        job_runs.create_job_run(
            session=session, tenant_id=None, kind="purge_sessions", label="Purge expired sessions"
        )


@app.task(name="jobs.tasks.schedule_segment_refresh", ignore_result=True)
def schedule_segment_refresh() -> int:
    """Recompute segments and RFM that time alone may change; queue the day's loyalty jobs
    and the loyalty syncs that are due."""
    settings = get_settings()
    if settings.segment_refresh_minutes <= 0:  # scheduling switched off (e.g. worker tests)
        return 0
    with session_scope() as session:
        loyalty_schedule.schedule_daily_loyalty(session=session)
    if settings.loyalty_sync_minutes > 0:
        with session_scope() as session:
            loyalty_schedule.schedule_loyalty_syncs(
                session=session, every=timedelta(minutes=settings.loyalty_sync_minutes)
            )
    with session_scope() as session:
        return segment_schedule.schedule_due_refreshes(
            session=session,
            segment_every=timedelta(minutes=settings.segment_refresh_minutes),
            rfm_every=timedelta(hours=settings.rfm_refresh_hours),
        )
