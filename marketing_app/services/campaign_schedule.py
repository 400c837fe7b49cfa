"""What the beat tick does for campaigns, and what a sending worker runs.

Each tick: start the scheduled campaigns that are due (their message rows are written),
give A/B tests whose wait is over their winner, write a chunk of the rows of sends whose
writer died (campaign_send_rows), and name the sending campaigns that have due
messages nobody holds, with how many more workers each could use. A worker's task then runs
`run_sender`: batches until nothing is due or its time budget is spent (the next tick sends
another task if work is left), so no task outlives the broker's visibility timeout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from marketing_app.models import Campaign, CampaignStatus, EmailMessage
from marketing_app.models import MessageStatus as MS
from marketing_app.models.base import utcnow
from marketing_app.services.campaign_ab import decide_due_winners
from marketing_app.services.campaign_delivery import deliver_batch
from marketing_app.services.campaign_lifecycle import due_campaign_ids
from marketing_app.services.campaign_send import HELD, start_send
from marketing_app.services.campaign_send_rows import (
    help_pending_writes,
    rows_pending,
    write_chunk_if_free,
)
from marketing_app.services.email_delivery import DeliveryChain, delivery_chain_for
from marketing_app.settings import get_settings

SENDER_BUDGET_SECONDS = 120.0
PENDING_ROWS_POLL_SECONDS = 0.05  # a sender with nothing to claim while a chunk is written


@dataclass
class TickResult:
    started: list[int] = field(default_factory=list)
    winners: list[int] = field(default_factory=list)
    rows_written: list[int] = field(default_factory=list)  # a chunk of pending rows each
    senders_wanted: dict[int, int] = field(default_factory=dict)  # campaign id -> new tasks


def _senders_wanted(session: Session, now: datetime) -> dict[int, int]:
    """Sending campaigns with due unleased rows -> how many more senders each could use."""
    free = and_(
        EmailMessage.status == MS.QUEUED,
        EmailMessage.variant != HELD,
        EmailMessage.due_at <= now,
        or_(EmailMessage.lease_until.is_(None), EmailMessage.lease_until < now),
    )
    held = and_(EmailMessage.status == MS.QUEUED, EmailMessage.lease_until >= now)
    rows = session.execute(
        select(
            EmailMessage.campaign_id,
            func.count().filter(free),
            func.count(func.distinct(EmailMessage.lease_owner)).filter(held),
        )
        .join(Campaign, Campaign.id == EmailMessage.campaign_id)
        .where(Campaign.status == CampaignStatus.SENDING, EmailMessage.status == MS.QUEUED)
        .group_by(EmailMessage.campaign_id)
    ).all()
    wanted = get_settings().email_senders_per_campaign  # more only queue behind the limits
    return {campaign_id: wanted - busy for campaign_id, due, busy in rows if due and busy < wanted}


def tick_campaigns(*, session: Session, now: datetime | None = None) -> TickResult:
    """Start due campaigns, decide due A/B winners, say where senders are needed; commits."""
    now = now or utcnow()
    result = TickResult()
    for campaign_id in due_campaign_ids(session=session, now=now):
        if start_send(session=session, campaign_id=campaign_id, now=now).started:
            result.started.append(campaign_id)
        session.commit()
    result.winners = decide_due_winners(session=session, now=now)
    session.commit()
    result.rows_written = help_pending_writes(session=session)
    result.senders_wanted = _senders_wanted(session, now)
    return result


def start_now(*, session: Session, campaign_id: int, now: datetime | None = None) -> int:
    """Start a campaign due now without waiting for the tick ("Send now") with the rows of
    its first recipients; commits, and returns how many senders to start (0 when it was not
    due or already started: the tick's senders cover it then). The caller then writes the
    rest of the rows behind the senders (campaign_send_rows.write_pending_rows) and the
    summary (summarize_send)."""
    settings = get_settings()
    senders = settings.email_senders_per_campaign
    start = start_send(
        session=session,
        campaign_id=campaign_id,
        now=now,
        summarize=False,
        first_part=senders * settings.email_first_rows_per_sender,
    )
    session.commit()
    return senders if start.started else 0


def claim_size(chain: DeliveryChain, per_call: int) -> int:
    """Messages a sender claims at a time: EMAIL_BATCH_SIZE (at most the first provider's
    batch) per call that provider may have in flight. A batching provider is then kept busy
    (SendGrid: 1,000 personalizations a request, several requests at once), instead of
    getting one request per claim and waiting for its answer."""
    if not chain.providers:
        return per_call
    return min(per_call, chain.max_batch) * chain.concurrency


def run_sender(
    *,
    session: Session,
    campaign_id: int,
    worker: str,
    budget_seconds: float = SENDER_BUDGET_SECONDS,
    batch_size: int | None = None,
) -> int:
    """Send the campaign's due messages batch by batch; returns how many were sent."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.SENDING:
        return 0
    chain = delivery_chain_for(session=session, tenant_id=campaign.tenant_id)
    settings = get_settings()
    lease = timedelta(seconds=settings.email_lease_seconds)
    batch_size = batch_size or claim_size(chain, settings.email_batch_size)
    deadline = time.monotonic() + budget_seconds
    sent = 0
    try:
        while time.monotonic() < deadline:
            # Read before the claim: rows committed after it must not end the loop.
            pending = rows_pending(session=session, campaign_id=campaign_id)
            report = deliver_batch(
                session=session,
                campaign_id=campaign_id,
                worker=worker,
                sender=chain,
                limit=batch_size,
                lease=lease,
            )
            sent += report.sent
            if report.claimed == 0:
                if not pending:
                    break
                if not write_chunk_if_free(session=session, campaign_id=campaign_id):
                    time.sleep(PENDING_ROWS_POLL_SECONDS)  # its writer is at work
    finally:
        chain.close()
    return sent
