"""The segment builder's form model: two levels (groups of conditions) of plain dataclasses,
their conversion to and from the definition JSON, and a definition told in words.

Every input is kept as the string the user typed; conversion to numbers and lists happens
here, and anything that does not fit is passed on as typed, so the segments service names the
bad condition in its message instead of this module guessing.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from marketing_app.domain import segment_definition as sd

KIND_LABELS = {
    "trait": "Profile field",
    "orders": "Order totals",
    "no_order_in": "No order in N days",
    "engagement": "Email or SMS engagement",
    "event": "Did an event",
    "event_time": "First or last time of an event",
    "ordered_product": "Ordered a product",
    "consent": "Consent",
    "segment": "In another segment or list",
    "rfm": "RFM group",
    "top_spenders": "Top spenders",
    "random_bucket": "Random sample",
}
FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "user_id": "User id",
    "time_zone": "Time zone",
    "birthday": "Birthday",
    "created_at": "Created",
    "first_seen_at": "First seen",
    "last_seen_at": "Last seen",
    "last_order_at": "Last order",
    "order_count": "Number of orders",
    "total_spent": "Total spent ($)",
    "location": "Location",
    "staff": "Staff member",
}
CUSTOM_FIELD = "custom"
OP_LABELS = {
    "eq": "is",
    "ne": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "in": "is one of",
    "not_in": "is none of",
    "is_set": "is set",
    "is_not_set": "is not set",
    "gt": "more than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "between": "between",
    "in_current_month": "is in the current month",
    "before": "before",
    "after": "after",
    "within_last_days": "in the last N days",
    "not_within_last_days": "not in the last N days",
    "anniversary_within_next_days": "comes round in the next N days",
    "in_month": "is in month",
    "is_true": "is true",
    "is_false": "is false",
}
METRIC_LABELS = {
    "total_spent": "Total spent ($)",
    "order_count": "Number of orders",
    "average_order_value": "Average order ($)",
}
ORDER_OPS = ("gt", "gte", "lt", "lte", "eq", "between")
COUNT_OP_LABELS = {"at_least": "at least", "at_most": "at most", "exactly": "exactly"}
ACTION_LABELS = {"opened": "opened", "clicked": "clicked", "received": "received"}
CHANNEL_LABELS = {"email": "an email", "sms": "an SMS"}
CONSENT_LABELS = {
    "subscribed": "subscribed",
    "not_subscribed": "not subscribed",
    "suppressed": "suppressed (bounced, complained or blocked)",
    "not_suppressed": "not suppressed",
}
EVENT_TIME_OPS = ("within_last_days", "not_within_last_days", "before", "after")
MATCH_LABELS = {"product": "product name", "sku": "SKU", "category": "category"}
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
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
    input: str = "none"  # none|text|number|between|date|days|month|list|location|staff
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
}


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
    else:
        ops, cond.input = (), "none"
    if cond.kind == "engagement" and cond.action not in ENGAGEMENT_ACTIONS[cond.channel]:
        cond.action = ENGAGEMENT_ACTIONS[cond.channel][0]
    cond.ops = [Option(op, OP_LABELS[op]) for op in ops]
    return cond


def normalize(groups: list[GroupForm]) -> list[GroupForm]:
    for group in groups:
        for cond in group.conditions:
            normalize_condition(cond)
    return groups


# --- form -> definition ---------------------------------------------------------------------


def _number(text: str) -> Any:
    """A number from the input; what is not one goes on as typed (the service names it)."""
    text = (text or "").strip().replace(",", "")
    if not text:
        return None
    try:
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    except ValueError:
        return text


def _whole(text: str) -> Any:
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else (text or None)


def _window(cond: ConditionForm) -> dict[str, Any]:
    return {"within_days": _whole(cond.within_days)} if cond.within_days.strip() else {}


def _trait_value(cond: ConditionForm) -> Any:
    kind = cond.input
    if kind == "number":
        return _number(cond.value)
    if kind == "between":
        return [_number(cond.value), _number(cond.value2)]
    if kind in ("days", "month"):
        return _whole(cond.value)
    if kind == "list":
        return [v.strip() for v in cond.value.split(",") if v.strip()]
    if kind in ("location", "staff"):
        return [int(v) if v.isdigit() else v for v in cond.picked]
    return cond.value.strip()


def condition_json(cond: ConditionForm) -> dict[str, Any]:
    """The definition JSON of one row (normalized first)."""
    cond = normalize_condition(cond)
    kind = cond.kind
    if kind == "trait":
        name = f"custom.{cond.custom_field.strip()}" if cond.field == CUSTOM_FIELD else cond.field
        out: dict[str, Any] = {"kind": kind, "field": name, "op": cond.op}
        if cond.input != "none":
            out["value"] = _trait_value(cond)
        return out
    if kind == "orders":
        value = (
            [_number(cond.value), _number(cond.value2)]
            if cond.op == "between"
            else _number(cond.value)
        )
        return {"kind": kind, "metric": cond.metric, "op": cond.op, "value": value} | _window(cond)
    if kind == "no_order_in":
        return {"kind": kind, "days": _whole(cond.value)}
    if kind == "engagement":
        out = {"kind": kind, "action": cond.action, "channel": cond.channel}
        if cond.campaign.strip():
            out["campaign_id"] = cond.campaign.strip()
        return out | {"engaged": cond.positive} | _window(cond)
    if kind == "event":
        return {
            "kind": kind,
            "name": cond.name.strip(),
            "count_op": cond.count_op,
            "count": _whole(cond.count),
        } | _window(cond)
    if kind == "event_time":
        value = cond.value.strip() if cond.input == "date" else _whole(cond.value)
        return {
            "kind": kind,
            "name": cond.name.strip(),
            "which": cond.which,
            "op": cond.op,
            "value": value,
        }
    if kind == "ordered_product":
        return {
            "kind": kind,
            "match": cond.match,
            "value": cond.value.strip(),
            "ordered": cond.positive,
        } | _window(cond)
    if kind == "consent":
        return {"kind": kind, "channel": cond.channel, "state": cond.state}
    if kind == "segment":
        return {"kind": kind, "segment_id": _whole(cond.value), "member": cond.positive}
    if kind == "rfm":
        return {"kind": kind, "groups": list(cond.picked)}
    if kind == "top_spenders":
        return {"kind": kind, "percent": _whole(cond.value)}
    return {
        "kind": "random_bucket",
        "low": _whole(cond.value),
        "high": _whole(cond.value2),
        "salt": _whole(cond.salt) or 0,
    }


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
    return ""


def to_definition(top_op: str, groups: list[GroupForm]) -> dict[str, Any]:
    return {
        "root": {
            "kind": "group",
            "op": top_op,
            "negate": False,
            "children": [
                {
                    "kind": "group",
                    "op": group.op,
                    "negate": group.negate,
                    "children": [condition_json(c) for c in group.conditions],
                }
                for group in groups
            ],
        }
    }


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


# --- definition -> form ---------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _condition_form(raw: dict[str, Any]) -> ConditionForm | None:
    """The row for a stored condition, or None when the builder cannot show it faithfully."""
    kind = raw.get("kind")
    cond = ConditionForm(kind=kind)
    if kind == "trait":
        field = raw["field"]
        if field.startswith("custom."):
            cond.field, cond.custom_field = CUSTOM_FIELD, field.removeprefix("custom.")
        else:
            cond.field = field
        cond.op = raw["op"]
        value = raw.get("value")
        if isinstance(value, list) and field in ("location", "staff"):
            cond.picked = [str(v) for v in value]
        elif isinstance(value, list) and cond.op == "between":
            cond.value, cond.value2 = _text(value[0]), _text(value[1])
        elif isinstance(value, list):
            cond.value = ", ".join(_text(v) for v in value)
        else:
            cond.value = _text(value)
    elif kind == "orders":
        cond.metric, cond.op = raw["metric"], raw["op"]
        value = raw.get("value")
        if isinstance(value, list):
            cond.value, cond.value2 = _text(value[0]), _text(value[1])
        else:
            cond.value = _text(value)
    elif kind == "no_order_in":
        cond.value = _text(raw["days"])
    elif kind == "engagement":
        cond.action, cond.channel = raw["action"], raw.get("channel", "email")
        cond.campaign = raw.get("campaign_id") or ""
        cond.positive = raw.get("engaged", True)
    elif kind == "event":
        if raw.get("where"):
            return None
        cond.name, cond.count_op = raw["name"], raw.get("count_op", "at_least")
        cond.count = _text(raw.get("count", 1))
    elif kind == "event_time":
        cond.name, cond.which = raw["name"], raw.get("which", "last")
        cond.op, cond.value = raw["op"], _text(raw.get("value"))
    elif kind == "ordered_product":
        cond.match, cond.value = raw.get("match", "product"), raw["value"]
        cond.positive = raw.get("ordered", True)
    elif kind == "consent":
        cond.channel, cond.state = raw["channel"], raw["state"]
    elif kind == "segment":
        cond.value, cond.positive = _text(raw["segment_id"]), raw.get("member", True)
    elif kind == "rfm":
        cond.picked = list(raw["groups"])
    elif kind == "top_spenders":
        cond.value = _text(raw["percent"])
    elif kind == "random_bucket":
        cond.value, cond.value2 = _text(raw.get("low", 0)), _text(raw["high"])
        cond.salt = _text(raw.get("salt", 0))
    else:
        return None
    cond.within_days = _text(raw.get("within_days"))
    return normalize_condition(cond)


def _conditions(children: list[dict]) -> list[ConditionForm] | None:
    rows = [_condition_form(c) if c.get("kind") != "group" else None for c in children]
    return None if any(r is None for r in rows) else rows


def from_definition(definition: dict[str, Any]) -> tuple[str, list[GroupForm]] | None:
    """(top op, groups) when the definition fits two levels; None means show it read-only."""
    root = (definition or {}).get("root") or {"kind": "group", "children": []}
    if root.get("negate"):
        return None
    groups: list[GroupForm] = []
    for child in root.get("children", []):
        if child.get("kind") == "group":
            conditions = _conditions(child.get("children", []))
            if conditions is None:
                return None
            groups.append(GroupForm(child.get("op", "and"), child.get("negate", False), conditions))
        else:
            conditions = _conditions([child])
            if conditions is None:
                return None
            groups.append(GroupForm("and", False, conditions))
    return root.get("op", "and"), groups


# --- a definition in words ------------------------------------------------------------------


def _money(value: Any) -> str:
    return f"${value:,.2f}".replace(".00", "") if isinstance(value, int | float) else str(value)


def _window_words(raw: dict[str, Any]) -> str:
    days = raw.get("within_days")
    return f" in the last {days} days" if days else " ever"


def _trait_words(raw: dict[str, Any], names: dict[str, dict[str, str]]) -> str:
    field = raw["field"]
    label = (
        f"custom trait “{field.removeprefix('custom.')}”"
        if field.startswith("custom.")
        else FIELD_LABELS.get(field, field)
    )
    op, value = raw["op"], raw.get("value")
    if op in sd.VALUELESS_OPS:
        return f"{label} {OP_LABELS[op]}"
    if field in ("location", "staff") and isinstance(value, list):
        shown = ", ".join(names.get(field, {}).get(str(v), f"#{v}") for v in value)
    elif op == "between":
        shown = f"{_text(value[0])} and {_text(value[1])}"
    elif op in ("within_last_days", "not_within_last_days", "anniversary_within_next_days"):
        return f"{label} {OP_LABELS[op].replace('N', str(value))}"
    elif op == "in_month":
        shown = MONTHS[value - 1] if isinstance(value, int) and 1 <= value <= 12 else str(value)
    elif isinstance(value, list):
        shown = ", ".join(_text(v) for v in value)
    else:
        shown = _text(value)
    return f"{label} {OP_LABELS[op]} {shown}"


def _orders_words(raw: dict[str, Any]) -> str:
    metric, op, value = raw["metric"], raw["op"], raw["value"]
    fmt = _text if metric == "order_count" else _money
    label = {
        "total_spent": "spent",
        "order_count": "ordered",
        "average_order_value": "average order",
    }[metric]
    shown = f"{fmt(value[0])} and {fmt(value[1])}" if op == "between" else fmt(value)
    unit = "" if metric != "order_count" else (" time" if value == 1 else " times")
    return f"{label} {OP_LABELS[op]} {shown}{unit}{_window_words(raw)}"


def condition_words(raw: dict[str, Any], names: dict[str, dict[str, str]]) -> str:
    """One condition in words; `names` maps location/staff/segment ids to names."""
    kind = raw.get("kind")
    if kind == "trait":
        return _trait_words(raw, names)
    if kind == "orders":
        return _orders_words(raw)
    if kind == "no_order_in":
        return f"no order in the last {raw['days']} days"
    if kind == "engagement":
        did = "" if raw.get("engaged", True) else "did not "
        action = (
            raw["action"]
            if did == ""
            else {"opened": "open", "clicked": "click"}.get(raw["action"], "receive")
        )
        campaign = f" of campaign {raw['campaign_id']}" if raw.get("campaign_id") else ""
        where = CHANNEL_LABELS.get(raw.get("channel", "email"), "a message")
        return f"{did}{action} {where}{campaign}{_window_words(raw)}"
    if kind == "event":
        count_op, count = raw.get("count_op", "at_least"), raw.get("count", 1)
        if count == 0 and count_op in ("at_most", "exactly"):
            return f"never did “{raw['name']}”{_window_words(raw)}"
        return (
            f"did “{raw['name']}” {COUNT_OP_LABELS[count_op]} {count} "
            f"time{'s' if count != 1 else ''}{_window_words(raw)}"
        )
    if kind == "event_time":
        op, value = raw["op"], raw["value"]
        when = (
            f"{OP_LABELS[op]} {value}"
            if op in ("before", "after")
            else OP_LABELS[op].replace("N", str(value))
        )
        return f"{raw.get('which', 'last')} “{raw['name']}” {when}"
    if kind == "ordered_product":
        verb = "ordered" if raw.get("ordered", True) else "never ordered"
        label = MATCH_LABELS.get(raw.get("match", "product"), "product")
        return f"{verb} {label} “{raw['value']}”{_window_words(raw)}"
    if kind == "consent":
        channel = "email" if raw["channel"] == "email" else "SMS"
        return f"{channel} consent: {CONSENT_LABELS.get(raw['state'], raw['state'])}"
    if kind == "segment":
        name = names.get("segment", {}).get(str(raw["segment_id"]), f"#{raw['segment_id']}")
        return f"{'in' if raw.get('member', True) else 'not in'} segment “{name}”"
    if kind == "rfm":
        return "RFM group is " + " or ".join(raw["groups"])
    if kind == "top_spenders":
        return f"among the top {raw['percent']}% of spenders"
    if kind == "random_bucket":
        return f"random sample: buckets {raw.get('low', 0)} to {raw['high'] - 1} of 100"
    return str(raw)


def group_words(group: dict[str, Any], names: dict[str, dict[str, str]]) -> str:
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


def definition_lines(definition: dict[str, Any], names: dict[str, dict[str, str]]) -> list[str]:
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
