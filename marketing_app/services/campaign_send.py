"""Starting a campaign's send: one message row per recipient, written set-based.

`start_send` turns a due scheduled campaign into a sending one and inserts, in one
INSERT ... SELECT, a row per eligible profile (unique per campaign and profile, so a second
start writes nothing). Each row gets:
- its variant: without an A/B test "A"; with one, a deterministic bucket of the profile puts
  `test_percent` of the audience in the test group, spread evenly over the variants, and the
  rest waits with variant "" until a winner is chosen (services.campaign_ab);
- its status: queued, or skipped with "frequency_cap" when the profile already got the
  tenant's maximum of marketing emails in the cap window (transactional mail is exempt);
- its due time: now, each recipient's local time (`mode: local`), or the recipient's most
  frequent open hour (`optimize`), set per time zone / per hour in a few UPDATEs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Integer, case, cast, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from marketing_app.domain.campaigns import ABTest, CampaignContent
from marketing_app.domain.errors import InvalidInput
from marketing_app.models import Campaign, CampaignStatus, Contact, EmailMessage, Tenant
from marketing_app.models import MessageStatus as MS
from marketing_app.models.base import utcnow
from marketing_app.services.bulk_reads import without_jit
from marketing_app.services.campaign_audience import count_audience, eligible_query
from marketing_app.services.campaigns import specs

BUCKETS = 10_000
FREQUENCY_CAP_DEFAULT = {"max_emails": 0, "days": 7}  # 0: no cap
HELD = ""  # the variant of rows waiting for an A/B winner


@dataclass(frozen=True)
class SendStart:
    campaign_id: int
    started: bool  # False: it was not due, or already started
    messages: int = 0
    capped: int = 0


def frequency_cap(tenant: Tenant) -> tuple[int, int]:
    """(max marketing emails, per days) of the tenant; max 0 means no cap."""
    cap = {**FREQUENCY_CAP_DEFAULT, **((tenant.settings or {}).get("frequency_cap") or {})}
    return int(cap.get("max_emails") or 0), int(cap.get("days") or 7)


def _bucket(campaign_id: int):
    """SQL: a profile's bucket 0..9999 for this campaign, stable and spread evenly."""
    return ((Contact.id % 1_000_003) * 7919 + campaign_id * 104_729) % BUCKETS


def _variant_and_group(campaign_id: int, content: CampaignContent, ab: ABTest):
    if not ab.enabled:
        return literal("A"), literal(False)
    bucket = _bucket(campaign_id)
    in_test = bucket < ab.test_percent * 100
    keys = [variant.key for variant in content.variants]
    by_bucket = case(
        *[(bucket % len(keys) == i, literal(key)) for i, key in enumerate(keys)],
        else_=literal(keys[0]),
    )
    return case((in_test, by_bucket), else_=literal(HELD)), in_test


def _capped(tenant: Tenant, campaign: Campaign, now: datetime):
    """SQL: the profile already reached the tenant's frequency cap (False when none)."""
    max_emails, days = frequency_cap(tenant)
    if campaign.transactional or max_emails <= 0:
        return literal(False)
    recent = (
        select(func.count())
        .select_from(EmailMessage)
        .join(Campaign, Campaign.id == EmailMessage.campaign_id)
        .where(
            EmailMessage.tenant_id == tenant.id,
            EmailMessage.contact_id == Contact.id,
            col(EmailMessage.sent_at) >= now - timedelta(days=days),
            Campaign.transactional.is_(False),  # type: ignore[attr-defined]
        )
        .scalar_subquery()
    )
    return recent >= max_emails


def _insert_all(session: Session, tenant: Tenant, campaign: Campaign, now: datetime) -> None:
    """Write the campaign's message rows, one per eligible profile."""
    session.execute(_insert_from(session, _source(tenant, campaign, now)))


def insert_message_part(
    session: Session, tenant: Tenant, campaign: Campaign, now: datetime, *, after, limit: int
) -> int | None:
    """PostgreSQL: write the rows of the first `limit` eligible profiles by id above `after`
    (None: from the first); returns the last of those profiles' ids when there may be more,
    None when they were the last. Counted over the profiles chosen, not the rows written: a
    profile may have a row already (a merged profile's, moved to the survivor)."""
    chunk = (
        _source(tenant, campaign, now).where(Contact.id > (after or 0)).limit(limit).cte("chunk")
    )
    written = _insert_from(session, select(*chunk.c)).cte("written")
    chosen, last = session.execute(
        select(func.count(), func.max(chunk.c.id)).add_cte(written)
    ).one()
    return last if chosen >= limit else None


