"""Email campaigns: create, edit, schedule, pause, resume, cancel, delete.

Lifecycle: draft -> scheduled -> sending -> sent, with paused between sending and sending,
and cancelled from scheduled, sending or paused. Only a draft is edited (unschedule first);
only a campaign that never started sending is deleted. Scheduling checks everything a send
needs and says what is missing (`readiness_problems`); the send itself starts from the beat
tick when `scheduled_for` is due (services.campaign_send).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete
from sqlmodel import Session, col, select

from marketing_app.domain.campaigns import ABTest, Audience, CampaignContent, Schedule, Variant
from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import Campaign, CampaignStatus, EmailMessage, EmailTemplate
from marketing_app.models.base import utcnow
from marketing_app.services.campaign_audience import check_segments
from marketing_app.services.loyalty_programs import refuse_nul
from marketing_app.services.users import validated_email

MAX_ID = 2**31 - 1
EDITABLE = (CampaignStatus.DRAFT,)
SPEC_FIELDS: dict[str, type[BaseModel]] = {
    "content": CampaignContent,
    "audience": Audience,
    "schedule": Schedule,
    "ab_test": ABTest,
}
TEXT_FIELDS = {"name": 200, "topic": 60, "from_name": 120, "from_email": 320, "reply_to": 320}


def _spec(field: str, raw: Any) -> BaseModel:
    model = SPEC_FIELDS[field]
    if isinstance(raw, model):
        return raw
    try:
        return model.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise InvalidInput(
            f"{field}{'.' + where if where else ''}: {message}", field=field
        ) from exc


def specs(campaign: Campaign) -> tuple[CampaignContent, Audience, Schedule, ABTest]:
    """The campaign's validated content, audience, schedule and A/B settings."""
    return (
        CampaignContent.model_validate(campaign.content or {}),
        Audience.model_validate(campaign.audience or {}),
        Schedule.model_validate(campaign.schedule or {}),
        ABTest.model_validate(campaign.ab_test or {}),
    )


def get_campaign(*, session: Session, tenant_id: uuid.UUID, campaign_id: int) -> Campaign:
    if not isinstance(campaign_id, int) or not 1 <= campaign_id <= MAX_ID:
        raise NotFound("Campaign not found.")
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.tenant_id != tenant_id:
        raise NotFound("Campaign not found.")
    return campaign


def list_campaigns(
    *, session: Session, tenant_id: uuid.UUID, status: str | None = None
) -> list[Campaign]:
    query = select(Campaign).where(Campaign.tenant_id == tenant_id)
    if status:
        query = query.where(Campaign.status == status)
    return list(session.exec(query.order_by(col(Campaign.id).desc())))


def _clean_text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text.", field=field)
    value = refuse_nul(value.strip(), field, field.replace("_", " ").capitalize())
    if len(value) > TEXT_FIELDS[field]:
        raise InvalidInput(f"{field} is longer than {TEXT_FIELDS[field]} characters.", field=field)
    if field in ("from_email", "reply_to") and value:
        try:
            value = validated_email(value)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=field) from None
    if field == "name" and not value:
        raise InvalidInput("Give the campaign a name.", field="name")
    return value


def _content_from_template(session: Session, tenant_id, template_id: int) -> CampaignContent:
    template = session.get(EmailTemplate, template_id) if 0 < template_id <= MAX_ID else None
    if template is None or template.tenant_id != tenant_id:
        raise InvalidInput("That template does not exist.", field="template_id")
    variant = Variant(
        key="A", subject=template.subject, preheader=template.preheader, html=template.html
    )
    return CampaignContent(variants=[variant])


def _apply(session: Session, campaign: Campaign, changes: dict[str, Any]) -> None:
    unknown = set(changes) - set(TEXT_FIELDS) - set(SPEC_FIELDS) - {"template_id", "transactional"}
    if unknown:
        raise InvalidInput(f"Unknown campaign field {sorted(unknown)[0]!r}.")
    for field, value in changes.items():
        if field in TEXT_FIELDS:
            setattr(campaign, field, _clean_text(field, value))
        elif field in SPEC_FIELDS:
            spec = _spec(field, value)
            if field == "audience":
                check_segments(session=session, tenant_id=campaign.tenant_id, audience=spec)
            setattr(campaign, field, spec.model_dump(mode="json"))
        elif field == "transactional":
            campaign.transactional = bool(value)
    template_id = changes.get("template_id")
    if template_id is not None:
        campaign.template_id = int(template_id)
        if "content" not in changes:
            content = _content_from_template(session, campaign.tenant_id, int(template_id))
            campaign.content = content.model_dump(mode="json")


def create_campaign(
    *, session: Session, tenant_id: uuid.UUID, name: str, created_by: str = "", **fields: Any
) -> Campaign:
    """A draft; any of the editable fields may be given now or later."""
    campaign = Campaign(tenant_id=tenant_id, name="", created_by=created_by[:200])
    campaign.content = CampaignContent().model_dump(mode="json")
    _apply(session, campaign, {"name": name, **fields})
    session.add(campaign)
    session.flush()
    return campaign


def update_campaign(
    *, session: Session, tenant_id: uuid.UUID, campaign_id: int, **changes: Any
) -> Campaign:
    campaign = get_campaign(session=session, tenant_id=tenant_id, campaign_id=campaign_id)
    if campaign.status not in EDITABLE:
        raise Conflict(f"A {campaign.status} campaign cannot be edited; unschedule it first.")
    _apply(session, campaign, changes)
    campaign.updated_at = utcnow()
    session.add(campaign)
    session.flush()
    return campaign


def delete_campaign(*, session: Session, tenant_id: uuid.UUID, campaign_id: int) -> None:
    campaign = get_campaign(session=session, tenant_id=tenant_id, campaign_id=campaign_id)
    if campaign.executed:
        raise Conflict("This campaign has sent mail; it can be cancelled but not deleted.")
    # A campaign that never sent has no message rows; none may outlive it (no foreign key)
    session.exec(delete(EmailMessage).where(EmailMessage.campaign_id == campaign.id))
    session.delete(campaign)
    session.flush()
