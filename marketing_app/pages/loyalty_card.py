"""The loyalty card on a customer's page: balance, tier, progress to the next tier, our and
Alpine IQ's balances, an open discrepancy, redeeming, adjusting and the ledger history."""

from __future__ import annotations

import reflex as rx

from marketing_app.components.choices import var_select
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import empty_state, field_error, labeled, pager
from marketing_app.pages.segments import slug_href
from marketing_app.state.loyalty_card import HISTORY_PAGE, POINTS
from marketing_app.state.loyalty_card import LoyaltyCardState as L

EDITORS_ONLY = "Owners and marketers redeem and adjust points."


def _figure(label: str, value: rx.Var, figure_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.heading(value, size="5", id=figure_id),
        spacing="0",
    )


def _progress() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(L.card["to_next"], size="2", id="loyalty-to-next"),
            rx.spacer(),
            rx.text(L.progress.to_string() + "%", size="1", color_scheme="gray"),
            width="100%",
        ),
        rx.progress(value=L.progress, max=100, width="100%", id="loyalty-progress"),
        spacing="1",
        width="100%",
    )


def _sources() -> rx.Component:
    alpine = rx.cond(
        L.external.length() > 0,
        rx.text(
            "Alpine IQ: ",
            rx.text.strong(L.external["points"], id="loyalty-external-points"),
            " points, last synced " + L.external["synced"],
            size="2",
        ),
        rx.text("Alpine IQ has not reported a balance for this customer.", size="2"),
    )
    return rx.vstack(
        rx.text("Ours: ", rx.text.strong(L.card["balance"]), " points", size="2"),
        alpine,
        rx.text("Source of truth: " + L.card["source_of_truth"], size="1", color_scheme="gray"),
        spacing="1",
        id="loyalty-sources",
    )


def _discrepancy() -> rx.Component:
    d = L.discrepancy
    return rx.cond(
        d.length() > 0,
        rx.callout(
            rx.vstack(
                rx.text(
                    "Open discrepancy (" + d["kind"] + "): calculated " + d["calculated"],
                    ", Alpine IQ " + d["external"] + ", stored " + d["stored"],
                    "; difference " + d["difference"] + " (checked " + d["checked"] + ").",
                    size="2",
                ),
                rx.text(d["explanation"], size="2"),
                rx.link("Review it in reconciliation", href=slug_href("loyalty", "reconciliation")),
                spacing="1",
            ),
            icon="triangle-alert",
            color_scheme="amber",
            width="100%",
            id="loyalty-discrepancy",
        ),
    )


def _redeem_form() -> rx.Component:
    return rx.vstack(
        rx.text("Redeem for a discount code", weight="medium", size="2"),
        var_select(
            L.rewards,
            L.redeem_choice,
            L.set_redeem_choice,
            select_id="redeem-choice",
            width="100%",
            disabled=~L.can_edit,
        ),
        field_error(L.errors.get("redeem_tier", "")),
        rx.cond(
            L.redeem_choice == POINTS,
            labeled(
                "Points",
                rx.input(
                    value=L.redeem_points,
                    on_change=L.set_redeem_points,
                    placeholder="e.g. 200",
                    disabled=~L.can_edit,
                    width="100%",
                    id="redeem-points",
                ),
                L.errors.get("redeem_points", ""),
            ),
        ),
        field_error(L.errors.get("redeem_idempotency_key", "")),
        rx.button("Issue code", on_click=L.redeem, disabled=~L.can_edit, id="redeem"),
        rx.cond(
            L.issued_code != "",
            rx.callout(
                rx.hstack(
                    rx.code(L.issued_code, size="4", id="issued-code"),
                    rx.text(L.issued_text, size="1"),
                    align="center",
                    wrap="wrap",
                ),
                icon="ticket",
                color_scheme="green",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _adjust_form() -> rx.Component:
    return rx.vstack(
        rx.text("Adjust points", weight="medium", size="2"),
        labeled(
            "Points (negative to remove)",
            rx.input(
                value=L.adjust_points,
                on_change=L.set_adjust_points,
                placeholder="e.g. 50 or -50",
                disabled=~L.can_edit,
                width="100%",
                id="adjust-points",
            ),
            L.errors.get("adjust_points", ""),
        ),
        labeled(
            "Reason",
            rx.input(
                value=L.adjust_reason,
                on_change=L.set_adjust_reason,
                placeholder="e.g. goodwill for a late order",
                disabled=~L.can_edit,
                width="100%",
                id="adjust-reason",
            ),
            L.errors.get("adjust_reason", ""),
        ),
        rx.button("Adjust", variant="soft", on_click=L.adjust, disabled=~L.can_edit, id="adjust"),
        spacing="2",
        width="100%",
    )


def _history() -> rx.Component:
    empty = rx.text("No points yet: orders, bonuses and adjustments show here.", size="2")
    return rx.vstack(
        simple_table(
            ["When", "Kind", "Points", "Reason"],
            L.history,
            lambda e: [e["when"], rx.badge(e["kind"]), e["points"], e["reason"]],
            empty=empty,
            table_id="loyalty-history",
        ),
        rx.cond(
            L.history_total > HISTORY_PAGE,
            pager(
                L.history_page, L.history_pages, L.history_total, L.history_by(-1), L.history_by(1)
            ),
        ),
        width="100%",
    )


def _member_card() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Loyalty", size="4"),
            rx.badge(L.card["tier"], size="2", id="loyalty-tier"),
            rx.spacer(),
            rx.text("Last activity " + L.card["last_activity"], size="1", color_scheme="gray"),
            width="100%",
            align="center",
        ),
        rx.grid(
            _figure("Points", L.card["balance"], "loyalty-balance"),
            _figure("Worth", L.card["value"], "loyalty-value"),
            _figure("Lifetime earned", L.card["lifetime"], "loyalty-lifetime"),
            _figure("Expires", L.card["expires"], "loyalty-expires"),
            columns="4",
            spacing="4",
            width="100%",
        ),
        _progress(),
        _sources(),
        _discrepancy(),
        rx.grid(_redeem_form(), _adjust_form(), columns="2", spacing="5", width="100%"),
        rx.cond(~L.can_edit, rx.text(EDITORS_ONLY, size="1", color_scheme="gray")),
        rx.heading("Points history", size="3"),
        _history(),
        spacing="4",
        width="100%",
    )


def loyalty_card() -> rx.Component:
    no_program = empty_state(
        "award",
        "No loyalty program",
        "Switch loyalty on in the Loyalty page and this customer's points show here.",
        rx.link("Go to Loyalty", href=slug_href("loyalty")),
    )
    return rx.cond(
        L.card_loaded,
        rx.card(
            rx.cond(L.has_program, _member_card(), no_program),
            width="100%",
            id="loyalty-card",
        ),
    )
