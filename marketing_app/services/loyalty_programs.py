"""Loyalty programs: validated settings, presets, one program per tenant, tier arithmetic.

Settings are data (a pydantic model stored as JSON on the program row). Tiers follow lifetime
earned points; each tier may carry a reward that costs points to redeem. A point's worth in
cents (`point_value_cents`) is what liability and points-for-a-code redemptions use.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic import model_validator as model_check
from sqlalchemy import case, update
from sqlmodel import Session, select

from marketing_app.domain.errors import InvalidInput, NotFound
from marketing_app.models import LoyaltyAccount, LoyaltyProgram
from marketing_app.models.base import utcnow

Multiplier = Annotated[Decimal, Field(ge=0, le=10, decimal_places=2)]
EQUITY_TRAITS = ("equity", "equity_status")  # a contact trait that is true marks equity
MAX_TIERS = 10


def refuse_nul(value: str, field: str, label: str) -> str:
    """`value` unchanged; InvalidInput naming `field` when it holds a NUL character, which
    PostgreSQL text cannot store."""
    if "\x00" in value:
        raise InvalidInput(f"{label} cannot contain a NUL character.", field=field)
    return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("a name cannot contain a NUL character")
    return value


class Reward(BaseModel):
    """What a tier's reward gives, and the points it costs."""

    model_config = ConfigDict(extra="forbid")

    points: int = Field(gt=0, le=1_000_000)
    percent_off: int | None = Field(default=None, gt=0, le=100)
    amount_off_cents: int | None = Field(default=None, gt=0, le=10_000_000)

    @model_check(mode="after")
    def _one_discount(self) -> Reward:
        if (self.percent_off is None) == (self.amount_off_cents is None):
            raise ValueError("give either a percent off or an amount off, not both")
        return self

    def describe(self) -> str:
        if self.percent_off is not None:
            return f"{self.percent_off}% off"
        return f"${self.amount_off_cents / 100:,.2f} off"


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=60)
    threshold: int = Field(ge=0, le=100_000_000)  # lifetime earned points
    reward: Reward | None = None

    @field_validator("name")
    @classmethod
    def _name_without_nul(cls, name: str) -> str:
        return _no_nul(name)


class LoyaltySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points_per_dollar: Decimal = Field(default=Decimal(1), ge=0, le=100, decimal_places=2)
    points_per_visit: int = Field(default=0, ge=0, le=10_000)
    equity_multiplier: Decimal = Field(default=Decimal(1), ge=1, le=10, decimal_places=2)
    category_multipliers: dict[str, Multiplier] = Field(default_factory=dict, max_length=200)
    signup_bonus: int = Field(default=0, ge=0, le=1_000_000)
    birthday_bonus: int = Field(default=0, ge=0, le=1_000_000)
    expiry_days: int | None = Field(default=None, ge=1, le=3650)  # None: points never expire
    point_value_cents: Decimal = Field(default=Decimal(1), ge=0, le=10_000, decimal_places=4)
    tiers: list[Tier] = Field(default_factory=list, max_length=MAX_TIERS)
    source_of_truth: Literal["orders", "alpineiq"] = "orders"
    discrepancy_threshold_percent: Decimal = Field(
        default=Decimal(10), gt=0, le=100, decimal_places=2
    )

    @field_validator("category_multipliers")
    @classmethod
    def _normalized_categories(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        names = {_no_nul(key.strip().lower()): multiplier for key, multiplier in value.items()}
        if "" in names:
            raise ValueError("a category name cannot be empty")
        if len(names) != len(value):
            raise ValueError("a category is listed twice")
        return names

    @field_validator("tiers")
    @classmethod
    def _ordered_tiers(cls, tiers: list[Tier]) -> list[Tier]:
        if len({tier.name.lower() for tier in tiers}) != len(tiers):
            raise ValueError("two tiers have the same name")
        if len({tier.threshold for tier in tiers}) != len(tiers):
            raise ValueError("two tiers have the same threshold")
        return sorted(tiers, key=lambda tier: tier.threshold)

    def tier_for(self, lifetime_earned: int) -> str:
        """The highest tier whose threshold the lifetime points reach; "" below the first."""
        reached = [tier.name for tier in self.tiers if lifetime_earned >= tier.threshold]
        return reached[-1] if reached else ""

    def next_tier(self, lifetime_earned: int) -> Tier | None:
        return next((t for t in self.tiers if t.threshold > lifetime_earned), None)

    def tier_named(self, name: str) -> Tier | None:
        return next((t for t in self.tiers if t.name.lower() == name.strip().lower()), None)

    def tier_rank(self, name: str) -> int:
        """Position of a tier (1 = lowest); 0 for no tier or a tier no longer in the program."""
        names = [tier.name for tier in self.tiers]
        return names.index(name) + 1 if name in names else 0


def _reward(points: int, percent: int | None = None, cents: int | None = None) -> Reward:
    return Reward(points=points, percent_off=percent, amount_off_cents=cents)


PRESETS: dict[str, LoyaltySettings] = {
    # Alpine IQ's five-tier table: N points unlock, and buy, the matching percent off.
    "alpineiq": LoyaltySettings(
        point_value_cents=Decimal(5),  # 100 points = 5% off, about $5 on a $100 basket
        tiers=[
            Tier(name=f"Tier {n}", threshold=points, reward=_reward(points, percent=percent))
            for n, (points, percent) in enumerate(
                [(100, 5), (200, 10), (400, 15), (600, 20), (800, 25)], start=1
            )
        ],
        source_of_truth="alpineiq",
    ),
    "metals": LoyaltySettings(
        signup_bonus=50,
        birthday_bonus=100,
        expiry_days=365,
        point_value_cents=Decimal(5),
        tiers=[
            Tier(name="Bronze", threshold=0, reward=_reward(100, cents=500)),
            Tier(name="Silver", threshold=500, reward=_reward(200, cents=1200)),
            Tier(name="Gold", threshold=1500, reward=_reward(300, cents=2000)),
            Tier(name="Platinum", threshold=3000, reward=_reward(500, cents=4000)),
        ],
    ),
}
PRESET_LABELS = {
    "alpineiq": "Alpine IQ five tiers (100 points = 5% off ... 800 points = 25% off)",
    "metals": "Bronze, Silver, Gold, Platinum",
}

FIELD_LABELS = {
    "points_per_dollar": "Points per dollar",
    "points_per_visit": "Points per visit",
    "equity_multiplier": "Equity multiplier",
    "category_multipliers": "Category multipliers",
    "signup_bonus": "Sign-up bonus",
    "birthday_bonus": "Birthday bonus",
    "expiry_days": "Expiry after days of inactivity",
    "point_value_cents": "Point value in cents",
    "tiers": "Tiers",
    "source_of_truth": "Source of truth",
    "discrepancy_threshold_percent": "Discrepancy threshold",
}


def _where(loc: tuple) -> tuple[str, str]:
    """('Tier 2 reward', 'tiers') from a pydantic error location."""
    field = str(loc[0]) if loc else ""
    words = [FIELD_LABELS.get(field, field or "Settings")]
    if field == "tiers" and len(loc) > 1 and isinstance(loc[1], int):
        words = [f"Tier {loc[1] + 1}", *[str(part).replace("_", " ") for part in loc[2:]]]
    elif field == "category_multipliers" and len(loc) > 1:
        words.append(f"'{loc[1]}'")
    return " ".join(words), field or "settings"


def parse_settings(raw: Any) -> LoyaltySettings:
    """Validate program settings; raises InvalidInput naming the field at fault."""
    if isinstance(raw, LoyaltySettings):
        return raw
    try:
        return LoyaltySettings.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where, field = _where(tuple(error["loc"]))
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{where}: {message}", field=field) from None


def preset_settings(name: str) -> LoyaltySettings:
    if name not in PRESETS:
        choices = ", ".join(sorted(PRESETS))
        raise InvalidInput(f"Unknown preset '{name}': choose {choices}", field="preset")
    return PRESETS[name].model_copy(deep=True)


def get_program(*, session: Session, tenant_id: uuid.UUID) -> LoyaltyProgram | None:
    return session.exec(select(LoyaltyProgram).where(LoyaltyProgram.tenant_id == tenant_id)).first()


def require_settings(*, session: Session, tenant_id: uuid.UUID) -> LoyaltySettings:
    """The tenant's program settings; NotFound when the tenant has no program yet."""
    program = get_program(session=session, tenant_id=tenant_id)
    if program is None:
        raise NotFound("This workspace has no loyalty program yet: set one up first.")
    return LoyaltySettings.model_validate(program.settings)


def save_program(
    *, session: Session, tenant_id: uuid.UUID, settings: Any, name: str | None = None
) -> LoyaltyProgram:
    """Create or replace the tenant's program; accounts move to the tiers the new table gives."""
    parsed = parse_settings(settings)
    program = get_program(session=session, tenant_id=tenant_id)
    if program is None:
        program = LoyaltyProgram(tenant_id=tenant_id)
    if name is not None:
        if not name.strip() or len(name.strip()) > 100:
            raise InvalidInput("Program name: give 1 to 100 characters", field="name")
        refuse_nul(name, "name", "Program name")
        program.name = name.strip()
    program.settings = parsed.model_dump(mode="json")
    program.updated_at = utcnow()
    session.add(program)
    session.flush()
    retier_accounts(session=session, tenant_id=tenant_id, settings=parsed)
    return program


def retier_accounts(*, session: Session, tenant_id: uuid.UUID, settings: LoyaltySettings) -> int:
    """One UPDATE puts every account of the tenant in the tier its lifetime points reach."""
    tiers = list(reversed(settings.tiers))
    lifetime = LoyaltyAccount.lifetime_earned
    tier = case(*[(lifetime >= t.threshold, t.name) for t in tiers], else_="") if tiers else ""
    result = session.exec(
        update(LoyaltyAccount)
        .where(LoyaltyAccount.tenant_id == tenant_id, LoyaltyAccount.tier != tier)
        .values(tier=tier, updated_at=utcnow())
    )
    return result.rowcount
