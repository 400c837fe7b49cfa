"""The segment definition language: nested AND/OR/NOT groups of typed conditions, stored as JSON.

Pydantic validates the shape and the operator/value pairing of each condition; references to
the tenant's data (segments, locations, staff) are checked by the segments service. Every
condition is true or false for a profile, never unknown: an unset trait fails `eq`, and `ne`
is its negation (so it includes unset).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

STRING_OPS = (
    "eq",
    "ne",
    "contains",
    "not_contains",
    "starts_with",
    "in",
    "not_in",
    "is_set",
    "is_not_set",
)
NUMBER_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "between", "is_set", "is_not_set")
DATE_OPS = (
    "in_current_month",
    "before",
    "after",
    "within_last_days",
    "not_within_last_days",
    "is_set",
    "is_not_set",
)
BIRTHDAY_OPS = ("anniversary_within_next_days", "in_month", *DATE_OPS)
REFERENCE_OPS = ("in", "not_in", "is_set", "is_not_set")
BOOLEAN_OPS = ("is_true", "is_false")
VALUELESS_OPS = {"is_set", "is_not_set", "in_current_month", "is_true", "is_false"}

# Profile fields a trait condition can name, by type. Custom traits are "custom.<key>".
TRAIT_FIELDS: dict[str, str] = {
    "first_name": "string",
    "last_name": "string",
    "email": "string",
    "phone": "string",
    "user_id": "string",
    "time_zone": "string",
    "birthday": "birthday",
    "created_at": "date",
    "first_seen_at": "date",
    "last_seen_at": "date",
    "last_order_at": "date",
    "order_count": "number",
    "total_spent": "number",  # dollars
    "location": "reference",
    "staff": "reference",
}
OPS_BY_TYPE = {
    "string": STRING_OPS,
    "number": NUMBER_OPS,
    "date": DATE_OPS,
    "birthday": BIRTHDAY_OPS,
    "reference": REFERENCE_OPS,
    "custom": tuple(dict.fromkeys(STRING_OPS + NUMBER_OPS + BOOLEAN_OPS)),
}
RFM_GROUPS = (
    "Champions",
    "Loyal",
    "Potential Loyalist",
    "New",
    "Promising",
    "Needs Attention",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
)
# Engagement is recorded as events with these names (the messaging layer writes them).
ENGAGEMENT_EVENTS = {
    ("email", "received"): "Email Delivered",
    ("email", "opened"): "Email Opened",
    ("email", "clicked"): "Email Link Clicked",
    ("sms", "received"): "SMS Delivered",
    ("sms", "clicked"): "SMS Link Clicked",
}
MAX_DEPTH = 6
MAX_NUMBER = 1e12  # beyond any real count or amount; keeps SQL arithmetic inside bigint
MAX_MONEY = 1e9  # dollars: average order value compares total with amount x order count
MAX_ID = 2**31 - 1
MAX_CONDITIONS = 50
# Loyalty: what a condition can test on the profile's account, and the operators each takes.
POINTS_OPS = ("gt", "gte", "lt", "lte", "eq", "between")  # as the builder lists them
LOYALTY_OPS = {
    "member": ("is_true", "is_false"),
    "tier": ("in", "not_in", "at_least", "in_top"),
    "balance": POINTS_OPS,
    "lifetime_earned": POINTS_OPS,
}
MAX_TIER_NAME = 60  # as loyalty_accounts.tier
MAX_LOYALTY_TIERS = 10  # as a program's tier table
Scalar = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number")
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise ValueError(f"{what} must be a finite number up to {MAX_NUMBER:,.0f}")
    return float(value)


def _check_value(field_type: str, op: str, value: Any) -> None:
    """Raise ValueError when `value` does not fit `op` on a field of `field_type`."""
    if op in VALUELESS_OPS:
        return
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise ValueError(f"'{op}' needs a non-empty list of values")
        if field_type == "reference" and not all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ID for v in value
        ):
            raise ValueError("choose locations or staff by id")
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
            raise ValueError(f"'{op}' needs a list of texts or numbers")
        return
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError("'between' needs [low, high]")
        low, high = (_number(v, "between bounds") for v in value)
        if low > high:
            raise ValueError("'between' needs low <= high")
        return
    if op in ("gt", "gte", "lt", "lte") or (field_type == "number" and op in ("eq", "ne")):
        _number(value, f"'{op}' value")
        return
    if op in ("within_last_days", "not_within_last_days", "anniversary_within_next_days"):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 3650:
            raise ValueError("the number of days must be a whole number from 1 to 3650")
        return
    if op == "in_month":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
            raise ValueError("the month must be 1 to 12")
        return
    if op in ("before", "after"):
        try:
            date.fromisoformat(str(value))
        except ValueError:
            raise ValueError("the date must look like 2026-01-31") from None
        return
    if not isinstance(value, str | int | float) or isinstance(value, bool) or value == "":
        raise ValueError(f"'{op}' needs a value")
    if not isinstance(value, str):
        _number(value, f"'{op}' value")


class TraitCondition(_Strict):
    kind: Literal["trait"] = "trait"
    field: str
    op: str
    value: Any = None

    @model_validator(mode="after")
    def _fits(self) -> TraitCondition:
        field_type = trait_field_type(self.field)
        if self.op not in OPS_BY_TYPE[field_type]:
            raise ValueError(f"'{self.op}' does not apply to {self.field} ({field_type})")
        _check_value(field_type, self.op, self.value)
        return self


def trait_field_type(field: str) -> str:
    if field.startswith("custom."):
        key = field.removeprefix("custom.")
        if not key or len(key) > 100 or not key.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"'{field}' is not a valid custom trait name")
        return "custom"
    if field not in TRAIT_FIELDS:
        raise ValueError(f"unknown field '{field}'")
    return TRAIT_FIELDS[field]


class PropertyFilter(_Strict):
    property: str = Field(min_length=1, max_length=100)
    op: Literal["eq", "ne", "contains", "gt", "gte", "lt", "lte", "is_set", "is_not_set"]
    value: Scalar | None = None

    @model_validator(mode="after")
    def _fits(self) -> PropertyFilter:
        _check_value("custom", self.op, self.value)
        return self


class Window(_Strict):
    """Fields shared by conditions that look back over a number of days (None: ever)."""

    within_days: int | None = Field(default=None, ge=1, le=3650)


class EventCondition(Window):
    """Performed an event at least / at most / exactly N times (0 = not performed)."""

    kind: Literal["event"] = "event"
    name: str = Field(min_length=1, max_length=200)
    count_op: Literal["at_least", "at_most", "exactly"] = "at_least"
    count: int = Field(default=1, ge=0, le=100_000)
    where: list[PropertyFilter] = Field(default_factory=list, max_length=10)


class EventTimeCondition(_Strict):
    """First or last occurrence of an event before/after a date or within N days."""

    kind: Literal["event_time"] = "event_time"
    name: str = Field(min_length=1, max_length=200)
    which: Literal["first", "last"] = "last"
    op: Literal["before", "after", "within_last_days", "not_within_last_days"]
    value: Any

    @model_validator(mode="after")
    def _fits(self) -> EventTimeCondition:
        _check_value("date", self.op, self.value)
        return self


class OrderMetricCondition(Window):
    kind: Literal["orders"] = "orders"
    metric: Literal["total_spent", "order_count", "average_order_value"]
    op: Literal["eq", "gt", "gte", "lt", "lte", "between"]
    value: Any

    @model_validator(mode="after")
    def _fits(self) -> OrderMetricCondition:
        _check_value("number", self.op, self.value)
        bounds = self.value if isinstance(self.value, list) else [self.value]
        if any(abs(v) > MAX_MONEY for v in bounds):
            raise ValueError(f"amounts and counts go up to {MAX_MONEY:,.0f}")
        return self


class OrderedProductCondition(Window):
    kind: Literal["ordered_product"] = "ordered_product"
    match: Literal["sku", "product", "category"] = "product"
    value: str = Field(min_length=1, max_length=200)
    ordered: bool = True


class NoOrderCondition(_Strict):
    """No order in the last N days (customers who never ordered included)."""

    kind: Literal["no_order_in"] = "no_order_in"
    days: int = Field(ge=1, le=3650)


class EngagementCondition(Window):
    kind: Literal["engagement"] = "engagement"
    action: Literal["received", "opened", "clicked"]
    channel: Literal["email", "sms"] = "email"
    campaign_id: str | None = Field(default=None, max_length=100)
    engaged: bool = True

    @model_validator(mode="after")
    def _exists(self) -> EngagementCondition:
        if (self.channel, self.action) not in ENGAGEMENT_EVENTS:
            raise ValueError(f"{self.channel} has no '{self.action}' engagement")
        return self


class ConsentCondition(_Strict):
    kind: Literal["consent"] = "consent"
    channel: Literal["email", "sms"]
    state: Literal["subscribed", "not_subscribed", "suppressed", "not_suppressed"]


class SegmentMembershipCondition(_Strict):
    kind: Literal["segment"] = "segment"
    segment_id: int = Field(ge=1, le=MAX_ID)
    member: bool = True


class RfmCondition(_Strict):
    kind: Literal["rfm"] = "rfm"
    groups: list[str] = Field(min_length=1)

    @field_validator("groups")
    @classmethod
    def _known(cls, groups: list[str]) -> list[str]:
        unknown = [g for g in groups if g not in RFM_GROUPS]
        if unknown:
            raise ValueError(f"unknown RFM group {unknown[0]!r}")
        return groups


class TopSpendersCondition(_Strict):
    """Among the tenant's customers who ordered, the top `percent` by total spent (ties in)."""

    kind: Literal["top_spenders"] = "top_spenders"
    percent: int = Field(ge=1, le=100)


