"""Login page."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.state.login import LoginState


def _login_form() -> rx.Component:
    error = rx.callout(
        LoginState.login_error,
        icon="triangle-alert",
        color_scheme="red",
        size="1",
        id="login-error",
        width="100%",
    )
    return rx.form(
        rx.vstack(
            rx.heading("Sign in", size="6"),
            rx.text(
                "Marketing automation for multi-location retailers", color_scheme="gray", size="2"
            ),
            rx.text("Email", size="2", weight="medium"),
            rx.input(
                name="email",
                type="email",
                placeholder="you@company.com",
                id="email",
                width="100%",
                auto_focus=True,
            ),
            rx.text("Password", size="2", weight="medium"),
            rx.input(name="password", type="password", id="password", width="100%"),
            rx.cond(LoginState.login_error != "", error),
            rx.button("Sign in", type="submit", width="100%", id="sign-in"),
            spacing="3",
            width="100%",
        ),
        on_submit=LoginState.submit,
        reset_on_submit=False,
    )


def login_page() -> rx.Component:
    return rx.center(
        rx.card(_login_form(), width="24em", padding="1.5em"),
        height="100vh",
        background=rx.color("gray", 2),
    )


ROUTE = routes.LOGIN
ON_LOAD = [LoginState.redirect_if_signed_in]
