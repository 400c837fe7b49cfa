"""A segment definition told in words: a heading and one line per condition or group, as the
segment page shows it. `names` maps location, staff and segment ids to their names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketing_app.domain import segment_definition as sd
from marketing_app.state.segments_form import as_text
from marketing_app.state.segments_form_labels import (
    CHANNEL_LABELS,
    CONSENT_LABELS,
    COUNT_OP_LABELS,
    FIELD_LABELS,
    LOYALTY_FIELD_LABELS,
    MATCH_LABELS,
    MONTHS,
    OP_LABELS,
)

Names = dict[str, dict[str, str]]
DAYS_OPS = ("within_last_days", "not_within_last_days", "anniversary_within_next_days")


def _money(value: Any) -> str:
    return f"${value:,.2f}".replace(".00", "") if isinstance(value, int | float) else str(value)


def _window_words(raw: dict[str, Any]) -> str:
    days = raw.get("within_days")
    return f" in the last {days} days" if days else " ever"


def _trait_label(field: str) -> str:
    if field.startswith("custom."):
        return f"custom trait “{field.removeprefix('custom.')}”"
    return FIELD_LABELS.get(field, field)


def _trait_words(raw: dict[str, Any], names: Names) -> str:
    field = raw["field"]
    label = _trait_label(field)
    op, value = raw["op"], raw.get("value")
    if op in sd.VALUELESS_OPS:
        return f"{label} {OP_LABELS[op]}"
    if field in ("location", "staff") and isinstance(value, list):
        shown = ", ".join(names.get(field, {}).get(str(v), f"#{v}") for v in value)
    elif op == "between":
        shown = f"{as_text(value[0])} and {as_text(value[1])}"
    elif op in DAYS_OPS:
        return f"{label} {OP_LABELS[op].replace('N', str(value))}"
    elif op == "in_month":
        shown = MONTHS[value - 1] if isinstance(value, int) and 1 <= value <= 12 else str(value)
    elif isinstance(value, list):
        shown = ", ".join(as_text(v) for v in value)
    else:
        shown = as_text(value)
    return f"{label} {OP_LABELS[op]} {shown}"


def _orders_words(raw: dict[str, Any], names: Names) -> str:
    metric, op, value = raw["metric"], raw["op"], raw["value"]
    fmt = as_text if metric == "order_count" else _money
    label = {
        "total_spent": "spent",
        "order_count": "ordered",
        "average_order_value": "average order",
    }[metric]
    shown = f"{fmt(value[0])} and {fmt(value[1])}" if op == "between" else fmt(value)
    unit = "" if metric != "order_count" else (" time" if value == 1 else " times")
    return f"{label} {OP_LABELS[op]} {shown}{unit}{_window_words(raw)}"


def _engagement_words(raw: dict[str, Any], names: Names) -> str:
    did = "" if raw.get("engaged", True) else "did not "
    action = (
        raw["action"]
        if did == ""
        else {"opened": "open", "clicked": "click"}.get(raw["action"], "receive")
    )
    campaign = f" of campaign {raw['campaign_id']}" if raw.get("campaign_id") else ""
    where = CHANNEL_LABELS.get(raw.get("channel", "email"), "a message")
    return f"{did}{action} {where}{campaign}{_window_words(raw)}"


def _event_words(raw: dict[str, Any], names: Names) -> str:
    count_op, count = raw.get("count_op", "at_least"), raw.get("count", 1)
    if count == 0 and count_op in ("at_most", "exactly"):
        return f"never did “{raw['name']}”{_window_words(raw)}"
    return (
        f"did “{raw['name']}” {COUNT_OP_LABELS[count_op]} {count} "
        f"time{'s' if count != 1 else ''}{_window_words(raw)}"
    )


def _event_time_words(raw: dict[str, Any], names: Names) -> str:
    op, value = raw["op"], raw["value"]
    when = (
        f"{OP_LABELS[op]} {value}"
        if op in ("before", "after")
        else OP_LABELS[op].replace("N", str(value))
    )
    return f"{raw.get('which', 'last')} “{raw['name']}” {when}"


def _ordered_product_words(raw: dict[str, Any], names: Names) -> str:
    verb = "ordered" if raw.get("ordered", True) else "never ordered"
    label = MATCH_LABELS.get(raw.get("match", "product"), "product")
    return f"{verb} {label} “{raw['value']}”{_window_words(raw)}"


def _consent_words(raw: dict[str, Any], names: Names) -> str:
    channel = "email" if raw["channel"] == "email" else "SMS"
    return f"{channel} consent: {CONSENT_LABELS.get(raw['state'], raw['state'])}"


def _segment_words(raw: dict[str, Any], names: Names) -> str:
    name = names.get("segment", {}).get(str(raw["segment_id"]), f"#{raw['segment_id']}")
    return f"{'in' if raw.get('member', True) else 'not in'} segment “{name}”"


def _points(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def _tier_phrase(op: str, value: Any) -> str:
    if op == "in_top":
        return "is the top tier" if value == 1 else f"is one of the top {value}"
    if op == "at_least":
        return f"is {value} or higher"
    shown = [name or "none" for name in value]
    if op == "in":
        return "is " + " or ".join(shown)
    if len(shown) <= 2:
        return f"is not {shown[0]}" if len(shown) == 1 else f"is neither {shown[0]} nor {shown[1]}"
    return "is none of " + ", ".join(shown)


def _loyalty_words(raw: dict[str, Any], names: Names) -> str:
    field, op, value = raw["field"], raw["op"], raw.get("value")
    if field == "member":
        return "is a loyalty member" if op == "is_true" else "is not a loyalty member"
    if field == "tier":
        return "Loyalty tier " + _tier_phrase(op, value)
    shown = f"{_points(value[0])} and {_points(value[1])}" if op == "between" else _points(value)
    label = LOYALTY_FIELD_LABELS.get(field, field)
    return f"Loyalty {label} {OP_LABELS[op]} {shown}"


_WORDS: dict[str, Callable[[dict[str, Any], Names], str]] = {
    "trait": _trait_words,
    "orders": _orders_words,
    "no_order_in": lambda raw, _: f"no order in the last {raw['days']} days",
    "engagement": _engagement_words,
    "event": _event_words,
    "event_time": _event_time_words,
    "ordered_product": _ordered_product_words,
    "consent": _consent_words,
    "segment": _segment_words,
    "rfm": lambda raw, _: "RFM group is " + " or ".join(raw["groups"]),
    "top_spenders": lambda raw, _: f"among the top {raw['percent']}% of spenders",
    "random_bucket": lambda raw, _: (
        f"random sample: buckets {raw.get('low', 0)} to {raw['high'] - 1} of 100"
    ),
    "loyalty": _loyalty_words,
}


def condition_words(raw: dict[str, Any], names: Names) -> str:
    """One condition in words; `names` maps location/staff/segment ids to names."""
    words = _WORDS.get(raw.get("kind"))
    return words(raw, names) if words else str(raw)


def group_words(group: dict[str, Any], names: Names) -> str:
    parts = [
        f"({group_words(c, names)})" if c.get("kind") == "group" else condition_words(c, names)
        for c in group.get("children", [])
    ]
    text = f" {group.get('op', 'and').upper()} ".join(parts) or "everyone"
    return f"NOT ({text})" if group.get("negate") else text


def _shown_root(definition: dict[str, Any]) -> dict[str, Any]:
    """The group whose children are listed: a root holding one plain group shows that group."""
    root = (definition or {}).get("root") or {}
    children = root.get("children", [])
    if (
        not root.get("negate")
        and len(children) == 1
        and children[0].get("kind") == "group"
        and not children[0].get("negate")
    ):
        return children[0]
    return root


def definition_lines(definition: dict[str, Any], names: Names) -> list[str]:
    """The shown group's children, one line each, under `definition_heading`."""
    root = _shown_root(definition)
    return [
        group_words(c, names) if c.get("kind") == "group" else condition_words(c, names)
        for c in root.get("children", [])
    ]


def definition_heading(definition: dict[str, Any]) -> str:
    root = _shown_root(definition)
    children = root.get("children", [])
    if not children:
        return "Every customer of the tenant (no conditions)."
    which = "all" if root.get("op", "and") == "and" else "any"
    prefix = "Customers who do NOT match " if root.get("negate") else "Customers matching "
    return f"{prefix}{which} of these:"
