"""The Loyalty page's sync tab: connected providers, their last sync, last error and counts,
the recent provider calls, and "Sync now" with a progress bar."""

from __future__ import annotations

import reflex as rx

from marketing_app.components.progress import job_progress_bar
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import empty_state
from marketing_app.pages.segments import slug_href
from marketing_app.state.loyalty_sync import LoyaltySyncState as Y

SYNC_HINT = (
    "A sync reads new POS orders (Alleaves) and credits their points, reads Alpine IQ's "
    "balances, then reconciles the two. It runs in the background; you can leave this page."
)


def _sync_button() -> rx.Component:
    return rx.button(
        rx.icon("refresh-cw", size=16),
        "Sync now",
        on_click=Y.sync_now,
        disabled=~Y.can_edit | Y.job.active | ~Y.configured,
        loading=Y.job.active,
        id="sync-now",
    )


def _provider_cells(row) -> list:
    connected = rx.badge(
        row["connected"],
        color_scheme=rx.cond(row["connected"] == "connected", "green", "gray"),
    )
    error = rx.cond(
        row["error"] != "",
        rx.text(row["error"], color_scheme="red", size="2"),
        rx.text("none", color_scheme="gray", size="2"),
    )
    return [
        rx.text(row["provider"], weight="medium"),
        connected,
        row["last_synced"],
        row["last_attempt"],
        rx.vstack(
            rx.text(row["counts"], size="2"),
            rx.text(row["skipped"], size="1", color_scheme="gray"),
            spacing="0",
        ),
        error,
    ]


def _providers() -> rx.Component:
    return simple_table(
        ["Provider", "Connection", "Last synced", "Last attempt", "Counts", "Last error"],
        Y.providers,
        _provider_cells,
        empty=rx.fragment(),
        table_id="sync-providers",
    )


def _calls() -> rx.Component:
    empty = empty_state(
        "radio-tower",
        "No provider calls yet",
        "Each request a sync makes to Alleaves or Alpine IQ is listed here with its answer.",
    )
    return rx.vstack(
        rx.heading("Recent provider calls", size="4"),
        simple_table(
            ["When", "Provider", "Call", "Status", "ms", "Outcome", "Detail"],
            Y.calls,
            lambda c: [
                c["when"],
                c["provider"],
                rx.code(c["call"], size="1"),
                c["status"],
                c["ms"],
                rx.badge(
                    c["outcome"], color_scheme=rx.cond(c["outcome"] == "ok", "green", "amber")
                ),
                rx.text(c["detail"], size="1", color_scheme="gray"),
            ],
            empty=empty,
            table_id="provider-calls",
        ),
        spacing="3",
        width="100%",
    )


def _not_connected() -> rx.Component:
    return empty_state(
        "plug",
        "No loyalty provider connected",
        "Add Alleaves (POS) or Alpine IQ credentials in Settings, under providers; then sync "
        "their orders and balances here.",
        rx.link("Open Settings", href=slug_href("settings")),
    )


def sync_tab() -> rx.Component:
    body = rx.vstack(
        rx.hstack(
            rx.text(SYNC_HINT, size="2", color_scheme="gray", max_width="48em"),
            rx.spacer(),
            _sync_button(),
            width="100%",
            align="center",
        ),
        rx.cond(Y.has_job, rx.card(job_progress_bar(Y.job), width="100%", id="sync-job")),
        rx.cond(Y.configured, _providers(), _not_connected()),
        _calls(),
        spacing="4",
        width="100%",
        padding_top="1em",
    )
    return rx.cond(Y.sync_loaded, body, rx.center(rx.spinner(), padding="3em"))
