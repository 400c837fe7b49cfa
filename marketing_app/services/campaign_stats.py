"""Campaign statistics: counts and rates per campaign and per variant, over time, revenue.

Rates are of delivered mail (sent when no delivery report came back), opens are human opens
only (machine opens are counted apart and never feed a rate or an A/B winner), clicks and
opens count recipients, not events. Revenue is the total of orders a recipient placed within
the attribution window after their first click.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, cast, func, select
from sqlmodel import Session

from marketing_app.models import EmailEvent, EmailMessage, Order
from marketing_app.models import MessageStatus as MS
from marketing_app.services.campaigns import get_campaign

ATTRIBUTION_WINDOW = timedelta(days=5)


def attribution_end(session: Session):
    """SQL: the end of a click's attribution window. SQLite stores datetimes as text, where
    adding an interval means nothing: its datetime() function adds the days instead."""
    if session.get_bind().dialect.name == "sqlite":
        days = f"+{ATTRIBUTION_WINDOW.days} days"
        return func.strftime("%Y-%m-%d %H:%M:%f", EmailMessage.clicked_at, days)
    return EmailMessage.clicked_at + ATTRIBUTION_WINDOW


NOT_SENT = (MS.QUEUED, MS.SKIPPED, MS.FAILED)
DELIVERY_FAILED = (MS.BOUNCED, MS.DROPPED)


@dataclass(frozen=True)
class Counts:
    recipients: int = 0
    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    failed: int = 0
    skipped: int = 0
    queued: int = 0
    opened: int = 0
    machine_opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    complained: int = 0
    revenue_cents: int = 0
    orders: int = 0

    @property
    def reached(self) -> int:
        """The base of the rates: delivered, or sent and not bounced when no report came."""
        return max(self.delivered, self.sent - self.bounced)

    def rate(self, part: int) -> float:
        return round(part / self.reached, 4) if self.reached else 0.0

    def as_dict(self) -> dict:
        found = asdict(self)
        found.update(
            delivery_rate=round(self.delivered / self.sent, 4) if self.sent else 0.0,
            open_rate=self.rate(self.opened),
            click_rate=self.rate(self.clicked),
            bounce_rate=round(self.bounced / self.sent, 4) if self.sent else 0.0,
            unsubscribe_rate=self.rate(self.unsubscribed),
            complaint_rate=self.rate(self.complained),
        )
        return found


def _is(column) -> object:
    return func.count().filter(column.is_not(None))


def _count_columns():
    status = EmailMessage.status
    return (
        func.count(),
        func.count().filter(status.not_in(NOT_SENT)),
        func.count().filter(EmailMessage.delivered_at.is_not(None)),
        func.count().filter(status.in_(DELIVERY_FAILED)),
        func.count().filter(status == MS.FAILED),
        func.count().filter(status == MS.SKIPPED),
        func.count().filter(status == MS.QUEUED),
        _is(EmailMessage.opened_at),
        func.count().filter(
            and_(EmailMessage.machine_opened_at.is_not(None), EmailMessage.opened_at.is_(None))
        ),
        _is(EmailMessage.clicked_at),
        _is(EmailMessage.unsubscribed_at),
        _is(EmailMessage.complained_at),
    )


def _revenue(session: Session, campaign_id: int) -> dict[str, tuple[int, int]]:
    """Variant -> (orders, revenue cents) attributed to clicks of the campaign."""
    window_end = attribution_end(session)
    rows = session.execute(
        select(EmailMessage.variant, func.count(Order.id), func.sum(Order.total_cents))
        .join(
            Order,
            and_(
                Order.contact_id == EmailMessage.contact_id,
                Order.tenant_id == EmailMessage.tenant_id,
                Order.placed_at >= EmailMessage.clicked_at,
                Order.placed_at <= window_end,
                Order.total_cents > 0,
            ),
        )
        .where(EmailMessage.campaign_id == campaign_id, EmailMessage.clicked_at.is_not(None))
        .group_by(EmailMessage.variant)
    ).all()
    return {variant: (int(n), int(cents or 0)) for variant, n, cents in rows}


def variant_counts(*, session: Session, campaign_id: int) -> dict[str, Counts]:
    """Counts per variant key ("" holds rows waiting for an A/B winner)."""
    rows = session.execute(
        select(EmailMessage.variant, *_count_columns())
        .where(EmailMessage.campaign_id == campaign_id)
        .group_by(EmailMessage.variant)
    ).all()
    revenue = _revenue(session, campaign_id)
    found = {}
    for variant, *numbers in rows:
        orders, cents = revenue.get(variant, (0, 0))
        found[variant] = Counts(*map(int, numbers), revenue_cents=cents, orders=orders)
    return found


def total(counts: dict[str, Counts]) -> Counts:
    fields = Counts.__dataclass_fields__
    return Counts(**{name: sum(getattr(c, name) for c in counts.values()) for name in fields})


def timeline(*, session: Session, campaign_id: int, since: datetime | None = None) -> list[dict]:
    """Human opens and clicks per hour since the send started."""
    hour = func.date_trunc("hour", EmailEvent.occurred_at)
    if session.get_bind().dialect.name != "postgresql":
        hour = func.strftime("%Y-%m-%dT%H:00:00", EmailEvent.occurred_at)
    rows = session.execute(
        select(
            hour.label("hour"),
            func.sum(cast(EmailEvent.kind == "open", Integer)),
            func.sum(cast(EmailEvent.kind == "click", Integer)),
        )
        .join(EmailMessage, EmailMessage.id == EmailEvent.message_id)
        .where(
            EmailMessage.campaign_id == campaign_id,
            EmailEvent.machine.is_(False),  # type: ignore[attr-defined]
            EmailEvent.kind.in_(("open", "click")),
            *([EmailEvent.occurred_at >= since] if since else []),
        )
        .group_by("hour")
        .order_by("hour")
    ).all()
    return [
        {"hour": str(at), "opens": int(opens or 0), "clicks": int(clicks or 0)}
        for at, opens, clicks in rows
    ]


def campaign_stats(*, session: Session, tenant_id: uuid.UUID, campaign_id: int) -> dict:
    """Everything the report page and `/stats` show for one campaign."""
    campaign = get_campaign(session=session, tenant_id=tenant_id, campaign_id=campaign_id)
    by_variant = variant_counts(session=session, campaign_id=campaign_id)
    return {
        "campaign_id": campaign.id,
        "name": campaign.name,
        "status": campaign.status,
        "started_at": campaign.started_at.isoformat() if campaign.started_at else None,
        "finished_at": campaign.finished_at.isoformat() if campaign.finished_at else None,
        "summary": campaign.send_summary or {},
        "totals": total(by_variant).as_dict(),
        "variants": {key or "held": c.as_dict() for key, c in sorted(by_variant.items())},
        "timeline": timeline(session=session, campaign_id=campaign_id),
    }


def headline_counts(
    *, session: Session, tenant_id: uuid.UUID, campaign_ids: list[int]
) -> dict[int, Counts]:
    """Counts per campaign for a list page, in one query (revenue left out)."""
    if not campaign_ids:
        return {}
    rows = session.execute(
        select(EmailMessage.campaign_id, *_count_columns())
        .where(EmailMessage.tenant_id == tenant_id, EmailMessage.campaign_id.in_(campaign_ids))
        .group_by(EmailMessage.campaign_id)
    ).all()
    return {campaign_id: Counts(*map(int, numbers)) for campaign_id, *numbers in rows}


def tenant_overview(*, session: Session, tenant_id: uuid.UUID, since: datetime) -> dict:
    """Marketing email across campaigns sent since `since`: the vendor stats shape."""
    rows = session.execute(
        select(*_count_columns()).where(
            EmailMessage.tenant_id == tenant_id, EmailMessage.sent_at >= since
        )
    ).one()
    counts = Counts(*map(int, rows))
    revenue = session.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.total_cents), 0))
        .join(
            EmailMessage,
            and_(
                Order.contact_id == EmailMessage.contact_id,
                Order.tenant_id == EmailMessage.tenant_id,
                Order.placed_at >= EmailMessage.clicked_at,
                Order.placed_at <= attribution_end(session),
                Order.total_cents > 0,
            ),
        )
        .where(EmailMessage.tenant_id == tenant_id, EmailMessage.sent_at >= since)
    ).one()
    found = counts.as_dict()
    found.update(orders=int(revenue[0]), revenue_cents=int(revenue[1]))
    return found
