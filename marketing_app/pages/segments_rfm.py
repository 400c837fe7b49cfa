"""RFM groups: customers per group as a chart and a table, and how the scores work."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.progress import job_progress_bar
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import empty_state
from marketing_app.pages.layout import shell
from marketing_app.pages.segments import slug_href, viewer_note, when_loaded
from marketing_app.state.segments_rfm import RfmState as R

HOW_SCORES_WORK = [
    "Every customer who has ordered gets three scores from 1 to 5: Recency (how recently "
    "they last ordered), Frequency (how many orders) and Monetary (how much they spent in "
    "all).",
    "Scores are quintiles among your own customers: 5 means the top fifth, 1 the bottom "
    "fifth. Customers with the same value share a score, so a small shop still gets scores.",
    "The group comes from recency against the average of frequency and monetary: recent "
    "big spenders are Champions, former big spenders who stopped buying are At Risk or "
    "Can't Lose Them, and so on.",
    "Scores are recalculated on a schedule and whenever you press Recalculate. Use the "
    "groups in the segment builder with the RFM group condition.",
]


def _recalculate_button(label: str, button_id: str) -> rx.Component:
    return rx.button(
        rx.icon("refresh-cw", size=16),
        label,
        on_click=R.recalculate,
        disabled=~R.can_edit | R.job.active,
        id=button_id,
    )


def _groups_table() -> rx.Component:
    return simple_table(
        ["Group", "Customers", "Share", "What it means"],
        R.groups,
        lambda g: [
            rx.text(g["group"].to(str), weight="medium", white_space="nowrap"),
            g["count"].to(str),
            g["share"].to(str),
            rx.text(g["explanation"].to(str), size="2", color_scheme="gray"),
        ],
        empty=rx.fragment(),
        table_id="rfm-table",
    )


def _how_it_works() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("How scores work", weight="bold"),
            *[rx.text(p, size="2") for p in HOW_SCORES_WORK],
            spacing="2",
        ),
        width="100%",
        id="rfm-explanation",
    )


def _scores() -> rx.Component:
    chart = rx.plotly(data=R.figure, use_resize_handler=True, width="100%", id="rfm-chart")
    return rx.vstack(
        rx.cond(
            R.scored == 0,
            rx.callout(
                "Nobody has ordered yet, so every group is empty. Scores appear once orders "
                "arrive (POS, Shopify or Order Completed events).",
                icon="info",
            ),
        ),
        rx.card(chart, width="100%"),
        rx.grid(
            _groups_table(),
            _how_it_works(),
            columns="minmax(0, 3fr) minmax(16em, 2fr)",
            spacing="4",
            width="100%",
            align="start",
        ),
        spacing="4",
        width="100%",
    )


def _never() -> rx.Component:
    return empty_state(
        "chart-column",
        "RFM scores have not been calculated yet",
        "Score every customer by recency, frequency and monetary value and sort them into "
        "groups such as Champions, At Risk and Lost.",
        _recalculate_button("Recalculate now", "rfm-recalculate-now"),
    )


def _content() -> rx.Component:
    body = rx.vstack(
        rx.link("← Segments", href=slug_href("segments")),
        viewer_note(),
        rx.hstack(
            rx.text(
                "Last computed: ",
                rx.cond(R.computed != "", R.computed, "never"),
                size="2",
                color_scheme="gray",
                id="rfm-computed",
            ),
            rx.spacer(),
            _recalculate_button("Recalculate", "rfm-recalculate"),
            width="100%",
            align="center",
        ),
        rx.cond(R.has_job, rx.card(job_progress_bar(R.job), width="100%")),
        rx.cond(R.computed != "", _scores(), _never()),
        spacing="4",
        width="100%",
    )
    return when_loaded(R.loaded, body)


def rfm_page() -> rx.Component:
    return shell("RFM groups", _content)


ROUTE = routes.SEGMENT_RFM
ON_LOAD = [R.require_tenant, R.load]
