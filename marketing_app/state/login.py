"""The login form."""

from __future__ import annotations

from typing import Any

import reflex as rx

from marketing_app import routes
from marketing_app.db import session_scope
from marketing_app.domain.errors import InvalidCredentials, LoginThrottled
from marketing_app.services import auth
from marketing_app.state.session import SessionState


class LoginState(SessionState):
    login_error: str = ""
    submitting: bool = False

    @rx.event
    def submit(self, form_data: dict[str, Any]):
        email = str(form_data.get("email", "")).strip()
        password = str(form_data.get("password", ""))
        if not email or not password:
            self.login_error = "Enter your email and password."
            return
        try:
            with session_scope() as session:
                token = auth.login(session=session, email=email, password=password)
        except (InvalidCredentials, LoginThrottled) as exc:
            self.login_error = exc.message
            return
        self.login_error = ""
        self.session_token = token
        next_path = self.router.url.query_parameters.get("next", "")
        # Only same-site paths: an open redirect would let phishing links reuse our login.
        if not next_path.startswith("/") or next_path.startswith("//") or next_path == routes.LOGIN:
            next_path = routes.HOME
        return rx.redirect(next_path)

    @rx.event
    def redirect_if_signed_in(self):
        self.login_error = ""
        if self._current_user() is not None:
            return rx.redirect(routes.HOME)
