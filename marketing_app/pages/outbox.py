"""Outbox: every message the console provider recorded instead of sending, newest first."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.paged_table import paged_table
from marketing_app.components.widgets import empty_state
from marketing_app.pages.campaigns import email_area_links
from marketing_app.pages.layout import shell
from marketing_app.pages.segments import when_loaded
from marketing_app.state.outbox import OutboxState as O


def _cells(row) -> list:
    # A button, not a link: an <a href="#"> would also navigate, re-run the page load and
    # close the dialog it just opened.
    subject = rx.button(
        row.subject,
        variant="ghost",
        on_click=O.open_message(row.id),
        class_name="outbox-subject",
        text_align="left",
    )
    return [subject, row.recipient, row.sender, row.sent]


def _message_dialog() -> rx.Component:
    header = lambda pair: rx.hstack(  # noqa: E731
        rx.code(pair[0], size="1"), rx.text(pair[1], size="1", trim="both"), align="start"
    )
    body = rx.cond(
        O.show_text,
        rx.box(
            rx.text(O.opened["text"], white_space="pre-wrap", size="2", font_family="monospace"),
            max_height="60vh",
            overflow_y="auto",
            width="100%",
        ),
        rx.el.iframe(
            src_doc=O.opened["html"],
            sandbox="",  # tenant-written HTML: no scripts, forms or navigation
            width="100%",
            height="520px",
            border=f"1px solid {rx.color('gray', 5)}",
            background="white",
            id="outbox-frame",
            title="Message",
        ),
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(O.opened["subject"], id="outbox-message-subject"),
            rx.vstack(
                rx.text("To: ", O.opened["to"], size="2"),
                rx.text("From: ", O.opened["from"], size="2"),
                rx.text("Recorded: ", O.opened["sent"], size="2", color_scheme="gray"),
                rx.hstack(
                    rx.switch(checked=O.show_text, on_change=O.set_show_text, id="show-text"),
                    rx.text("Plain-text part", size="2"),
                    align="center",
                ),
                body,
                rx.accordion.root(
                    rx.accordion.item(
                        header="Headers",
                        content=rx.vstack(rx.foreach(O.opened_headers, header), spacing="1"),
                    ),
                    collapsible=True,
                    width="100%",
                    variant="ghost",
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    justify="end",
                    width="100%",
                ),
                width="100%",
                spacing="2",
            ),
            max_width="56em",
        ),
        open=O.view_open,
        on_open_change=O.set_view_open,
    )


def _content() -> rx.Component:
    toolbar = rx.hstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            placeholder="Search recipient or subject",
            value=O.search,
            on_change=O.set_search,
            width="20em",
            id="outbox-search",
        ),
        rx.button(rx.icon("refresh-cw", size=14), "Refresh", variant="soft", on_click=O.refresh),
        rx.spacer(),
        email_area_links("outbox"),
        width="100%",
        align="center",
        wrap="wrap",
    )
    none_yet = empty_state(
        "inbox",
        "The outbox is empty",
        "With no email provider set up (Settings → Email sending), campaigns and test sends "
        "are recorded here instead of being sent. Send a test from a template to see one.",
    )
    no_match = empty_state("search-x", "Nothing matches", "Try another address or subject.")
    table = paged_table(
        O, ["Subject", "To", "From", "Recorded"], _cells, table_id="outbox-table", no_match=no_match
    )
    body = rx.vstack(
        rx.text(
            "The console provider records messages here instead of sending them.",
            size="2",
            color_scheme="gray",
        ),
        toolbar,
        rx.cond((O.total == 0) & (O.search == ""), none_yet, table),
        _message_dialog(),
        spacing="4",
        width="100%",
    )
    return when_loaded(O.loaded, body)


def outbox_page() -> rx.Component:
    return shell("Outbox", _content)


ROUTE = routes.TENANT_OUTBOX
ON_LOAD = [O.require_tenant, O.load]
