"""Wire format of provider records: money, times and ids as providers send them, page and
result types, and per-record validation.

Records are parsed one by one (`parse_records`), so a garbage record is skipped with its
reason while the good ones come through. Nothing here talks HTTP; see `http.py` for that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from marketing_app.domain.errors import ProviderBadData

logger = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """A record the provider sent that we could not use, and why."""

    record_id: str | None
    reason: str


@dataclass(slots=True)
class Page(Generic[T]):
    number: int  # 1-based
    records: list[T]
    skipped: list[SkippedRecord]
    total_pages: int
    total_records: int


@dataclass(slots=True)
class FetchResult(Generic[T]):
    """Every page of a listing: usable records, skipped ones with reasons, pages and calls."""

    records: list[T] = field(default_factory=list)
    skipped: list[SkippedRecord] = field(default_factory=list)
    pages: int = 0
    calls: int = 0


def to_cents(value: Any) -> int:
    """Dollars as providers send them (12.5, "12.50", 12) as integer cents."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("expected an amount in dollars")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {str(value)[:20]!r}") from exc
    if not amount.is_finite():
        raise ValueError("not a finite amount")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _as_id(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _blank_to_none(value: Any) -> Any:
    return (value.strip() or None) if isinstance(value, str) else value


Cents = Annotated[int, BeforeValidator(to_cents)]
NonNegativeCents = Annotated[int, BeforeValidator(to_cents), Field(ge=0)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda value: value.astimezone(UTC))]
ExternalId = Annotated[str, BeforeValidator(_as_id), Field(min_length=1, max_length=100)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]


class WireModel(BaseModel):
    """Base for records parsed from a provider: immutable, unknown fields ignored."""

    model_config = ConfigDict(
        frozen=True, populate_by_name=True, extra="ignore", str_strip_whitespace=True
    )


def describe_invalid(exc: ValidationError) -> str:
    """The first few problems of a record, as "field: problem; ..."."""
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or 'record'}: {error['msg']}"
        for error in exc.errors(include_url=False)[:3]
    ]
    return "; ".join(problems)


def parse_records(
    raw: Any, model: type[M], *, provider: str, id_field: str
) -> tuple[list[M], list[SkippedRecord]]:
    """Validate each record on its own: good ones are returned, bad ones skipped with a reason."""
    if not isinstance(raw, list):
        raise ProviderBadData(
            f"expected a list of records, got {type(raw).__name__}", provider=provider
        )
    records: list[M] = []
    skipped: list[SkippedRecord] = []
    for item in raw:
        if not isinstance(item, dict):
            record_id, reason = None, f"record is not an object ({type(item).__name__})"
        else:
            raw_id = item.get(id_field)
            record_id = None if raw_id is None else str(raw_id)[:100]
            try:
                records.append(model.model_validate(item))
                continue
            except ValidationError as exc:
                reason = describe_invalid(exc)
        logger.warning("%s: skipped record %s: %s", provider, record_id, reason)
        skipped.append(SkippedRecord(record_id, reason))
    return records, skipped
