"""Suppressions: addresses no marketing may reach (hard bounces, complaints, added by hand),
with search, paging, adding and removing."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.choices import fixed_select
from marketing_app.components.paged_table import paged_table
from marketing_app.components.widgets import empty_state, field_error
from marketing_app.pages.campaigns import email_area_links, read_only_note
from marketing_app.pages.layout import shell
from marketing_app.pages.segments import when_loaded
from marketing_app.state.suppressions import SuppressionsState as X

CHANNELS = [("email", "Email addresses"), ("sms", "Phone numbers (SMS)")]
REASON_COLORS = [("bounce", "red"), ("complaint", "orange"), ("manual", "gray")]


def _cells(row) -> list:
    reason = rx.badge(row.reason, color_scheme=rx.match(row.reason_key, *REASON_COLORS, "gray"))
    remove = rx.button(
        "Remove",
        size="1",
        variant="soft",
        color_scheme="red",
        on_click=X.remove(row.id),
        disabled=~X.can_edit,
        class_name="remove-suppression",
    )
    return [rx.text(row.address, class_name="suppressed-address"), reason, row.added, remove]


def _add_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Block an address", weight="bold"),
            rx.hstack(
                rx.input(
                    value=X.new_address,
                    on_change=X.set_new_address,
                    placeholder=rx.cond(
                        X.channel == "email", "name@example.com", "+1 919 555 0100"
                    ),
                    width="22em",
                    id="suppression-address",
                ),
                rx.button(
                    rx.icon("ban", size=14),
                    "Suppress",
                    on_click=X.add,
                    disabled=~X.can_edit,
                    id="add-suppression",
                ),
            ),
            field_error(X.add_error),
            rx.text(
                "Nothing marketing is sent to a suppressed address, whatever its consent.",
                size="1",
                color_scheme="gray",
            ),
            width="100%",
        ),
        width="100%",
    )


def _content() -> rx.Component:
    toolbar = rx.hstack(
        fixed_select(CHANNELS, X.channel, X.set_channel, select_id="suppression-channel"),
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            placeholder="Search addresses",
            value=X.search,
            on_change=X.set_search,
            width="18em",
            id="suppression-search",
        ),
        rx.spacer(),
        email_area_links("suppressions"),
        width="100%",
        align="center",
        wrap="wrap",
    )
    none_yet = empty_state(
        "shield-check",
        "Nobody is suppressed",
        "Hard bounces and spam complaints land here by themselves; add an address by hand "
        "when someone asks never to be contacted.",
    )
    no_match = empty_state("search-x", "Nothing matches", "Try another part of the address.")
    table = paged_table(
        X,
        ["Address", "Reason", "Since", ""],
        _cells,
        table_id="suppressions-table",
        no_match=no_match,
    )
    body = rx.vstack(
        read_only_note("You can look at the suppression list; owners and marketers change it."),
        toolbar,
        _add_form(),
        rx.cond((X.total == 0) & (X.search == ""), none_yet, table),
        spacing="4",
        width="100%",
    )
    return when_loaded(X.loaded, body)


def suppressions_page() -> rx.Component:
    return shell("Suppressions", _content)


ROUTE = routes.TENANT_SUPPRESSIONS
ON_LOAD = [X.require_tenant, X.load]
