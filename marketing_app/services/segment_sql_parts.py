"""Value comparisons of segment conditions (profile columns, JSON traits and properties).

Each returns an expression that is never NULL; see services/segment_sql.py for the whole query.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    not_,
    or_,
    text,
)
from sqlmodel import Session

from marketing_app.services.segment_values import anniversary_days, day_start

if TYPE_CHECKING:
    from marketing_app.services.rfm import RfmBoundaries


@dataclass(frozen=True)
class CompileContext:
    tenant_id: uuid.UUID
    now: datetime
    dialect: str  # "postgresql" | "sqlite"
    only_contacts: Select | list[int] | None = None
    rfm: RfmBoundaries | None = None  # the tenant's last computed RFM boundaries
    loyalty_tiers: tuple[str, ...] = ()  # the loyalty program's tiers, lowest threshold first

    def since(self, days: int | None) -> datetime | None:
        return None if days is None else self.now - timedelta(days=days)


def never_null(expr: ColumnElement) -> ColumnElement[bool]:
    return func.coalesce(expr, false())


def string_condition(column, op: str, value) -> ColumnElement[bool]:
    text = func.lower(column)
    if op == "is_set":
        return never_null(and_(column.is_not(None), column != ""))
    if op == "is_not_set":
        return not_(string_condition(column, "is_set", value))
    if op in ("ne", "not_contains", "not_in"):
        return not_(string_condition(column, {"ne": "eq"}.get(op, op[4:]), value))
    if op == "in":
        return never_null(text.in_([str(v).lower() for v in value]))
    needle = str(value).lower()
    if op == "contains":
        return never_null(text.contains(needle, autoescape=True))
    if op == "starts_with":
        return never_null(text.startswith(needle, autoescape=True))
    return never_null(text == needle)


NUMBER_COMPARISONS: dict[str, Callable] = {
    "eq": lambda c, v: c == v,
    "gt": lambda c, v: c > v,
    "gte": lambda c, v: c >= v,
    "lt": lambda c, v: c < v,
    "lte": lambda c, v: c <= v,
    "between": lambda c, v: and_(c >= v[0], c <= v[1]),
}


def number_condition(column, op: str, value) -> ColumnElement[bool]:
    if op == "is_set":
        return column.is_not(None)
    if op == "is_not_set":
        return column.is_(None)
    if op == "ne":
        return not_(number_condition(column, "eq", value))
    return never_null(NUMBER_COMPARISONS[op](column, value))


def date_condition(column, op, value, ctx: CompileContext, *, as_date: bool):
    if op in ("is_set", "is_not_set"):
        return number_condition(column, op, value)
    if op in ("before", "after"):
        day = date.fromisoformat(str(value))
        bound = day if op == "before" else day + timedelta(days=1)
        bound = bound if as_date else day_start(bound)
        return never_null(column < bound if op == "before" else column >= bound)
    since = ctx.since(value)
    if as_date:
        since = since.date()
    if op == "within_last_days":
        return never_null(column >= since)
    return never_null(column < since)  # not_within_last_days: set, and older


def birthday_condition(column, op, value, ctx: CompileContext) -> ColumnElement[bool]:
    month = func.extract("month", column)
    if op == "in_month":
        return never_null(month == value)
    month_days = [m * 100 + d for m, d in anniversary_days(ctx.now.date(), value)]
    return never_null((month * 100 + func.extract("day", column)).in_(month_days))


def reference_condition(column, op, value) -> ColumnElement[bool]:
    if op in ("is_set", "is_not_set"):
        return number_condition(column, op, value)
    matched = never_null(column.in_(value))
    return matched if op == "in" else not_(matched)


# --- JSON (custom traits, event properties) -------------------------------------------------


def json_parts(column, key: str, ctx: CompileContext, binary: bool):
    """(JSON type name, text value) of a top-level key, in portable type names.

    `binary`: the column is jsonb on PostgreSQL (contacts.traits); event properties stay json.
    """
    if ctx.dialect == "postgresql":
        text = column[key].as_string()
        kind = (func.jsonb_typeof if binary else func.json_typeof)(column[key])
        return case((kind == "string", "text"), (kind == "boolean", text), else_=kind), text
    path = '$."' + key + '"'
    kind = func.json_type(column, path)
    kind = case((kind.in_(("integer", "real")), "number"), else_=kind)
    return kind, func.json_extract(column, path)


def json_condition(column, key: str, op: str, value, ctx: CompileContext, binary=False):
    kind, text = json_parts(column, key, ctx, binary)
    if op in ("is_true", "is_false"):
        return never_null(kind == ("true" if op == "is_true" else "false"))
    if op == "is_set":
        return never_null(and_(kind.not_in(("null",)), or_(kind != "text", text != "")))
    if op == "is_not_set":
        return not_(json_condition(column, key, "is_set", value, ctx, binary))
    if op in ("ne", "not_contains", "not_in"):
        positive = {"ne": "eq"}.get(op, op.removeprefix("not_"))
        return not_(json_condition(column, key, positive, value, ctx, binary))
    is_number_test = op in NUMBER_COMPARISONS and (op != "eq" or not isinstance(value, str))
    if is_number_test:
        number = case((kind == "number", cast(text, Float)), else_=None)
        return never_null(NUMBER_COMPARISONS[op](number, value))
    string = case((kind == "text", text), else_=None)
    return string_condition(string, op, value)


SEGMENT_WORK_MEM = "64MB"


def allow_big_sorts(session: Session) -> None:
    """Let this transaction's segment and RFM queries hash and sort in memory (PostgreSQL).

    At the server's default 4 MB a 90-day spend aggregate over a big tenant spills to disk
    once per parallel worker. SET LOCAL ends with the transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{SEGMENT_WORK_MEM}'"))
