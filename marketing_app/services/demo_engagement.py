"""Past email and SMS campaigns of the demo businesses, as the engagement events segments read.

Each receiver gets a Delivered event; some open (a share of opens are machine opens by Apple
Mail Privacy Protection, marked `machine_open`) and a few click. Events carry the campaign's id
and name and are already attached to their profile, like the rest of the demo events.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from marketing_app.services.demo_profiles import BusinessProfile

EMAIL_EVERY_DAYS = 15  # eight campaigns reach back 120 days
SMS_EVERY_DAYS = 40
HUMAN_OPEN_RATE = 0.35  # of receivers
CLICK_RATE = 0.06  # of receivers; everyone who clicks has opened
# Receivers behind Apple Mail Privacy Protection: every email they get is "opened" by a proxy
# within minutes. At this share about 15% of all opens are machine opens.
PRIVACY_PROXY_SHARE = 0.062
SMS_CLICK_RATE = 0.08


@dataclass(frozen=True)
class DemoCampaign:
    id: str
    name: str
    channel: str  # email | sms
    sent_at: datetime


def demo_campaigns(profile: BusinessProfile, now: datetime) -> list[DemoCampaign]:
    """The business's campaigns, oldest first, sent mid-morning on the US east coast."""

    def sent(days_ago: int) -> datetime:
        return now - timedelta(days=days_ago, hours=-2)

    emails = len(profile.email_campaigns)
    return [
        DemoCampaign(
            f"demo-{profile.kind}-email-{n + 1:02d}",
            name,
            "email",
            sent(EMAIL_EVERY_DAYS * (emails - n)),
        )
        for n, name in enumerate(profile.email_campaigns)
    ] + [
        DemoCampaign(
            f"demo-{profile.kind}-sms-{n + 1:02d}",
            name,
            "sms",
            sent(SMS_EVERY_DAYS * (len(profile.sms_campaigns) - n) - 20),
        )
        for n, name in enumerate(profile.sms_campaigns)
    ]


def _event(tenant_id, contact_id, campaign, step, name, at, **extra) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "message_id": f"{campaign.id}-{contact_id}-{step}",
        "type": "track",
        "name": name,
        "properties": {"campaign_id": campaign.id, "campaign_name": campaign.name, **extra},
        "occurred_at": at,
        "received_at": at,
        "processed_at": at,  # already attached to its profile
    }


def _email_reactions(tenant_id, contact_id, campaign, proxied, rng, now) -> list[dict]:
    delivered = campaign.sent_at + timedelta(seconds=rng.uniform(1, 300))
    events = [_event(tenant_id, contact_id, campaign, "delivered", "Email Delivered", delivered)]
    if proxied:
        at = delivered + timedelta(seconds=rng.uniform(20, 600))
        events.append(
            _event(
                tenant_id, contact_id, campaign, "proxy-open", "Email Opened", at, machine_open=True
            )
        )
    roll = rng.random()
    if roll < HUMAN_OPEN_RATE:
        opened = min(now, delivered + timedelta(hours=rng.expovariate(1 / 8)))
        events.append(_event(tenant_id, contact_id, campaign, "open", "Email Opened", opened))
        if roll < CLICK_RATE:
            clicked = min(now, opened + timedelta(seconds=rng.uniform(5, 600)))
            events.append(
                _event(tenant_id, contact_id, campaign, "click", "Email Link Clicked", clicked)
            )
    return events


def _sms_reactions(tenant_id, contact_id, campaign, rng, now) -> list[dict]:
    delivered = campaign.sent_at + timedelta(seconds=rng.uniform(1, 120))
    events = [_event(tenant_id, contact_id, campaign, "delivered", "SMS Delivered", delivered)]
    if rng.random() < SMS_CLICK_RATE:
        clicked = min(now, delivered + timedelta(minutes=rng.expovariate(1 / 30)))
        events.append(_event(tenant_id, contact_id, campaign, "click", "SMS Link Clicked", clicked))
    return events


def engagement_events(
    tenant_id: uuid.UUID,
    profile: BusinessProfile,
    contacts: Sequence[Any],
    rng: random.Random,
    now: datetime,
) -> list[dict[str, Any]]:
    """Event rows for every campaign's receivers: contacts that existed when it went out and
    consent to its channel (and have a phone, for SMS). `contacts` are rows with id,
    created_at, email_consent, sms_consent and phone."""
    proxied = {c.id for c in contacts if rng.random() < PRIVACY_PROXY_SHARE}
    events: list[dict[str, Any]] = []
    for campaign in demo_campaigns(profile, now):
        for c in contacts:
            if c.created_at > campaign.sent_at:
                continue
            if campaign.channel == "email" and c.email_consent:
                events += _email_reactions(tenant_id, c.id, campaign, c.id in proxied, rng, now)
            elif campaign.channel == "sms" and c.sms_consent and c.phone:
                events += _sms_reactions(tenant_id, c.id, campaign, rng, now)
    return events
