"""The Members tab of tenant settings."""

from __future__ import annotations

import reflex as rx

from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import danger_button, empty_state, field_error
from marketing_app.state.members import MembersState as M

ROLES = ["owner", "marketer", "viewer"]


def _member_cells(member) -> list:
    role = rx.select(
        ROLES,
        value=member["role"],
        disabled=~M.is_owner,
        size="1",
        on_change=lambda new_role: M.set_role(member["user_id"], new_role),
    )
    remove = danger_button("Remove", M.remove(member["user_id"]), ~M.is_owner)
    return [member["email"], member["name"], role, remove]


def _add_member_form() -> rx.Component:
    return rx.form(
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
                placeholder="Password (new users)",
                width="13em",
                id="member-password",
            ),
            rx.select(ROLES, name="role", default_value="marketer"),
            rx.button("Add member", type="submit", disabled=~M.is_owner, id="add-member"),
            wrap="wrap",
        ),
        on_submit=M.add_member,
        reset_on_submit=False,
    )


def members_tab() -> rx.Component:
    empty = empty_state("users", "No members yet", "Add people by email; owners manage roles.")
    return rx.vstack(
        _add_member_form(),
        field_error(M.member_error),
        rx.text(
            "Existing users are added by email; give a password to create a new user.",
            size="1",
            color_scheme="gray",
        ),
        simple_table(
            ["Email", "Name", "Role", ""],
            M.members,
            _member_cells,
            empty=empty,
            table_id="members-table",
        ),
        spacing="3",
        width="100%",
    )
