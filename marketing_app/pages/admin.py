"""Platform admin page: tenants and users, with create forms."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import empty_state, field_error, labeled, pager
from marketing_app.pages.layout import shell
from marketing_app.state.admin import AdminState as A


def _tenant_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("New tenant", size="4"),
            labeled(
                "Name",
                rx.input(name="name", id="tenant-name", width="100%"),
                A.tenant_errors.get("name", ""),
            ),
            labeled(
                "Slug (blank: from the name)",
                rx.input(name="slug", id="tenant-slug", width="100%"),
                A.tenant_errors.get("slug", ""),
            ),
            labeled(
                "Time zone",
                rx.select(
                    A.time_zones, name="time_zone", default_value="America/New_York", width="100%"
                ),
            ),
            labeled(
                "Postal address", rx.input(name="postal_address", id="tenant-address", width="100%")
            ),
            labeled(
                "Marketing provider",
                rx.select(
                    ["builtin", "alpineiq"],
                    name="marketing_provider",
                    default_value="builtin",
                    width="100%",
                ),
            ),
            field_error(A.tenant_errors.get("form", "")),
            rx.button("Create tenant", type="submit", id="create-tenant"),
            spacing="2",
            width="100%",
        ),
        on_submit=A.create_tenant,
        reset_on_submit=False,
    )


def _tenant_picker() -> rx.Component:
    # A native select: Radix's select cannot offer an empty "(none)" value.
    return rx.el.select(
        rx.el.option("(none)", value=""),
        rx.foreach(A.all_tenants, lambda t: rx.el.option(t["name"], value=t["slug"])),
        name="tenant",
        id="user-tenant",
        style={"width": "100%", "padding": "6px"},
    )


def _user_form() -> rx.Component:
    errors = A.user_errors
    roles = rx.select(
        ["owner", "marketer", "viewer"], name="role", default_value="marketer", width="100%"
    )
    return rx.form(
        rx.vstack(
            rx.heading("New user", size="4"),
            labeled(
                "Email",
                rx.input(name="email", id="user-email", width="100%"),
                errors.get("email", ""),
            ),
            labeled("Full name", rx.input(name="full_name", id="user-name", width="100%")),
            labeled(
                "Password (10+ characters)",
                rx.input(name="password", type="password", id="user-password", width="100%"),
                errors.get("password", ""),
            ),
            labeled("Tenant", _tenant_picker()),
            labeled("Role", roles, errors.get("role", "")),
            rx.checkbox("Platform admin", name="is_platform_admin"),
            field_error(errors.get("form", "")),
            rx.button("Create user", type="submit", id="create-user"),
            spacing="2",
            width="100%",
        ),
        on_submit=A.create_user,
        reset_on_submit=False,
    )


def _search(placeholder: str, value, on_change) -> rx.Component:
    return rx.input(
        placeholder=placeholder, value=value, on_change=on_change.debounce(300), width="100%"
    )


def _tenant_cells(tenant) -> list:
    settings_link = rx.link("Settings", href="/t/" + tenant["slug"] + "/settings")
    return [
        tenant["name"],
        rx.code(tenant["slug"]),
        tenant["provider"],
        tenant["time_zone"],
        settings_link,
    ]


def _tenants_table() -> rx.Component:
    empty = empty_state("building", "No tenants match", "Clear the search or create a tenant.")
    return rx.vstack(
        _search("Search tenants", A.tenant_search, A.search_tenants),
        simple_table(
            ["Tenant", "Slug", "Provider", "Time zone", ""],
            A.tenant_rows,
            _tenant_cells,
            empty=empty,
            table_id="tenants-table",
        ),
        pager(
            A.tenant_page, A.tenant_pages, A.tenant_total, A.tenant_page_by(-1), A.tenant_page_by(1)
        ),
        width="100%",
    )


def _users_table() -> rx.Component:
    empty = empty_state("users", "No users match", "Clear the search or create a user.")
    return rx.vstack(
        _search("Search users", A.user_search, A.search_users),
        simple_table(
            ["Email", "Name", "Admin"],
            A.user_rows,
            lambda u: [u["email"], u["name"], u["admin"]],
            empty=empty,
            table_id="users-table",
        ),
        pager(A.user_page, A.user_pages, A.user_total, A.user_page_by(-1), A.user_page_by(1)),
        width="100%",
    )


def _content() -> rx.Component:
    return rx.grid(
        rx.vstack(
            rx.heading("Tenants", size="5"),
            _tenants_table(),
            rx.heading("Users", size="5"),
            _users_table(),
            width="100%",
            spacing="3",
        ),
        rx.vstack(
            rx.card(_tenant_form(), width="100%"), rx.card(_user_form(), width="100%"), width="100%"
        ),
        columns="3fr 2fr",
        spacing="6",
        width="100%",
    )


def admin_page() -> rx.Component:
    return shell("Platform admin", _content)


ROUTE = routes.ADMIN
ON_LOAD = [A.require_admin, A.load]
