"""A/B tests: each variant's chance of being the best, and sending the winner to the rest.

Open and click rates get a Beta(1 + successes, 1 + failures) posterior per variant (human
opens only); revenue per recipient a normal posterior around its mean (scipy's t-based
standard error). The probability that each variant is best is the share of joint posterior
draws it wins (a fixed seed, so the page shows the same figure on every refresh).

After `wait_hours` from the start of the send, the tick picks the most probable winner
(`decide_due_winners`); a marketer may pick one earlier (`choose_winner`). Either way the
held rows (variant "") get the winner's key and become due now, exactly once.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlmodel import Session

from marketing_app.domain.campaigns import ABTest
from marketing_app.domain.errors import Conflict, InvalidInput
from marketing_app.models import Campaign, CampaignStatus, EmailMessage, Order
from marketing_app.models.base import utcnow
from marketing_app.services.campaign_send import HELD
from marketing_app.services.campaign_stats import Counts, attribution_end, variant_counts
from marketing_app.services.campaigns import get_campaign, specs

if TYPE_CHECKING:
    import numpy as np

DRAWS = 20_000
SEED = 20261121


def _rate_draws(counts: Counts, metric: str, rng) -> np.ndarray:
    from scipy import stats  # numpy/scipy only where a test is judged: workers stay small

    successes = counts.opened if metric == "open" else counts.clicked
    trials = max(counts.reached, successes)
    return stats.beta.rvs(1 + successes, 1 + trials - successes, size=DRAWS, random_state=rng)


def _revenue_samples(session: Session, campaign_id: int, variant: str) -> np.ndarray:
    import numpy as np

    """Revenue attributed to each recipient of the variant (zeros included)."""
    per_message = (
        select(func.coalesce(func.sum(Order.total_cents), 0))
        .where(
            Order.contact_id == EmailMessage.contact_id,
            Order.tenant_id == EmailMessage.tenant_id,
            EmailMessage.clicked_at.is_not(None),
            Order.placed_at >= EmailMessage.clicked_at,
            Order.placed_at <= attribution_end(session),
        )
        .scalar_subquery()
    )
    values = session.execute(
        select(per_message).where(
            EmailMessage.campaign_id == campaign_id, EmailMessage.variant == variant
        )
    ).scalars()
    return np.array([float(v or 0) for v in values])


def _revenue_draws(samples: np.ndarray, rng) -> np.ndarray:
    import numpy as np
    from scipy import stats

    if samples.size < 2:
        return np.zeros(DRAWS)
    error = stats.sem(samples) or 1e-9
    return stats.norm.rvs(loc=samples.mean(), scale=error, size=DRAWS, random_state=rng)


def win_probabilities(*, session: Session, campaign: Campaign) -> dict[str, float]:
    """Variant key -> probability it is the best by the test's metric (sums to 1)."""
    _, _, _, ab = specs(campaign)
    counts = variant_counts(session=session, campaign_id=campaign.id)
    keys = sorted(k for k in counts if k != HELD)
    if len(keys) < 2:
        return {key: 1.0 for key in keys}
    import numpy as np

    rng = np.random.default_rng(SEED)
    if ab.metric == "revenue":
        draws = [_revenue_draws(_revenue_samples(session, campaign.id, k), rng) for k in keys]
    else:
        draws = [_rate_draws(counts[k], ab.metric, rng) for k in keys]
    winners = np.argmax(np.vstack(draws), axis=0)
    shares = np.bincount(winners, minlength=len(keys)) / DRAWS
    return {key: round(float(share), 4) for key, share in zip(keys, shares, strict=True)}


def _release_held(session: Session, campaign: Campaign, winner: str, by: str, now) -> int:
    ab = ABTest.model_validate(campaign.ab_test or {})
    if ab.winner is not None:
        raise Conflict(f"Variant {ab.winner} was already chosen.")
    ab.winner, ab.decided_by, ab.decided_at = winner, by, now
    campaign.ab_test = ab.model_dump(mode="json")
    campaign.updated_at = now
    session.add(campaign)
    released = session.execute(
        update(EmailMessage)
        .where(EmailMessage.campaign_id == campaign.id, EmailMessage.variant == HELD)
        .values(variant=winner, due_at=now)
    )
    session.flush()
    return released.rowcount or 0


def choose_winner(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    campaign_id: int,
    variant: str,
    now: datetime | None = None,
) -> int:
    """A marketer's pick; returns how many held recipients will now get it."""
    campaign = get_campaign(session=session, tenant_id=tenant_id, campaign_id=campaign_id)
    session.refresh(campaign, with_for_update=True)
    content, _, _, ab = specs(campaign)
    if not ab.enabled:
        raise InvalidInput("This campaign has no A/B test.")
    if content.variant(variant) is None:
        raise InvalidInput(f"There is no variant {variant!r}.", field="variant")
    if campaign.status not in (CampaignStatus.SENDING, CampaignStatus.PAUSED):
        raise Conflict(f"A {campaign.status} campaign cannot get a winner now.")
    return _release_held(session, campaign, variant, "marketer", now or utcnow())


def decide_due_winners(*, session: Session, now: datetime | None = None) -> list[int]:
    """Campaigns (any tenant) whose test wait is over get their most probable winner."""
    now = now or utcnow()
    sending = session.exec(
        select(Campaign).where(Campaign.status == CampaignStatus.SENDING)  # type: ignore[arg-type]
    ).scalars()
    decided = []
    for campaign in sending:
        ab = ABTest.model_validate(campaign.ab_test or {})
        if not ab.enabled or ab.winner is not None or campaign.started_at is None:
            continue
        if campaign.started_at + timedelta(hours=ab.wait_hours) > now:
            continue
        session.refresh(campaign, with_for_update=True)
        chances = win_probabilities(session=session, campaign=campaign)
        best = max(sorted(chances), key=lambda key: chances[key])
        _release_held(session, campaign, best, "metric", now)
        decided.append(campaign.id)
    return decided
