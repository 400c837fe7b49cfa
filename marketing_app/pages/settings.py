"""Tenant settings page: general, API keys, providers, members, jobs and audit log."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.progress import job_progress_bar
from marketing_app.components.widgets import empty_state, field_error, labeled
from marketing_app.pages.layout import shell
from marketing_app.pages.settings_members import members_tab
from marketing_app.state.jobs import JobsState
from marketing_app.state.members import MembersState
from marketing_app.state.tenant_settings import TenantSettingsState as S


def _select(name: str, items, value) -> rx.Component:
    return rx.select(items, name=name, default_value=value, width="100%")


def general_tab() -> rx.Component:
    return rx.form(
        rx.vstack(
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
                _select(
                    "marketing_provider", ["builtin", "alpineiq"], S.profile["marketing_provider"]
                ),
                S.field_errors.get("marketing_provider", ""),
            ),
            rx.button("Save", type="submit", disabled=~S.is_owner, id="save-profile"),
            rx.cond(
                ~S.is_owner,
                rx.text("Only owners can change settings.", size="1", color_scheme="gray"),
            ),
            spacing="3",
            max_width="36em",
        ),
        on_submit=S.save_profile,
        reset_on_submit=False,
    )


def _key_row(key) -> rx.Component:
    return rx.table.row(
        rx.table.cell(key["name"]),
        rx.table.cell(rx.badge(key["kind"])),
        rx.table.cell(rx.code(key["prefix"])),
        rx.table.cell(key["created"]),
        rx.table.cell(key["last_used"]),
        rx.table.cell(
            rx.cond(
                key["status"] == "active",
                rx.button(
                    "Revoke",
                    size="1",
                    color_scheme="red",
                    variant="soft",
                    disabled=~S.is_owner,
                    on_click=S.revoke_key(key["id"]),
                ),
                rx.badge("revoked", color_scheme="gray"),
            )
        ),
    )


def keys_tab() -> rx.Component:
    return rx.vstack(
        rx.cond(
            S.new_key_plaintext != "",
            rx.callout(
                rx.vstack(
                    rx.text("Copy this key now; it will not be shown again."),
                    rx.code(S.new_key_plaintext, id="new-key"),
                    rx.button("Done", size="1", on_click=S.dismiss_new_key),
                ),
                icon="key",
                color_scheme="amber",
                width="100%",
            ),
        ),
        rx.form(
            rx.hstack(
                rx.input(name="name", placeholder="Key name, e.g. Website", width="16em"),
                rx.select(["publishable", "secret"], name="kind", default_value="publishable"),
                rx.button("Create key", type="submit", disabled=~S.is_owner, id="create-key"),
            ),
            on_submit=S.create_key,
        ),
        rx.cond(
            S.keys.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ["Name", "Kind", "Key", "Created", "Last used", ""]
                        ]
                    )
                ),
                rx.table.body(rx.foreach(S.keys, _key_row)),
                width="100%",
            ),
            empty_state(
                "key",
                "No API keys",
                "Create a publishable key for the tracking API "
                "(browser or server) and a secret key for the management API.",
            ),
        ),
        spacing="4",
        width="100%",
    )


def providers_tab() -> rx.Component:
    return rx.vstack(
        rx.form(
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
        ),
        field_error(S.field_errors.get("secret", "")),
        rx.cond(
            S.creds.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ["Provider", "Secret", "Updated", ""]
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        S.creds,
                        lambda c: rx.table.row(
                            rx.table.cell(c["label"]),
                            rx.table.cell(rx.code(c["secret"])),
                            rx.table.cell(c["updated"]),
                            rx.table.cell(
                                rx.button(
                                    "Remove",
                                    size="1",
                                    variant="soft",
                                    color_scheme="red",
                                    disabled=~S.is_owner,
                                    on_click=S.delete_credential(c["provider"]),
                                )
                            ),
                        ),
                    )
                ),
                width="100%",
            ),
            empty_state(
                "plug",
                "No provider credentials",
                "Until you add one, email and SMS go to the "
                "console outbox. Secrets are encrypted and never shown again in full.",
            ),
        ),
        spacing="4",
        width="100%",
    )


def jobs_tab() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.hstack(
                rx.select(JobsState.business_kinds, name="kind", default_value="dispensary"),
                rx.select(["small", "medium", "full"], name="size", default_value="small"),
                rx.button(
                    "Generate sample data", type="submit", disabled=~S.is_owner, id="start-sample"
                ),
                align="center",
            ),
            on_submit=JobsState.start_sample_data,
        ),
        rx.cond(
            JobsState.jobs.length() > 0,
            rx.vstack(rx.foreach(JobsState.jobs, job_progress_bar), spacing="4", width="100%"),
            empty_state(
                "loader",
                "No background jobs yet",
                "Imports, syncs and sample data run in the background; their progress shows here.",
            ),
        ),
        spacing="4",
        width="100%",
        id="jobs-tab",
    )


def audit_tab() -> rx.Component:
    return rx.cond(
        S.audit.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(h) for h in ["When", "Who", "Action", "Target"]]
                )
            ),
            rx.table.body(
                rx.foreach(
                    S.audit,
                    lambda a: rx.table.row(
                        rx.table.cell(a["when"]),
                        rx.table.cell(a["actor"]),
                        rx.table.cell(rx.code(a["action"])),
                        rx.table.cell(a["target"]),
                    ),
                )
            ),
            width="100%",
        ),
        empty_state(
            "scroll-text",
            "Nothing logged yet",
            "Changes to settings, keys and members are recorded here.",
        ),
    )


def _content() -> rx.Component:
    tabs = [
        ("general", "General", general_tab),
        ("keys", "API keys", keys_tab),
        ("providers", "Providers", providers_tab),
        ("members", "Members", members_tab),
        ("jobs", "Jobs", jobs_tab),
        ("audit", "Audit log", audit_tab),
    ]
    return rx.tabs.root(
        rx.tabs.list(
            *[rx.tabs.trigger(label, value=value, id=f"tab-{value}") for value, label, _ in tabs]
        ),
        *[
            rx.tabs.content(rx.box(body(), padding_top="1.25em"), value=value)
            for value, _, body in tabs
        ],
        default_value="general",
        width="100%",
    )


def settings_page() -> rx.Component:
    return shell("Settings", _content)


ROUTE = routes.TENANT_SETTINGS
ON_LOAD = [S.require_tenant, S.load, MembersState.load, JobsState.load]
