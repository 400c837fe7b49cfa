"""The Members tab of tenant settings."""

from __future__ import annotations

import reflex as rx

from marketing_app.components.widgets import field_error
from marketing_app.state.members import MembersState as M

ROLES = ["owner", "marketer", "viewer"]


def _member_row(member) -> rx.Component:
    return rx.table.row(
        rx.table.cell(member["email"]),
        rx.table.cell(member["name"]),
        rx.table.cell(
            rx.select(
                ROLES,
                value=member["role"],
                disabled=~M.is_owner,
                size="1",
                on_change=lambda role: M.set_role(member["user_id"], role),
            )
        ),
        rx.table.cell(
            rx.button(
                "Remove",
                size="1",
                variant="soft",
                color_scheme="red",
                disabled=~M.is_owner,
                on_click=M.remove(member["user_id"]),
            )
        ),
    )


def members_tab() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.hstack(
                rx.input(
                    name="email", placeholder="email@company.com", width="16em", id="member-email"
                ),
                rx.input(
                    name="full_name", placeholder="Name (new users)", width="12em", id="member-name"
                ),
                rx.input(
                    name="password",
                    type="password",
                    id="member-password",
                    placeholder="Password (new users)",
                    width="13em",
                ),
                rx.select(ROLES, name="role", default_value="marketer"),
                rx.button("Add member", type="submit", disabled=~M.is_owner, id="add-member"),
                wrap="wrap",
            ),
            on_submit=M.add_member,
            reset_on_submit=False,
        ),
        field_error(M.member_error),
        rx.text(
            "Existing users are added by email; give a password to create a new user.",
            size="1",
            color_scheme="gray",
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(h) for h in ["Email", "Name", "Role", ""]]
                )
            ),
            rx.table.body(rx.foreach(M.members, _member_row)),
            width="100%",
            id="members-table",
        ),
        spacing="3",
        width="100%",
    )
