"""Request and response shapes of the loyalty API (/api/v1/loyalty), with documented examples.

Numbers and strings are checked by the loyalty services, which answer 422 with `detail` and
`field`; these models only fix the shapes (and the id ranges the database can hold).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from marketing_app.api.segment_schemas import error_doc
from marketing_app.domain.errors import InvalidInput
from marketing_app.models import LoyaltyProgram
from marketing_app.services.loyalty_ledger import TierChange
from marketing_app.services.loyalty_programs import PRESET_LABELS, LoyaltySettings

MAX_ID = 2**63 - 1  # contacts.id and orders.id are 64-bit
MAX_OFFSET = 2**31 - 1
MAX_TIER_CHANGES_SHOWN = 1_000

ContactIdPath = Annotated[
    int, Path(ge=1, le=MAX_ID, description="The customer profile's id.", examples=[101])
]
OrderIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="The order's id.", examples=[5001])]
OptionalContactId = Annotated[
    int | None, Field(None, ge=1, le=MAX_ID, description="Only this customer's orders.")
]

NOT_FOUND = {
    404: error_doc(
        "No loyalty program yet, or no such customer or order in this tenant "
        "(another tenant's answers the same)"
    )
}
INVALID = {422: error_doc("Invalid input: `detail` says what, `field` names the field")}
CONFLICT = {
    409: error_doc(
        "Not enough points (nothing written), a tier not reached yet, or an idempotency key "
        "already used for a different request"
    )
}
SYNC_CONFLICT = {
    409: error_doc("No loyalty provider connected: save Alleaves or Alpine IQ credentials first")
}
KEY_DOC = (
    "Makes a retry safe: the same key with the same request writes once and answers the "
    "first result again (`replayed: true`); with a different request it answers 409. "
    "1 to 200 characters; or send it as the `Idempotency-Key` header."
)
PRESET_DOC = "A preset to start from: " + "; ".join(
    f"`{name}` ({label})" for name, label in PRESET_LABELS.items()
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def refuse_nul(body: BaseModel | None, **more: str | None) -> None:
    """Refuse NUL characters anywhere in a request (PostgreSQL cannot store them in text)."""
    fields = {**(body.model_dump() if body is not None else {}), **more}
    for field, value in fields.items():
        pending = [value]
        while pending:
            item = pending.pop()
            if isinstance(item, dict):
                pending.extend([*item.keys(), *item.values()])
            elif isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, str) and "\x00" in item:
                raise InvalidInput(f"{field}: text cannot contain NUL characters.", field=field)


# --- program ----------------------------------------------------------------------------------


class ProgramWrite(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Leaf Rewards", "preset": "alpineiq"},
                {"preset": "metals", "settings": {"points_per_dollar": 2, "expiry_days": 180}},
                {
                    "settings": {
                        "points_per_dollar": 1,
                        "points_per_visit": 5,
                        "equity_multiplier": 1.5,
                        "category_multipliers": {"flower": 2},
                        "signup_bonus": 50,
                        "birthday_bonus": 100,
                        "expiry_days": 365,
                        "point_value_cents": 5,
                        "tiers": [
                            {"name": "Bronze", "threshold": 0},
                            {
                                "name": "Gold",
                                "threshold": 1500,
                                "reward": {"points": 300, "amount_off_cents": 2000},
                            },
                        ],
                    }
                },
            ]
        },
    )

    name: str | None = Field(None, description="1 to 100 characters; omitted: kept.")
    preset: str | None = Field(None, description=PRESET_DOC)
    settings: dict[str, Any] | None = Field(
        None,
        description="The whole settings (see `LoyaltySettings`), or with a preset only the "
        "fields that differ from it. Omitted fields take their defaults.",
    )


class ProgramPublic(BaseModel):
    name: str
    settings: LoyaltySettings = Field(description="Decimals are written as strings.")
    created_at: datetime
    updated_at: datetime


# --- a member's card --------------------------------------------------------------------------


class LedgerLinePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    kind: str = Field(description="earn | redeem | adjust | expire | reverse", examples=["earn"])
    source: str = Field(
        description="order | refund | adjustment | grant | redemption | signup | birthday | expiry"
    )
    source_key: str = Field(description="Unique per source: the order id, refund id, key...")
    points: int = Field(description="Change of the balance, signed.")
    shortfall: int = Field(description="Points a reversal could not take back (spent already).")
    order_id: int | None
    reason: str
    occurred_at: datetime
    created_at: datetime


class ActivityLine(LedgerLinePublic):
    customer: str = Field(description="The customer's name, else email.")


class MemberCard(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    contact_id: int
    member: bool = Field(description="False until the customer's first entry.")
    balance: int
    lifetime_earned: int = Field(description="What tiers follow.")
    value_cents: int = Field(description="The balance at the program's point value.")
    tier: str = Field(description="'' below the first tier.")
    next_tier: str | None
    points_to_next_tier: int | None
    progress_percent: int = Field(description="From the current tier's threshold to the next.")
    last_activity_at: datetime | None
    expires_at: datetime | None = Field(description="When the balance expires without activity.")
    history: list[LedgerLinePublic] = Field(description="A page of entries, newest first.")
    history_total: int
    limit: int
    offset: int


# --- writes -----------------------------------------------------------------------------------


class EarnRequest(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"points": 250, "reason": "Survey completed", "idempotency_key": "survey-8812"}
            ]
        },
    )

    points: int = Field(description="More than zero, at most 10,000,000.")
    reason: str = Field(description="1 to 500 characters.")
    idempotency_key: str | None = Field(None, description=KEY_DOC)


class AdjustRequest(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"points": -40, "reason": "Duplicate visit credited", "adjustment_id": "fix-311"},
                {
                    "points": 100,
                    "reason": "Goodwill after a late order",
                    "adjustment_id": "cs-4410",
                    "count_toward_tier": False,
                },
            ]
        },
    )

    points: int = Field(description="Signed, not zero, at most 10,000,000 either way.")
    reason: str = Field(description="1 to 500 characters.")
    adjustment_id: str | None = Field(
        None,
        description="Your id of this correction: applied once (1 to 200 characters; or the "
        "`Idempotency-Key` header).",
    )
    count_toward_tier: bool = Field(True, description="Also move lifetime points (tiers).")


class LedgerChange(BaseModel):
    contact_id: int
    points: int = Field(description="What this request moved (0 when replayed).")
    balance: int
    replayed: bool


class RedeemRequest(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"points": 300, "idempotency_key": "checkout-7731"},
                {"tier": "Gold", "idempotency_key": "checkout-7732"},
            ]
        },
    )

    points: int | None = Field(
        None, description="Points for a code worth points x the program's point value."
    )
    tier: str | None = Field(None, description="Instead of points: a reached tier's reward.")
    idempotency_key: str | None = Field(None, description=KEY_DOC)


class Redeemed(BaseModel):
    contact_id: int
    code: str = Field(examples=["K7M2Q-X9PLA"])
    points: int
    tier: str = Field(description="The tier whose reward it is ('' for points).")
    percent_off: int | None
    amount_off_cents: int | None
    status: str
    created_at: datetime
    balance: int = Field(description="After the redemption.")
    replayed: bool


class TierChangePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    contact_id: int
    old_tier: str
    new_tier: str
    up: bool


class CreditOrdersRequest(_Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{}, {"contact_id": 101}]}
    )

    contact_id: OptionalContactId


class CreditedOrders(BaseModel):
    orders_credited: int
    points: int
    skipped_no_customer: int = Field(description="Uncredited orders without a customer.")
    skipped_bad_total: int = Field(description="Orders with a negative or missing total.")
    tier_change_count: int
    tier_changes: list[TierChangePublic] = Field(
        description=f"The first {MAX_TIER_CHANGES_SHOWN:,} tier changes."
    )


class RefundRequest(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"refund_id": "rf_1029", "amount_cents": 2500}, {"refund_id": "rf_1030"}]
        },
    )

    refund_id: str = Field(description="Your id of the refund: reversed once (1-150 characters).")
    amount_cents: int | None = Field(
        None, description="The refunded amount; omitted: everything not refunded yet."
    )


class Refunded(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reversed_points: int = Field(description="Taken from the balance.")
    shortfall: int = Field(description="Already spent, so not taken back.")
    refunded_cents: int = Field(description="The amount counted (capped at what was left).")
    replayed: bool
    skipped: str = Field(description="Why nothing was reversed, when nothing was.")
    tier_changes: list[TierChangePublic]


class SyncRequest(_Strict):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{}, {"contact_id": 101}]}
    )

    contact_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description=(
            "Only this customer: their Alpine IQ balance (looked up by phone, else email) and "
            "their orders not credited yet. Omitted: the whole tenant."
        ),
    )


# --- summary ----------------------------------------------------------------------------------


class TierCountPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tier: str = Field(description="'' for members below the first tier.")
    threshold: int
    members: int


class LiabilityPublic(BaseModel):
    points: int
    cents: int
    dollars: Decimal = Field(description="The same as `cents`, in dollars.", examples=["1234.50"])
    members_with_points: int


class LoyaltySummary(BaseModel):
    members: int
    tiers: list[TierCountPublic]
    liability: LiabilityPublic
    recent_activity: list[ActivityLine]


# --- helpers ----------------------------------------------------------------------------------


def request_key(header: str | None, body_value: str | None, field: str) -> str:
    """The request's idempotency key from the body or the header ('' when neither)."""
    if header is not None and body_value is not None and header.strip() != body_value.strip():
        raise InvalidInput(f"The Idempotency-Key header and {field} differ.", field=field)
    return body_value if body_value is not None else (header or "")


def tier_changes_public(changes: list[TierChange]) -> list[TierChangePublic]:
    return [TierChangePublic.model_validate(c) for c in changes[:MAX_TIER_CHANGES_SHOWN]]


def program_public(program: LoyaltyProgram) -> ProgramPublic:
    return ProgramPublic(
        name=program.name,
        settings=LoyaltySettings.model_validate(program.settings),
        created_at=program.created_at,
        updated_at=program.updated_at,
    )
