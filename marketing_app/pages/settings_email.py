"""Settings → Email sending: providers in the order they are tried, and adding one (its
credentials are checked with the provider before they are stored)."""

from __future__ import annotations

import reflex as rx

from marketing_app.components.choices import fixed_select
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import danger_button, empty_state, field_error, labeled
from marketing_app.pages.settings_email_rules import email_rules_section
from marketing_app.state.email_providers import CHOICES
from marketing_app.state.email_providers import EmailProvidersState as P


def _cells(row) -> list:
    arrows = rx.hstack(
        rx.icon_button(
            rx.icon("arrow-up", size=14),
            size="1",
            variant="soft",
            on_click=P.move(row["name"], -1),
            disabled=~P.is_owner,
            aria_label="Try earlier",
        ),
        rx.icon_button(
            rx.icon("arrow-down", size=14),
            size="1",
            variant="soft",
            on_click=P.move(row["name"], 1),
            disabled=~P.is_owner,
            aria_label="Try later",
        ),
        spacing="1",
    )
    remove = danger_button("Remove", P.remove(row["name"]), ~P.is_owner)
    return [row["position"], row["label"], rx.code(row["secret"]), row["settings"], arrows, remove]


def _config_field(field) -> rx.Component:
    return labeled(
        field[1],
        rx.input(
            value=P.config.get(field[0], ""),
            on_change=P.set_config(field[0]),
            placeholder=field[2],
            width="100%",
            id="provider-" + field[0],
        ),
    )


def _add_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Add or update a provider", weight="bold"),
            fixed_select(CHOICES, P.provider, P.set_provider, select_id="provider-choice"),
            rx.cond(
                P.secret_label != "",
                labeled(
                    P.secret_label,
                    rx.input(
                        value=P.secret,
                        on_change=P.set_secret,
                        type="password",
                        width="100%",
                        id="provider-secret",
                        placeholder="Leave empty to keep the one saved",
                    ),
                ),
            ),
            rx.foreach(P.fields, _config_field),
            field_error(P.form_error),
            rx.button(
                rx.cond(P.saving, rx.spinner(size="1"), rx.icon("plug-zap", size=14)),
                "Check and save",
                on_click=P.save,
                disabled=~P.is_owner | P.saving,
                id="save-provider",
            ),
            rx.text(
                "The credentials are tried with the provider first; nothing is saved if it "
                "refuses them. Secrets are encrypted and never shown again in full.",
                size="1",
                color_scheme="gray",
            ),
            width="100%",
            max_width="36em",
        ),
        width="100%",
    )


def email_sending_tab() -> rx.Component:
    none_yet = empty_state(
        "mail",
        "No email provider yet",
        "Until you add one, campaigns and test sends go to the Outbox (the console "
        "provider) and reach nobody.",
    )
    table = simple_table(
        ["#", "Provider", "Secret", "Settings", "Order", ""],
        P.configured,
        _cells,
        empty=none_yet,
        table_id="email-providers-table",
    )
    return rx.vstack(
        rx.text(
            "Mail goes to the first provider; when it is down or refuses the account, the next "
            "one takes over.",
            size="2",
            color_scheme="gray",
        ),
        table,
        _add_form(),
        email_rules_section(),
        rx.cond(
            ~P.is_owner, rx.text("Only owners can change providers.", size="1", color_scheme="gray")
        ),
        spacing="4",
        width="100%",
    )