class RandomBucketCondition(_Strict):
    """Profiles whose stable bucket (0-99, from id and salt) is in [low, high)."""

    kind: Literal["random_bucket"] = "random_bucket"
    low: int = Field(default=0, ge=0, le=100)
    high: int = Field(ge=0, le=100)
    salt: int = Field(default=0, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _ordered(self) -> RandomBucketCondition:
        if self.low >= self.high:
            raise ValueError("the bucket range needs low < high")
        return self


class LoyaltyCondition(_Strict):
    """The profile's loyalty account: membership, tier, points balance or lifetime points.

    A profile without an account is no member, has no tier ("") and 0 points. Tier names are
    the program's (matched without case; "" is below the first tier). `at_least` and `in_top`
    follow the program's order by threshold when the segment is evaluated.
    """

    kind: Literal["loyalty"] = "loyalty"
    field: Literal["member", "tier", "balance", "lifetime_earned"]
    op: str
    value: Any = None

    @model_validator(mode="after")
    def _fits(self) -> LoyaltyCondition:
        if self.op not in LOYALTY_OPS[self.field]:
            raise ValueError(f"'{self.op}' does not apply to loyalty {self.field}")
        if self.field == "tier":
            _check_tiers(self.op, self.value)
        elif self.field != "member":
            _check_value("number", self.op, self.value)
        elif self.value is not None:
            raise ValueError("loyalty membership takes no value")
        return self


def _check_tiers(op: str, value: Any) -> None:
    if op == "in_top":
        whole = isinstance(value, int) and not isinstance(value, bool)
        if not whole or not 1 <= value <= MAX_LOYALTY_TIERS:
            raise ValueError(f"the number of top tiers must be 1 to {MAX_LOYALTY_TIERS}")
        return
    names = [value] if op == "at_least" else value
    if op == "at_least" and (not isinstance(value, str) or not value.strip()):
        raise ValueError("choose a tier")
    if not isinstance(names, list) or not 1 <= len(names) <= MAX_LOYALTY_TIERS + 1:
        raise ValueError(f"choose 1 to {MAX_LOYALTY_TIERS + 1} tiers")
    if not all(isinstance(n, str) and len(n) <= MAX_TIER_NAME and "\x00" not in n for n in names):
        raise ValueError(f"a tier is a name of up to {MAX_TIER_NAME} characters")


Condition = (
    TraitCondition
    | EventCondition
    | EventTimeCondition
    | OrderMetricCondition
    | OrderedProductCondition
    | NoOrderCondition
    | EngagementCondition
    | ConsentCondition
    | SegmentMembershipCondition
    | RfmCondition
    | TopSpendersCondition
    | RandomBucketCondition
    | LoyaltyCondition
)


class Group(_Strict):
    kind: Literal["group"] = "group"
    op: Literal["and", "or"] = "and"
    negate: bool = False
    children: list[Annotated[Condition | Group, Field(discriminator="kind")]] = Field(
        default_factory=list
    )


class SegmentDefinition(_Strict):
    """The root: a group. An empty group matches every profile of the tenant."""

    root: Group = Field(default_factory=Group)

    @model_validator(mode="after")
    def _bounded(self) -> SegmentDefinition:
        conditions = list(iter_conditions(self.root))
        if len(conditions) > MAX_CONDITIONS:
            raise ValueError(f"a segment can have at most {MAX_CONDITIONS} conditions")
        if _depth(self.root) > MAX_DEPTH:
            raise ValueError(f"groups can nest at most {MAX_DEPTH} deep")
        return self


def _depth(group: Group) -> int:
    inner = [_depth(c) for c in group.children if isinstance(c, Group)]
    return 1 + max(inner, default=0)


def iter_conditions(group: Group):
    for child in group.children:
        if isinstance(child, Group):
            yield from iter_conditions(child)
        else:
            yield child


def referenced_segments(definition: SegmentDefinition) -> set[int]:
    return {
        c.segment_id
        for c in iter_conditions(definition.root)
        if isinstance(c, SegmentMembershipCondition)
    }
