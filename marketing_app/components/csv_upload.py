"""CSV upload pieces: a drop zone for one file and the table of refused rows after an import."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from marketing_app.components.tables import simple_table


def csv_drop_zone(upload_id: str) -> rx.Component:
    """Drop or choose one CSV; the chosen file's name shows as a badge."""
    return rx.upload(
        rx.vstack(
            rx.icon("upload", size=20),
            rx.text("Drop a CSV here or click to choose", size="2"),
            rx.foreach(rx.selected_files(upload_id), lambda name: rx.badge(name)),
            align="center",
        ),
        id=upload_id,
        accept={"text/csv": [".csv"]},
        max_files=1,
        border="1px dashed",
        padding="1em",
        border_radius="8px",
        width="100%",
    )


def refused_rows(rows: Var, count: Var, table_id: str = "import-rejected") -> rx.Component:
    """`rows` are dicts with line, email and reason; `count` how many were refused in all."""
    return rx.vstack(
        rx.cond(
            count > 0,
            rx.text(count.to_string() + " rows refused:", size="2", color_scheme="red"),
        ),
        simple_table(
            ["Line", "Email", "Why it was refused"],
            rows,
            lambda r: [r["line"], r["email"], r["reason"]],
            empty=rx.fragment(),
            table_id=table_id,
        ),
        width="100%",
    )
