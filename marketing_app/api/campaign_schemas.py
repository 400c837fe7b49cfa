"""Request and response shapes of the campaigns API (/api/v1/campaigns, /api/vendor/marketing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from marketing_app.models import Campaign
from marketing_app.services.campaign_stats import Counts


class CampaignWrite(BaseModel):
    """Fields of a campaign; on PATCH only those sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    topic: str | None = Field(default=None, max_length=60)
    transactional: bool | None = None
    from_name: str | None = Field(default=None, max_length=120)
    from_email: str | None = Field(default=None, max_length=320)
    reply_to: str | None = Field(default=None, max_length=320)
    template_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    content: dict[str, Any] | None = None
    audience: dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None
    ab_test: dict[str, Any] | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude_none=True)


class CampaignCreate(CampaignWrite):
    name: str = Field(min_length=1, max_length=200)


class CampaignPublic(BaseModel):
    id: int
    name: str
    status: str
    topic: str
    transactional: bool
    from_name: str
    from_email: str
    reply_to: str
    template_id: int | None
    content: dict[str, Any]
    audience: dict[str, Any]
    schedule: dict[str, Any]
    ab_test: dict[str, Any]
    send_summary: dict[str, Any]
    scheduled_for: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime
    headline: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, campaign: Campaign, counts: Counts | None = None) -> CampaignPublic:
        fields = {name: getattr(campaign, name) for name in cls.model_fields if name != "headline"}
        headline = {}
        if counts is not None:
            rates = counts.as_dict()
            headline = {
                key: rates[key]
                for key in ("sent", "delivered", "opened", "clicked", "open_rate", "click_rate")
            }
        return cls(**fields, headline=headline)


class WinnerChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variant: str = Field(pattern="^[ABCD]$")


class AudienceEstimate(BaseModel):
    members: int
    excluded: int
    no_address: int
    unconsented: int
    suppressed: int
    unsubscribed: int
    eligible: int


class VendorCampaign(BaseModel):
    """One campaign in the vendor marketing shape."""

    id: int
    name: str
    channel: str = "email"
    status: str
    subject: str
    scheduled_for: datetime | None
    sent_at: datetime | None
    recipients: int
    delivered: int
    opens: int
    clicks: int
    open_rate: float
    click_rate: float
    unsubscribes: int
    bounces: int
