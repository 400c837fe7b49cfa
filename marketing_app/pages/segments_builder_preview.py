"""The segment builder's right-hand column: the live count and who matches, biggest
spenders first, both refreshed as the definition changes."""

from __future__ import annotations

import reflex as rx

from marketing_app.state.segments_builder import SegmentBuilderState as B


def live_count() -> rx.Component:
    count = rx.vstack(
        rx.heading(B.count_text, size="5", id="live-count"),
        rx.progress(value=B.count_share, max=100, width="100%"),
        rx.text(B.count_share.to_string() + "% of your customers", size="1", color_scheme="gray"),
        spacing="2",
        width="100%",
    )
    error = rx.callout(
        B.est_error, icon="triangle-alert", color_scheme="red", id="estimate-error", width="100%"
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Live count", weight="bold"),
                rx.spacer(),
                rx.cond(B.est_busy, rx.spinner(size="1")),
                width="100%",
                align="center",
            ),
            rx.cond(
                B.est_error != "",
                error,
                rx.cond(B.est_ready, count, rx.center(rx.spinner(), width="100%")),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _sample_row(r) -> rx.Component:
    ellipsis = {"white_space": "nowrap", "overflow": "hidden", "text_overflow": "ellipsis"}
    return rx.hstack(
        rx.vstack(
            rx.link(
                r["name"],
                href="/t/" + B.current_slug + "/customers/" + r["id"],
                size="2",
                max_width="100%",
                **ellipsis,
            ),
            rx.text(r["email"], size="1", color_scheme="gray", max_width="100%", **ellipsis),
            spacing="0",
            min_width="0",
            flex="1",
        ),
        rx.vstack(
            rx.text(r["spent"], size="2", white_space="nowrap"),
            rx.text(r["orders_text"], size="1", color_scheme="gray", white_space="nowrap"),
            spacing="0",
            align="end",
        ),
        width="100%",
        padding_y="0.4em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def sample() -> rx.Component:
    rows = rx.cond(
        B.sample.length() > 0,
        rx.vstack(rx.foreach(B.sample, _sample_row), spacing="0", width="100%"),
        rx.text("Nobody matches.", size="2", color_scheme="gray"),
    )
    return rx.card(
        rx.vstack(
            rx.text("Who matches (biggest spenders first)", weight="bold"),
            rx.cond(
                B.est_error != "",
                rx.text("—", color_scheme="gray"),
                rx.cond(B.est_ready, rows, rx.center(rx.spinner(), width="100%")),
            ),
            width="100%",
            id="estimate-sample",
        ),
        width="100%",
    )
