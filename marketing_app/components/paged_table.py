"""A table over a page of rows with the pager under it, for ServerPagedMixin states."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from reflex.vars import Var

from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import pager


def paged_table(
    state,
    headers: list[str],
    render_cells: Callable[[Var], list],
    *,
    table_id: str,
    no_match: rx.Component,
) -> rx.Component:
    return rx.vstack(
        simple_table(headers, state.rows, render_cells, empty=no_match, table_id=table_id),
        rx.cond(
            state.pages > 1,
            pager(state.page, state.pages, state.total, state.page_by(-1), state.page_by(1)),
        ),
        width="100%",
        spacing="3",
    )
