"""The CSV import panel of the Customers page."""

from __future__ import annotations

import reflex as rx

from marketing_app.components.csv_upload import csv_drop_zone, refused_rows
from marketing_app.components.progress import job_progress_bar
from marketing_app.state.customer_import import UPLOAD_ID
from marketing_app.state.customer_import import CustomerImportState as I

COLUMNS_HINT = (
    "Columns: email, phone, user_id (at least one), first_name, last_name, birthday "
    "(YYYY-MM-DD), email_consent, sms_consent; any other column becomes a custom field. "
    "Rows matching an existing customer by user id, email or phone update it."
)


def _report() -> rx.Component:
    return rx.vstack(
        job_progress_bar(I.job),
        refused_rows(I.rejected, I.rejected_count),
        width="100%",
    )


def import_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Import customers from CSV", size="3"),
            rx.text(COLUMNS_HINT, size="1", color_scheme="gray"),
            csv_drop_zone(UPLOAD_ID),
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
