"""Selects over (value, label) choices: fixed ones from Python, or a list var of objects with
`value` and `label`; and a checkbox group for picking several."""

from __future__ import annotations

from collections.abc import Iterable

import reflex as rx
from reflex.vars import Var


def fixed_select(
    choices: Iterable[tuple[str, str]],
    value: Var | str,
    on_change,
    *,
    select_id: Var | str | None = None,
    width: str | None = None,
    disabled: Var | bool = False,
) -> rx.Component:
    """A select whose options are known when the page is built."""
    return rx.select.root(
        rx.select.trigger(id=select_id, width=width),
        rx.select.content(*[rx.select.item(label, value=v) for v, label in choices]),
        value=value,
        on_change=on_change,
        disabled=disabled,
        size="2",
    )


def var_select(
    choices: Var,
    value: Var | str,
    on_change,
    *,
    placeholder: str = "Choose…",
    select_id: Var | str | None = None,
    width: str | None = None,
    disabled: Var | bool = False,
) -> rx.Component:
    """A select over a list var of objects with `value` and `label`."""
    return rx.select.root(
        rx.select.trigger(placeholder=placeholder, id=select_id, width=width),
        rx.select.content(
            rx.foreach(choices, lambda c: rx.select.item(c["label"], value=c["value"]))
        ),
        value=value,
        on_change=on_change,
        disabled=disabled,
        size="2",
    )


def var_checkboxes(
    choices: Var,
    picked: Var,
    on_change,
    *,
    group_id: Var | str | None = None,
    disabled: Var | bool = False,
) -> rx.Component:
    """Several picks out of a list var of objects with `value` and `label`."""
    return rx.checkbox_group.root(
        rx.flex(
            rx.foreach(choices, lambda c: rx.checkbox_group.item(c["label"], value=c["value"])),
            wrap="wrap",
            spacing="3",
        ),
        value=picked,
        on_value_change=on_change,
        disabled=disabled,
        id=group_id,
        size="2",
    )
