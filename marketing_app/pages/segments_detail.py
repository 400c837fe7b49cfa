"""A segment's page and a static list's page."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.csv_upload import csv_drop_zone, refused_rows
from marketing_app.components.progress import job_progress_bar
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import empty_state, pager
from marketing_app.pages.customer_import import COLUMNS_HINT
from marketing_app.pages.layout import shell
from marketing_app.pages.segments import slug_href, viewer_note, when_loaded
from marketing_app.state.segments_detail import LIST_UPLOAD_ID, SegmentPageState
from marketing_app.state.segments_detail import SegmentDetailState as D
from marketing_app.state.segments_detail import StaticListState as L

MEMBER_HEADERS = ["Name", "Email or phone", "Orders", "Spent", "Last order"]


def _member_cells(row) -> list:
    link = rx.link(row["name"], href=slug_href("customers", row["id"]))
    return [link, row["email"], row["orders"], row["spent"], row["last_order"]]


def _fact(label: str, value, fact_id: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size="6", id=fact_id),
            spacing="1",
        ),
        width="100%",
    )


def _delete_dialog(state: type[SegmentPageState], what: str) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("trash-2", size=16),
                "Delete",
                variant="soft",
                color_scheme="red",
                disabled=~state.can_edit,
                id="delete-segment",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title(f"Delete this {what}?"),
            rx.alert_dialog.description(
                f"The {what} and its membership history go; customers stay.", size="2"
            ),
            rx.cond(
                state.delete_error != "",
                rx.callout(
                    state.delete_error,
                    icon="ban",
                    color_scheme="red",
                    margin_top="1em",
                    id="delete-error",
                ),
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.button("Delete", color_scheme="red", on_click=state.delete, id="confirm-delete"),
                justify="end",
                margin_top="1em",
            ),
        ),
        open=state.delete_open,
        on_open_change=state.set_delete_open,
    )


def _members(state: type[SegmentPageState], extra_cells=None, empty=None) -> rx.Component:
    headers = MEMBER_HEADERS + ([""] if extra_cells else [])

    def cells(row):
        base = _member_cells(row)
        return base + [extra_cells(row)] if extra_cells else base

    return rx.vstack(
        rx.hstack(
            rx.heading("Members", size="4"),
            rx.spacer(),
            rx.button(
                rx.icon("download", size=16),
                "Export CSV",
                variant="soft",
                on_click=state.export_csv,
                disabled=state.total == 0,
                id="export-csv",
            ),
            width="100%",
            align="center",
        ),
        simple_table(headers, state.members, cells, empty=empty, table_id="members-table"),
        rx.cond(
            state.total > 0,
            pager(state.page, state.pages, state.total, state.page_by(-1), state.page_by(1)),
        ),
        width="100%",
        spacing="3",
    )


# --- segment -------------------------------------------------------------------------------


def _definition_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Definition", weight="bold"),
            rx.text(D.heading, size="2"),
            rx.unordered_list(
                rx.foreach(D.lines, lambda line: rx.list_item(rx.text(line, size="2"))),
                padding_left="1.2em",
            ),
            spacing="2",
            width="100%",
            id="definition-summary",
        ),
        width="100%",
    )


def _segment_content() -> rx.Component:
    actions = rx.hstack(
        rx.button(
            rx.icon("refresh-cw", size=16),
            "Recalculate",
            on_click=D.recalculate,
            disabled=~D.can_edit | D.job_active,
            id="recalculate",
        ),
        rx.cond(
            D.can_edit,
            rx.link(
                rx.button(rx.icon("pencil", size=16), "Edit", variant="soft"),
                href=D.edit_href,
                id="edit-segment",
            ),
        ),
        _delete_dialog(D, "segment"),
        spacing="2",
    )
    empty = empty_state(
        "users",
        "No members",
        "Nobody matched when the segment was last calculated. Recalculate after new orders "
        "and events arrive, or edit the definition.",
    )
    body = rx.vstack(
        rx.link("← All segments", href=slug_href("segments")),
        viewer_note(),
        rx.hstack(
            rx.vstack(
                rx.heading(D.segment["name"], size="6", id="segment-title"),
                rx.cond(
                    D.segment["description"] != "",
                    rx.text(D.segment["description"], color_scheme="gray", size="2"),
                ),
                spacing="1",
            ),
            rx.spacer(),
            actions,
            width="100%",
            align="start",
            wrap="wrap",
        ),
        rx.grid(
            _fact("Members", D.segment["members"], "member-count"),
            _fact("Last computed", D.segment["computed"], "last-computed"),
            columns="2",
            spacing="4",
            width="100%",
        ),
        rx.cond(D.has_job, rx.card(job_progress_bar(D.job), width="100%")),
        rx.cond(
            (D.segment["stale"] != "") & ~D.job_active,
            rx.callout(
                rx.cond(
                    D.segment["stale"] == "never",
                    "The members have not been calculated yet; recalculate to fill them.",
                    "The definition changed since the members were last calculated; "
                    "recalculate to bring them up to date.",
                ),
                icon="clock",
                color_scheme="amber",
            ),
        ),
        _definition_card(),
        _members(D, empty=empty),
        spacing="4",
        width="100%",
    )
    return when_loaded(D.loaded, body)


def segment_detail_page() -> rx.Component:
    return shell("Segment", _segment_content)


# --- static list ---------------------------------------------------------------------------


def _add_panel() -> rx.Component:
    result = lambda r: rx.hstack(  # noqa: E731
        rx.vstack(
            rx.text(r["name"], size="2", weight="medium"),
            rx.text(r["email"], size="1", color_scheme="gray"),
            spacing="0",
        ),
        rx.spacer(),
        rx.button(
            "Add",
            size="1",
            variant="soft",
            on_click=L.add_member(r["id"]),
            disabled=~L.can_edit,
            id="add-" + r["id"],
        ),
        width="100%",
        align="center",
        padding_y="0.3em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )
    return rx.card(
        rx.vstack(
            rx.text("Add a customer", weight="bold"),
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder="Search name, email or phone",
                value=L.search,
                on_change=L.set_search,
                width="100%",
                id="list-search",
            ),
            rx.cond(
                (L.results.length() == 0) & (L.search.length() >= 2),
                rx.text("Nobody found.", size="2", color_scheme="gray"),
            ),
            rx.vstack(
                rx.foreach(L.results, result), width="100%", spacing="0", id="search-results"
            ),
            width="100%",
        ),
        width="100%",
    )


def _import_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Import a CSV into the list", weight="bold"),
            rx.text(
                COLUMNS_HINT + " Everyone imported joins this list.", size="1", color_scheme="gray"
            ),
            csv_drop_zone(LIST_UPLOAD_ID),
            rx.button(
                "Import",
                on_click=L.upload(rx.upload_files(upload_id=LIST_UPLOAD_ID)),
                disabled=~L.can_edit,
                id="start-list-import",
            ),
            rx.cond(L.has_job, job_progress_bar(L.job)),
            refused_rows(L.rejected, L.rejected_count),
            width="100%",
        ),
        width="100%",
    )


def _list_content() -> rx.Component:
    remove = lambda row: rx.button(  # noqa: E731
        "Remove",
        size="1",
        variant="soft",
        color_scheme="red",
        on_click=L.remove_member(row["id"]),
        disabled=~L.can_edit,
        id="remove-" + row["id"],
    )
    empty = empty_state(
        "list",
        "The list is empty",
        "Search for customers above and add them, or import a CSV of customers.",
    )
    body = rx.vstack(
        rx.link("← All segments and lists", href=slug_href("segments")),
        viewer_note(),
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    rx.heading(L.segment["name"], size="6", id="segment-title"),
                    rx.badge("Static list", color_scheme="amber"),
                    align="center",
                ),
                rx.cond(
                    L.segment["description"] != "",
                    rx.text(L.segment["description"], color_scheme="gray", size="2"),
                ),
                spacing="1",
            ),
            rx.spacer(),
            _delete_dialog(L, "list"),
            width="100%",
            align="start",
        ),
        rx.grid(
            _fact("Members", L.segment["members"], "member-count"),
            _fact("Last changed", L.segment["computed"], "last-computed"),
            columns="2",
            spacing="4",
            width="100%",
        ),
        rx.grid(_add_panel(), _import_panel(), columns="2", spacing="4", width="100%"),
        _members(L, remove, empty),
        spacing="4",
        width="100%",
    )
    return when_loaded(L.loaded, body)


def static_list_page() -> rx.Component:
    return shell("Static list", _list_content)


ROUTE = routes.SEGMENT_DETAIL
ON_LOAD = [D.require_tenant, D.load]
LIST_ROUTE = routes.STATIC_LIST_DETAIL
LIST_ON_LOAD = [L.require_tenant, L.load]
