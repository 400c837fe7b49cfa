"""The signed-in user and the tenant in the URL, checked on every page load."""

from __future__ import annotations

import json
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any

import reflex as rx

from marketing_app import routes
from marketing_app.db import session_scope
from marketing_app.domain.accounts import CurrentUser, TenantChoice
from marketing_app.domain.errors import DomainError, NotFound
from marketing_app.models import Role
from marketing_app.services import access, auth
from marketing_app.services.audit import record_user_action


def load_current_user(token: str) -> CurrentUser | None:
    with session_scope() as session:
        user = auth.user_for_token(session=session, token=token)
        return auth.describe_user(session=session, user=user) if user else None


class FormPageMixin(rx.State, mixin=True):
    """The state of a form page, mixed into a SessionState subclass: `loaded` once its
    on_load has read what the page shows."""

    loaded: bool = False

    @rx.event
    def leave_form(self):
        """The page unmounts: a later on_load starts afresh (see form_kept), and until it
        has, the next visit shows a spinner rather than this form. The form left on screen
        was replaced by the load's record, with any edit made in between (a value typed
        right after opening another segment's editor)."""
        self.loaded = False
        self._form_path = ""


class SessionState(rx.State):
    """Base of every signed-in page state."""

    user_email: str = ""
    user_name: str = ""
    is_platform_admin: bool = False
    tenants: list[dict[str, Any]] = []
    # The tenant of the current URL, after the membership check.
    tenant_name: str = ""
    tenant_role: str = ""
    page_error: str = ""  # "not_found" renders the 404 panel instead of the page
    # The path of the form page on screen, from its load until it unmounts (see form_kept)
    _form_path: str = ""

    @rx.var
    def is_authenticated(self) -> bool:
        return self.user_email != ""

    @rx.var
    def current_slug(self) -> str:
        return routes.tenant_slug_from_path(self.router.url.path)

    @rx.var
    def can_edit(self) -> bool:
        return self.tenant_role in (Role.OWNER, Role.MARKETER)

    @rx.var
    def is_owner(self) -> bool:
        return self.tenant_role == Role.OWNER

    @property
    def session_token(self) -> str:
        """The HttpOnly session cookie, as sent when this tab's websocket connected.

        Backend only: Reflex never sends request cookies to the browser. Login and logout
        are full page loads, so the websocket reconnects with the new cookie.
        """
        cookies = SimpleCookie()
        try:
            cookies.load(self.router.headers.cookie or "")
        except CookieError:
            return ""
        morsel = cookies.get(routes.SESSION_COOKIE)
        return morsel.value if morsel else ""

    def _current_user(self) -> CurrentUser | None:
        user = load_current_user(self.session_token)
        if user is None:
            # Forget everything about the last user so no later handler acts for them.
            self.user_email, self.tenant_role, self.tenant_name = "", "", ""
            return None
        self.user_email, self.user_name = user.email, user.full_name or user.email
        self.is_platform_admin = user.is_platform_admin
        self.tenants = [t.model_dump(mode="json") for t in user.tenants]
        return user

    def _login_redirect(self):
        return rx.redirect(f"{routes.LOGIN}?next={self.router.url.path}")

    def _authorize(self, minimum: Role) -> tuple[CurrentUser, TenantChoice]:
        """Re-check user and role from the database: events can arrive without the page."""
        user = load_current_user(self.session_token)
        if user is None:
            raise NotFound("Your session has expired; sign in again.")
        return user, access.require_role(user, self.current_slug, minimum)

    def _change_as(self, minimum: Role, action: str, target_type: str, change: Callable):
        """Run `change(session, tenant)` with at least `minimum` role, audited in the same
        transaction. Returns (result, None), or (None, error) for an expected failure."""
        try:
            user, tenant = self._authorize(minimum)
            with session_scope() as session:
                result = change(session, tenant)
                record_user_action(
                    session=session,
                    tenant_id=tenant.id,
                    user=user,
                    action=action,
                    target_type=target_type,
                    target=result,
                )
        except DomainError as exc:
            return None, exc
        return result, None

    def _authorize_admin(self) -> CurrentUser:
        user = load_current_user(self.session_token)
        if user is None:
            raise NotFound("Your session has expired; sign in again.")
        access.require_platform_admin(user)
        return user

    def form_kept(self) -> bool:
        """True when a form page's on_load runs again while the page is still on screen.

        Reflex runs the page's on_load on every websocket reconnect (a network blip, a busy
        server), not only when the page opens: a form that re-read its record then would
        throw away the marketer's unsaved edits. Loads call `hold_form` when done; the page
        calls `FormPageMixin.leave_form` when it unmounts (leaving it by a link, or saving)."""
        shown = bool(self._form_path) and self._form_path == self.router.url.path
        return shown and not self.page_error and bool(self.tenant_role)

    def hold_form(self) -> None:
        self._form_path = self.router.url.path

    def _toast_error(self, exc: DomainError):
        return rx.toast.error(exc.message)

    @rx.event
    def require_login(self):
        self.page_error = ""
        if self._current_user() is None:
            return self._login_redirect()

    @rx.event
    def require_tenant(self):
        """on_load guard of tenant pages: 404 panel for tenants the user cannot open."""
        self.page_error = ""
        user = self._current_user()
        if user is None:
            return self._login_redirect()
        try:
            tenant = access.tenant_for_user(user, self.current_slug)
        except NotFound:
            self.page_error, self.tenant_name, self.tenant_role = "not_found", "", ""
            return
        self.tenant_name, self.tenant_role = tenant.name, tenant.role

    @rx.event
    def require_admin(self):
        self.page_error = ""
        user = self._current_user()
        if user is None:
            return self._login_redirect()
        if not user.is_platform_admin:
            self.page_error = "not_found"

    @rx.event
    def go_home(self):
        """`/`: the first tenant's dashboard, the admin page, or the login page."""
        user = self._current_user()
        if user is None:
            return rx.redirect(routes.LOGIN)
        if user.tenants:
            return rx.redirect(routes.dashboard_url(user.tenants[0].slug))
        return rx.redirect(routes.ADMIN if user.is_platform_admin else routes.LOGIN)

    @rx.event
    def switch_tenant(self, slug: str):
        return rx.redirect(routes.dashboard_url(slug))

    @rx.event
    def logout(self):
        """A full page load of the logout route: only HTTP can clear an HttpOnly cookie."""
        self.user_email = ""
        return rx.call_script(f"window.location.assign({json.dumps(routes.LOGOUT)})")
