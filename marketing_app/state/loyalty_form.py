"""The loyalty settings form as the page holds it (strings per input) and back.

Inputs stay strings so a half-typed value is never lost; the service validates what is
submitted and names the field at fault. Only what the service cannot see is checked here:
dollars typed for an amount off, and a category entered twice (a dict would drop one).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marketing_app.domain.errors import InvalidInput
from marketing_app.services.loyalty_programs import LoyaltySettings, Tier

# The plain settings inputs, in the order the form shows them: (key, label, hint).
FIELDS = [
    ("points_per_dollar", "Points per dollar", "earned per dollar spent"),
    ("points_per_visit", "Points per visit", "per order, on top of the dollars"),
    ("equity_multiplier", "Equity multiplier", "for customers with the equity trait"),
    ("signup_bonus", "Sign-up bonus", "points when a customer joins"),
    ("birthday_bonus", "Birthday bonus", "points on the customer's birthday"),
    ("expiry_days", "Expiry (days of inactivity)", "blank: points never expire"),
    ("point_value_cents", "Point value (cents)", "what one point is worth"),
    ("discrepancy_threshold_percent", "Discrepancy threshold (%)", "when to flag a difference"),
]
SOURCES = [("orders", "Our orders and ledger"), ("alpineiq", "Alpine IQ")]
NO_REWARD, PERCENT, AMOUNT = "none", "percent", "amount"
REWARD_KINDS = [(NO_REWARD, "No reward"), (PERCENT, "Percent off"), (AMOUNT, "Amount off ($)")]


def _number(value: Any) -> str:
    """1, 1.5, 0.25: no trailing zeros, never an exponent."""
    if value is None:
        return ""
    text = format(Decimal(str(value)).normalize(), "f")
    return text


def _tier_row(tier: Tier) -> dict[str, str]:
    reward = tier.reward
    if reward is None:
        kind, value = NO_REWARD, ""
    elif reward.percent_off is not None:
        kind, value = PERCENT, str(reward.percent_off)
    else:
        kind, value = AMOUNT, _number(Decimal(reward.amount_off_cents or 0) / 100)
    return {
        "name": tier.name,
        "threshold": str(tier.threshold),
        "reward_kind": kind,
        "reward_value": value,
        "reward_points": str(reward.points) if reward else "",
    }


def tier_rows(settings: LoyaltySettings) -> list[dict[str, str]]:
    return [_tier_row(tier) for tier in settings.tiers]


def settings_form(
    settings: LoyaltySettings,
) -> tuple[dict[str, str], list[dict[str, str]], list[dict[str, str]]]:
    """(plain fields, category rows, tier rows) for the form."""
    fields = {key: _number(getattr(settings, key)) for key, _, _ in FIELDS}
    fields["source_of_truth"] = settings.source_of_truth
    categories = [
        {"name": name, "multiplier": _number(multiplier)}
        for name, multiplier in sorted(settings.category_multipliers.items())
    ]
    return fields, categories, tier_rows(settings)


def new_tier(tiers: list[dict[str, str]]) -> dict[str, str]:
    """A blank row placed above the highest threshold, so adding one never collides."""
    thresholds = [int(t["threshold"]) for t in tiers if t["threshold"].strip().isdigit()]
    return {
        "name": f"Tier {len(tiers) + 1}",
        "threshold": str(max(thresholds, default=-100) + 100),
        "reward_kind": NO_REWARD,
        "reward_value": "",
        "reward_points": "",
    }


def _cents(dollars: str, position: int) -> int:
    try:
        cents = Decimal(dollars.strip().lstrip("$")) * 100
    except InvalidOperation:
        cents = Decimal("NaN")
    if not cents.is_finite() or cents != cents.to_integral_value():
        raise InvalidInput(
            f"Tier {position} reward: give the amount off in dollars, like 5 or 12.50.",
            field="tiers",
        )
    return int(cents)


def _reward(row: dict[str, str], position: int) -> dict[str, Any] | None:
    kind = row.get("reward_kind", NO_REWARD)
    if kind == NO_REWARD:
        return None
    reward: dict[str, Any] = {"points": row.get("reward_points", "").strip()}
    if kind == PERCENT:
        reward["percent_off"] = row.get("reward_value", "").strip()
    else:
        reward["amount_off_cents"] = _cents(row.get("reward_value", ""), position)
    return reward


def _categories(rows: list[dict[str, str]]) -> dict[str, str]:
    filled = [r for r in rows if r["name"].strip() or r["multiplier"].strip()]
    names = [r["name"].strip().lower() for r in filled]
    if len(set(names)) != len(names):
        raise InvalidInput(
            "Category multipliers: a category is listed twice.", field="category_multipliers"
        )
    return {r["name"]: r["multiplier"].strip() for r in filled}


def settings_payload(
    fields: dict[str, str], categories: list[dict[str, str]], tiers: list[dict[str, str]]
) -> dict[str, Any]:
    """What the form says, as the settings the service validates."""
    payload: dict[str, Any] = {key: fields.get(key, "").strip() for key, _, _ in FIELDS}
    payload["expiry_days"] = payload["expiry_days"] or None
    payload["source_of_truth"] = fields.get("source_of_truth", "")
    payload["category_multipliers"] = _categories(categories)
    payload["tiers"] = [
        {
            "name": row.get("name", ""),
            "threshold": row.get("threshold", "").strip(),
            "reward": _reward(row, position),
        }
        for position, row in enumerate(tiers, start=1)
    ]
    return payload
