"""Management API for email campaigns (/api/v1/campaigns) and the vendor marketing shapes
(/api/vendor/marketing/campaigns, /api/vendor/marketing/stats).

Thin routes over services.campaigns, campaign_lifecycle, campaign_ab and campaign_stats,
scoped by a secret key. Scheduling answers 422 listing everything that stops the campaign.
`/send` is scheduling with "now"; the beat tick starts it within seconds.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Query, Response
from sqlmodel import Session

from jobs.dispatch import enqueue_campaign_start
from marketing_app.api.campaign_schemas import (
    AudienceEstimate,
    CampaignCreate,
    CampaignPublic,
    CampaignWrite,
    VendorCampaign,
    WinnerChoice,
)
from marketing_app.api.deps import get_session, secret_key_tenant
from marketing_app.models import Tenant
from marketing_app.models.base import utcnow
from marketing_app.services import campaign_ab, campaign_lifecycle, campaigns
from marketing_app.services.campaign_audience import count_audience
from marketing_app.services.campaign_stats import campaign_stats, headline_counts, tenant_overview

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])
vendor_router = APIRouter(prefix="/api/vendor/marketing", tags=["campaigns"])
Auth = Depends(secret_key_tenant)
Db = Depends(get_session)


def _public(session: Session, campaign) -> CampaignPublic:
    counts = headline_counts(
        session=session, tenant_id=campaign.tenant_id, campaign_ids=[campaign.id]
    )
    return CampaignPublic.of(campaign, counts.get(campaign.id))


@router.get("", response_model=list[CampaignPublic], summary="List campaigns")
def list_campaigns(status: str | None = None, tenant: Tenant = Auth, session: Session = Db):
    found = campaigns.list_campaigns(session=session, tenant_id=tenant.id, status=status)
    counts = headline_counts(
        session=session, tenant_id=tenant.id, campaign_ids=[c.id for c in found]
    )
    return [CampaignPublic.of(c, counts.get(c.id)) for c in found]


@router.post("", response_model=CampaignPublic, status_code=201, summary="Create a draft")
def create_campaign(body: CampaignCreate, tenant: Tenant = Auth, session: Session = Db):
    fields = body.changes()
    campaign = campaigns.create_campaign(
        session=session, tenant_id=tenant.id, created_by="api", **fields
    )
    session.commit()
    return _public(session, campaign)


@router.get("/{campaign_id}", response_model=CampaignPublic, summary="One campaign")
def get_campaign(campaign_id: int, tenant: Tenant = Auth, session: Session = Db):
    campaign = campaigns.get_campaign(session=session, tenant_id=tenant.id, campaign_id=campaign_id)
    return _public(session, campaign)


@router.patch("/{campaign_id}", response_model=CampaignPublic, summary="Edit a draft")
def update_campaign(
    campaign_id: int, body: CampaignWrite, tenant: Tenant = Auth, session: Session = Db
):
    campaign = campaigns.update_campaign(
        session=session, tenant_id=tenant.id, campaign_id=campaign_id, **body.changes()
    )
    session.commit()
    return _public(session, campaign)


@router.delete("/{campaign_id}", status_code=204, summary="Delete a campaign that never sent")
def delete_campaign(campaign_id: int, tenant: Tenant = Auth, session: Session = Db):
    campaigns.delete_campaign(session=session, tenant_id=tenant.id, campaign_id=campaign_id)
    session.commit()
    return Response(status_code=204)


@router.get("/{campaign_id}/audience", response_model=AudienceEstimate)
def audience(campaign_id: int, tenant: Tenant = Auth, session: Session = Db):
    """Who the campaign would reach now, and why the others are left out."""
    campaign = campaigns.get_campaign(session=session, tenant_id=tenant.id, campaign_id=campaign_id)
    _, chosen, _, _ = campaigns.specs(campaign)
    count = count_audience(
        session=session,
        tenant_id=tenant.id,
        audience=chosen,
        topic=campaign.topic,
        transactional=campaign.transactional,
    )
    return AudienceEstimate(**count.__dict__)


@router.post("/{campaign_id}/schedule", response_model=CampaignPublic)
def schedule(campaign_id: int, tenant: Tenant = Auth, session: Session = Db):
    """Schedule by the campaign's own schedule (now, at a time, or local time)."""
    campaign = campaign_lifecycle.schedule_campaign(
        session=session, tenant_id=tenant.id, campaign_id=campaign_id
    )
    session.commit()
    if campaign_lifecycle.starts_now(campaign):
        enqueue_campaign_start(campaign.id)
    return _public(session, campaign)


