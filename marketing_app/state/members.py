"""Tenant members: add users, change roles, remove access (owners and platform admins)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from marketing_app.db import session_scope
from marketing_app.models import Role
from marketing_app.services import access, users
from marketing_app.state.admin import clear_inputs
from marketing_app.state.session import SessionState


class MembersState(SessionState):
    members: list[dict[str, str]] = []
    member_error: str = ""

    @rx.event
    def load(self):
        if self.page_error or not self.tenant_role:
            return
        self.member_error = ""
        self._reload()

    def _reload(self) -> None:
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            rows = users.list_members(session=session, tenant_id=tenant.id)
        self.members = [
            {"user_id": str(m.user_id), "email": m.email, "name": m.full_name, "role": m.role}
            for m in rows
        ]

    def _change(self, action: str, change) -> Any:
        result, error = self._change_as(Role.OWNER, action, "user", change)
        if error:
            self.member_error = error.message
            return rx.toast.error(error.message)
        self.member_error = ""
        self._reload()
        return rx.toast.success("Members updated.")

    @rx.event
    def add_member(self, form: dict[str, Any]):
        """Add an existing user by email, or create one when a password is given."""

        def change(session, tenant):
            email, password = str(form.get("email", "")), str(form.get("password", ""))
            if password:
                user = users.create_user(
                    session=session,
                    email=email,
                    password=password,
                    full_name=str(form.get("full_name", "")),
                )
            else:
                user = users.get_user_by_email(session=session, email=email)
            users.set_membership(
                session=session,
                tenant_id=tenant.id,
                user_id=user.id,
                role=str(form.get("role", "")),
            )
            return user.email

        result = self._change("member.add", change)
        if self.member_error:
            return result
        return [result, *clear_inputs(["member-email", "member-name", "member-password"])]

    @rx.event
    def set_role(self, user_id: str, role: str):
        return self._change(
            "member.role",
            lambda s, tenant: (
                users.set_membership(
                    session=s, tenant_id=tenant.id, user_id=access.parse_id(user_id), role=role
                ).user_id
            ),
        )

    @rx.event
    def remove(self, user_id: str):
        return self._change(
            "member.remove",
            lambda s, tenant: (
                users.remove_membership(
                    session=s, tenant_id=tenant.id, user_id=access.parse_id(user_id)
                )
                or user_id
            ),
        )
