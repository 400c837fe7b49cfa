"""Platform admin: every tenant and user, creating both."""

from __future__ import annotations

from typing import Any

import reflex as rx

from marketing_app.db import session_scope
from marketing_app.domain.errors import DomainError
from marketing_app.models import Tenant
from marketing_app.services import tenants, users
from marketing_app.services.audit import record_user_action
from marketing_app.state.session import SessionState

PAGE_SIZE = 20
TENANT_FORM_IDS = ["tenant-name", "tenant-slug", "tenant-address"]
USER_FORM_IDS = ["user-email", "user-name", "user-password"]


def clear_inputs(ids: list[str]) -> list:
    return [rx.set_value(element_id, "") for element_id in ids]


def _pages(total: int) -> int:
    return max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)


class AdminState(SessionState):
    tenant_rows: list[dict[str, str]] = []
    tenant_search: str = ""
    tenant_page: int = 1
    tenant_total: int = 0
    user_rows: list[dict[str, str]] = []
    user_search: str = ""
    user_page: int = 1
    user_total: int = 0
    tenant_errors: dict[str, str] = {}
    user_errors: dict[str, str] = {}
    all_tenants: list[dict[str, str]] = []
    time_zones: list[str] = tenants.common_time_zones()

    @rx.var
    def tenant_pages(self) -> int:
        return _pages(self.tenant_total)

    @rx.var
    def user_pages(self) -> int:
        return _pages(self.user_total)

    @rx.event
    def load(self):
        if self.page_error or not self.is_platform_admin:
            return
        self._reload()

    def _reload(self) -> None:
        self._authorize_admin()
        with session_scope() as session:
            rows, self.tenant_total = tenants.search_tenants(
                session=session,
                search=self.tenant_search,
                limit=PAGE_SIZE,
                offset=(self.tenant_page - 1) * PAGE_SIZE,
            )
            self.tenant_rows = [
                {
                    "name": t.name,
                    "slug": t.slug,
                    "provider": t.marketing_provider,
                    "time_zone": t.time_zone,
                }
                for t in rows
            ]
            found, self.user_total = users.search_users(
                session=session,
                search=self.user_search,
                limit=PAGE_SIZE,
                offset=(self.user_page - 1) * PAGE_SIZE,
            )
            self.user_rows = [
                {
                    "email": u.email,
                    "name": u.full_name,
                    "admin": "yes" if u.is_platform_admin else "",
                }
                for u in found
            ]
            every, _ = tenants.search_tenants(session=session, limit=1000)
            self.all_tenants = [{"slug": t.slug, "name": t.name} for t in every]

    @rx.event
    def search_tenants(self, value: str):
        self.tenant_search, self.tenant_page = value, 1
        self._reload()

    @rx.event
    def search_users(self, value: str):
        self.user_search, self.user_page = value, 1
        self._reload()

    @rx.event
    def tenant_page_by(self, step: int):
        self.tenant_page = min(max(1, self.tenant_page + step), self.tenant_pages)
        self._reload()

    @rx.event
    def user_page_by(self, step: int):
        self.user_page = min(max(1, self.user_page + step), self.user_pages)
        self._reload()

    def _admin_change(self, action: str, target_type: str, change):
        """Run `change(session)` as a platform admin, audited; (result, None) or (None, error)."""
        try:
            admin = self._authorize_admin()
            with session_scope() as session:
                result = change(session)
                # A new tenant's entry belongs to that tenant; a new user's to the platform.
                record_user_action(
                    session=session,
                    tenant_id=result.id if isinstance(result, Tenant) else None,
                    user=admin,
                    action=action,
                    target_type=target_type,
                    target=getattr(result, "slug", None) or result.email,
                )
        except DomainError as exc:
            return None, exc
        self._reload()
        return result, None

    @rx.event
    def create_tenant(self, form: dict[str, Any]):
        tenant, error = self._admin_change(
            "tenant.create",
            "tenant",
            lambda session: tenants.create_tenant(
                session=session,
                name=str(form.get("name", "")),
                slug=str(form.get("slug", "")),
                time_zone=str(form.get("time_zone", "")) or "America/New_York",
                postal_address=str(form.get("postal_address", "")),
                marketing_provider=str(form.get("marketing_provider", "")) or "builtin",
            ),
        )
        if error:
            self.tenant_errors = {error.field or "form": error.message}
            return rx.toast.error(error.message)
        self.tenant_errors = {}
        # Cleared only on success: a refused form keeps what the admin typed.
        return [rx.toast.success(f"Tenant {tenant.name} created."), *clear_inputs(TENANT_FORM_IDS)]

    @rx.event
    def create_user(self, form: dict[str, Any]):
        user, error = self._admin_change(
            "user.create",
            "user",
            lambda session: users.create_user_in_tenant(
                session=session,
                email=str(form.get("email", "")),
                password=str(form.get("password", "")),
                full_name=str(form.get("full_name", "")),
                is_platform_admin=form.get("is_platform_admin") in ("on", True, "true"),
                tenant_slug=str(form.get("tenant", "")),
                role=str(form.get("role", "")) or "marketer",
            ),
        )
        if error:
            self.user_errors = {error.field or "form": error.message}
            return rx.toast.error(error.message)
        self.user_errors = {}
        return [rx.toast.success(f"User {user.email} created."), *clear_inputs(USER_FORM_IDS)]
