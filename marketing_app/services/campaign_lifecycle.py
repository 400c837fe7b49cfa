"""Moving a campaign through its states, and what must be true before it may be scheduled.

draft -> scheduled (schedule) -> sending (the beat tick, services.campaign_send) -> sent;
scheduled -> draft (unschedule); sending <-> paused; scheduled/sending/paused -> cancelled.
Workers only claim messages of a campaign that is sending, so a pause stops the send at the
end of the batches in flight, and a resume goes on with exactly the rows still queued.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from marketing_app.domain.campaigns import Schedule
from marketing_app.domain.errors import Conflict, InvalidInput
from marketing_app.models import Campaign, CampaignStatus, EmailMessage, Tenant
from marketing_app.models import MessageStatus as MS
from marketing_app.models.base import utcnow
from marketing_app.services.campaign_audience import any_eligible
from marketing_app.services.campaigns import get_campaign, specs, update_campaign
from marketing_app.services.email_rendering_checks import validate_template

S = CampaignStatus
LATEST_ZONE_OFFSET = timedelta(hours=14)  # UTC+14: the first place a local time arrives
PAST_GRACE = timedelta(minutes=5)


def template_problems(subject: str, preheader: str, html: str) -> list[str]:
    """Syntax errors and unknown tokens, each with its field and line."""
    problems = validate_template(subject, preheader, html)
    return [
        f"{p.field} line {p.line}: {p.message}" if p.line else f"{p.field}: {p.message}"
        for p in problems
    ]


def readiness_problems(
    *, session: Session, tenant_id: uuid.UUID, campaign: Campaign, now: datetime | None = None
) -> list[str]:
    """Everything that stops this campaign from being scheduled, in words; [] when ready."""
    now = now or utcnow()
    content, audience, schedule, ab = specs(campaign)
    tenant = session.get(Tenant, tenant_id)
    problems = []
    if not audience.segment_ids:
        problems.append("Choose at least one segment or list to send to.")
    if not campaign.from_email:
        problems.append("Give a from address.")
    if not campaign.transactional and not (tenant.postal_address or "").strip():
        problems.append("Add the business's postal address in Settings (the law requires it).")
    for variant in content.variants:
        label = f"Variant {variant.key}" if len(content.variants) > 1 else "The email"
        found = template_problems(variant.subject, variant.preheader, variant.html)
        problems += [f"{label}: {problem}" for problem in found]
    if ab.enabled and len(content.variants) < 2:
        problems.append("An A/B test needs at least two variants.")
    if schedule.mode == "at" and schedule.send_at and schedule.send_at < now - PAST_GRACE:
        problems.append("The send time is in the past.")
    if audience.segment_ids and not any_eligible(
        session=session,
        tenant_id=tenant_id,
        audience=audience,
        topic=campaign.topic,
        transactional=campaign.transactional,
    ):
        problems.append("Nobody in this audience can be emailed (no consented, reachable profile).")
    return problems


def start_time(schedule: Schedule, now: datetime) -> datetime:
    """When the send starts: now, the chosen time, or for local-time sends the moment the
    chosen time arrives in the first time zone on earth (rows wait for each zone's time)."""
    if schedule.mode == "now" or schedule.send_at is None:
        return now
    if schedule.mode == "at":
        return max(schedule.send_at, now)
    day = schedule.send_at.date()
    first = datetime.combine(day, schedule.local_time or time(9), tzinfo=ZoneInfo("UTC"))
    return max(first - LATEST_ZONE_OFFSET, now)


def schedule_campaign(
    *, session: Session, tenant_id: uuid.UUID, campaign_id: int, now: datetime | None = None
) -> Campaign:
    """draft -> scheduled; InvalidInput listing every problem when it is not ready."""
    now = now or utcnow()
    campaign = _locked(session, tenant_id, campaign_id)
    if campaign.status != S.DRAFT:
        raise Conflict(f"Only a draft can be scheduled; this campaign is {campaign.status}.")
    problems = readiness_problems(session=session, tenant_id=tenant_id, campaign=campaign, now=now)
    if problems:
        raise InvalidInput(" ".join(problems), field="schedule")
    _, _, schedule, _ = specs(campaign)
    campaign.scheduled_for = start_time(schedule, now)
    return _move(session, campaign, S.SCHEDULED)


def starts_now(campaign: Campaign, now: datetime | None = None) -> bool:
    """A scheduled campaign whose start time has come: a worker can start it at once."""
    due = campaign.scheduled_for is not None and campaign.scheduled_for <= (now or utcnow())
    return campaign.status == S.SCHEDULED and due


def send_campaign_now(
    *, session: Session, tenant_id: uuid.UUID, campaign_id: int, now: datetime | None = None
) -> Campaign:
    """A draft's schedule becomes "now" and it is scheduled; the caller hands it to a worker
    once committed (jobs.dispatch.enqueue_campaign_start), else the next tick starts it."""
    campaign = get_campaign(session=session, tenant_id=tenant_id, campaign_id=campaign_id)
    if campaign.status != S.DRAFT:
        raise Conflict(f"Only a draft can be sent; this campaign is {campaign.status}.")
    update_campaign(
        session=session, tenant_id=tenant_id, campaign_id=campaign_id, schedule=Schedule()
    )
    return schedule_campaign(session=session, tenant_id=tenant_id, campaign_id=campaign_id, now=now)


def unschedule_campaign(*, session: Session, tenant_id: uuid.UUID, campaign_id: int) -> Campaign:
    campaign = _locked(session, tenant_id, campaign_id)
    if campaign.status != S.SCHEDULED:
        raise Conflict(f"Only a scheduled campaign can go back to draft; it is {campaign.status}.")
    campaign.scheduled_for = None
    return _move(session, campaign, S.DRAFT)


def pause_campaign(*, session: Session, tenant_id: uuid.UUID, campaign_id: int) -> Campaign:
    campaign = _locked(session, tenant_id, campaign_id)
    if campaign.status != S.SENDING:
        raise Conflict(f"Only a sending campaign can be paused; it is {campaign.status}.")
    return _move(session, campaign, S.PAUSED)


def resume_campaign(*, session: Session, tenant_id: uuid.UUID, campaign_id: int) -> Campaign:
    campaign = _locked(session, tenant_id, campaign_id)
    if campaign.status != S.PAUSED:
        raise Conflict(f"Only a paused campaign can be resumed; it is {campaign.status}.")
    return _move(session, campaign, S.SENDING)


def cancel_campaign(*, session: Session, tenant_id: uuid.UUID, campaign_id: int) -> Campaign:
    """Stops for good: messages not sent yet are marked skipped ("cancelled")."""
    campaign = _locked(session, tenant_id, campaign_id)
    if campaign.status not in (S.SCHEDULED, S.SENDING, S.PAUSED):
        raise Conflict(f"A {campaign.status} campaign cannot be cancelled.")
    session.exec(
        update(EmailMessage)
        .where(EmailMessage.campaign_id == campaign.id, EmailMessage.status == MS.QUEUED)
        .values(status=MS.SKIPPED, skip_reason="cancelled", lease_owner=None, lease_until=None)
    )
    campaign.finished_at = utcnow()
    campaign.rows_pending_after = None  # the rest of a send's rows are not written either
    return _move(session, campaign, S.CANCELLED)


def due_campaign_ids(*, session: Session, now: datetime | None = None) -> list[int]:
    """Scheduled campaigns (any tenant) whose start time has come: the beat tick starts them."""
    now = now or utcnow()
    return list(
        session.exec(
            select(Campaign.id).where(
                Campaign.status == S.SCHEDULED, col(Campaign.scheduled_for) <= now
            )
        )
    )


def _locked(session: Session, tenant_id: uuid.UUID, campaign_id: int) -> Campaign:
    """The campaign row locked (PostgreSQL) so two state changes cannot interleave."""
    campaign = get_campaign(session=session, tenant_id=tenant_id, campaign_id=campaign_id)
    session.refresh(campaign, with_for_update=True)
    return campaign


def _move(session: Session, campaign: Campaign, status: str) -> Campaign:
    campaign.status = status
    campaign.updated_at = utcnow()
    session.add(campaign)
    session.flush()
    return campaign
