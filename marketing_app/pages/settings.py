"""Tenant settings page: general, API keys, providers, members, jobs and audit log."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.progress import job_progress_bar
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import danger_button, empty_state, field_error, labeled
from marketing_app.pages.layout import shell
from marketing_app.pages.settings_email import email_sending_tab
from marketing_app.pages.settings_members import members_tab
from marketing_app.state.email_providers import EmailProvidersState
from marketing_app.state.email_rules import EmailRulesState
from marketing_app.state.jobs import JobsState
from marketing_app.state.members import MembersState
from marketing_app.state.tenant_settings import TenantSettingsState as S

OWNERS_ONLY = "Only owners can change settings."


def _select(name: str, items, value) -> rx.Component:
    return rx.select(items, name=name, default_value=value, width="100%")


def general_tab() -> rx.Component:
    fields = rx.vstack(
        labeled(
            "Name",
            rx.input(name="name", default_value=S.profile["name"], width="100%"),
            S.field_errors.get("name", ""),
        ),
        labeled(
            "Time zone",
            _select("time_zone", S.time_zones, S.profile["time_zone"]),
            S.field_errors.get("time_zone", ""),
        ),
        labeled(
            "Postal address (printed in email footers)",
            rx.text_area(
                name="postal_address", default_value=S.profile["postal_address"], width="100%"
            ),
        ),
        labeled(
            "Marketing provider",
            _select("marketing_provider", ["builtin", "alpineiq"], S.profile["marketing_provider"]),
            S.field_errors.get("marketing_provider", ""),
        ),
        rx.button("Save", type="submit", disabled=~S.is_owner, id="save-profile"),
        rx.cond(~S.is_owner, rx.text(OWNERS_ONLY, size="1", color_scheme="gray")),
        spacing="3",
        max_width="36em",
    )
    return rx.form(fields, on_submit=S.save_profile, reset_on_submit=False)


def _new_key_notice() -> rx.Component:
    return rx.callout(
        rx.vstack(
            rx.text("Copy this key now; it will not be shown again."),
            rx.code(S.new_key_plaintext, id="new-key"),
            rx.button("Done", size="1", on_click=S.dismiss_new_key),
        ),
        icon="key",
        color_scheme="amber",
        width="100%",
    )


def _key_cells(key) -> list:
    revoke = danger_button("Revoke", S.revoke_key(key["id"]), ~S.is_owner)
    status = rx.cond(key["status"] == "active", revoke, rx.badge("revoked", color_scheme="gray"))
    return [
        key["name"],
        rx.badge(key["kind"]),
        rx.code(key["prefix"]),
        key["created"],
        key["last_used"],
        status,
    ]


def keys_tab() -> rx.Component:
    create = rx.form(
        rx.hstack(
            rx.input(name="name", placeholder="Key name, e.g. Website", width="16em"),
            rx.select(["publishable", "secret"], name="kind", default_value="publishable"),
            rx.button("Create key", type="submit", disabled=~S.is_owner, id="create-key"),
        ),
        on_submit=S.create_key,
    )
    empty = empty_state(
        "key",
        "No API keys",
        "Create a publishable key for the tracking API "
        "(browser or server) and a secret key for the management API.",
    )
    table = simple_table(
        ["Name", "Kind", "Key", "Created", "Last used", ""],
        S.keys,
        _key_cells,
        empty=empty,
        table_id="keys-table",
    )
    return rx.vstack(
        rx.cond(S.new_key_plaintext != "", _new_key_notice()),
        create,
        table,
        spacing="4",
        width="100%",
    )


def _credential_cells(cred) -> list:
    remove = danger_button("Remove", S.delete_credential(cred["provider"]), ~S.is_owner)
    return [cred["label"], rx.code(cred["secret"]), cred["updated"], remove]


def providers_tab() -> rx.Component:
    save = rx.form(
        rx.hstack(
            rx.select(S.provider_names, name="provider", default_value="sendgrid"),
            rx.input(
                name="secret",
                type="password",
                id="credential-secret",
                placeholder="API key or token",
                width="20em",
            ),
            rx.button("Save credential", type="submit", disabled=~S.is_owner),
        ),
        on_submit=S.save_credential,
        reset_on_submit=False,
    )
    empty = empty_state(
        "plug",
        "No provider credentials",
        "Until you add one, email and SMS go "
        "to the console outbox. Secrets are encrypted and never shown again in full.",
    )
    table = simple_table(
        ["Provider", "Secret", "Updated", ""], S.creds, _credential_cells, empty=empty
    )
    return rx.vstack(
        save, field_error(S.field_errors.get("secret", "")), table, spacing="4", width="100%"
    )


def jobs_tab() -> rx.Component:
    start = rx.form(
        rx.hstack(
            rx.select(JobsState.business_kinds, name="kind", default_value="dispensary"),
            rx.select(["small", "medium", "full"], name="size", default_value="small"),
            rx.button(
                "Generate sample data", type="submit", disabled=~S.is_owner, id="start-sample"
            ),
            align="center",
        ),
        on_submit=JobsState.start_sample_data,
    )
    jobs = rx.cond(
        JobsState.jobs.length() > 0,
        rx.vstack(rx.foreach(JobsState.jobs, job_progress_bar), spacing="4", width="100%"),
        empty_state(
            "loader",
            "No background jobs yet",
            "Imports, syncs and sample data run in the background; their progress shows here.",
        ),
    )
    return rx.vstack(start, jobs, spacing="4", width="100%", id="jobs-tab")


def audit_tab() -> rx.Component:
    empty = empty_state(
        "scroll-text",
        "Nothing logged yet",
        "Changes to settings, keys and members are recorded here.",
    )
    return simple_table(
        ["When", "Who", "Action", "Target"],
        S.audit,
        lambda a: [a["when"], a["actor"], rx.code(a["action"]), a["target"]],
        empty=empty,
        table_id="audit-table",
    )


TABS = [
    ("general", "General", general_tab),
    ("keys", "API keys", keys_tab),
    ("providers", "Providers", providers_tab),
    ("email", "Email sending", email_sending_tab),
    ("members", "Members", members_tab),
    ("jobs", "Jobs", jobs_tab),
    ("audit", "Audit log", audit_tab),
]


def _content() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(
            *[rx.tabs.trigger(label, value=value, id=f"tab-{value}") for value, label, _ in TABS]
        ),
        *[
            rx.tabs.content(rx.box(body(), padding_top="1.25em"), value=value)
            for value, _, body in TABS
        ],
        default_value="general",
        on_change=S.refresh,
        width="100%",
    )


def settings_page() -> rx.Component:
    return shell("Settings", _content)


ROUTE = routes.TENANT_SETTINGS
ON_LOAD = [
    S.require_tenant,
    S.load,
    MembersState.load,
    JobsState.load,
    EmailProvidersState.load,
    EmailRulesState.load,
]
