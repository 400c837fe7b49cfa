"""The login form."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from marketing_app import routes
from marketing_app.db import session_scope
from marketing_app.domain.errors import InvalidCredentials, LoginThrottled
from marketing_app.services import auth
from marketing_app.state.session import SessionState


class LoginState(SessionState):
    login_error: str = ""

    @rx.event
    def submit(self, form_data: dict[str, Any]):
        email = str(form_data.get("email", "")).strip()
        password = str(form_data.get("password", ""))
        if not email or not password:
            self.login_error = "Enter your email and password."
            return
        try:
            with session_scope() as session:
                ticket = auth.login(session=session, email=email, password=password)
        except (InvalidCredentials, LoginThrottled) as exc:
            self.login_error = exc.message
            return
        self.login_error = ""
        next_path = self.router.url.query_parameters.get("next", "")
        # A full page load, so the HTTP response can set the HttpOnly session cookie.
        url = routes.login_complete_url(ticket, next_path)
        return rx.call_script(f"window.location.assign({json.dumps(url)})")

    @rx.event
    def redirect_if_signed_in(self):
        self.login_error = ""
        if self.router.url.query_parameters.get("expired"):
            self.login_error = "That sign-in link expired; sign in again."
        if self._current_user() is not None:
            return rx.redirect(routes.HOME)
