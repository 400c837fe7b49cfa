"""Segments: the tenant's segments and static lists, presets, and the way to the builder."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.choices import var_select
from marketing_app.components.progress import job_progress_bar
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import empty_state, field_error, labeled, pager
from marketing_app.pages.layout import shell
from marketing_app.state.segments import SegmentsState as S
from marketing_app.state.session import SessionState

VIEWER_NOTE = "You can look at segments and lists; owners and marketers change them."


def slug_href(*parts: str | rx.Var) -> rx.Var:
    """`/t/<current slug>/<parts...>` as a var."""
    href = "/t/" + SessionState.current_slug
    for part in parts:
        href = href + "/" + part
    return href


def when_loaded(loaded: rx.Var, body: rx.Component) -> rx.Component:
    """The page body once its state has loaded; a spinner until then, never a blank page."""
    return rx.cond(loaded, body, rx.center(rx.spinner(), padding="3em"))


def viewer_note() -> rx.Component:
    return rx.cond(
        ~SessionState.can_edit,
        rx.callout(VIEWER_NOTE, icon="eye", color_scheme="gray", size="1", id="viewer-note"),
    )


def _new_list_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("list-plus", size=16),
                "New static list",
                variant="soft",
                disabled=~S.can_edit,
                id="new-static-list",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("New static list"),
            rx.dialog.description(
                "A list you fill by hand or from a CSV; members stay until you remove them.",
                size="2",
                margin_bottom="1em",
            ),
            rx.vstack(
                labeled(
                    "Name",
                    rx.input(
                        value=S.list_name,
                        on_change=S.set_list_name,
                        placeholder="e.g. Trade show leads",
                        width="100%",
                        id="list-name",
                    ),
                ),
                labeled(
                    "Description (optional)",
                    rx.text_area(
                        value=S.list_description,
                        on_change=S.set_list_description,
                        width="100%",
                    ),
                ),
                field_error(S.list_error),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Create list", on_click=S.create_static_list, id="create-list"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
            ),
        ),
        open=S.list_dialog_open,
        on_open_change=S.open_list_dialog,
    )


def _toolbar() -> rx.Component:
    new_segment = rx.cond(
        S.can_edit,
        rx.link(
            rx.button(rx.icon("plus", size=16), "New segment", id="new-segment"),
            href=slug_href("segments", "new"),
        ),
        rx.button(rx.icon("plus", size=16), "New segment", disabled=True),
    )
    return rx.hstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            placeholder="Search segments and lists",
            value=S.search,
            on_change=S.set_search,
            width="20em",
            id="segment-search",
        ),
        rx.spacer(),
        rx.link(
            rx.button(rx.icon("chart-column", size=16), "RFM groups", variant="outline"),
            href=slug_href("segments", "rfm"),
            id="rfm-link",
        ),
        _new_list_dialog(),
        new_segment,
        width="100%",
        align="center",
        wrap="wrap",
    )


def _status(row) -> rx.Component:
    return rx.cond(
        row.job.active,
        rx.box(job_progress_bar(row.job), min_width="14em"),
        rx.cond(
            row.job.status == "failed",
            rx.tooltip(rx.badge("last run failed", color_scheme="red"), content=row.job.error),
            rx.text("—", color_scheme="gray"),
        ),
    )


def _cells(row) -> list:
    name = rx.vstack(
        rx.link(row.name, href=row.href, weight="medium"),
        rx.cond(
            row.description != "",
            rx.text(row.description, size="1", color_scheme="gray", trim="both"),
        ),
        spacing="0",
    )
    kind = rx.badge(
        row.kind, color_scheme=rx.cond(row.kind == "Segment", "indigo", "amber"), variant="soft"
    )
    return [name, kind, row.members, row.computed, _status(row)]


def _table() -> rx.Component:
    no_match = empty_state("search-x", "Nothing matches", "Try another name, or clear the search.")
    table = simple_table(
        ["Name", "Kind", "Members", "Last computed", "Status"],
        S.page_rows,
        _cells,
        empty=no_match,
        table_id="segments-table",
    )
    return rx.vstack(
        table,
        rx.cond(
            S.pages > 1,
            pager(S.page, S.pages, S.matching_count, S.page_by(-1), S.page_by(1)),
        ),
        width="100%",
        spacing="3",
    )


def _empty() -> rx.Component:
    return empty_state(
        "users-round",
        "No segments yet",
        "Segments group customers by what they do and buy, and stay current as orders and "
        "events arrive. Build one, start from a preset below, or make a static list.",
        rx.cond(
            S.can_edit,
            rx.link(
                rx.button(rx.icon("plus", size=16), "Build your first segment"),
                href=slug_href("segments", "new"),
                id="empty-new-segment",
            ),
        ),
    )


def _preset_input(card) -> rx.Component:
    value = S.preset_values[card.key]
    on_change = S.set_preset_value(card.key)
    control_id = "preset-" + card.key + "-value"

    def places(choices, none_text: str) -> rx.Component:
        return rx.cond(
            choices.length() > 0,
            var_select(choices, value, on_change, select_id=control_id, width="100%"),
            rx.text(none_text, size="2", color_scheme="gray"),
        )

    return rx.match(
        card.param,
        (
            "number",
            rx.input(type="number", value=value, on_change=on_change, id=control_id, width="100%"),
        ),
        ("text", rx.input(value=value, on_change=on_change, id=control_id, width="100%")),
        ("location", places(S.locations, "No locations or territories yet.")),
        ("staff", places(S.staff, "No staff members yet.")),
        rx.fragment(),
    )


def _preset_card(card) -> rx.Component:
    no_choices = rx.match(
        card.param,
        ("location", S.locations.length() == 0),
        ("staff", S.staff.length() == 0),
        False,
    )
    return rx.card(
        rx.vstack(
            rx.text(card.title, weight="bold", size="3"),
            rx.text(card.description, size="2", color_scheme="gray"),
            rx.spacer(),
            rx.cond(
                card.param != "",
                rx.vstack(
                    rx.text(card.label, size="1", weight="medium"),
                    _preset_input(card),
                    spacing="1",
                    width="100%",
                ),
            ),
            rx.button(
                "Create",
                size="2",
                variant="soft",
                on_click=S.create_from_preset(card.key),
                disabled=~S.can_edit | no_choices,
                id="preset-" + card.key + "-create",
                width="100%",
            ),
            spacing="2",
            height="100%",
            width="100%",
        ),
        class_name="preset-card",
    )


def _presets() -> rx.Component:
    return rx.vstack(
        rx.heading("Start from a preset", size="4"),
        rx.text(
            "One click to a ready segment; it recalculates as customers change.",
            size="2",
            color_scheme="gray",
        ),
        rx.grid(
            rx.foreach(S.presets, _preset_card),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="3",
            width="100%",
            id="presets",
        ),
        width="100%",
        spacing="2",
    )


def _content() -> rx.Component:
    body = rx.vstack(
        viewer_note(),
        _toolbar(),
        rx.cond(S.rows.length() > 0, _table(), _empty()),
        rx.separator(size="4"),
        _presets(),
        spacing="4",
        width="100%",
    )
    return when_loaded(S.loaded, body)


def segments_page() -> rx.Component:
    return shell("Segments", _content)


ROUTE = routes.TENANT_SEGMENTS
ON_LOAD = [S.require_tenant, S.load]
