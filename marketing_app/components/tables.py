"""A plain table over a list var: headers, one row per item, an empty state when there are none."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from reflex.vars import Var


def simple_table(
    headers: list[str],
    items: Var,
    render_cells: Callable[[Var], list[rx.Component | Var | str]],
    *,
    empty: rx.Component,
    table_id: str | None = None,
) -> rx.Component:
    """`render_cells(item)` returns the cells' contents, in header order."""
    table = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(
            rx.foreach(
                items, lambda item: rx.table.row(*[rx.table.cell(c) for c in render_cells(item)])
            )
        ),
        width="100%",
        id=table_id,
    )
    return rx.cond(items.length() > 0, table, empty)
