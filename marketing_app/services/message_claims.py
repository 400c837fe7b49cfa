"""Claiming message rows with a lease, and recording what the providers said.

A worker claims a batch of due, queued rows of a sending campaign: it writes its name and a
lease end on them (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so two workers never claim the same
row; SQLite: one writer, and the update re-checks the conditions). The caller commits the
claim before sending. When the provider accepted a message the row becomes `sent` at once;
a row whose worker died keeps `queued` and is claimed again when its lease ends. A paused or
cancelled campaign's rows are not claimed. Marking sent only moves `queued` rows held by
this worker's lease, so a slow worker whose lease was taken over cannot mark twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    String,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, col

from marketing_app.domain.email import SendOutcome
from marketing_app.models import Campaign, CampaignStatus, Contact, EmailMessage
from marketing_app.models import MessageStatus as MS
from marketing_app.models.base import utcnow
from marketing_app.providers.email.console import PROVIDER as CONSOLE
from marketing_app.services.bulk_reads import by_index, driver_rows, one_of
from marketing_app.services.campaign_audience import unsubscribed_condition
from marketing_app.services.campaign_send import HELD
from marketing_app.services.email_rendering_recipients import (
    RECIPIENT_COLUMNS,
    RECIPIENT_FIELDS,
    RecipientRow,
)

DEFAULT_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=2)  # every provider failed: try this row again later
_OUTCOME_COLUMNS = {"mid": BigInteger, "prov": String, "pmid": String, "err": String}


class ClaimedMessage(NamedTuple):  # a tuple: thousands are made per claim
    id: int
    contact_id: int | None
    email: str
    variant: str
    recipient: Any = None  # the profile's RecipientRow, read with the claim


def _claimable(campaign_id: int, now: datetime):
    return and_(
        EmailMessage.campaign_id == campaign_id,
        EmailMessage.status == MS.QUEUED,
        EmailMessage.variant != HELD,
        col(EmailMessage.due_at) <= now,
        or_(col(EmailMessage.lease_until).is_(None), col(EmailMessage.lease_until) < now),
    )


def claim_messages(
    *,
    session: Session,
    campaign_id: int,
    worker: str,
    limit: int,
    lease: timedelta = DEFAULT_LEASE,
    now: datetime | None = None,
) -> list[ClaimedMessage]:
    """Lease up to `limit` due rows of a sending campaign to `worker`, each with its
    profile's RecipientRow; rows whose profile withdrew since the start are skipped instead.
    The caller commits."""
    now = now or utcnow()
    status = session.exec(select(Campaign.status).where(Campaign.id == campaign_id)).first()
    if status is None or status[0] != CampaignStatus.SENDING:
        return []
    campaign = session.get(Campaign, campaign_id)
    if session.get_bind().dialect.name == "postgresql":
        claimed, gone = _claim_with_recipients(session, campaign, worker, limit, now + lease, now)
    else:
        claimed = _claim_rows(session, campaign_id, worker, limit, now + lease, now)
        claimed, gone = _with_recipients(session, campaign, claimed)
    if gone:
        with by_index(session):
            session.execute(
                update(EmailMessage)
                .where(or_(*one_of(session, EmailMessage.id, gone)))
                .values(status=MS.SKIPPED, skip_reason="unsubscribed", lease_owner=None)
            )
    return claimed


def _leased(worker: str, until: datetime) -> dict:
    return {"lease_owner": worker, "lease_until": until, "attempts": EmailMessage.attempts + 1}


def _withdrawn(campaign: Campaign):
    """SQL over Contact: the profile may not get this campaign any more: it is gone (deleted
    since the send started), or it unsubscribed or withdrew consent (transactional mail still
    goes to those)."""
    gone = col(Contact.id).is_(None)
    if campaign.transactional:
        return gone
    return or_(
        gone,
        Contact.email_consent.is_(False),  # type: ignore[attr-defined]
        unsubscribed_condition(campaign.tenant_id, campaign.topic),
    )


def _claim_with_recipients(
    session: Session, campaign: Campaign, worker: str, limit: int, until: datetime, now: datetime
) -> tuple[list[ClaimedMessage], list[int]]:
    """PostgreSQL: one statement locks the due rows and reads them with their profiles and
    whether each withdrew (no second read of 12,000 profiles by id); a second leases them by
    id. One UPDATE joined to the locked rows was planned by the statistics of the moment:
    fresh ones hashed every row of the table (every campaign's) for each claim. The locked
    rows met the conditions when locked and keep them under the lock: no re-check."""
    profile = and_(Contact.id == EmailMessage.contact_id, Contact.tenant_id == campaign.tenant_id)
    due = (
        select(
            EmailMessage.id, EmailMessage.contact_id, EmailMessage.email, EmailMessage.variant,
            _withdrawn(campaign).label("withdrawn"),
            *(c for name, c in zip(RECIPIENT_FIELDS, RECIPIENT_COLUMNS, strict=True)
              if name != "tenant_id"),  # the campaign's: no UUID parsed per row
        )
        .select_from(EmailMessage)
        .outerjoin(Contact, profile)
        .where(_claimable(campaign.id, now))
        .order_by(EmailMessage.due_at)  # the claimable index's order: no sort of every row
        .limit(limit)
        .with_for_update(skip_locked=True, of=EmailMessage)
    )  # fmt: skip
    rows = sorted(driver_rows(session, due))  # by message id
    if rows:
        with by_index(session):
            session.connection().execute(
                update(EmailMessage)
                .where(or_(*one_of(session, EmailMessage.id, [row[0] for row in rows])))
                .values(_leased(worker, until))
            )
    claimed, gone = [], []
    tenant_id = campaign.tenant_id
    for row in rows:
        if row[4]:
            gone.append(row[0])
        else:
            recipient = RecipientRow(row[5], tenant_id, *row[6:])  # id, tenant, the rest
            claimed.append(ClaimedMessage(*row[:4], recipient))
    return claimed, gone


def _claim_rows(
    session: Session, campaign_id: int, worker: str, limit: int, until: datetime, now: datetime
) -> list[ClaimedMessage]:
    """SQLite: one writer, so the update re-checks the conditions of an IN subquery (which
    SQLite runs once); the due ids never travel to Python and back."""
    due = (
        select(EmailMessage.id)
        .where(_claimable(campaign_id, now))
        .order_by(EmailMessage.due_at)
        .limit(limit)
        .scalar_subquery()
    )
    rows = session.connection().execute(
        update(EmailMessage)
        .where(col(EmailMessage.id).in_(due), _claimable(campaign_id, now))
        .values(_leased(worker, until))
        .returning(
            EmailMessage.id, EmailMessage.contact_id, EmailMessage.email, EmailMessage.variant
        )
    )
    return sorted(ClaimedMessage(*row) for row in rows)  # by id, the first field


def _with_recipients(
    session: Session, campaign: Campaign, claimed: list[ClaimedMessage]
) -> tuple[list[ClaimedMessage], list[int]]:
    """The claimed rows with their profiles' RecipientRows, and the ids of the withdrawn."""
    ids = [m.contact_id for m in claimed if m.contact_id is not None]
    found = session.connection().execute(
        select(*RECIPIENT_COLUMNS, _withdrawn(campaign).label("withdrawn")).where(
            Contact.tenant_id == campaign.tenant_id, or_(*one_of(session, Contact.id, ids))
        )
    )
    profiles = {row[0]: row for row in found}
    kept, gone = [], []
    for message in claimed:
        row = profiles.get(message.contact_id)
        if row is None or row[-1]:
            gone.append(message.id)
        else:
            kept.append(message._replace(recipient=RecipientRow._make(row[:-1])))
    return kept, gone


def record_results(
    *,
    session: Session,
    worker: str,
    results: Sequence[SendOutcome],
    now: datetime | None = None,
) -> int:
    """Store what the providers said; returns how many rows this worker's lease still held."""
    now = now or utcnow()
    # The console provider's outbox is where its mail arrives: delivered as it is accepted.
    accepted = [r for r in results if r.accepted and r.provider != CONSOLE]
    outboxed = [r for r in results if r.accepted and r.provider == CONSOLE]
    refused = [r for r in results if not r.accepted and not r.transient]
    retry = [r for r in results if not r.accepted and r.transient]
    changed = 0
    batches = [
        (accepted, {"status": MS.SENT, "sent_at": now, "lease_until": None}),
        (
            outboxed,
            {"status": MS.DELIVERED, "sent_at": now, "delivered_at": now, "lease_until": None},
        ),
        (refused, {"status": MS.FAILED, "lease_until": None}),
        (retry, {"lease_until": now + RETRY_AFTER}),
    ]
    with by_index(session):  # every statement finds its rows by id
        for group, values in batches:
            if group:
                changed += _record_group(session, worker, group, values)
        _fail_exhausted(session, [int(r.message_id) for r in retry])
    return changed


def _record_group(session: Session, worker: str, group: Sequence[SendOutcome], values: dict) -> int:
    """One UPDATE for the outcomes of one kind, each row getting its provider, id and error."""
    params: list[dict] | None = [
        {"mid": int(r.message_id), "prov": r.provider[:30], "pmid": r.provider_message_id,
         "err": r.error[:500]}
        for r in group
    ]  # fmt: skip
    if session.get_bind().dialect.name == "postgresql":
        ids = [row["mid"] for row in params]
        rows = or_(*one_of(session, EmailMessage.id, ids))
        source, params = SimpleNamespace(**_per_row_values(params)), None
    else:  # an executemany
        source = SimpleNamespace(**{name: bindparam(name) for name in _OUTCOME_COLUMNS})
        rows = EmailMessage.id == source.mid
    statement = (
        update(EmailMessage)
        .where(rows, EmailMessage.status == MS.QUEUED, EmailMessage.lease_owner == worker)
        .values(provider=source.prov, provider_message_id=source.pmid, error=source.err, **values)
    )
    return session.connection().execute(statement, params).rowcount or 0


def _per_row_values(params: list[dict]) -> dict:
    """PostgreSQL: each outcome column as SQL giving the value of the row being updated. The
    rows are found by id through the primary key, and a value that differs per row is looked
    up by the row's id in one jsonb parameter, read once (an InitPlan): an UPDATE joined to
    the values as a table was planned by the statistics of the moment, and after an analyze
    of fresh rows it compared every row with every value (1 s for 1,000 rows). A column with
    one value for every row (the provider, an empty error) is one scalar."""
    columns = {}
    for name, kind in _OUTCOME_COLUMNS.items():
        if name == "mid":
            continue
        values = [row[name] for row in params]
        if all(value == values[0] for value in values):
            columns[name] = literal(values[0], kind)
            continue
        by_id = json.dumps({str(row["mid"]): row[name] for row in params})
        mapping = select(cast(bindparam(None, by_id, type_=Text), JSONB)).scalar_subquery()
        columns[name] = mapping.op("->>")(cast(EmailMessage.id, Text))
    return columns


def _fail_exhausted(session: Session, message_ids: list[int]) -> None:
    if message_ids:
        session.execute(
            update(EmailMessage)
            .where(
                or_(*one_of(session, EmailMessage.id, message_ids)),
                EmailMessage.status == MS.QUEUED,
                EmailMessage.attempts >= MAX_ATTEMPTS,
            )
            .values(status=MS.FAILED, lease_until=None)
        )


def finish_if_done(*, session: Session, campaign_id: int, now: datetime | None = None) -> bool:
    """A sending campaign with nothing left to send (held A/B rows count as left, and rows
    still to be written: campaign_send_rows) is sent."""
    if _queued_left(session, campaign_id):
        return False
    campaign = session.get(Campaign, campaign_id, with_for_update=True, populate_existing=True)
    if campaign is None or campaign.status != CampaignStatus.SENDING:
        return False
    if campaign.rows_pending_after is not None or _queued_left(session, campaign_id):
        return False  # a chunk of rows was committed while this waited for the lock
    campaign.status, campaign.finished_at = CampaignStatus.SENT, now or utcnow()
    session.add(campaign)
    session.flush()
    return True


def _queued_left(session: Session, campaign_id: int) -> bool:
    """Not a count: every batch asks, and a big campaign has many rows left."""
    return session.execute(
        select(
            exists().where(
                EmailMessage.campaign_id == campaign_id, EmailMessage.status == MS.QUEUED
            )
        )
    ).scalar_one()


def send_progress(*, session: Session, tenant_id: uuid.UUID, campaign_id: int) -> dict[str, int]:
    """Message counts by state for the progress bar: total, sent, failed, skipped, queued;
    and `writing` 1 while the send's rows are still being written (the total grows)."""
    writing = session.execute(
        select(Campaign.rows_pending_after).where(
            Campaign.id == campaign_id, Campaign.tenant_id == tenant_id
        )
    ).scalar()
    rows = session.exec(
        select(EmailMessage.status, func.count())
        .where(EmailMessage.tenant_id == tenant_id, EmailMessage.campaign_id == campaign_id)
        .group_by(EmailMessage.status)
    ).all()
    counts = {status: int(n) for status, n in rows}
    unsent = (MS.QUEUED, MS.SKIPPED, MS.FAILED)
    return {
        "total": sum(counts.values()),
        "sent": sum(n for status, n in counts.items() if status not in unsent),
        "failed": counts.get(MS.FAILED, 0),
        "skipped": counts.get(MS.SKIPPED, 0),
        "queued": counts.get(MS.QUEUED, 0),
        "writing": int(writing is not None),
    }
