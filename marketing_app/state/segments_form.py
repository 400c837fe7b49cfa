"""The segment builder's form model: two levels (groups of conditions) of plain dataclasses,
the fields derived for the page, the blanks still to fill, and service errors placed on rows.

Every input is kept as the string the user typed. `segments_form_convert` turns the rows into
the definition JSON and back; `segments_form_words` tells a definition in words.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from marketing_app.domain import segment_definition as sd
from marketing_app.state.segments_form_labels import LOYALTY_OP_LABELS, NO_TIER_LABEL, OP_LABELS

CUSTOM_FIELD = "custom"
ORDER_OPS = ("gt", "gte", "lt", "lte", "eq", "between")
EVENT_TIME_OPS = ("within_last_days", "not_within_last_days", "before", "after")
ENGAGEMENT_ACTIONS = {"email": ("opened", "clicked", "received"), "sms": ("clicked", "received")}


@dataclasses.dataclass
class Option:
    value: str = ""
    label: str = ""


@dataclasses.dataclass
class ConditionForm:
    """One condition row. Which fields matter depends on `kind`; the rest keep their defaults."""

    kind: str = "trait"
    field: str = "email"  # trait field, or "custom" with custom_field
    custom_field: str = ""
    op: str = "is_set"
    value: str = ""  # the main value: number, text, date, days, month, percent, name...
    value2: str = ""  # upper bound of "between", high end of a random bucket
    picked: list[str] = dataclasses.field(default_factory=list)  # ids or RFM groups
    name: str = ""  # event name
    count_op: str = "at_least"
    count: str = "1"
    within_days: str = ""  # "" means ever
    metric: str = "total_spent"
    action: str = "opened"
    channel: str = "email"
    campaign: str = ""
    state: str = "subscribed"
    which: str = "last"
    match: str = "product"
    positive: bool = True  # did / did not; member / not member
    salt: str = "0"
    # Derived by `normalize` for the page: operators that fit and the kind of value input.
    ops: list[Option] = dataclasses.field(default_factory=list)
    # none|text|number|between|date|days|month|list|location|staff; loyalty: tiers|tier|top
    input: str = "none"
    error: bool = False


@dataclasses.dataclass
class GroupForm:
    op: str = "and"
    negate: bool = False
    conditions: list[ConditionForm] = dataclasses.field(default_factory=list)


# --- defaults and derived fields ------------------------------------------------------------

DEFAULTS: dict[str, dict[str, Any]] = {
    "trait": {"field": "email", "op": "is_set"},
    "orders": {"metric": "total_spent", "op": "gt", "value": "100", "within_days": "90"},
    "no_order_in": {"value": "60"},
    "engagement": {"action": "opened", "channel": "email", "within_days": "30"},
    "event": {"name": "", "count_op": "at_least", "count": "1", "within_days": "30"},
    "event_time": {"name": "", "which": "last", "op": "within_last_days", "value": "30"},
    "ordered_product": {"match": "product", "value": ""},
    "consent": {"channel": "email", "state": "subscribed"},
    "segment": {"value": ""},
    "rfm": {"picked": []},
    "top_spenders": {"value": "10"},
    "random_bucket": {"value": "0", "value2": "50"},
    "loyalty": {"field": "member", "op": "is_true"},
}


def as_text(value: Any) -> str:
    """A stored value as an input shows it ("" for none; 5.0 as "5")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def new_condition(kind: str) -> ConditionForm:
    if kind not in DEFAULTS:
        kind = "trait"
    return normalize_condition(ConditionForm(kind=kind, **DEFAULTS[kind]))


def field_type(cond: ConditionForm) -> str:
    if cond.field == CUSTOM_FIELD:
        return "custom"
    return sd.TRAIT_FIELDS.get(cond.field, "string")


def _value_input(ftype: str, op: str, field: str) -> str:
    if op in sd.VALUELESS_OPS:
        return "none"
    if op in ("in", "not_in"):
        return field if ftype == "reference" else "list"
    if op == "between":
        return "between"
    if op in ("gt", "gte", "lt", "lte") or (ftype == "number" and op in ("eq", "ne")):
        return "number"
    if op in ("within_last_days", "not_within_last_days", "anniversary_within_next_days"):
        return "days"
    if op == "in_month":
        return "month"
    if op in ("before", "after"):
        return "date"
    return "text"


