"""Smart-list presets: one click (and at most one value) to a ready segment definition."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marketing_app.domain.errors import InvalidInput
from marketing_app.domain.segment_definition import MAX_ID, MAX_MONEY


@dataclass(frozen=True)
class PresetParameter:
    name: str
    label: str
    kind: str  # number | text | location | staff
    default: Any = None


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    description: str
    build: Callable[[dict], list[dict]]  # conditions of an AND root
    parameter: PresetParameter | None = None

    def definition(self, params: dict | None = None) -> dict:
        params = dict(params or {})
        if self.parameter is not None:
            value = params.get(self.parameter.name, self.parameter.default)
            if value in (None, "", []):
                raise InvalidInput(f"{self.parameter.label} is required.", field="params")
            params[self.parameter.name] = value
        return {"root": {"kind": "group", "op": "and", "children": self.build(params)}}


def _number(params: dict, name: str) -> float:
    try:
        value = float(params[name])
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number.", field="params") from None
    if not math.isfinite(value) or abs(value) > MAX_MONEY:
        raise InvalidInput(f"{name} must be a number up to {MAX_MONEY:,.0f}.", field="params")
    return value


def _days(params: dict) -> int:
    days = _number(params, "days")
    if days != int(days) or not 1 <= days <= 3650:
        raise InvalidInput("days must be a whole number from 1 to 3650.", field="params")
    return int(days)


def _ids(value) -> list[int]:
    values = value if isinstance(value, list) else [value]
    try:
        ids = [int(v) for v in values]
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput("Choose from the list.", field="params") from None
    if not all(1 <= i <= MAX_ID for i in ids):
        raise InvalidInput("Choose from the list.", field="params")
    return ids


PRESETS: tuple[Preset, ...] = (
    Preset(
        "location",
        "Customers in a territory or store",
        "Everyone whose home store or territory is the one you pick.",
        lambda p: [
            {"kind": "trait", "field": "location", "op": "in", "value": _ids(p["location"])}
        ],
        PresetParameter("location", "Territory or store", "location"),
    ),
    Preset(
        "sales_rep",
        "Customers of a sales rep",
        "Everyone assigned to the rep, barber or budtender you pick.",
        lambda p: [{"kind": "trait", "field": "staff", "op": "in", "value": _ids(p["staff"])}],
        PresetParameter("staff", "Staff member", "staff"),
    ),
    Preset(
        "high_value",
        "High-value customers",
        "Lifetime spend at or above an amount.",
        lambda p: [
            {"kind": "orders", "metric": "total_spent", "op": "gte", "value": _number(p, "amount")}
        ],
        PresetParameter("amount", "Spent at least ($)", "number", 500),
    ),
    Preset(
        "ordered_product",
        "Ordered a product",
        "Everyone who ever ordered the product you name.",
        lambda p: [
            {"kind": "ordered_product", "match": "product", "value": str(p["product"]).strip()}
        ],
        PresetParameter("product", "Product name", "text"),
    ),
    Preset(
        "lapsed",
        "No order in N days",
        "Customers who have ordered before but not in the last N days.",
        lambda p: [
            {"kind": "orders", "metric": "order_count", "op": "gte", "value": 1},
            {"kind": "no_order_in", "days": _days(p)},
        ],
        PresetParameter("days", "Days without an order", "number", 60),
    ),
    Preset(
        "account_type",
        "By account type",
        "Customers whose account_type trait is the value you enter (e.g. medical).",
        lambda p: [
            {
                "kind": "trait",
                "field": "custom.account_type",
                "op": "eq",
                "value": str(p["account_type"]).strip(),
            }
        ],
        PresetParameter("account_type", "Account type", "text", "medical"),
    ),
    Preset(
        "priority",
        "By priority",
        "Customers whose priority trait is the value you enter (e.g. vip).",
        lambda p: [
            {
                "kind": "trait",
                "field": "custom.priority",
                "op": "eq",
                "value": str(p["priority"]).strip(),
            }
        ],
        PresetParameter("priority", "Priority", "text", "vip"),
    ),
    Preset(
        "vip",
        "VIP: top 10% by spend",
        "The tenth of your customers who spent the most, kept current as orders arrive.",
        lambda p: [{"kind": "top_spenders", "percent": 10}],
    ),
    Preset(
        "vip_loyalty",
        "VIP loyalty members: top two tiers",
        "Members in your loyalty program's two highest tiers, kept current as they earn.",
        lambda p: [{"kind": "loyalty", "field": "tier", "op": "in_top", "value": 2}],
    ),
    Preset(
        "at_risk",
        "At risk",
        "Repeat customers (2+ orders) with no order in the last 90 days.",
        lambda p: [
            {"kind": "orders", "metric": "order_count", "op": "gte", "value": 2},
            {"kind": "no_order_in", "days": 90},
        ],
    ),
    Preset(
        "new_this_month",
        "New this month",
        "Profiles created since the first of this month.",
        lambda p: [{"kind": "trait", "field": "created_at", "op": "in_current_month"}],
    ),
    Preset(
        "birthday_this_month",
        "Birthday this month",
        "Customers whose birthday falls in the current month.",
        lambda p: [{"kind": "trait", "field": "birthday", "op": "in_current_month"}],
    ),
    Preset(
        "birthday_next_7_days",
        "Birthday in the next 7 days",
        "For birthday offers sent a few days ahead.",
        lambda p: [
            {"kind": "trait", "field": "birthday", "op": "anniversary_within_next_days", "value": 7}
        ],
    ),
    Preset(
        "engaged_email",
        "Engaged email subscribers",
        "Subscribed to email and opened one in the last 30 days (machine opens excluded).",
        lambda p: [
            {"kind": "consent", "channel": "email", "state": "subscribed"},
            {"kind": "engagement", "action": "opened", "channel": "email", "within_days": 30},
        ],
    ),
)
PRESETS_BY_KEY = {p.key: p for p in PRESETS}


def preset_definition(key: str, params: dict | None = None) -> dict:
    preset = PRESETS_BY_KEY.get(key)
    if preset is None:
        raise InvalidInput(f"Unknown preset {key!r}.", field="preset")
    return preset.definition(params)
