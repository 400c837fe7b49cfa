"""Email templates: the tenant's own templates and the gallery of built-ins to start from."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.paged_table import paged_table
from marketing_app.components.widgets import empty_state
from marketing_app.pages.campaigns import email_area_links, read_only_note
from marketing_app.pages.layout import shell
from marketing_app.pages.segments import slug_href, when_loaded
from marketing_app.state.email_templates import EmailTemplatesState as T


def _toolbar() -> rx.Component:
    new = rx.cond(
        T.can_edit,
        rx.link(
            rx.button(rx.icon("plus", size=16), "Blank template", id="new-template"),
            href=slug_href("email-templates", "new"),
        ),
        rx.button(rx.icon("plus", size=16), "Blank template", disabled=True),
    )
    return rx.hstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            placeholder="Search templates",
            value=T.search,
            on_change=T.set_search,
            width="18em",
            id="template-search",
        ),
        rx.spacer(),
        email_area_links("email-templates"),
        new,
        width="100%",
        align="center",
    )


def _cells(row) -> list:
    name = rx.vstack(
        rx.link(row.name, href=row.href, weight="medium"),
        rx.cond(row.origin != "", rx.text(row.origin, size="1", color_scheme="gray")),
        spacing="0",
    )
    return [name, rx.text(row.subject, size="2", trim="both"), row.updated]


def _own() -> rx.Component:
    no_match = empty_state("search-x", "Nothing matches", "Try another name, or clear the search.")
    none_yet = empty_state(
        "layout-template",
        "No templates of your own yet",
        "Start from a built-in below (you get your own copy to change), or from a blank one.",
    )
    table = paged_table(
        T,
        ["Template", "Subject", "Last changed"],
        _cells,
        table_id="templates-table",
        no_match=no_match,
    )
    return rx.cond((T.total == 0) & (T.search == ""), none_yet, table)


def _builtin_card(card) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(card.name, weight="bold", size="3"),
            rx.text(card.description, size="2", color_scheme="gray"),
            rx.text(card.subject, size="1", font_style="italic", color_scheme="gray"),
            rx.spacer(),
            rx.button(
                "Use this template",
                size="2",
                variant="soft",
                on_click=T.use_builtin(card.key),
                disabled=~T.can_edit,
                id="use-" + card.key,
                width="100%",
            ),
            spacing="2",
            height="100%",
            width="100%",
        ),
        class_name="builtin-card",
    )


def _gallery() -> rx.Component:
    return rx.vstack(
        rx.heading("Built-in templates", size="4"),
        rx.text(
            "Responsive layouts with personalization tokens; using one copies it into your "
            "templates.",
            size="2",
            color_scheme="gray",
        ),
        rx.grid(
            rx.foreach(T.builtins, _builtin_card),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="3",
            width="100%",
            id="builtin-gallery",
        ),
        width="100%",
        spacing="2",
    )


def _content() -> rx.Component:
    body = rx.vstack(
        read_only_note("You can look at templates; owners and marketers change them."),
        _toolbar(),
        _own(),
        rx.separator(size="4"),
        _gallery(),
        spacing="4",
        width="100%",
    )
    return when_loaded(T.loaded, body)


def email_templates_page() -> rx.Component:
    return shell("Email templates", _content)


ROUTE = routes.TENANT_EMAIL_TEMPLATES
ON_LOAD = [T.require_tenant, T.load]