def normalize_condition(cond: ConditionForm) -> ConditionForm:
    """Fill the derived fields, and move an operator that no longer fits to the first that does."""
    if cond.kind == "trait":
        ops = sd.OPS_BY_TYPE[field_type(cond)]
        if cond.op not in ops:
            cond.op = ops[0]
        cond.input = _value_input(field_type(cond), cond.op, cond.field)
    elif cond.kind == "orders":
        ops = ORDER_OPS
        if cond.op not in ops:
            cond.op = "gt"
        cond.input = "between" if cond.op == "between" else "number"
    elif cond.kind == "event_time":
        ops = EVENT_TIME_OPS
        if cond.op not in ops:
            cond.op = "within_last_days"
        cond.input = "date" if cond.op in ("before", "after") else "days"
    elif cond.kind == "loyalty":
        ops = _loyalty_ops(cond)
    else:
        ops, cond.input = (), "none"
    if cond.kind == "engagement" and cond.action not in ENGAGEMENT_ACTIONS[cond.channel]:
        cond.action = ENGAGEMENT_ACTIONS[cond.channel][0]
    labels = OP_LABELS | (LOYALTY_OP_LABELS if cond.kind == "loyalty" else {})
    cond.ops = [Option(op, labels[op]) for op in ops]
    return cond


def _loyalty_ops(cond: ConditionForm) -> tuple[str, ...]:
    if cond.field not in sd.LOYALTY_OPS:
        cond.field = "member"
    ops = sd.LOYALTY_OPS[cond.field]
    if cond.op not in ops:
        cond.op = ops[0]
    inputs = {"is_true": "none", "is_false": "none", "in": "tiers", "not_in": "tiers"}
    inputs |= {"at_least": "tier", "in_top": "top", "between": "between"}
    cond.input = inputs.get(cond.op, "number")
    return ops


def tier_options(tiers: Sequence[str]) -> tuple[list[Option], list[Option]]:
    """Choices of a loyalty tier row: the program's tiers (lowest first) for "is at least", and
    for picking several the same after "no tier" (below the first tier, or no account)."""
    named = [Option(tier, tier) for tier in tiers]
    return named, [Option("", NO_TIER_LABEL), *named]


def normalize(groups: list[GroupForm]) -> list[GroupForm]:
    for group in groups:
        for cond in group.conditions:
            normalize_condition(cond)
    return groups


# --- blanks and service errors -----------------------------------------------------------


def missing_input(groups: list[GroupForm]) -> str:
    """A plain message for the blanks the user has not filled yet ("" when none)."""
    blanks = {
        "event": ("name", "enter the event name"),
        "event_time": ("name", "enter the event name"),
        "ordered_product": ("value", "enter what was ordered"),
        "segment": ("value", "choose the segment or list"),
    }
    for g, group in enumerate(groups, start=1):
        for c, cond in enumerate(group.conditions, start=1):
            where = f"Group {g}, condition {c}"
            if cond.kind in blanks:
                attribute, hint = blanks[cond.kind]
                if not getattr(cond, attribute).strip():
                    return f"{where}: {hint}."
            if cond.kind == "rfm" and not cond.picked:
                return f"{where}: choose at least one RFM group."
            if cond.kind == "trait" and cond.field == CUSTOM_FIELD and not cond.custom_field:
                return f"{where}: enter the custom trait's name."
            if cond.input in ("location", "staff") and not cond.picked:
                return f"{where}: choose at least one {cond.input}."
            if cond.kind == "loyalty" and cond.input == "tiers" and not cond.picked:
                return f"{where}: choose at least one tier."
            if cond.kind == "loyalty" and cond.input == "tier" and not cond.value.strip():
                return f"{where}: choose a tier."
    return ""


def error_position(message: str) -> tuple[int, int] | None:
    """(group, condition), 1-based, of a service message naming "condition #g > #c"."""
    found = re.search(r"condition #(\d+) > #(\d+)", message)
    return (int(found.group(1)), int(found.group(2))) if found else None


def friendly_error(message: str) -> str:
    """The service's "condition #2 > #1: ..." told as "Group 2, condition 1: ..."."""
    message = re.sub(
        r"condition #(\d+) > #(\d+)", lambda m: f"Group {m[1]}, condition {m[2]}", message
    )
    return re.sub(r"condition #(\d+)", lambda m: f"Group {m[1]}", message)


def mark_error(groups: list[GroupForm], message: str) -> None:
    position = error_position(message)
    for g, group in enumerate(groups, start=1):
        for c, cond in enumerate(group.conditions, start=1):
            cond.error = position == (g, c)
