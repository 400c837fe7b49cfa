"""Settings → Email sending: webhook addresses and keys for delivery reports, and the
frequency cap on marketing email."""

from __future__ import annotations

import reflex as rx

from marketing_app.components.choices import fixed_select
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import field_error, labeled
from marketing_app.state.email_rules import WEBHOOK_CHOICES
from marketing_app.state.email_rules import EmailRulesState as R


def _endpoint_cells(row) -> list:
    status = rx.cond(
        row["configured"] != "",
        rx.badge("key saved " + row["hint"], color_scheme="green"),
        rx.badge("no key", color_scheme="gray"),
    )
    return [row["provider"], rx.code(row["url"], size="1"), status]


def _webhook_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Delivery reports (webhooks)", weight="bold"),
            rx.text(
                "Give each provider its address below. Reports are accepted only when their "
                "signature checks out with the key saved here.",
                size="2",
                color_scheme="gray",
            ),
            simple_table(
                ["Provider", "Address to give it", "Key"],
                R.endpoints,
                _endpoint_cells,
                empty=rx.text("No provider takes webhooks.", size="2"),
                table_id="webhook-endpoints",
            ),
            fixed_select(
                WEBHOOK_CHOICES,
                R.webhook_provider,
                R.set_webhook_provider,
                select_id="webhook-provider",
            ),
            labeled(
                "Key",
                rx.text_area(
                    value=R.webhook_secret,
                    on_change=R.set_webhook_secret,
                    width="100%",
                    rows="4",
                    id="webhook-secret",
                ),
            ),
            rx.cond(
                R.webhook_provider == "ses",
                labeled(
                    "SNS topic ARNs (one per line)",
                    rx.text_area(
                        value=R.topic_arns,
                        on_change=R.set_topic_arns,
                        width="100%",
                        id="webhook-topics",
                    ),
                ),
            ),
            field_error(R.webhook_error),
            rx.button("Save key", on_click=R.save_webhook, disabled=~R.is_owner, id="save-webhook"),
            width="100%",
        ),
        width="100%",
    )


def _cap_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Frequency cap", weight="bold"),
            rx.text(
                "A profile that already got this many marketing emails in the window is skipped "
                "(and counted) by the next campaign. Transactional mail is exempt. 0: no cap.",
                size="2",
                color_scheme="gray",
            ),
            rx.hstack(
                labeled(
                    "Emails at most",
                    rx.input(value=R.cap_max, on_change=R.set_cap_max, id="cap-max", width="8em"),
                ),
                labeled(
                    "In days",
                    rx.input(
                        value=R.cap_days, on_change=R.set_cap_days, id="cap-days", width="8em"
                    ),
                ),
                align="end",
            ),
            field_error(R.cap_error),
            rx.button("Save cap", on_click=R.save_cap, disabled=~R.is_owner, id="save-cap"),
            width="100%",
        ),
        width="100%",
    )


def email_rules_section() -> rx.Component:
    return rx.vstack(_webhook_form(), _cap_form(), spacing="4", width="100%")
