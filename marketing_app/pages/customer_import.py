"""The CSV import panel of the Customers page."""

from __future__ import annotations

import reflex as rx

from marketing_app.components.progress import job_progress_bar
from marketing_app.components.tables import simple_table
from marketing_app.state.customer_import import UPLOAD_ID
from marketing_app.state.customer_import import CustomerImportState as I

COLUMNS_HINT = (
    "Columns: email, phone, user_id (at least one), first_name, last_name, birthday "
    "(YYYY-MM-DD), email_consent, sms_consent; any other column becomes a custom field. "
    "Rows matching an existing customer by user id, email or phone update it."
)


def _report() -> rx.Component:
    rejected = simple_table(
        ["Line", "Email", "Why it was refused"],
        I.rejected,
        lambda r: [r["line"], r["email"], r["reason"]],
        empty=rx.fragment(),
        table_id="import-rejected",
    )
    return rx.vstack(
        job_progress_bar(I.job),
        rx.cond(
            I.rejected_count > 0,
            rx.text(I.rejected_count.to_string() + " rows refused:", size="2", color_scheme="red"),
        ),
        rejected,
        width="100%",
    )


def import_panel() -> rx.Component:
    picker = rx.upload(
        rx.vstack(
            rx.icon("upload", size=20),
            rx.text("Drop a CSV here or click to choose", size="2"),
            rx.foreach(rx.selected_files(UPLOAD_ID), lambda name: rx.badge(name)),
            align="center",
        ),
        id=UPLOAD_ID,
        accept={"text/csv": [".csv"]},
        max_files=1,
        border="1px dashed",
        padding="1em",
        border_radius="8px",
        width="100%",
    )
    return rx.card(
        rx.vstack(
            rx.heading("Import customers from CSV", size="3"),
            rx.text(COLUMNS_HINT, size="1", color_scheme="gray"),
            picker,
            rx.button(
                "Import",
                on_click=I.upload(rx.upload_files(upload_id=UPLOAD_ID)),
                disabled=~I.can_edit,
                id="start-import",
            ),
            rx.cond(I.has_job, _report()),
            width="100%",
        ),
        width="100%",
    )