def _source(tenant: Tenant, campaign: Campaign, now: datetime):
    """SELECT of the rows to write, in profile-id order (the INSERT's column order)."""
    content, audience, _, ab = specs(campaign)
    variant, in_test = _variant_and_group(campaign.id, content, ab)
    capped = _capped(tenant, campaign, now)
    eligible = eligible_query(
        tenant_id=tenant.id,
        audience=audience,
        topic=campaign.topic,
        transactional=campaign.transactional,
    ).subquery()
    return (
        select(
            literal(tenant.id).label("tenant_id"),
            literal(campaign.id).label("campaign_id"),
            Contact.id,
            Contact.email,
            variant,
            in_test,
            case((capped, literal(MS.SKIPPED)), else_=literal(MS.QUEUED)),
            case((capped, literal("frequency_cap")), else_=literal("")),
            literal(now),
            literal(now),
            literal(0),
            literal(""),
            literal(""),
        )
        .join(eligible, eligible.c.id == Contact.id)
        .order_by(Contact.id)
    )


def _insert_from(session: Session, source):
    columns = [
        "tenant_id",
        "campaign_id",
        "contact_id",
        "email",
        "variant",
        "is_test_group",
        "status",
        "skip_reason",
        "due_at",
        "created_at",
        "attempts",
        "provider",
        "error",
    ]
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(EmailMessage).from_select(columns, source).on_conflict_do_nothing()


