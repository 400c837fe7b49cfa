"""A campaign variant compiled once per process: the sender renders every recipient from it,
and the click redirect reads where link i leads from the same compile.

The cache key includes the campaign's `updated_at`, so an edit (only possible in draft)
never serves an old compile; a sent campaign never changes, so its compile stays valid.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlmodel import Session

from marketing_app.domain.campaigns import CampaignContent
from marketing_app.domain.errors import NotFound
from marketing_app.models import Campaign, Tenant
from marketing_app.services.email_rendering import CompiledEmail, compile_email

CACHE_SIZE = 64


def campaign_utm(campaign: Campaign, variant_key: str) -> dict[str, str]:
    """UTM parameters every tracked link of the campaign carries."""
    slug = re.sub(r"[^a-z0-9]+", "-", campaign.name.lower()).strip("-")[:60]
    return {
        "utm_source": "email",
        "utm_medium": "email",
        "utm_campaign": slug or f"campaign-{campaign.id}",
        "utm_content": variant_key,
    }


@lru_cache(maxsize=CACHE_SIZE)
def _compiled(key: tuple, fields: tuple) -> CompiledEmail:
    subject, preheader, html, tenant_name, address, utm, topic, transactional = fields
    return compile_email(
        subject=subject,
        preheader=preheader,
        html=html,
        tenant_name=tenant_name,
        postal_address=address,
        utm=dict(utm),
        footer_topic=topic,
        transactional=transactional,
    )


def compiled_variant(*, session: Session, campaign: Campaign, variant_key: str) -> CompiledEmail:
    """The variant compiled (cached); NotFound when the campaign has no such variant."""
    content = CampaignContent.model_validate(campaign.content or {})
    variant = content.variant(variant_key)
    if variant is None:
        raise NotFound(f"Campaign {campaign.id} has no variant {variant_key!r}.")
    tenant = session.get(Tenant, campaign.tenant_id)
    utm = tuple(sorted(campaign_utm(campaign, variant_key).items()))
    topic = "" if campaign.topic == "marketing" else campaign.topic
    fields = (
        variant.subject,
        variant.preheader,
        variant.html,
        tenant.name,
        tenant.postal_address or "",
        utm,
        topic,
        campaign.transactional,
    )
    key = (campaign.id, campaign.updated_at, variant_key)
    return _compiled(key, fields)
