"""Loyalty: switch the program on from a preset or blank; members by tier, liability and the
ledger's recent activity; the program's settings and tiers."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import empty_state, pager, stat_card
from marketing_app.pages.layout import shell
from marketing_app.pages.loyalty_settings import program_tab
from marketing_app.pages.loyalty_sync import sync_tab
from marketing_app.pages.segments import slug_href, when_loaded
from marketing_app.state.loyalty import BLANK
from marketing_app.state.loyalty import LoyaltyState as S
from marketing_app.state.loyalty_sync import LoyaltySyncState
from marketing_app.state.session import SessionState

VIEWER_NOTE = "You can look at the program; owners and marketers change it."


def loyalty_viewer_note() -> rx.Component:
    return rx.cond(
        ~SessionState.can_edit,
        rx.callout(VIEWER_NOTE, icon="eye", color_scheme="gray", size="1", id="viewer-note"),
    )


def _start_buttons() -> list[rx.Component]:
    presets = [
        rx.button(
            label,
            on_click=S.create_program(key),
            disabled=~S.can_edit,
            id=f"create-program-{key}",
        )
        for key, label in [("alpineiq", "Alpine IQ tiers"), ("metals", "Bronze to Platinum")]
    ]
    blank = rx.button(
        "Start blank",
        variant="outline",
        on_click=S.create_program(BLANK),
        disabled=~S.can_edit,
        id="create-program-blank",
    )
    return [rx.hstack(*presets, blank, spacing="3", wrap="wrap", justify="center")]


def _no_program() -> rx.Component:
    hint = (
        "Turn loyalty on and customers earn points on their orders, climb tiers and redeem "
        "rewards for discount codes. Start from a preset (Alpine IQ's five tiers, or Bronze "
        "to Platinum) or blank; every setting can be changed afterwards."
    )
    return empty_state("award", "No loyalty program yet", hint, *_start_buttons())


def _tier_chart() -> rx.Component:
    chart = rx.plotly(data=S.figure, use_resize_handler=True, width="100%", id="loyalty-chart")
    no_members = empty_state(
        "users",
        "No members yet",
        "Customers become members with their first points: a credited order, a sign-up "
        "bonus, or an adjustment on their page.",
    )
    return rx.card(rx.cond(S.members > 0, chart, no_members), width="100%")


def _activity_cells(row) -> list:
    customer = rx.link(row["customer"], href=slug_href("customers", row["contact_id"]))
    points = rx.text(
        row["points"],
        color_scheme=rx.cond(row["points"].to(str).startswith("-"), "red", "green"),
        weight="medium",
    )
    return [row["when"], customer, rx.badge(row["kind"]), points, row["reason"]]


def _activity() -> rx.Component:
    empty = empty_state(
        "history",
        "No activity yet",
        "Earned, redeemed, adjusted and expired points show here as they happen.",
    )
    return rx.vstack(
        rx.heading("Recent activity", size="4"),
        simple_table(
            ["When", "Customer", "Kind", "Points", "Reason"],
            S.activity,
            _activity_cells,
            empty=empty,
            table_id="loyalty-activity",
        ),
        rx.cond(
            S.activity_total > 0,
            pager(
                S.activity_page,
                S.activity_pages,
                S.activity_total,
                S.activity_by(-1),
                S.activity_by(1),
            ),
        ),
        spacing="3",
        width="100%",
    )


def _overview_tab() -> rx.Component:
    return rx.vstack(
        rx.grid(rx.foreach(S.cards, stat_card), columns="3", spacing="4", width="100%"),
        _tier_chart(),
        _activity(),
        spacing="4",
        width="100%",
        padding_top="1em",
        id="loyalty-overview",
    )


def _program() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger("Overview", value="overview", id="tab-overview"),
            rx.tabs.trigger("Program and tiers", value="program", id="tab-program"),
            rx.tabs.trigger("Sync", value="sync", id="tab-sync"),
        ),
        rx.tabs.content(_overview_tab(), value="overview"),
        rx.tabs.content(program_tab(), value="program"),
        rx.tabs.content(sync_tab(), value="sync"),
        default_value="overview",
        width="100%",
    )


def _reconciliation_link() -> rx.Component:
    return rx.cond(
        S.has_program,
        rx.link(
            rx.button(
                rx.icon("scale", size=16),
                "Reconciliation",
                rx.cond(
                    S.open_discrepancies > 0,
                    rx.badge(S.open_discrepancies.to_string() + " open", color_scheme="amber"),
                ),
                variant="outline",
            ),
            href=slug_href("loyalty", "reconciliation"),
            id="reconciliation-link",
        ),
    )


def _content() -> rx.Component:
    body = rx.vstack(
        rx.hstack(loyalty_viewer_note(), rx.spacer(), _reconciliation_link(), width="100%"),
        rx.cond(S.has_program, _program(), _no_program()),
        spacing="4",
        width="100%",
    )
    return when_loaded(S.loaded, body)


def loyalty_page() -> rx.Component:
    return shell("Loyalty", _content)


ROUTE = routes.TENANT_LOYALTY
ON_LOAD = [S.require_tenant, S.load, LoyaltySyncState.load]
