"""The segment builder's rows to the definition JSON and back.

Conversion to numbers and lists happens here, and anything that does not fit is passed on as
typed, so the segments service names the bad condition in its message instead of this module
guessing. A stored definition the two-level builder cannot show faithfully converts to None
(the page then shows it read-only).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from marketing_app.state.segments_form import (
    CUSTOM_FIELD,
    ConditionForm,
    GroupForm,
    as_text,
    normalize_condition,
)

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


def _trait_json(cond: ConditionForm) -> dict[str, Any]:
    name = f"custom.{cond.custom_field.strip()}" if cond.field == CUSTOM_FIELD else cond.field
    out: dict[str, Any] = {"kind": "trait", "field": name, "op": cond.op}
    if cond.input != "none":
        out["value"] = _trait_value(cond)
    return out


def _orders_json(cond: ConditionForm) -> dict[str, Any]:
    value = (
        [_number(cond.value), _number(cond.value2)] if cond.op == "between" else _number(cond.value)
    )
    return {"kind": "orders", "metric": cond.metric, "op": cond.op, "value": value} | _window(cond)


def _engagement_json(cond: ConditionForm) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "engagement", "action": cond.action, "channel": cond.channel}
    if cond.campaign.strip():
        out["campaign_id"] = cond.campaign.strip()
    return out | {"engaged": cond.positive} | _window(cond)


def _event_json(cond: ConditionForm) -> dict[str, Any]:
    return {
        "kind": "event",
        "name": cond.name.strip(),
        "count_op": cond.count_op,
        "count": _whole(cond.count),
    } | _window(cond)


def _event_time_json(cond: ConditionForm) -> dict[str, Any]:
    value = cond.value.strip() if cond.input == "date" else _whole(cond.value)
    return {
        "kind": "event_time",
        "name": cond.name.strip(),
        "which": cond.which,
        "op": cond.op,
        "value": value,
    }


def _ordered_product_json(cond: ConditionForm) -> dict[str, Any]:
    return {
        "kind": "ordered_product",
        "match": cond.match,
        "value": cond.value.strip(),
        "ordered": cond.positive,
    } | _window(cond)


def _random_bucket_json(cond: ConditionForm) -> dict[str, Any]:
    return {
        "kind": "random_bucket",
        "low": _whole(cond.value),
        "high": _whole(cond.value2),
        "salt": _whole(cond.salt) or 0,
    }


def _loyalty_json(cond: ConditionForm) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "loyalty", "field": cond.field, "op": cond.op}
    if cond.input == "tiers":
        out["value"] = list(cond.picked)
    elif cond.input == "top":
        out["value"] = _whole(cond.value)
    elif cond.input != "none":  # a tier's name, points, or points between two numbers
        out["value"] = _trait_value(cond)
    return out


_TO_JSON: dict[str, Callable[[ConditionForm], dict[str, Any]]] = {
    "trait": _trait_json,
    "orders": _orders_json,
    "no_order_in": lambda c: {"kind": "no_order_in", "days": _whole(c.value)},
    "engagement": _engagement_json,
    "event": _event_json,
    "event_time": _event_time_json,
    "ordered_product": _ordered_product_json,
    "consent": lambda c: {"kind": "consent", "channel": c.channel, "state": c.state},
    "segment": lambda c: {"kind": "segment", "segment_id": _whole(c.value), "member": c.positive},
    "rfm": lambda c: {"kind": "rfm", "groups": list(c.picked)},
    "top_spenders": lambda c: {"kind": "top_spenders", "percent": _whole(c.value)},
    "random_bucket": _random_bucket_json,
    "loyalty": _loyalty_json,
}


def condition_json(cond: ConditionForm) -> dict[str, Any]:
    """The definition JSON of one row (normalized first)."""
    cond = normalize_condition(cond)
    return _TO_JSON.get(cond.kind, _random_bucket_json)(cond)


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


# --- definition -> form ---------------------------------------------------------------------


def _pair(cond: ConditionForm, value: list) -> None:
    cond.value, cond.value2 = as_text(value[0]), as_text(value[1])


def _trait_form(cond: ConditionForm, raw: dict[str, Any]) -> None:
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
        _pair(cond, value)
    elif isinstance(value, list):
        cond.value = ", ".join(as_text(v) for v in value)
    else:
        cond.value = as_text(value)


def _orders_form(cond: ConditionForm, raw: dict[str, Any]) -> None:
    cond.metric, cond.op = raw["metric"], raw["op"]
    value = raw.get("value")
    if isinstance(value, list):
        _pair(cond, value)
    else:
        cond.value = as_text(value)


def _no_order_form(cond: ConditionForm, raw: dict[str, Any]) -> None:
    cond.value = as_text(raw["days"])


def _engagement_form(cond: ConditionForm, raw: dict[str, Any]) -> None:
    cond.action, cond.channel = raw["action"], raw.get("channel", "email")
    cond.campaign = raw.get("campaign_id") or ""
    cond.positive = raw.get("engaged", True)


def _event_form(cond: ConditionForm, raw: dict[str, Any]) -> bool:
    if raw.get("where"):
        return False  # property filters have no place in the builder
    cond.name, cond.count_op = raw["name"], raw.get("count_op", "at_least")
    cond.count = as_text(raw.get("count", 1))
    return True


def _event_time_form(cond: ConditionForm, raw: dict[str, Any]) -> None:
    cond.name, cond.which = raw["name"], raw.get("which", "last")
    cond.op, cond.value = raw["op"], as_text(raw.get("value"))


def _ordered_product_form(cond: ConditionForm, raw: dict[str, Any]) -> None:
    cond.match, cond.value = raw.get("match", "product"), raw["value"]
    cond.positive = raw.get("ordered", True)


def _consent_form(cond: ConditionForm, raw: dict[str, Any]) -> None:
    cond.channel, cond.state = raw["channel"], raw["state"]


def _segment_form(cond: ConditionForm, raw: dict[str, Any]) -> None:
    cond.value, cond.positive = as_text(raw["segment_id"]), raw.get("member", True)


def _rfm_form(cond: ConditionForm, raw: dict[str, Any]) -> None:
    cond.picked = list(raw["groups"])


def _top_spenders_form(cond: ConditionForm, raw: dict[str, Any]) -> None:
    cond.value = as_text(raw["percent"])


def _random_bucket_form(cond: ConditionForm, raw: dict[str, Any]) -> None:
    cond.value, cond.value2 = as_text(raw.get("low", 0)), as_text(raw["high"])
    cond.salt = as_text(raw.get("salt", 0))


def _loyalty_form(cond: ConditionForm, raw: dict[str, Any]) -> None:
    cond.field, cond.op = raw["field"], raw["op"]
    value = raw.get("value")
    if cond.op in ("in", "not_in"):
        cond.picked = [str(v) for v in value]
    elif isinstance(value, list):
        _pair(cond, value)
    else:
        cond.value = as_text(value)


# Each fills the row from the stored condition; False means the row cannot show it.
_FROM_JSON: dict[str, Callable[[ConditionForm, dict[str, Any]], bool | None]] = {
    "trait": _trait_form,
    "orders": _orders_form,
    "no_order_in": _no_order_form,
    "engagement": _engagement_form,
    "event": _event_form,
    "event_time": _event_time_form,
    "ordered_product": _ordered_product_form,
    "consent": _consent_form,
    "segment": _segment_form,
    "rfm": _rfm_form,
    "top_spenders": _top_spenders_form,
    "random_bucket": _random_bucket_form,
    "loyalty": _loyalty_form,
}


def _condition_form(raw: dict[str, Any]) -> ConditionForm | None:
    """The row for a stored condition, or None when the builder cannot show it faithfully."""
    kind = raw.get("kind")
    fill = _FROM_JSON.get(kind)
    cond = ConditionForm(kind=kind)
    if fill is None or fill(cond, raw) is False:
        return None
    cond.within_days = as_text(raw.get("within_days"))
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
