"""Web sessions: a visitor's events with no gap over 30 minutes, with the visit's landing UTM.

Kept for attribution: the first session's UTM says where a customer came from, the last
before an order says what brought them back.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from sqlmodel import Session, col, select

from marketing_app.models import Event, WebSession

SESSION_GAP = timedelta(minutes=30)
UTM_FIELDS = ("source", "medium", "campaign", "term", "content")


def _text(value: object, limit: int) -> str:
    return str(value)[:limit] if isinstance(value, str | int | float) else ""


def landing_details_of_url(url: str, referrer: str = "") -> dict[str, str]:
    """Landing URL, referrer and the URL's utm_* query values."""
    url = _text(url, 2000)
    query = parse_qs(urlparse(url).query) if url else {}
    details = {"landing_url": url, "referrer": _text(referrer, 2000)}
    for field in UTM_FIELDS:
        details[f"utm_{field}"] = _text(query.get(f"utm_{field}", [""])[0], 200)
    return details


def landing_details(event: Event) -> dict[str, str]:
    """URL, referrer and UTM of the event: context.campaign first, else the URL's utm_* query."""
    context = event.context or {}
    page = context.get("page") if isinstance(context.get("page"), dict) else {}
    url = page.get("url") or (event.properties or {}).get("url")
    referrer = page.get("referrer") or (event.properties or {}).get("referrer")
    details = landing_details_of_url(url or "", referrer or "")
    campaign = context.get("campaign") if isinstance(context.get("campaign"), dict) else {}
    for field in UTM_FIELDS:
        # Segment's libraries send utm_campaign as context.campaign.name.
        value = campaign.get("name" if field == "campaign" else field)
        if value:
            details[f"utm_{field}"] = _text(value, 200)
    return details


class Sessionizer:
    """Open sessions of one processing batch, keyed by contact."""

    def __init__(self, session: Session, tenant_id: uuid.UUID) -> None:
        self.session, self.tenant_id = session, tenant_id
        self.latest: dict[int, WebSession | None] = {}

    def _latest_for(self, contact_id: int) -> WebSession | None:
        if contact_id not in self.latest:
            self.latest[contact_id] = self.session.exec(
                select(WebSession)
                .where(WebSession.contact_id == contact_id)
                .order_by(col(WebSession.last_event_at).desc())
                .limit(1)
            ).first()
        return self.latest[contact_id]

    def record(self, event: Event, contact_id: int) -> WebSession | None:
        """Extend the contact's open session with the event, or start one (web events only)."""
        if event.type not in ("page", "track", "screen"):
            return None
        current = self._latest_for(contact_id)
        at = event.occurred_at
        if (
            current is not None
            and current.started_at - SESSION_GAP <= at <= current.last_event_at + SESSION_GAP
        ):
            current.last_event_at = max(current.last_event_at, at)
            current.started_at = min(current.started_at, at)
            current.event_count += 1
            self.session.add(current)
            return current
        if event.type == "track" and not (event.context or {}).get("page"):
            return None  # a server-side track (POS, backend) is not a visit
        started = WebSession(
            tenant_id=self.tenant_id,
            contact_id=contact_id,
            anonymous_id=event.anonymous_id,
            started_at=at,
            last_event_at=at,
            event_count=1,
            **landing_details(event),
        )
        self.session.add(started)
        self.latest[contact_id] = started
        return started

    def reassign(self, loser: int, winner: int) -> None:
        self.latest.pop(loser, None)
        self.latest.pop(winner, None)


def sessions_of(*, session: Session, contact_id: int, limit: int = 50) -> list[WebSession]:
    query = select(WebSession).where(WebSession.contact_id == contact_id)
    return list(session.exec(query.order_by(col(WebSession.started_at).desc()).limit(limit)))
