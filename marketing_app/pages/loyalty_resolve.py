"""Deciding discrepancies: the dialog for one (accept Alpine IQ, keep ours, or adjust, always
with a reason) and the bar that accepts the selected ones by the source of truth."""

from __future__ import annotations

import reflex as rx

from marketing_app.components.widgets import field_error, labeled
from marketing_app.models.loyalty_sync import Resolution
from marketing_app.state.loyalty_reconciliation import ReconciliationState as R

RESOLUTION_CHOICES = [
    (Resolution.ACCEPT_EXTERNAL, "Accept Alpine IQ's figure"),
    (Resolution.KEEP_OURS, "Keep our figure"),
    (Resolution.ADJUST, "Set the balance myself"),
]


def _figures() -> rx.Component:
    t = R.target
    return rx.grid(
        *[
            rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.text(value, weight="bold"))
            for label, value in [
                ("Calculated", t["calculated"]),
                ("Alpine IQ", t["external"]),
                ("Stored balance", t["stored"]),
                ("Difference", t["difference"] + " (" + t["percent"] + ")"),
            ]
        ],
        columns="4",
        spacing="3",
        width="100%",
    )


def resolve_dialog() -> rx.Component:
    choices = rx.radio_group.root(
        rx.vstack(
            *[rx.radio_group.item(label, value=value) for value, label in RESOLUTION_CHOICES],
            spacing="2",
        ),
        value=R.resolution,
        on_change=R.set_resolution,
        id="resolution-choice",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Resolve the discrepancy of " + R.target["customer"]),
            rx.dialog.description(R.target["explanation"], size="2", margin_bottom="1em"),
            rx.vstack(
                _figures(),
                choices,
                field_error(R.resolve_errors.get("resolution", "")),
                rx.cond(
                    R.resolution == Resolution.ADJUST,
                    labeled(
                        "Balance to set (points)",
                        rx.input(
                            value=R.resolve_points,
                            on_change=R.set_resolve_points,
                            width="12em",
                            id="resolve-points",
                        ),
                        R.resolve_errors.get("points", ""),
                    ),
                ),
                labeled(
                    "Reason (kept on the ledger entry)",
                    rx.input(
                        value=R.resolve_reason,
                        on_change=R.set_resolve_reason,
                        placeholder="e.g. checked the POS receipts",
                        width="100%",
                        id="resolve-reason",
                    ),
                    R.resolve_errors.get("reason", ""),
                ),
                field_error(R.resolve_errors.get("status", "")),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Resolve", on_click=R.resolve, id="resolve-confirm"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="40em",
        ),
        open=R.dialog_open,
        on_open_change=R.set_dialog_open,
    )


def bulk_bar() -> rx.Component:
    count = R.selected.length()
    return rx.cond(
        count > 0,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(count.to_string() + " selected", weight="medium", id="selected-count"),
                    rx.text(
                        "Accepting applies the source of truth's figure ("
                        + R.summary["source"]
                        + ").",
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.input(
                        value=R.bulk_reason,
                        on_change=R.set_bulk_reason,
                        placeholder="Reason (required)",
                        width="18em",
                        id="bulk-reason",
                    ),
                    rx.button(
                        "Accept selected",
                        on_click=R.bulk_accept,
                        disabled=~R.can_edit,
                        id="bulk-accept",
                    ),
                    align="center",
                    spacing="3",
                    wrap="wrap",
                    width="100%",
                ),
                field_error(R.bulk_error),
                spacing="1",
                width="100%",
            ),
            width="100%",
            id="bulk-bar",
        ),
    )
