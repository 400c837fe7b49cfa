"""Reconciliation: where our points and Alpine IQ's disagree. Summary by kind, filters, the
table with the three figures and why they differ; resolve one or accept several."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.choices import fixed_select
from marketing_app.components.progress import job_progress_bar
from marketing_app.components.widgets import empty_state, pager
from marketing_app.pages.layout import shell
from marketing_app.pages.loyalty import loyalty_viewer_note
from marketing_app.pages.loyalty_resolve import bulk_bar, resolve_dialog
from marketing_app.pages.segments import slug_href, when_loaded
from marketing_app.state.loyalty_reconciliation import KIND_CHOICES, STATUS_CHOICES
from marketing_app.state.loyalty_reconciliation import ReconciliationState as R

HEADERS = ["Customer", "Calculated", "Alpine IQ", "Stored", "Difference", "Kind", "Why", ""]


def _figure_card(
    label: str, value: rx.Var, hint: rx.Var | str, card_id: str, size: str = "6"
) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size=size, id=card_id),
            rx.text(hint, size="1", color_scheme="gray"),
            spacing="1",
        ),
        width="100%",
    )


def _kind_card(card: rx.Var) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.text(card["label"], size="2"),
            rx.spacer(),
            rx.badge(card["count"], size="2"),
            align="center",
        ),
        on_click=R.show_kind(card["kind"]),
        cursor="pointer",
        width="100%",
        class_name="kind-card",
    )


def _summary() -> rx.Component:
    return rx.vstack(
        rx.grid(
            _figure_card("Open", R.summary["open"], "discrepancies to review", "open-count"),
            _figure_card(
                "Over the threshold",
                R.summary["over"],
                "differ by more than " + R.summary["threshold"],
                "over-count",
            ),
            _figure_card(
                "Last reconciled",
                R.summary["last"],
                "source of truth: " + R.summary["source"],
                "last-reconciled",
                size="4",
            ),
            columns="3",
            spacing="4",
            width="100%",
        ),
        rx.grid(rx.foreach(R.kind_cards, _kind_card), columns="4", spacing="3", width="100%"),
        spacing="3",
        width="100%",
    )


def _filters() -> rx.Component:
    return rx.hstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            placeholder="Search name or email",
            value=R.search,
            on_change=R.set_search.debounce(300),
            width="18em",
            id="discrepancy-search",
        ),
        fixed_select(STATUS_CHOICES, R.status, R.set_status, select_id="status-filter"),
        fixed_select(KIND_CHOICES, R.kind, R.set_kind, select_id="kind-filter"),
        rx.el.label(
            rx.hstack(
                rx.switch(checked=R.over_only, on_change=R.set_over_only, id="over-only"),
                rx.text("Over the threshold only", size="2"),
                align="center",
            )
        ),
        spacing="3",
        align="center",
        wrap="wrap",
    )


def _action(row: rx.Var) -> rx.Component:
    return rx.cond(
        row["status"] == "open",
        rx.button(
            "Resolve",
            size="1",
            variant="soft",
            on_click=R.open_resolve(row["id"]),
            disabled=~R.can_edit,
            class_name="resolve-button",
        ),
        rx.vstack(
            rx.badge(row["status"], color_scheme="gray"),
            rx.text(row["decision"], size="1", color_scheme="gray"),
            spacing="1",
        ),
    )


def _row(row: rx.Var) -> rx.Component:
    check = rx.checkbox(
        checked=R.selected.contains(row["id"]),
        on_change=lambda checked: R.toggle_row(row["id"], checked),
        disabled=~R.can_edit | (row["status"] != "open"),
        class_name="row-check",
    )
    customer = rx.link(row["customer"], href=slug_href("customers", row["contact_id"]))
    difference = rx.vstack(
        rx.text(row["difference"], weight="medium"),
        rx.text(row["percent"], size="1", color_scheme=rx.cond(row["over"] != "", "red", "gray")),
        spacing="0",
    )
    cells = [
        check,
        customer,
        row["calculated"],
        row["external"],
        row["stored"],
        difference,
        rx.badge(row["kind"]),
        rx.text(row["explanation"], size="1", max_width="22em"),
        _action(row),
    ]
    return rx.table.row(*[rx.table.cell(c) for c in cells], class_name="discrepancy-row")


def _table() -> rx.Component:
    select_all = rx.checkbox(
        checked=R.all_selected,
        on_change=R.toggle_all,
        disabled=~R.can_edit,
        id="select-all",
        aria_label="Select every open row on this page",
    )
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell(select_all),
                *[rx.table.column_header_cell(h) for h in HEADERS],
            )
        ),
        rx.table.body(rx.foreach(R.rows, _row)),
        width="100%",
        id="discrepancies",
    )
    empty = empty_state(
        "scale",
        "No discrepancies to review",
        "Nothing matches these filters. Discrepancies appear when a sync or a reconciliation "
        "finds our points and Alpine IQ's disagreeing for a customer.",
    )
    return rx.cond(R.rows.length() > 0, table, empty)


def _reconcile_bar() -> rx.Component:
    button = rx.button(
        rx.icon("scale", size=16),
        "Reconcile now",
        on_click=R.reconcile_now,
        disabled=~R.can_edit | R.job.active,
        loading=R.job.active,
        id="reconcile-now",
    )
    return rx.vstack(
        rx.hstack(
            rx.link("← Loyalty", href=slug_href("loyalty")),
            rx.spacer(),
            button,
            width="100%",
            align="center",
        ),
        rx.cond(R.has_job, rx.card(job_progress_bar(R.job), width="100%", id="reconcile-job")),
        spacing="3",
        width="100%",
    )


def _content() -> rx.Component:
    body = rx.vstack(
        _reconcile_bar(),
        loyalty_viewer_note(),
        _summary(),
        _filters(),
        bulk_bar(),
        _table(),
        rx.cond(R.total > 0, pager(R.page, R.pages, R.total, R.page_by(-1), R.page_by(1))),
        resolve_dialog(),
        spacing="4",
        width="100%",
    )
    return when_loaded(R.loaded, body)


def reconciliation_page() -> rx.Component:
    return shell("Loyalty reconciliation", _content)


ROUTE = routes.LOYALTY_RECONCILIATION
ON_LOAD = [R.require_tenant, R.load]
