"""Campaigns: every email campaign with its status and headline rates, and the way to the
builder, the templates, the outbox and the suppression list."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.choices import fixed_select
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import empty_state, pager
from marketing_app.pages.layout import shell
from marketing_app.pages.segments import slug_href, when_loaded
from marketing_app.state.campaigns import ALL_STATUSES
from marketing_app.state.campaigns import CampaignsState as C
from marketing_app.state.session import SessionState

STATUS_COLORS = [
    ("draft", "gray"),
    ("scheduled", "amber"),
    ("sending", "blue"),
    ("paused", "orange"),
    ("sent", "green"),
    ("cancelled", "red"),
]
STATUS_FILTERS = [(ALL_STATUSES, "All statuses")] + [(s, s.capitalize()) for s, _ in STATUS_COLORS]


def read_only_note(text: str) -> rx.Component:
    """Shown to viewers, whose buttons are disabled."""
    return rx.cond(
        ~SessionState.can_edit,
        rx.callout(text, icon="eye", color_scheme="gray", size="1", id="viewer-note"),
    )


def status_badge(status) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=rx.match(status, *STATUS_COLORS, "gray"),
        variant="soft",
        class_name="campaign-status",
    )


EMAIL_AREAS = [
    ("mail", "Campaigns", "campaigns"),
    ("layout-template", "Templates", "email-templates"),
    ("inbox", "Outbox", "outbox"),
    ("ban", "Suppressions", "suppressions"),
]


def email_area_links(current: str) -> rx.Component:
    """The other email pages, next to each other's toolbars."""
    return rx.hstack(
        *[
            rx.link(
                rx.button(rx.icon(icon, size=16), label, variant="outline"),
                href=slug_href(section),
                id=f"link-{section}",
            )
            for icon, label, section in EMAIL_AREAS
            if section != current
        ],
        spacing="2",
    )


def _new_button(button_id: str, label: str = "New campaign") -> rx.Component:
    return rx.cond(
        C.can_edit,
        rx.link(
            rx.button(rx.icon("plus", size=16), label, id=button_id),
            href=slug_href("campaigns", "new"),
        ),
        rx.button(rx.icon("plus", size=16), label, disabled=True),
    )


def _toolbar() -> rx.Component:
    return rx.hstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            placeholder="Search by name or subject",
            value=C.search,
            on_change=C.set_search,
            width="18em",
            id="campaign-search",
        ),
        fixed_select(
            STATUS_FILTERS, C.status_filter, C.set_status_filter, select_id="status-filter"
        ),
        rx.spacer(),
        email_area_links("campaigns"),
        _new_button("new-campaign"),
        width="100%",
        align="center",
        wrap="wrap",
    )


def _cells(row) -> list:
    name = rx.vstack(
        rx.link(row.name, href=row.href, weight="medium"),
        rx.text(row.subject, size="1", color_scheme="gray", trim="both"),
        spacing="0",
    )
    return [name, status_badge(row.status), row.when, row.recipients, row.opened, row.clicked]


def _table() -> rx.Component:
    no_match = empty_state("search-x", "Nothing matches", "Try another name or status.")
    return rx.vstack(
        simple_table(
            ["Campaign", "Status", "When", "Recipients", "Opened", "Clicked"],
            C.page_rows,
            _cells,
            empty=no_match,
            table_id="campaigns-table",
        ),
        rx.cond(C.pages > 1, pager(C.page, C.pages, C.matching_count, C.page_by(-1), C.page_by(1))),
        width="100%",
        spacing="3",
    )


def _empty() -> rx.Component:
    return empty_state(
        "mail",
        "No campaigns yet",
        "A campaign sends one email (or an A/B test of up to four) to your segments and lists. "
        "Start one, pick a template, preview it as a real customer and send.",
        rx.cond(
            C.can_edit,
            rx.link(
                rx.button(rx.icon("plus", size=16), "Create your first campaign"),
                href=slug_href("campaigns", "new"),
                id="empty-new-campaign",
            ),
        ),
    )


def _content() -> rx.Component:
    body = rx.vstack(
        read_only_note("You can look at campaigns and reports; owners and marketers send them."),
        _toolbar(),
        rx.cond(C.rows.length() > 0, _table(), _empty()),
        spacing="4",
        width="100%",
    )
    return when_loaded(C.loaded, body)


def campaigns_page() -> rx.Component:
    return shell("Campaigns", _content)


ROUTE = routes.TENANT_CAMPAIGNS
ON_LOAD = [C.require_tenant, C.load]
