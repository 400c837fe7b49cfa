"""Our own tracking: the open pixel and the click redirect of every marketing email.

Both carry the message's signed token (services.email_tokens), so the tenant and message
come from the signature, never from anything a client could choose. Opens and clicks become
`EmailEventIn` values applied by services.email_events (deduplicated, status forward only,
CDP events for segments). A click also starts an attribution session (a WebSession with
the link's UTM) and answers with the original link.

Machine opens and clicks are kept apart so they inflate neither rates nor A/B winners:
- Apple Mail Privacy Protection fetches every pixel from Apple's proxy (17.0.0.0/8) with a
  bare "Mozilla/5.0" user agent, whether or not anyone reads the mail;
- security scanners (Proofpoint, Mimecast, Barracuda, Microsoft Defender's Safe Links...)
  open and click everything, often within seconds of delivery, with tool-like agents.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from marketing_app.domain.email_events import EmailEventIn, EmailEventKind
from marketing_app.domain.errors import NotFound
from marketing_app.models import Campaign, EmailMessage, WebSession
from marketing_app.models.base import utcnow
from marketing_app.services.campaign_compile import compiled_variant
from marketing_app.services.email_events import apply_email_events
from marketing_app.services.email_tokens import TEST_MESSAGE_ID, read_message_token
from marketing_app.services.web_sessions import landing_details_of_url

APPLE_PROXY = ipaddress.ip_network("17.0.0.0/8")
SCANNER_AGENTS = re.compile(
    r"proofpoint|mimecast|barracuda|symantec|messagelabs|safelinks|defender|trendmicro|"
    r"forcepoint|sophos|fortinet|cisco|ironport|bot\b|crawler|spider|python-requests|"
    r"python-urllib|go-http-client|curl/|wget/|java/|okhttp|headless",
    re.IGNORECASE,
)
SCANNER_WINDOW = timedelta(seconds=5)  # a click this soon after sending is no human's
OPEN_DEDUP_SECONDS = 60  # a pixel loaded again within a minute is the same open


@dataclass(frozen=True, slots=True)
class Visit:
    """Who fetched a tracking URL."""

    user_agent: str = ""
    ip: str = ""


def _apple_proxy(visit: Visit) -> bool:
    try:
        return ipaddress.ip_address(visit.ip) in APPLE_PROXY
    except ValueError:
        return False


def is_machine(visit: Visit, *, sent_at: datetime | None, at: datetime) -> bool:
    agent = visit.user_agent.strip()
    if _apple_proxy(visit) or agent in ("", "Mozilla/5.0"):
        return True
    if SCANNER_AGENTS.search(agent):
        return True
    return sent_at is not None and at - sent_at < SCANNER_WINDOW


def _message(session: Session, token: str) -> EmailMessage | None:
    """The message a token names, or None for test sends; NotFound for forged tokens."""
    tenant_id, message_id = read_message_token(token)
    if message_id == TEST_MESSAGE_ID:
        return None
    message = session.get(EmailMessage, message_id)
    if message is None or message.tenant_id != tenant_id:
        raise NotFound("This link is not valid.")
    return message


def record_open(*, session: Session, token: str, visit: Visit, now: datetime | None = None) -> bool:
    """Record a pixel load; returns whether it counted as a human open. Forged tokens and
    test sends record nothing (the pixel is served either way)."""
    now = now or utcnow()
    try:
        message = _message(session, token)
    except NotFound:
        return False
    if message is None:
        return False
    machine = is_machine(visit, sent_at=message.sent_at, at=now)
    bucket = int(now.timestamp()) // OPEN_DEDUP_SECONDS
    event = EmailEventIn(
        provider="tracking",
        event_id=f"open:{message.id}:{bucket}:{int(machine)}",
        kind=EmailEventKind.OPEN,
        occurred_at=now,
        message_id=message.id,
        machine=machine,
        detail={"user_agent": visit.user_agent[:300]},
    )
    apply_email_events(session=session, events=[event], now=now)
    return not machine


def record_click(
    *,
    session: Session,
    token: str,
    url: str,
    link_index: int,
    visit: Visit,
    now: datetime | None = None,
) -> None:
    """Record a click on link `link_index` (whose target is `url`) and start an attribution
    session for a human click. NotFound for a forged token."""
    now = now or utcnow()
    message = _message(session, token)
    if message is None:
        return
    machine = is_machine(visit, sent_at=message.sent_at, at=now)
    event = EmailEventIn(
        provider="tracking",
        event_id=f"click:{message.id}:{link_index}:{int(now.timestamp())}:{int(machine)}",
        kind=EmailEventKind.CLICK,
        occurred_at=now,
        message_id=message.id,
        machine=machine,
        url=url[:2000],
        detail={"link_index": link_index, "user_agent": visit.user_agent[:300]},
    )
    apply_email_events(session=session, events=[event], now=now)
    if not machine and message.contact_id is not None:
        session.add(
            WebSession(
                tenant_id=message.tenant_id,
                contact_id=message.contact_id,
                started_at=now,
                last_event_at=now,
                event_count=1,
                **landing_details_of_url(url, referrer="email"),
            )
        )
        session.flush()


def click_target(*, session: Session, token: str, link_index: int) -> str:
    """Where tracked link `link_index` of the token's message leads (UTM included).
    NotFound for a forged token or an index the email never had."""
    message = _message(session, token)
    if message is None or message.campaign_id is None:
        raise NotFound("This link is not valid.")
    campaign = session.get(Campaign, message.campaign_id)
    compiled = compiled_variant(session=session, campaign=campaign, variant_key=message.variant)
    if not 0 <= link_index < len(compiled.links):
        raise NotFound("This link is not valid.")
    return compiled.links[link_index]
