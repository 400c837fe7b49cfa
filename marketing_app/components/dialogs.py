"""A delete button that asks first."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var


def delete_dialog(
    *,
    title: str,
    description: str,
    on_confirm,
    open_: Var,
    on_open_change,
    disabled: Var | bool,
    trigger_id: str,
) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("trash-2", size=16),
                "Delete",
                variant="soft",
                color_scheme="red",
                disabled=disabled,
                id=trigger_id,
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.button("Delete", color_scheme="red", on_click=on_confirm, id="confirm-delete"),
                justify="end",
                margin_top="1em",
            ),
        ),
        open=open_,
        on_open_change=on_open_change,
    )
