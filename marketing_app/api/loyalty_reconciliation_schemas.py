"""Request and response shapes of the loyalty reconciliation API, with documented examples.

The services check values (reasons, points, addresses, URLs) and answer 422 with `detail` and
`field`; these models fix the shapes and the id ranges the database can hold.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from marketing_app.api.loyalty_schemas import MAX_ID
from marketing_app.api.segment_schemas import error_doc

DiscrepancyIdPath = Annotated[
    int, Path(ge=1, le=MAX_ID, description="The discrepancy's id.", examples=[42])
]
NOT_FOUND = {
    404: error_doc(
        "No loyalty program yet, or no such discrepancy in this tenant (another tenant's "
        "answers the same)"
    )
}
INVALID = {422: error_doc("Invalid input: `detail` says what, `field` names the field")}
CONFLICT = {409: error_doc("The discrepancy was already resolved or cleared")}
KINDS_DOC = "missing_visits | sync_lag | configuration | unknown"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DiscrepancyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    customer: str = Field(description="The customer's name, else email.")
    calculated_points: int = Field(description="The ledger plus orders not credited yet.")
    external_points: int | None = Field(description="Alpine IQ's points; null: not mapped.")
    stored_balance: int = Field(description="Our account's balance.")
    difference: int = Field(
        description="The figure that disagrees most minus the source of truth's figure."
    )
    difference_percent: float = Field(description="Of the source of truth's figure.")
    over_threshold: bool
    kind: str = Field(description=KINDS_DOC, examples=["sync_lag"])
    explanation: str = Field(
        examples=[
            "Alpine IQ shows 30 fewer points than our figure; the gap of 30 comes from 1 "
            "change here since its sync 2026-03-10 12:00 UTC."
        ]
    )
    status: str = Field(description="open | resolved | cleared")
    resolution: str | None = Field(description="accept_external | keep_ours | adjust")
    resolved_points: int | None = Field(description="The balance the decision set.")
    resolved_by: str
    reason: str
    entry_id: int | None = Field(description="The ledger entry the decision wrote.")
    checked_at: datetime = Field(description="The last reconciliation that saw it.")
    resolved_at: datetime | None


class DiscrepancyPage(BaseModel):
    items: list[DiscrepancyPublic]
    total: int
    limit: int
    offset: int


class DiscrepancySummary(BaseModel):
    open: int
    over_threshold: int
    by_kind: dict[str, int] = Field(examples=[{"missing_visits": 3, "sync_lag": 12}])
    last_reconciled_at: datetime | None
    source_of_truth: str = Field(description="orders | alpineiq")
    threshold_percent: Decimal
    last_run: dict[str, Any] = Field(
        description="The last run's counts, seconds and alert outcome."
    )


class ResolveRequest(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"resolution": "accept_external", "reason": "Alpine IQ has the in-store visits"},
                {"resolution": "adjust", "points": 450, "reason": "Refund missing in the POS"},
            ]
        },
    )

    resolution: Literal["accept_external", "keep_ours", "adjust"]
    reason: str = Field(description="Why; 1 to 500 characters, kept with the ledger entry.")
    points: int | None = Field(
        None, ge=0, le=1_000_000_000, description="The balance to set (adjust only)."
    )


class BulkAcceptRequest(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"ids": [42, 43], "reason": "Weekly review"}]},
    )

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=1_000, description="Discrepancy ids; those not open are skipped."
    )
    reason: str = Field(description="1 to 500 characters.")


class BulkAccepted(BaseModel):
    resolved: int = Field(description="How many were open and are resolved now.")


class AlertSettingsWrite(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "emails": ["owner@leaf.example"],
                    "webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX",
                }
            ]
        },
    )

    emails: list[str] = Field(max_length=10, description="Up to 10 addresses; [] for none.")
    webhook_url: str | None = Field(
        None,
        description='A Discord or Slack incoming webhook (https). Omitted: kept; "": removed.',
    )


class AlertSettingsPublic(BaseModel):
    emails: list[str]
    webhook: str = Field(description='Masked; "" when none is set.')
    has_webhook: bool
