"""Redeeming points for a discount code: a tier's reward, or N points at the point's value.

Each redemption is keyed by the caller's idempotency key (a retried request gets the same
code back and spends nothing more). Points leave the balance only through the ledger's
conditional UPDATE, so a redemption the balance does not cover is refused with nothing
written, also when many arrive at once.
"""

from __future__ import annotations

import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from marketing_app.domain.errors import Conflict, InvalidInput
from marketing_app.models import (
    LedgerKind,
    LedgerSource,
    LoyaltyAccount,
    LoyaltyLedgerEntry,
    LoyaltyRedemption,
)
from marketing_app.models.base import utcnow
from marketing_app.services.bulk import insert_returning_new_keys
from marketing_app.services.loyalty_adjustments import balance_of, require_contact
from marketing_app.services.loyalty_ledger import entry_row, spend_points
from marketing_app.services.loyalty_programs import (
    LoyaltySettings,
    refuse_nul,
    require_settings,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread at a till
CODE_GROUPS = 2  # of five characters: 32^10 codes, so a collision is a retry, not a risk
CODE_ATTEMPTS = 5
MAX_REDEMPTION = 10_000_000  # points


@dataclass(frozen=True)
class Offer:
    points: int
    tier: str = ""
    percent_off: int | None = None
    amount_off_cents: int | None = None

    def describe(self) -> str:
        if self.percent_off is not None:
            return f"{self.percent_off}% off"
        return f"${(self.amount_off_cents or 0) / 100:,.2f} off"


@dataclass(frozen=True)
class RedemptionResult:
    redemption: LoyaltyRedemption
    balance: int  # after the redemption
    replayed: bool = False

    @property
    def code(self) -> str:
        return self.redemption.code


def new_code() -> str:
    groups = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(5)) for _ in range(CODE_GROUPS))
    return "-".join(groups)


def redeem_points(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    contact_id: int,
    points: int,
    idempotency_key: str,
    now: datetime | None = None,
) -> RedemptionResult:
    """Spend N points for a code worth N x the program's point value."""
    settings = require_settings(session=session, tenant_id=tenant_id)
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InvalidInput("Points to redeem must be a whole number above zero.", field="points")
    if points > MAX_REDEMPTION:
        raise InvalidInput(f"At most {MAX_REDEMPTION:,} points at a time.", field="points")
    cents = math.floor(points * settings.point_value_cents)
    if cents < 1:
        raise InvalidInput(f"{points:,} points are worth less than a cent.", field="points")
    offer = Offer(points=points, amount_off_cents=cents)
    return _redeem(session, tenant_id, settings, contact_id, idempotency_key, offer, now)


def redeem_tier_reward(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    contact_id: int,
    tier: str,
    idempotency_key: str,
    now: datetime | None = None,
) -> RedemptionResult:
    """Spend a tier reward's points for its code; the customer must have reached the tier."""
    settings = require_settings(session=session, tenant_id=tenant_id)
    chosen = settings.tier_named(refuse_nul(str(tier or ""), "tier", "A tier name"))
    if chosen is None:
        raise InvalidInput(f"The program has no tier named '{tier}'.", field="tier")
    if chosen.reward is None:
        raise InvalidInput(f"The {chosen.name} tier has no reward to redeem.", field="tier")
    current = _tier_of(session, tenant_id, contact_id)
    if settings.tier_rank(current) < settings.tier_rank(chosen.name):
        where = f"is in {current}" if current else "has no tier yet"
        raise Conflict(
            f"The {chosen.name} reward is for {chosen.name} members and above; "
            f"this customer {where}.",
            field="tier",
        )
    reward = chosen.reward
    offer = Offer(reward.points, chosen.name, reward.percent_off, reward.amount_off_cents)
    return _redeem(session, tenant_id, settings, contact_id, idempotency_key, offer, now)


def _tier_of(session: Session, tenant_id: uuid.UUID, contact_id: int) -> str:
    tier = session.exec(
        select(LoyaltyAccount.tier).where(
            LoyaltyAccount.tenant_id == tenant_id, LoyaltyAccount.contact_id == contact_id
        )
    ).first()
    return tier or ""


def _redeem(
    session: Session,
    tenant_id: uuid.UUID,
    settings: LoyaltySettings,
    contact_id: int,
    idempotency_key: str,
    offer: Offer,
    now: datetime | None,
) -> RedemptionResult:
    key = str(idempotency_key or "").strip()
    if not key or len(key) > 200:
        raise InvalidInput(
            "Give an idempotency key of 1 to 200 characters.", field="idempotency_key"
        )
    refuse_nul(key, "idempotency_key", "An idempotency key")
    contact_id = require_contact(session, tenant_id, contact_id).id
    if (earlier := _replay(session, tenant_id, contact_id, key, offer)) is not None:
        return earlier
    now = now or utcnow()
    row = entry_row(
        tenant_id=tenant_id,
        contact_id=contact_id,
        kind=LedgerKind.REDEEM,
        source=LedgerSource.REDEMPTION,
        source_key=key,
        points=-offer.points,
        reason=(f"{offer.tier} reward: " if offer.tier else "") + offer.describe(),
        now=now,
    )
    spent = spend_points(session, settings, row, now)
    if spent is None:
        balance = balance_of(session, tenant_id, contact_id)
        raise Conflict(
            f"Not enough points: the balance is {balance:,} and this needs {offer.points:,}.",
            field="points",
        )
    if spent.entry_id is None:  # the same key won a race a moment ago
        return _replay(session, tenant_id, contact_id, key, offer)
    redemption = _issue_code(session, tenant_id, contact_id, spent.entry_id, offer, now)
    return RedemptionResult(redemption=redemption, balance=spent.balance)


def _replay(session, tenant_id, contact_id, key, offer: Offer) -> RedemptionResult | None:
    """The redemption an idempotency key already made; Conflict when it made another one."""
    found = session.exec(
        select(LoyaltyRedemption)
        .join(LoyaltyLedgerEntry, LoyaltyLedgerEntry.id == LoyaltyRedemption.entry_id)
        .where(
            LoyaltyLedgerEntry.tenant_id == tenant_id,
            LoyaltyLedgerEntry.source == LedgerSource.REDEMPTION,
            LoyaltyLedgerEntry.source_key == key,
        )
    ).first()
    if found is None:
        return None
    if (found.contact_id, found.points, found.tier) != (contact_id, offer.points, offer.tier):
        raise Conflict(
            "This idempotency key was used for a different redemption.", field="idempotency_key"
        )
    return RedemptionResult(
        redemption=found, balance=balance_of(session, tenant_id, contact_id), replayed=True
    )


def _issue_code(session, tenant_id, contact_id, entry_id, offer: Offer, now) -> LoyaltyRedemption:
    row = {
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "entry_id": entry_id,
        "points": offer.points,
        "tier": offer.tier,
        "percent_off": offer.percent_off,
        "amount_off_cents": offer.amount_off_cents,
        "status": "issued",
        "created_at": now,
    }
    for _ in range(CODE_ATTEMPTS):
        row["code"] = new_code()
        if ids := insert_returning_new_keys(
            session=session, model=LoyaltyRedemption, rows=[row], key="id"
        ):
            return session.get(LoyaltyRedemption, next(iter(ids)))
    raise RuntimeError("Could not draw an unused discount code")  # 32^10 codes: never happens