def _zone(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else fallback
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def _local_due_times(session: Session, tenant: Tenant, campaign: Campaign, schedule) -> None:
    """Each queued row due at `local_time` on the send day in its profile's zone."""
    fallback = _zone(tenant.time_zone, ZoneInfo("UTC"))
    zones = session.exec(
        select(Contact.time_zone)
        .join(EmailMessage, EmailMessage.contact_id == Contact.id)
        .where(EmailMessage.campaign_id == campaign.id)
        .distinct()
    ).all()
    day = schedule.send_at.date()
    for (name,) in zones:
        zone = _zone(name, fallback)
        due = datetime.combine(day, schedule.local_time, tzinfo=zone).astimezone(ZoneInfo("UTC"))
        in_zone = col(Contact.time_zone).is_(None) if name is None else Contact.time_zone == name
        contacts = select(Contact.id).where(Contact.tenant_id == tenant.id, in_zone)
        session.execute(
            update(EmailMessage)
            .where(
                EmailMessage.campaign_id == campaign.id, col(EmailMessage.contact_id).in_(contacts)
            )
            .values(due_at=due)
        )


def best_hours(session: Session, tenant_id: uuid.UUID, campaign_id: int) -> dict[int, int]:
    """The UTC hour each recipient most often opened the tenant's mail at (human opens only);
    recipients with no open history are absent."""
    hour = cast(func.extract("hour", EmailMessage.opened_at), Integer).label("hour")
    recipients = select(EmailMessage.contact_id).where(EmailMessage.campaign_id == campaign_id)
    rows = session.exec(
        select(EmailMessage.contact_id, hour, func.count())
        .where(
            EmailMessage.tenant_id == tenant_id,
            col(EmailMessage.opened_at).is_not(None),
            col(EmailMessage.contact_id).in_(recipients),
        )
        .group_by(EmailMessage.contact_id, hour)
    ).all()
    best: dict[int, tuple[int, int]] = {}
    for contact_id, opened_hour, opens in rows:
        if contact_id not in best or (opens, -opened_hour) > best[contact_id]:
            best[contact_id] = (opens, -opened_hour)
    return {contact_id: -negative_hour for contact_id, (_, negative_hour) in best.items()}


def _optimized_due_times(session: Session, campaign: Campaign, now: datetime) -> None:
    """Each recipient with open history due at their best hour within the next day."""
    by_hour: dict[int, list[int]] = {}
    for contact_id, hour in best_hours(session, campaign.tenant_id, campaign.id).items():
        by_hour.setdefault(hour, []).append(contact_id)
    start = now.replace(minute=0, second=0, microsecond=0)
    for hour, contact_ids in by_hour.items():
        due = start.replace(hour=hour)
        if due < now:
            due += timedelta(days=1)
        for chunk in range(0, len(contact_ids), 5_000):
            session.execute(
                update(EmailMessage)
                .where(
                    EmailMessage.campaign_id == campaign.id,
                    col(EmailMessage.contact_id).in_(contact_ids[chunk : chunk + 5_000]),
                )
                .values(due_at=due)
            )


def _variant_delays(session: Session, campaign: Campaign, content: CampaignContent) -> None:
    """A send-time A/B test: a variant's rows wait its delay."""
    for variant in content.variants:
        if variant.send_delay_hours:
            session.execute(
                update(EmailMessage)
                .where(EmailMessage.campaign_id == campaign.id, EmailMessage.variant == variant.key)
                .values(due_at=EmailMessage.due_at + timedelta(hours=variant.send_delay_hours))
            )


def _summary(session: Session, tenant: Tenant, campaign: Campaign) -> dict:
    _, audience, _, _ = specs(campaign)
    count = count_audience(
        session=session,
        tenant_id=tenant.id,
        audience=audience,
        topic=campaign.topic,
        transactional=campaign.transactional,
    )
    rows = session.exec(
        select(EmailMessage.status, EmailMessage.skip_reason, func.count())
        .where(EmailMessage.campaign_id == campaign.id)
        .group_by(EmailMessage.status, EmailMessage.skip_reason)
    ).all()
    capped = sum(n for status, reason, n in rows if reason == "frequency_cap")
    messages = sum(n for _, _, n in rows)
    return {
        "audience": count.members,
        "excluded": count.excluded,
        "no_address": count.no_address,
        "unconsented": count.unconsented,
        "suppressed": count.suppressed,
        "unsubscribed": count.unsubscribed,
        "frequency_capped": capped,
        "messages": messages,
        "to_send": messages - capped,  # as at the start, also once sending has begun
    }


def start_send(
    *,
    session: Session,
    campaign_id: int,
    now: datetime | None = None,
    summarize: bool = True,
    first_part: int | None = None,
) -> SendStart:
    """A due scheduled campaign (any tenant) becomes sending, with its message rows; its
    send summary too unless `summarize` is False (see summarize_send).

    With `first_part`, a send due for everyone at once (PostgreSQL; no local times, best
    hours or A/B test) gets only its first `first_part` recipients' rows, and the campaign
    says where the rest resume (`rows_pending_after`, see campaign_send_rows): senders can
    start on these while the rest are written. The summary waits for the rest then.

    Safe to call twice or concurrently: the row lock and the status check let one caller
    start it; the unique (campaign, profile) key writes each recipient once. A caller that
    finds the campaign locked leaves it to the one starting it (the tick does not wait
    seconds for a big send's rows behind "Send now"'s start)."""
    now = now or utcnow()
    campaign = session.get(Campaign, campaign_id, with_for_update={"skip_locked": True})
    due = campaign is not None and campaign.status == CampaignStatus.SCHEDULED
    if not due or (campaign.scheduled_for and campaign.scheduled_for > now):
        return SendStart(campaign_id, started=False)
    tenant = session.get(Tenant, campaign.tenant_id)
    without_jit(session)  # 0.35 s of compilation for a 100,000-profile send's summary
    if first_part and _writes_in_parts(session, campaign):
        campaign.rows_pending_after = insert_message_part(
            session, tenant, campaign, now, after=None, limit=first_part
        )
    else:
        _write_all_rows(session, tenant, campaign, now)
    campaign.status, campaign.executed = CampaignStatus.SENDING, True
    campaign.started_at = campaign.updated_at = now
    session.add(campaign)
    session.flush()
    if not summarize or campaign.rows_pending_after is not None:
        return SendStart(campaign_id, True)
    summary = summarize_send(session=session, campaign_id=campaign_id)
    return SendStart(campaign_id, True, summary["messages"], summary["frequency_capped"])


def _writes_in_parts(session: Session, campaign: Campaign) -> bool:
    """Whether the rows may go in parts: every row due now and final as written. On SQLite
    a part being written holds the database's one write lock: senders could not claim."""
    content, _, schedule, ab = specs(campaign)
    return (
        session.get_bind().dialect.name == "postgresql"
        and schedule.mode != "local"
        and not schedule.optimize
        and not ab.enabled
        and not any(variant.send_delay_hours for variant in content.variants)
    )


def _write_all_rows(session: Session, tenant: Tenant, campaign: Campaign, now: datetime) -> None:
    content, _, schedule, _ = specs(campaign)
    _insert_all(session, tenant, campaign, now)
    if schedule.mode == "local":
        _local_due_times(session, tenant, campaign, schedule)
    elif schedule.optimize:
        _optimized_due_times(session, campaign, now)
    _variant_delays(session, campaign, content)


def summarize_send(*, session: Session, campaign_id: int) -> dict:
    """The started campaign's send summary (audience, exclusions, capped, messages): counted
    again over the whole audience, so "Send now" writes it once its senders are on their way."""
    campaign = session.get(Campaign, campaign_id)
    tenant = session.get(Tenant, campaign.tenant_id)
    without_jit(session)
    campaign.send_summary = _summary(session, tenant, campaign)
    session.add(campaign)
    session.flush()
    return campaign.send_summary


def save_frequency_cap(
    *, session: Session, tenant_id: uuid.UUID, max_emails: int, days: int
) -> dict[str, int]:
    """At most `max_emails` marketing emails per profile in `days` days (0: no cap)."""
    if not isinstance(max_emails, int) or not 0 <= max_emails <= 100:
        raise InvalidInput("The cap is a number of emails from 0 (no cap) to 100.", field="max")
    if not isinstance(days, int) or not 1 <= days <= 90:
        raise InvalidInput("The window is 1 to 90 days.", field="days")
    tenant = session.get(Tenant, tenant_id)
    cap = {"max_emails": max_emails, "days": days}
    tenant.settings = {**(tenant.settings or {}), "frequency_cap": cap}  # a new dict: JSON
    session.add(tenant)
    session.flush()
    return cap
