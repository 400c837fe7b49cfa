"""Platform admin page: tenants and users, with create forms."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
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


def _user_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("New user", size="4"),
            labeled(
                "Email",
                rx.input(name="email", id="user-email", width="100%"),
                A.user_errors.get("email", ""),
            ),
            labeled("Full name", rx.input(name="full_name", id="user-name", width="100%")),
            labeled(
                "Password (10+ characters)",
                rx.input(name="password", type="password", id="user-password", width="100%"),
                A.user_errors.get("password", ""),
            ),
            labeled(
                "Tenant",
                rx.el.select(
                    rx.el.option("(none)", value=""),
                    rx.foreach(A.all_tenants, lambda t: rx.el.option(t["name"], value=t["slug"])),
                    name="tenant",
                    id="user-tenant",
                    style={"width": "100%", "padding": "6px"},
                ),
            ),
            labeled(
                "Role",
                rx.select(
                    ["owner", "marketer", "viewer"],
                    name="role",
                    default_value="marketer",
                    width="100%",
                ),
                A.user_errors.get("role", ""),
            ),
            rx.checkbox("Platform admin", name="is_platform_admin"),
            field_error(A.user_errors.get("form", "")),
            rx.button("Create user", type="submit", id="create-user"),
            spacing="2",
            width="100%",
        ),
        on_submit=A.create_user,
        reset_on_submit=False,
    )


def _tenants_table() -> rx.Component:
    return rx.vstack(
        rx.input(
            placeholder="Search tenants",
            value=A.tenant_search,
            on_change=A.search_tenants.debounce(300),
            width="100%",
        ),
        rx.cond(
            A.tenant_rows.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ["Tenant", "Slug", "Provider", "Time zone", ""]
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        A.tenant_rows,
                        lambda t: rx.table.row(
                            rx.table.cell(t["name"]),
                            rx.table.cell(rx.code(t["slug"])),
                            rx.table.cell(t["provider"]),
                            rx.table.cell(t["time_zone"]),
                            rx.table.cell(
                                rx.link("Settings", href="/t/" + t["slug"] + "/settings")
                            ),
                        ),
                    )
                ),
                width="100%",
                id="tenants-table",
            ),
            empty_state("building", "No tenants match", "Clear the search or create a tenant."),
        ),
        pager(
            A.tenant_page, A.tenant_pages, A.tenant_total, A.tenant_page_by(-1), A.tenant_page_by(1)
        ),
        width="100%",
    )


def _users_table() -> rx.Component:
    return rx.vstack(
        rx.input(
            placeholder="Search users",
            value=A.user_search,
            on_change=A.search_users.debounce(300),
            width="100%",
        ),
        rx.cond(
            A.user_rows.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ["Email", "Name", "Admin"]]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        A.user_rows,
                        lambda u: rx.table.row(
                            rx.table.cell(u["email"]),
                            rx.table.cell(u["name"]),
                            rx.table.cell(u["admin"]),
                        ),
                    )
                ),
                width="100%",
                id="users-table",
            ),
            empty_state("users", "No users match", "Clear the search or create a user."),
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
