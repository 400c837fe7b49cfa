"""`/`: sends the visitor to their first tenant, the admin page or the login page."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.state.session import SessionState


def home_page() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh")


ROUTE = routes.HOME
ON_LOAD = [SessionState.go_home]
