"""What a campaign says, to whom and when: validated value objects stored as JSON on the row.

Static lists live in the segments table, so `Audience.segment_ids` takes segments and lists.
Variants carry the content; a campaign without an A/B test has exactly one variant "A".
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_ID = 2**31 - 1
VARIANT_KEYS = ("A", "B", "C", "D")
TEMPLATE_LIMIT = 500_000  # characters of HTML in one variant


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text cannot contain a NUL character")
    return value


class Variant(_Strict):
    key: Literal["A", "B", "C", "D"] = "A"
    subject: str = Field(default="", max_length=300)
    preheader: str = Field(default="", max_length=300)
    html: str = Field(default="", max_length=TEMPLATE_LIMIT)
    from_name: str = Field(default="", max_length=120)  # blank: the campaign's
    send_delay_hours: int = Field(default=0, ge=0, le=72)  # a send-time variant

    _text = field_validator("subject", "preheader", "html", "from_name")(_no_nul)


class CampaignContent(_Strict):
    variants: list[Variant] = Field(default_factory=lambda: [Variant()], min_length=1, max_length=4)

    @model_validator(mode="after")
    def _distinct_keys(self) -> CampaignContent:
        keys = [variant.key for variant in self.variants]
        if len(set(keys)) != len(keys):
            raise ValueError("two variants have the same key")
        if keys != sorted(keys):
            self.variants = sorted(self.variants, key=lambda variant: variant.key)
        return self

    def variant(self, key: str) -> Variant | None:
        return next((v for v in self.variants if v.key == key), None)


class Audience(_Strict):
    segment_ids: list[int] = Field(default_factory=list, max_length=50)
    exclude_segment_ids: list[int] = Field(default_factory=list, max_length=50)

    @field_validator("segment_ids", "exclude_segment_ids")
    @classmethod
    def _ids(cls, ids: list[int]) -> list[int]:
        if any(not 0 < i <= MAX_ID for i in ids):
            raise ValueError("a segment id is out of range")
        return sorted(set(ids))


class Schedule(_Strict):
    """now: as soon as scheduled; at: at `send_at` (UTC); local: `local_time` in each
    recipient's time zone on the day of `send_at` (the tenant's zone when unknown).
    `optimize`: each recipient at their historically best hour within a day of the start."""

    mode: Literal["now", "at", "local"] = "now"
    send_at: datetime | None = None
    local_time: time | None = None
    optimize: bool = False

    @model_validator(mode="after")
    def _complete(self) -> Schedule:
        if self.mode in ("at", "local") and self.send_at is None:
            raise ValueError("give the date and time to send at")
        if self.mode == "local" and self.local_time is None:
            raise ValueError("give the local time of day to send at")
        if self.send_at is not None and self.send_at.tzinfo is None:
            raise ValueError("the send time needs a time zone")
        if self.optimize and self.mode == "local":
            raise ValueError("choose either local time or send-time optimization")
        return self


class ABTest(_Strict):
    """A test share of the audience gets the variants evenly; after `wait_hours` the winner
    by `metric` goes to the rest (or the one a marketer picks first)."""

    enabled: bool = False
    test_percent: int = Field(default=20, ge=5, le=50)
    metric: Literal["open", "click", "revenue"] = "open"
    wait_hours: int = Field(default=4, ge=1, le=168)
    winner: Literal["A", "B", "C", "D"] | None = None
    decided_by: Literal["metric", "marketer"] | None = None
    decided_at: datetime | None = None
