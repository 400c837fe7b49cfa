"""Small stateless widgets shared by pages: stat cards, empty states, pagers, field errors."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var


def stat_card(card: Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(card["label"], size="2", color_scheme="gray"),
            rx.heading(card["value"], size="7"),
            rx.text(card["hint"], size="1", color_scheme="gray"),
            spacing="1",
        ),
        width="100%",
    )


def empty_state(icon: str, title: str, hint: str, *children: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=36, color=rx.color("gray", 9)),
            rx.heading(title, size="4"),
            rx.text(hint, color_scheme="gray", text_align="center", max_width="28em"),
            *children,
            align="center",
            spacing="2",
        ),
        padding="2.5em",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px",
        width="100%",
    )


def pager(page: Var, pages: Var, total: Var, on_prev, on_next) -> rx.Component:
    return rx.hstack(
        rx.text(
            total.to_string() + " in all · page " + page.to_string() + " of " + pages.to_string(),
            size="2",
            color_scheme="gray",
        ),
        rx.spacer(),
        rx.button("Previous", variant="soft", size="1", on_click=on_prev, disabled=page <= 1),
        rx.button("Next", variant="soft", size="1", on_click=on_next, disabled=page >= pages),
        width="100%",
        align="center",
    )


def field_error(message: Var) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="1", role="alert"))


def labeled(label: str, control: rx.Component, error: Var | None = None) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        field_error(error) if error is not None else rx.fragment(),
        spacing="1",
        width="100%",
    )


def not_found_panel() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("404", size="9", color_scheme="gray"),
            rx.heading("Page not found", size="5", id="not-found"),
            rx.text("It does not exist, or your account cannot open it.", color_scheme="gray"),
            rx.link("Go to your dashboard", href="/"),
            align="center",
        ),
        padding_top="15vh",
        width="100%",
    )


def danger_button(label: str, on_click, disabled: Var | bool = False) -> rx.Component:
    return rx.button(
        label, size="1", variant="soft", color_scheme="red", disabled=disabled, on_click=on_click
    )