@router.post("/{campaign_id}/send", response_model=CampaignPublic, summary="Send now")
def send_now(campaign_id: int, tenant: Tenant = Auth, session: Session = Db):
    campaign = campaign_lifecycle.send_campaign_now(
        session=session, tenant_id=tenant.id, campaign_id=campaign_id
    )
    session.commit()
    enqueue_campaign_start(campaign.id)
    return _public(session, campaign)


def _transition(name: str):
    move = getattr(campaign_lifecycle, f"{name}_campaign")

    def route(campaign_id: int, tenant: Tenant = Auth, session: Session = Db):
        campaign = move(session=session, tenant_id=tenant.id, campaign_id=campaign_id)
        session.commit()
        return _public(session, campaign)

    route.__name__ = name
    return route


for _action in ("unschedule", "pause", "resume", "cancel"):
    router.add_api_route(
        f"/{{campaign_id}}/{_action}",
        _transition(_action),
        methods=["POST"],
        response_model=CampaignPublic,
        summary=f"{_action.capitalize()} the campaign",
    )


@router.get("/{campaign_id}/stats", summary="Counts, rates, variants, timeline, revenue")
def stats(campaign_id: int, tenant: Tenant = Auth, session: Session = Db) -> dict:
    report = campaign_stats(session=session, tenant_id=tenant.id, campaign_id=campaign_id)
    campaign = campaigns.get_campaign(session=session, tenant_id=tenant.id, campaign_id=campaign_id)
    if (campaign.ab_test or {}).get("enabled"):
        report["win_probability"] = campaign_ab.win_probabilities(
            session=session, campaign=campaign
        )
    return report


@router.post("/{campaign_id}/winner", summary="Send this A/B variant to the rest now")
def choose_winner(
    campaign_id: int, body: WinnerChoice, tenant: Tenant = Auth, session: Session = Db
) -> dict:
    released = campaign_ab.choose_winner(
        session=session, tenant_id=tenant.id, campaign_id=campaign_id, variant=body.variant
    )
    session.commit()
    return {"variant": body.variant, "recipients": released}


@vendor_router.get("/campaigns", response_model=list[VendorCampaign])
def vendor_campaigns(tenant: Tenant = Auth, session: Session = Db):
    found = campaigns.list_campaigns(session=session, tenant_id=tenant.id)
    counts = headline_counts(
        session=session, tenant_id=tenant.id, campaign_ids=[c.id for c in found]
    )
    return [_vendor(c, counts.get(c.id)) for c in found]


def _vendor(campaign, counts) -> VendorCampaign:
    content, _, _, _ = campaigns.specs(campaign)
    rates = counts.as_dict() if counts is not None else {}
    return VendorCampaign(
        id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        subject=content.variants[0].subject,
        scheduled_for=campaign.scheduled_for,
        sent_at=campaign.started_at,
        recipients=rates.get("recipients", 0),
        delivered=rates.get("delivered", 0),
        opens=rates.get("opened", 0),
        clicks=rates.get("clicked", 0),
        open_rate=rates.get("open_rate", 0.0),
        click_rate=rates.get("click_rate", 0.0),
        unsubscribes=rates.get("unsubscribed", 0),
        bounces=rates.get("bounced", 0),
    )


@vendor_router.get("/stats", summary="Email marketing over the last N days")
def vendor_stats(
    days: int = Query(default=30, ge=1, le=365), tenant: Tenant = Auth, session: Session = Db
) -> dict:
    since = utcnow() - timedelta(days=days)
    overview = tenant_overview(session=session, tenant_id=tenant.id, since=since)
    sent = [
        c
        for c in campaigns.list_campaigns(session=session, tenant_id=tenant.id)
        if c.started_at and c.started_at >= since
    ]
    return {"days": days, "campaigns_sent": len(sent), "email": overview}
